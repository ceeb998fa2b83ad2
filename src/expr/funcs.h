/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The functions of the expression language, and the string helpers behind
 * them (Go semantics, as expr-lang and earlier migration tools have them).
 */
#ifndef FERRY_EXPR_FUNCS_H
#define FERRY_EXPR_FUNCS_H

#include <stdbool.h>
#include <stddef.h>

#include "expr/arena.h"

enum func_id {
        FUNC_LEN,
        FUNC_ALL,
        FUNC_ANY,
        FUNC_NONE,
        FUNC_ONE,
        FUNC_FILTER,
        FUNC_MAP,
        FUNC_COUNT,
        FUNC_LOWER,
        FUNC_UPPER,
        FUNC_TRIM,
        FUNC_HASPREFIX,
        FUNC_HASSUFFIX,
        FUNC_PATH_BASE,
        FUNC_PATH_DIR,
        FUNC_HAS_TAG,
        FUNC_MATCHES_TAG,
        _FUNC_MAX,
};

struct func {
        const char *name;
        enum func_id id;
        unsigned min_args, max_args;
        bool predicate; /* the second argument is a predicate over the first's elements */
};

/* The function called name, or NULL. */
const struct func *func_lookup(const char *name, size_t len);

/* "len, all, any, ..." for messages. */
extern const char func_names[];

/*
 * String results go to the arena; each returns NULL (errno ENOMEM) only on
 * allocation failure and writes the result length to *ret_len.
 */
const char *str_lower(struct arena *a, const char *s, size_t n, size_t *ret_len);
const char *str_upper(struct arena *a, const char *s, size_t n, size_t *ret_len);

/* Go's strings.TrimSpace, and strings.Trim with a cutset; results point into s. */
const char *str_trim_space(const char *s, size_t n, size_t *ret_len);
const char *str_trim_cutset(const char *s, size_t n, const char *cutset, size_t cutset_len, size_t *ret_len);

/* Go's filepath.Base and filepath.Dir on '/'-separated paths. */
const char *path_base(const char *s, size_t n, size_t *ret_len);
const char *path_dir(struct arena *a, const char *s, size_t n, size_t *ret_len);

#endif
