/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The little UTF-8 the expression language needs: decoding one character,
 * encoding one, validating text, and case mapping.
 */
#ifndef FERRY_EXPR_UTF8_H
#define FERRY_EXPR_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UTF8_MAX_RUNE 0x10FFFFu

/*
 * Decode the character at s (n > 0 bytes available) into *ret_cp and
 * return its length, or 0 for an invalid sequence (overlong forms,
 * surrogates and values beyond U+10FFFF are invalid).
 */
size_t utf8_decode(const char *s, size_t n, uint32_t *ret_cp);

/* Encode cp (a valid scalar value) into out; returns 1 to 4. */
size_t utf8_encode(uint32_t cp, char out[static 4]);

/* Offset of the first invalid byte, or n when s[0..n) is valid UTF-8. */
size_t utf8_invalid_offset(const char *s, size_t n);

/* Number of characters in s[0..n); an invalid byte counts as one. */
size_t utf8_count(const char *s, size_t n);

/*
 * Simple case mapping for Latin (Basic, Latin-1, Extended-A), Greek and
 * Cyrillic letters; other characters map to themselves.
 */
uint32_t utf8_to_lower(uint32_t cp);
uint32_t utf8_to_upper(uint32_t cp);

/* Unicode White_Space, as Go's unicode.IsSpace. */
bool utf8_is_space(uint32_t cp);

#endif
