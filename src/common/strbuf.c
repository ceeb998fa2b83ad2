/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/strbuf.h"

/* Make room for extra more bytes plus the NUL. */
static int strbuf_reserve(struct strbuf *sb, size_t extra)
{
        size_t need, alloc;
        char *p;

        if (__builtin_add_overflow(sb->len, extra, &need) ||
            __builtin_add_overflow(need, 1, &need))
                return -ENOMEM;
        if (need <= sb->alloc)
                return 0;

        alloc = sb->alloc > 0 ? sb->alloc : 64;
        while (alloc < need) {
                if (alloc > SIZE_MAX / 2) {
                        alloc = need;
                        break;
                }
                alloc *= 2;
        }

        p = realloc(sb->data, alloc);
        if (!p)
                return -ENOMEM;
        if (!sb->data)
                p[0] = '\0';
        sb->data = p;
        sb->alloc = alloc;
        return 0;
}

int strbuf_append_len(struct strbuf *sb, const char *s, size_t len)
{
        int r;

        r = strbuf_reserve(sb, len);
        if (r < 0)
                return r;
        if (len > 0)
                memcpy(sb->data + sb->len, s, len);
        sb->len += len;
        sb->data[sb->len] = '\0';
        return 0;
}

int strbuf_append(struct strbuf *sb, const char *s)
{
        return strbuf_append_len(sb, s, strlen(s));
}

int strbuf_appendv(struct strbuf *sb, const char *fmt, va_list ap)
{
        va_list aq;
        int n, r;

        va_copy(aq, ap);
        n = vsnprintf(NULL, 0, fmt, aq);
        va_end(aq);
        if (n < 0)
                return -EINVAL;

        r = strbuf_reserve(sb, (size_t) n);
        if (r < 0)
                return r;

        vsnprintf(sb->data + sb->len, (size_t) n + 1, fmt, ap);
        sb->len += (size_t) n;
        return 0;
}

int strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = strbuf_appendv(sb, fmt, ap);
        va_end(ap);
        return r;
}

void strbuf_reset(struct strbuf *sb)
{
        sb->len = 0;
        if (sb->data)
                sb->data[0] = '\0';
}

char *strbuf_steal(struct strbuf *sb)
{
        char *p = sb->data;

        if (!p) {
                p = strdup("");
                if (!p)
                        return NULL;
        }
        *sb = (struct strbuf) STRBUF_INIT;
        return p;
}

void strbuf_done(struct strbuf *sb)
{
        free(sb->data);
        *sb = (struct strbuf) STRBUF_INIT;
}

bool startswith(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool endswith(const char *s, const char *suffix)
{
        size_t ls = strlen(s), lx = strlen(suffix);

        return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

char *strjoin(const char *first, ...)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        const char *s;
        va_list ap;
        int r = 0;

        va_start(ap, first);
        for (s = first; s && r >= 0; s = va_arg(ap, const char *))
                r = strbuf_append(&sb, s);
        va_end(ap);
        if (r < 0) {
                errno = -r;
                return NULL;
        }
        return strbuf_steal(&sb);
}

int hex_encode(const void *buf, size_t len, char *out, size_t outsize)
{
        static const char digits[] = "0123456789abcdef";
        const unsigned char *p = buf;

        if (len > (SIZE_MAX - 1) / 2 || outsize < 2 * len + 1)
                return -ENOBUFS;

        for (size_t i = 0; i < len; i++) {
                out[2 * i] = digits[p[i] >> 4];
                out[2 * i + 1] = digits[p[i] & 0xf];
        }
        out[2 * len] = '\0';
        return 0;
}

int string_table_lookup(const char *const *table, size_t n, const char *key)
{
        if (!key)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (table[i] && streq(table[i], key))
                        return (int) i;
        return -EINVAL;
}

void utf8_trim_partial(char *s)
{
        size_t len = strlen(s), i = len, cont = 0, need;
        unsigned char lead;

        /* Walk back over continuation bytes to the lead byte of the last sequence. */
        while (i > 0 && cont < 3 && ((unsigned char) s[i - 1] & 0xc0) == 0x80) {
                i--;
                cont++;
        }
        if (i == 0)
                return;

        lead = (unsigned char) s[i - 1];
        if ((lead & 0xe0) == 0xc0)
                need = 2;
        else if ((lead & 0xf0) == 0xe0)
                need = 3;
        else if ((lead & 0xf8) == 0xf0)
                need = 4;
        else
                return;

        if (cont + 1 < need)
                s[i - 1] = '\0';
}
