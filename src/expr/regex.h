/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Regular expressions for 'matches' and matches_tag(): PCRE2 with the
 * options that make it behave like Go's RE2 syntax where both have a
 * feature (UTF-8, '$' only at the very end), JIT-compiled, and a match
 * limit so that a pathological pattern fails instead of spinning.
 *
 * A compiled pattern is immutable and shared between threads; each
 * evaluation brings its own match data (*md, created on first use, freed
 * with expr_regex_match_data_free()).
 */
#ifndef FERRY_EXPR_REGEX_H
#define FERRY_EXPR_REGEX_H

#include <stddef.h>

struct expr_regex;

/* Fill errbuf with PCRE2's reason on -EINVAL. */
int expr_regex_compile(const char *pattern, size_t len, struct expr_regex **ret, char *errbuf, size_t errlen);
void expr_regex_free(struct expr_regex *re);

/* 1 on a match anywhere in s, 0 on none, -E2BIG over the match limit, -ENOMEM. */
int expr_regex_search(const struct expr_regex *re, const char *s, size_t n, void **md);
void expr_regex_match_data_free(void *md);

/*
 * Patterns computed at evaluation time are compiled once and kept, up to
 * a bound; beyond it, *ret_owned holds a pattern the caller frees after use.
 */
struct expr_regex_cache;

struct expr_regex_cache *expr_regex_cache_new(void);
void expr_regex_cache_free(struct expr_regex_cache *c);
int expr_regex_cache_get(struct expr_regex_cache *c, const char *pattern, size_t len,
                         const struct expr_regex **ret, struct expr_regex **ret_owned, char *errbuf,
                         size_t errlen);

#endif
