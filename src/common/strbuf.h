/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable, always NUL-terminated string buffer, and the small string
 * helpers that every module needs.  Knows nothing of ferry.
 *
 *     _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
 *
 *     if (strbuf_appendf(&sb, "%s=%d", key, value) < 0)
 *             return NULL;
 *     return strbuf_steal(&sb);
 */
#ifndef FERRY_COMMON_STRBUF_H
#define FERRY_COMMON_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "common/macros.h"

struct strbuf {
        char *data;   /* NULL until the first append, then NUL-terminated */
        size_t len;   /* bytes in data, not counting the NUL */
        size_t alloc; /* bytes allocated for data */
};

#define STRBUF_INIT { .data = NULL, .len = 0, .alloc = 0 }

/*
 * Append; all return 0 or -ENOMEM (-EINVAL for a format vsnprintf() refuses)
 * and leave sb unchanged on failure.
 */
int strbuf_append(struct strbuf *sb, const char *s);
int strbuf_append_len(struct strbuf *sb, const char *s, size_t len);
int strbuf_appendf(struct strbuf *sb, const char *fmt, ...) _printf_(2, 3);
int strbuf_appendv(struct strbuf *sb, const char *fmt, va_list ap) _printf_(2, 0);

/* Empty the buffer but keep its allocation. */
void strbuf_reset(struct strbuf *sb);

/*
 * Hand the contents to the caller (free() them) and leave sb empty.  An
 * untouched buffer yields an allocated "".  Returns NULL and sets errno to
 * ENOMEM only when that allocation fails.
 */
char *strbuf_steal(struct strbuf *sb);

/* Free the contents; sb may be reused afterwards. */
void strbuf_done(struct strbuf *sb);

/* The contents, or "" for an untouched buffer; borrowed until the next change. */
static inline const char *strbuf_str(const struct strbuf *sb)
{
        return sb->data ? sb->data : "";
}

#define _cleanup_strbuf_ _cleanup_(strbuf_done)

static inline bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

/* Like streq(), but NULL equals NULL and nothing else. */
static inline bool streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

bool startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);

/*
 * Concatenate the NULL-terminated list of strings into a new allocation
 * (free() it).  Returns NULL and sets errno to ENOMEM on failure.
 */
char *strjoin(const char *first, ...) __attribute__((sentinel));

/*
 * Write the lower-case hex form of buf into out, NUL-terminated.  Needs
 * outsize >= 2 * len + 1, else returns -ENOBUFS and leaves out untouched.
 */
int hex_encode(const void *buf, size_t len, char *out, size_t outsize);

/*
 * Index of key in a table of n strings (entries may be NULL), or -EINVAL.
 * Used for the enum <-> string tables of every module.
 */
int string_table_lookup(const char *const *table, size_t n, const char *key);

/*
 * Cut off a UTF-8 sequence that a truncation left incomplete at the end of
 * s, so that a truncated message is still valid UTF-8.
 */
void utf8_trim_partial(char *s);

#endif
