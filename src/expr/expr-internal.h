/* SPDX-License-Identifier: Apache-2.0 */
/* What a compiled expression holds; shared by expr.c and eval.c. */
#ifndef FERRY_EXPR_EXPR_INTERNAL_H
#define FERRY_EXPR_EXPR_INTERNAL_H

#include "expr/arena.h"
#include "expr/ast.h"
#include "expr/checker.h"
#include "expr/diag.h"
#include "expr/expr.h"
#include "expr/regex.h"
#include "expr/types.h"

struct expr {
        char *text;
        struct expr_source src;
        enum expr_schema schema;
        struct arena arena;            /* the tree and its strings */
        struct node *root;
        struct regex_list regexes;     /* literal patterns, compiled by the checker */
        struct expr_regex_cache *cache; /* patterns computed while evaluating */
        const struct type *type;       /* of the objects evaluated on */
        uint64_t fields;               /* bit i: the schema's field i is read */
};

#endif
