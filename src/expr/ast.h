/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syntax tree of an expression.  Nodes live in the expression's arena;
 * the parser builds them, the checker fills in their types and resolves
 * names, the evaluator walks them.
 */
#ifndef FERRY_EXPR_AST_H
#define FERRY_EXPR_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct type;
struct func;
struct expr_regex;

enum node_kind {
        NODE_NIL,
        NODE_BOOL,
        NODE_INT,
        NODE_FLOAT,
        NODE_STRING,
        NODE_ARRAY,   /* [args...] */
        NODE_FIELD,   /* a field of the evaluated object, by name (str) */
        NODE_POINTER, /* '#': the element a predicate looks at */
        NODE_MEMBER,  /* a.str, and a['literal'] */
        NODE_INDEX,   /* a[b] */
        NODE_UNARY,   /* op a */
        NODE_BINARY,  /* a op b */
        NODE_AND,     /* args[0] and args[1] and ..., short-circuit */
        NODE_OR,      /* args[0] or args[1] or ..., short-circuit */
        NODE_COND,    /* a ? b : c, and a ?: c (b == NULL) */
        NODE_CALL,    /* func(args...) */
        NODE_REF,     /* a, evaluated again: the middle operand of 1 < x < 10 */
};

enum op {
        OP_NONE,
        OP_NOT,
        OP_NEGATE,
        OP_UNARY_PLUS,
        OP_EQ,
        OP_NE,
        OP_LT,
        OP_LE,
        OP_GT,
        OP_GE,
        OP_ADD,
        OP_SUB,
        OP_MUL,
        OP_DIV,
        OP_MOD,
        OP_IN,
        OP_MATCHES,
        OP_CONTAINS,
        OP_STARTSWITH,
        OP_ENDSWITH,
        OP_COALESCE,
};

struct node {
        enum node_kind kind;
        enum op op;
        bool negate;           /* 'not in', 'not matches', ...: the result is negated */
        const char *op_name;   /* the operator as written, for messages */
        size_t pos;            /* byte offset in the text, for messages */
        unsigned depth;        /* 1 for a leaf */

        struct node *a, *b, *c;
        struct node **args;
        size_t n_args, cap_args;

        union {
                bool b;
                int64_t i;
                double f;
        } lit;
        const char *str;       /* string literal; field, member or function name */
        size_t str_len;

        /* Filled in by the checker. */
        const struct type *type;
        const struct func *func;   /* NODE_CALL */
        struct expr_regex *re;     /* the compiled literal pattern of matches / matches_tag */
        bool missing_is_empty;     /* a key missing from a map of strings reads as "" */
        unsigned slot;             /* NODE_FIELD, and has_tag()'s config: the field's index in the schema */
};

#endif
