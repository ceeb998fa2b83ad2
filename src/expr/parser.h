/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The expression parser: precedence climbing over the lexer's tokens, with
 * expr-lang's operator precedences (lowest first):
 *
 *     ?:            conditional, right-associative
 *     or ||
 *     and &&
 *     == != < <= > >= in matches contains startsWith endsWith
 *                   ('not in' etc. negate; 1 < x < 3 chains as 1 < x and x < 3)
 *     + -
 *     * / %
 *     not !         unary, binds tighter than comparisons: not a == b is (not a) == b
 *     - +           unary
 *     ??            nil coalescing
 *     a.b a[i] f()  member, index, call
 *
 * 'and'/'or' chains become one n-ary node, so long lists of alternatives do
 * not count as nesting.
 */
#ifndef FERRY_EXPR_PARSER_H
#define FERRY_EXPR_PARSER_H

#include "common/error.h"
#include "expr/arena.h"
#include "expr/ast.h"
#include "expr/diag.h"

/* Parse the whole text into a tree allocated in arena. */
int expr_parse(const struct expr_source *src, struct arena *arena, struct node **ret, struct ferry_error *err);

#endif
