/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "expr/funcs.h"
#include "expr/optimizer.h"
#include "expr/types.h"

static bool is_number_literal(const struct node *n)
{
        return n->kind == NODE_INT || n->kind == NODE_FLOAT;
}

static double literal_double(const struct node *n)
{
        return n->kind == NODE_INT ? (double) n->lit.i : n->lit.f;
}

static void make_int(struct node *n, int64_t i)
{
        n->kind = NODE_INT;
        n->lit.i = i;
        n->type = &type_int;
        n->a = n->b = NULL;
}

static void make_float(struct node *n, double f)
{
        n->kind = NODE_FLOAT;
        n->lit.f = f;
        n->type = &type_float;
        n->a = n->b = NULL;
}

/* Go's int64 arithmetic wraps; so does the evaluator's. */
static int64_t wrap(uint64_t v)
{
        return (int64_t) v;
}

static int fold_binary(struct node *n, struct arena *arena)
{
        const struct node *l = n->a, *r = n->b;

        if (n->op == OP_ADD && l->kind == NODE_STRING && r->kind == NODE_STRING) {
                char *s = arena_alloc(arena, l->str_len + r->str_len + 1);

                if (!s)
                        return -ENOMEM;
                memcpy(s, l->str, l->str_len);
                memcpy(s + l->str_len, r->str, r->str_len);
                s[l->str_len + r->str_len] = '\0';
                n->kind = NODE_STRING;
                n->str = s;
                n->str_len = l->str_len + r->str_len;
                n->type = &type_string;
                n->a = n->b = NULL;
                return 0;
        }
        if (!is_number_literal(l) || !is_number_literal(r))
                return 0;

        switch (n->op) {
        case OP_ADD:
        case OP_SUB:
        case OP_MUL:
                if (l->kind == NODE_INT && r->kind == NODE_INT) {
                        uint64_t a = (uint64_t) l->lit.i, b = (uint64_t) r->lit.i;

                        make_int(n, wrap(n->op == OP_ADD ? a + b : n->op == OP_SUB ? a - b : a * b));
                } else {
                        double a = literal_double(l), b = literal_double(r);

                        make_float(n, n->op == OP_ADD ? a + b : n->op == OP_SUB ? a - b : a * b);
                }
                break;
        case OP_DIV:
                make_float(n, literal_double(l) / literal_double(r));
                break;
        case OP_MOD:
                /* x % 0 stays, to fail when evaluated. */
                if (l->kind == NODE_INT && r->kind == NODE_INT && r->lit.i != 0)
                        make_int(n, r->lit.i == -1 ? 0 : l->lit.i % r->lit.i);
                break;
        default:
                break;
        }
        return 0;
}

static bool is_call(const struct node *n, enum func_id id, size_t n_args)
{
        return n->kind == NODE_CALL && n->func->id == id && n->n_args == n_args;
}

int expr_optimize(struct node *n, struct arena *arena)
{
        int r;

        if (!n || n->kind == NODE_REF)
                return 0;
        if ((r = expr_optimize(n->a, arena)) < 0 || (r = expr_optimize(n->b, arena)) < 0 ||
            (r = expr_optimize(n->c, arena)) < 0)
                return r;
        for (size_t i = 0; i < n->n_args; i++)
                if ((r = expr_optimize(n->args[i], arena)) < 0)
                        return r;

        switch (n->kind) {
        case NODE_UNARY:
                if (n->op == OP_NEGATE && n->a->kind == NODE_INT)
                        make_int(n, wrap(0 - (uint64_t) n->a->lit.i));
                else if (n->op == OP_NEGATE && n->a->kind == NODE_FLOAT)
                        make_float(n, -n->a->lit.f);
                else if (n->op == OP_UNARY_PLUS && is_number_literal(n->a)) {
                        if (n->a->kind == NODE_INT)
                                make_int(n, n->a->lit.i);
                        else
                                make_float(n, n->a->lit.f);
                }
                return 0;
        case NODE_BINARY:
                if ((r = fold_binary(n, arena)) < 0)
                        return r;
                /* count(a, p) > 0 and count(a, p) >= 1 are any(a, p). */
                if (n->kind == NODE_BINARY && is_call(n->a, FUNC_COUNT, 2) && n->b->kind == NODE_INT &&
                    ((n->op == OP_GT && n->b->lit.i == 0) || (n->op == OP_GE && n->b->lit.i == 1))) {
                        struct node *count = n->a;

                        *n = (struct node) {
                                .kind = NODE_CALL,
                                .pos = count->pos,
                                .depth = count->depth,
                                .args = count->args,
                                .n_args = count->n_args,
                                .str = "any",
                                .str_len = 3,
                                .type = &type_bool,
                                .func = func_lookup("any", 3),
                        };
                }
                return 0;
        case NODE_CALL:
                /* len(filter(a, p)) is count(a, p). */
                if (is_call(n, FUNC_LEN, 1) && is_call(n->args[0], FUNC_FILTER, 2)) {
                        struct node *filter = n->args[0];

                        n->func = func_lookup("count", 5);
                        n->str = "count";
                        n->str_len = 5;
                        n->args = filter->args;
                        n->n_args = filter->n_args;
                        n->cap_args = filter->cap_args;
                }
                return 0;
        default:
                return 0;
        }
}
