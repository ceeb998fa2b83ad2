/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rewrites of a checked tree that keep its answers, as expr-lang's own
 * optimizer makes them:
 *
 *     100 * 1024 * 1024      a literal (constant folding)
 *     len(filter(a, p))      count(a, p): no array is built
 *     count(a, p) > 0        any(a, p): stops at the first match
 *     count(a, p) >= 1       any(a, p)
 */
#ifndef FERRY_EXPR_OPTIMIZER_H
#define FERRY_EXPR_OPTIMIZER_H

#include "expr/arena.h"
#include "expr/ast.h"

/* Rewrite n and its children in place; returns -ENOMEM or 0. */
int expr_optimize(struct node *n, struct arena *arena);

#endif
