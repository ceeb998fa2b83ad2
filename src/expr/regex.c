/* SPDX-License-Identifier: Apache-2.0 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macros.h"
#include "expr/regex.h"

/*
 * PCRE2's JIT code reads subjects with wide loads past their end, which
 * valgrind reports as errors it cannot see through; under valgrind (the
 * unit tests run there) patterns are matched by the interpreter.
 */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() 0
#endif

#define REGEX_MATCH_LIMIT 1000000
#define REGEX_DEPTH_LIMIT 10000
#define REGEX_CACHE_MAX 64

struct expr_regex {
        pcre2_code *code;
};

struct expr_regex_cache {
        pthread_mutex_t lock;
        size_t n;
        struct {
                char *pattern;
                size_t len;
                struct expr_regex *re;
        } entries[REGEX_CACHE_MAX];
};

static pcre2_match_context *match_context;
static pthread_once_t match_context_once = PTHREAD_ONCE_INIT;

static void match_context_init(void)
{
        match_context = pcre2_match_context_create(NULL);
        if (!match_context)
                return;
        pcre2_set_match_limit(match_context, REGEX_MATCH_LIMIT);
        pcre2_set_depth_limit(match_context, REGEX_DEPTH_LIMIT);
}

int expr_regex_compile(const char *pattern, size_t len, struct expr_regex **ret, char *errbuf, size_t errlen)
{
        struct expr_regex *re;
        PCRE2_SIZE offset;
        int code;

        re = calloc(1, sizeof(*re));
        if (!re)
                return -ENOMEM;
        re->code = pcre2_compile((PCRE2_SPTR) pattern, len,
                                 PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY |
                                         PCRE2_NEVER_BACKSLASH_C,
                                 &code, &offset, NULL);
        if (!re->code) {
                free(re);
                if (code == PCRE2_ERROR_NOMEMORY)
                        return -ENOMEM;
                if (pcre2_get_error_message(code, (PCRE2_UCHAR *) errbuf, errlen) < 0 && errlen > 0)
                        snprintf(errbuf, errlen, "error %d", code);
                return -EINVAL;
        }
        /* Without JIT, matching still works, only slower. */
        if (!UNDER_VALGRIND())
                (void) pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
        *ret = re;
        return 0;
}

void expr_regex_free(struct expr_regex *re)
{
        if (!re)
                return;
        pcre2_code_free(re->code);
        free(re);
}

int expr_regex_search(const struct expr_regex *re, const char *s, size_t n, void **md)
{
        int rc;

        if (pthread_once(&match_context_once, match_context_init) != 0 || !match_context)
                return -ENOMEM;
        if (!*md) {
                *md = pcre2_match_data_create(1, NULL);
                if (!*md)
                        return -ENOMEM;
        }
        rc = pcre2_match(re->code, (PCRE2_SPTR) (s ? s : ""), n, 0, 0, *md, match_context);
        if (rc >= 0)
                return 1;
        switch (rc) {
        case PCRE2_ERROR_NOMATCH:
                return 0;
        case PCRE2_ERROR_NOMEMORY:
                return -ENOMEM;
        default:
                /* Match, depth or heap limit, JIT stack: the pattern is too costly here. */
                return -E2BIG;
        }
}

void expr_regex_match_data_free(void *md)
{
        pcre2_match_data_free(md);
}

struct expr_regex_cache *expr_regex_cache_new(void)
{
        struct expr_regex_cache *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        if (pthread_mutex_init(&c->lock, NULL) != 0) {
                free(c);
                return NULL;
        }
        return c;
}

void expr_regex_cache_free(struct expr_regex_cache *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n; i++) {
                free(c->entries[i].pattern);
                expr_regex_free(c->entries[i].re);
        }
        pthread_mutex_destroy(&c->lock);
        free(c);
}

int expr_regex_cache_get(struct expr_regex_cache *c, const char *pattern, size_t len,
                         const struct expr_regex **ret, struct expr_regex **ret_owned, char *errbuf,
                         size_t errlen)
{
        struct expr_regex *re = NULL;
        char *copy;
        int r;

        *ret_owned = NULL;
        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; i < c->n; i++)
                if (c->entries[i].len == len && memcmp(c->entries[i].pattern, pattern, len) == 0) {
                        *ret = c->entries[i].re;
                        pthread_mutex_unlock(&c->lock);
                        return 0;
                }

        r = expr_regex_compile(pattern, len, &re, errbuf, errlen);
        if (r < 0) {
                pthread_mutex_unlock(&c->lock);
                return r;
        }
        /* Entries stay until the expression is freed: nobody may still use one. */
        if (c->n < REGEX_CACHE_MAX && (copy = malloc(len + 1))) {
                memcpy(copy, pattern, len);
                copy[len] = '\0';
                c->entries[c->n].pattern = copy;
                c->entries[c->n].len = len;
                c->entries[c->n].re = re;
                c->n++;
                *ret = re;
        } else {
                *ret = re;
                *ret_owned = re;
        }
        pthread_mutex_unlock(&c->lock);
        return 0;
}
