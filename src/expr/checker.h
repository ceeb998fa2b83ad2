/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The checker: resolves field names against the schema, gives every node
 * the type it can know before evaluation, compiles literal regular
 * expressions, and refuses what can never work ("Unknown field 'cpu'
 * (valid fields: ...)", "Operator '+' cannot be applied to string and
 * int", an expression that cannot return a boolean).  What it cannot know
 * (a field missing from an object, values of type any) is left to the
 * evaluator, which reports the same messages.
 */
#ifndef FERRY_EXPR_CHECKER_H
#define FERRY_EXPR_CHECKER_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "expr/ast.h"
#include "expr/diag.h"
#include "expr/expr.h"
#include "expr/regex.h"

/* The regular expressions the checker compiled; the expression owns them. */
struct regex_list {
        struct expr_regex **items;
        size_t n;
};

/*
 * Check root for schema.  *ret_fields gets one bit per schema field the
 * expression reads (bit i: the schema's field i), so that evaluation can
 * look them all up at once.
 */
int expr_check(const struct expr_source *src, enum expr_schema schema, struct node *root,
               struct regex_list *regexes, uint64_t *ret_fields, struct ferry_error *err);

void regex_list_done(struct regex_list *l);

#endif
