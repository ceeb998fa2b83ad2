/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error messages that point into the expression text:
 *
 *     Unexpected ')' at line 1, column 8
 *      | cpus + )
 *      |        ^
 *
 * Lines and columns count from 1; columns count characters, not bytes.  A
 * long line is shown as a window around the column, with "..." where it was
 * cut.
 */
#ifndef FERRY_EXPR_DIAG_H
#define FERRY_EXPR_DIAG_H

#include <stddef.h>

#include "common/error.h"
#include "common/macros.h"

/* The text an error points into. */
struct expr_source {
        const char *text;
        size_t len;
};

/*
 * Set err to the formatted message, " at line L, column C", and the caret
 * snippet for byte offset pos (pos == len points just past the end).
 * Returns code (negative).
 */
int expr_error_at(struct ferry_error *err, int code, const struct expr_source *src, size_t pos,
                  const char *fmt, ...) _printf_(5, 6);

/* The same with " (<detail>)" after the position: "Unknown field 'x' at line 1, column 1 (valid fields: ...)". */
int expr_error_at_detail(struct ferry_error *err, int code, const struct expr_source *src, size_t pos,
                         const char *detail, const char *fmt, ...) _printf_(6, 7);

/*
 * A user string made fit for a message: at most max bytes (cut at a
 * character boundary, then "..."), control characters and invalid UTF-8
 * replaced by '?'.  Writes into buf (size >= max + 4) and returns it.
 */
const char *expr_clip(const char *s, size_t len, size_t max, char *buf, size_t size);

/* The common size of clip buffers and their limit. */
#define EXPR_CLIP_MAX 48
#define EXPR_CLIP_BUF (EXPR_CLIP_MAX + 4)

#endif
