/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/checker.h"
#include "expr/funcs.h"
#include "expr/types.h"

struct checker {
        const struct expr_source *src;
        const struct type *root;
        struct regex_list *regexes;
        struct ferry_error *err;
        const struct type *scopes[EXPR_DEPTH_MAX + 1]; /* element types of the enclosing predicates */
        size_t n_scopes;
        uint64_t fields; /* the schema fields read */
};

_printf_(3, 4)
static int fail_at(struct checker *c, size_t pos, const char *fmt, ...)
{
        char message[FERRY_ERROR_MESSAGE_MAX];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        return expr_error_at(c->err, -EINVAL, c->src, pos, "%s", message);
}

static int fail_oom(struct checker *c)
{
        return ferry_error_set(c->err, -ENOMEM, "Out of memory");
}

static bool is_a(const struct type *t, enum type_kind kind)
{
        return t->kind == kind || t->kind == TYPE_ANY;
}

static const char *clip(const char *s, size_t len, char buf[static EXPR_CLIP_BUF])
{
        return expr_clip(s, len, EXPR_CLIP_MAX, buf, EXPR_CLIP_BUF);
}

/* The type both branches of ?: or ?? share, else any. */
static const struct type *type_merge(const struct type *a, const struct type *b)
{
        if (a->kind == TYPE_NIL)
                return b;
        if (b->kind == TYPE_NIL)
                return a;
        if (a == b)
                return a;
        if (a->kind == b->kind && a->kind != TYPE_ARRAY && a->kind != TYPE_OBJECT && a->kind != TYPE_MAP)
                return a;
        return &type_any;
}

/* int op int is int; any other mix of numbers is float; any stays any. */
static const struct type *type_promote(const struct type *a, const struct type *b)
{
        if (a->kind == TYPE_ANY || b->kind == TYPE_ANY)
                return &type_any;
        if (a->kind == TYPE_INT && b->kind == TYPE_INT)
                return &type_int;
        return &type_float;
}

static int compile_literal_regex(struct checker *c, struct node *pattern, struct expr_regex **ret)
{
        char reason[256] = "", clipped[EXPR_CLIP_BUF];
        struct expr_regex **items;
        struct expr_regex *re;
        int r;

        r = expr_regex_compile(pattern->str, pattern->str_len, &re, reason, sizeof reason);
        if (r == -ENOMEM)
                return fail_oom(c);
        if (r < 0)
                return fail_at(c, pattern->pos, "Invalid regular expression '%s': %s",
                               clip(pattern->str, pattern->str_len, clipped), reason);
        items = realloc(c->regexes->items, (c->regexes->n + 1) * sizeof(*items));
        if (!items) {
                expr_regex_free(re);
                return fail_oom(c);
        }
        items[c->regexes->n++] = re;
        c->regexes->items = items;
        *ret = re;
        return 0;
}

static int check(struct checker *c, struct node *n);

static int check_member(struct checker *c, struct node *n)
{
        const struct type *base = n->a->type;
        char clipped[EXPR_CLIP_BUF];
        const struct type_field *f;

        switch (base->kind) {
        case TYPE_ANY:
                n->type = &type_any;
                return 0;
        case TYPE_OBJECT:
                f = type_find_field(base, n->str, n->str_len);
                if (f)
                        n->type = f->type;
                else if (base->open)
                        n->type = &type_any;
                else {
                        char detail[256];

                        snprintf(detail, sizeof detail, "valid fields: %s", base->field_list);
                        return expr_error_at_detail(c->err, -EINVAL, c->src, n->pos, detail,
                                                    "Unknown field '%s' of %s", clip(n->str, n->str_len, clipped),
                                                    base->name);
                }
                return 0;
        case TYPE_MAP:
                n->type = base->elem;
                n->missing_is_empty = base->elem->kind == TYPE_STRING;
                return 0;
        default:
                return fail_at(c, n->pos, "Cannot get field '%s' of %s", clip(n->str, n->str_len, clipped),
                               base->name);
        }
}

static int check_index(struct checker *c, struct node *n)
{
        const struct type *base = n->a->type, *index = n->b->type;

        switch (base->kind) {
        case TYPE_ANY:
                n->type = &type_any;
                return 0;
        case TYPE_ARRAY:
                if (!is_a(index, TYPE_INT))
                        return fail_at(c, n->b->pos, "Array index must be an integer, not %s", index->name);
                n->type = base->elem;
                return 0;
        case TYPE_MAP:
                if (!is_a(index, TYPE_STRING))
                        return fail_at(c, n->b->pos, "Map key must be a string, not %s", index->name);
                n->type = base->elem;
                n->missing_is_empty = base->elem->kind == TYPE_STRING;
                return 0;
        case TYPE_OBJECT:
                if (!is_a(index, TYPE_STRING))
                        return fail_at(c, n->b->pos, "Field name must be a string, not %s", index->name);
                n->type = &type_any;
                return 0;
        default:
                return fail_at(c, n->pos, "Cannot index %s", base->name);
        }
}

static int check_unary(struct checker *c, struct node *n)
{
        const struct type *t = n->a->type;

        if (n->op == OP_NOT) {
                if (!is_a(t, TYPE_BOOL))
                        return fail_at(c, n->pos, "Operator '%s' cannot be applied to %s", n->op_name, t->name);
                n->type = &type_bool;
                return 0;
        }
        if (t->kind != TYPE_ANY && !type_is_number(t))
                return fail_at(c, n->pos, "Operator '%s' cannot be applied to %s", n->op_name, t->name);
        n->type = t;
        return 0;
}

static bool maybe_number(const struct type *t)
{
        return t->kind == TYPE_ANY || type_is_number(t);
}

static int check_binary(struct checker *c, struct node *n)
{
        const struct type *l = n->a->type, *r = n->b->type;
        bool ok = false;

        switch (n->op) {
        case OP_EQ:
        case OP_NE:
                /* Values of different types are simply not equal. */
                n->type = &type_bool;
                return 0;
        case OP_LT:
        case OP_LE:
        case OP_GT:
        case OP_GE:
                ok = (maybe_number(l) && maybe_number(r)) || (is_a(l, TYPE_STRING) && is_a(r, TYPE_STRING));
                n->type = &type_bool;
                break;
        case OP_ADD:
                if (maybe_number(l) && maybe_number(r)) {
                        ok = true;
                        n->type = type_promote(l, r);
                } else if (is_a(l, TYPE_STRING) && is_a(r, TYPE_STRING)) {
                        ok = true;
                        n->type = l->kind == TYPE_ANY || r->kind == TYPE_ANY ? &type_any : &type_string;
                }
                break;
        case OP_SUB:
        case OP_MUL:
                ok = maybe_number(l) && maybe_number(r);
                n->type = type_promote(l, r);
                break;
        case OP_DIV:
                ok = maybe_number(l) && maybe_number(r);
                n->type = &type_float;
                break;
        case OP_MOD:
                ok = is_a(l, TYPE_INT) && is_a(r, TYPE_INT);
                n->type = &type_int;
                break;
        case OP_IN:
                switch (r->kind) {
                case TYPE_ANY:
                case TYPE_ARRAY:
                        ok = true;
                        break;
                case TYPE_MAP:
                case TYPE_OBJECT:
                        ok = is_a(l, TYPE_STRING);
                        break;
                default:
                        ok = false;
                        break;
                }
                n->type = &type_bool;
                break;
        case OP_MATCHES:
        case OP_CONTAINS:
        case OP_STARTSWITH:
        case OP_ENDSWITH:
                ok = is_a(l, TYPE_STRING) && is_a(r, TYPE_STRING);
                n->type = &type_bool;
                if (ok && n->op == OP_MATCHES && n->b->kind == NODE_STRING)
                        return compile_literal_regex(c, n->b, &n->re);
                break;
        case OP_COALESCE:
                n->type = type_merge(l, r);
                return 0;
        default:
                return fail_at(c, n->pos, "Unknown operator");
        }
        if (!ok)
                return fail_at(c, n->pos, "Operator '%s' cannot be applied to %s and %s", n->op_name, l->name,
                               r->name);
        return 0;
}

static int check_string_arg(struct checker *c, const struct node *call, size_t i)
{
        const struct type *t = call->args[i]->type;

        if (is_a(t, TYPE_STRING))
                return 0;
        return fail_at(c, call->args[i]->pos, "Argument %zu of '%s' must be a string, not %s", i + 1,
                       call->func->name, t->name);
}

static int check_call(struct checker *c, struct node *n)
{
        const struct func *f = n->func;
        const struct type *t;
        int r;

        /* The collection comes first: its elements are what '#' means in the predicate. */
        if (f->predicate) {
                const struct type *coll, *elem;

                if ((r = check(c, n->args[0])) < 0)
                        return r;
                coll = n->args[0]->type;
                if (!is_a(coll, TYPE_ARRAY))
                        return fail_at(c, n->args[0]->pos, "Argument 1 of '%s' must be an array, not %s", f->name,
                                       coll->name);
                elem = coll->kind == TYPE_ARRAY ? coll->elem : &type_any;

                if (n->n_args == 1) {
                        /* count(array) counts the true elements. */
                        if (!is_a(elem, TYPE_BOOL))
                                return fail_at(c, n->args[0]->pos,
                                               "Argument 1 of '%s' must be an array of booleans when there is "
                                               "no predicate, not an array of %s",
                                               f->name, elem->name);
                        n->type = &type_int;
                        return 0;
                }

                c->scopes[c->n_scopes++] = elem;
                r = check(c, n->args[1]);
                c->n_scopes--;
                if (r < 0)
                        return r;
                t = n->args[1]->type;
                if (f->id != FUNC_MAP && !is_a(t, TYPE_BOOL))
                        return fail_at(c, n->args[1]->pos, "Predicate of '%s' must return a boolean, not %s",
                                       f->name, t->name);
                switch (f->id) {
                case FUNC_FILTER:
                        n->type = coll->kind == TYPE_ARRAY ? coll : &type_array_any;
                        break;
                case FUNC_MAP:
                        n->type = type_array_of(t);
                        break;
                case FUNC_COUNT:
                        n->type = &type_int;
                        break;
                default:
                        n->type = &type_bool;
                        break;
                }
                return 0;
        }

        for (size_t i = 0; i < n->n_args; i++)
                if ((r = check(c, n->args[i])) < 0)
                        return r;

        switch (f->id) {
        case FUNC_LEN:
                t = n->args[0]->type;
                if (t->kind != TYPE_ANY && t->kind != TYPE_STRING && t->kind != TYPE_ARRAY && t->kind != TYPE_MAP &&
                    t->kind != TYPE_OBJECT)
                        return fail_at(c, n->args[0]->pos,
                                       "Argument 1 of 'len' must be a string, an array or a map, not %s", t->name);
                n->type = &type_int;
                return 0;
        case FUNC_LOWER:
        case FUNC_UPPER:
        case FUNC_TRIM:
        case FUNC_PATH_BASE:
        case FUNC_PATH_DIR:
                for (size_t i = 0; i < n->n_args; i++)
                        if ((r = check_string_arg(c, n, i)) < 0)
                                return r;
                n->type = &type_string;
                return 0;
        case FUNC_HASPREFIX:
        case FUNC_HASSUFFIX:
                for (size_t i = 0; i < n->n_args; i++)
                        if ((r = check_string_arg(c, n, i)) < 0)
                                return r;
                n->type = &type_bool;
                return 0;
        case FUNC_HAS_TAG:
        case FUNC_MATCHES_TAG: {
                const struct type_field *config = type_find_field(c->root, "config", strlen("config"));

                if (!config || config->type->kind != TYPE_MAP)
                        return fail_at(c, n->pos, "Function '%s' needs the 'config' field, which a %s does not have",
                                       f->name, c->root->name);
                n->slot = (unsigned) (config - c->root->fields);
                c->fields |= UINT64_C(1) << n->slot;
                for (size_t i = 0; i < n->n_args; i++)
                        if ((r = check_string_arg(c, n, i)) < 0)
                                return r;
                n->type = &type_bool;
                if (f->id == FUNC_MATCHES_TAG && n->args[1]->kind == NODE_STRING)
                        return compile_literal_regex(c, n->args[1], &n->re);
                return 0;
        }
        default:
                return fail_at(c, n->pos, "Unknown function");
        }
}

static int check(struct checker *c, struct node *n)
{
        char clipped[EXPR_CLIP_BUF];
        const struct type_field *f;
        int r;

        switch (n->kind) {
        case NODE_NIL:
                n->type = &type_nil;
                return 0;
        case NODE_BOOL:
                n->type = &type_bool;
                return 0;
        case NODE_INT:
                n->type = &type_int;
                return 0;
        case NODE_FLOAT:
                n->type = &type_float;
                return 0;
        case NODE_STRING:
                n->type = &type_string;
                return 0;
        case NODE_ARRAY: {
                const struct type *common = NULL;

                for (size_t i = 0; i < n->n_args; i++) {
                        if ((r = check(c, n->args[i])) < 0)
                                return r;
                        if (i == 0)
                                common = n->args[i]->type;
                        else if (common != n->args[i]->type)
                                common = &type_any;
                }
                n->type = common ? type_array_of(common) : &type_array_any;
                return 0;
        }
        case NODE_FIELD:
                f = type_find_field(c->root, n->str, n->str_len);
                if (!f) {
                        char detail[256];

                        snprintf(detail, sizeof detail, "valid fields: %s", c->root->field_list);
                        return expr_error_at_detail(c->err, -EINVAL, c->src, n->pos, detail, "Unknown field '%s'",
                                                    clip(n->str, n->str_len, clipped));
                }
                n->type = f->type;
                n->slot = (unsigned) (f - c->root->fields);
                c->fields |= UINT64_C(1) << n->slot;
                return 0;
        case NODE_POINTER:
                n->type = c->n_scopes > 0 ? c->scopes[c->n_scopes - 1] : &type_any;
                return 0;
        case NODE_MEMBER:
                if ((r = check(c, n->a)) < 0)
                        return r;
                return check_member(c, n);
        case NODE_INDEX:
                if ((r = check(c, n->a)) < 0 || (r = check(c, n->b)) < 0)
                        return r;
                return check_index(c, n);
        case NODE_UNARY:
                if ((r = check(c, n->a)) < 0)
                        return r;
                return check_unary(c, n);
        case NODE_BINARY:
                if ((r = check(c, n->a)) < 0 || (r = check(c, n->b)) < 0)
                        return r;
                return check_binary(c, n);
        case NODE_AND:
        case NODE_OR:
                for (size_t i = 0; i < n->n_args; i++) {
                        if ((r = check(c, n->args[i])) < 0)
                                return r;
                        if (!is_a(n->args[i]->type, TYPE_BOOL))
                                return fail_at(c, n->args[i]->pos, "Operator '%s' cannot be applied to %s",
                                               n->op_name, n->args[i]->type->name);
                }
                n->type = &type_bool;
                return 0;
        case NODE_COND:
                if ((r = check(c, n->a)) < 0)
                        return r;
                if (!is_a(n->a->type, TYPE_BOOL))
                        return fail_at(c, n->pos, "Condition of '?:' must be a boolean, not %s", n->a->type->name);
                if (n->b && (r = check(c, n->b)) < 0)
                        return r;
                if ((r = check(c, n->c)) < 0)
                        return r;
                n->type = type_merge(n->b ? n->b->type : n->a->type, n->c->type);
                return 0;
        case NODE_CALL:
                return check_call(c, n);
        case NODE_REF:
                n->type = n->a->type;
                return 0;
        }
        return fail_at(c, n->pos, "Unknown expression");
}

int expr_check(const struct expr_source *src, enum expr_schema schema, struct node *root,
               struct regex_list *regexes, uint64_t *ret_fields, struct ferry_error *err)
{
        struct checker c = {
                .src = src,
                .root = schema_type(schema),
                .regexes = regexes,
                .err = err,
        };
        int r;

        if (!c.root)
                return ferry_error_set(err, -EINVAL, "Unknown expression schema %d", (int) schema);
        r = check(&c, root);
        if (r < 0)
                return r;
        if (root->type->kind != TYPE_BOOL && root->type->kind != TYPE_ANY)
                return ferry_error_set(err, -EINVAL, "Expression must return a boolean, not %s", root->type->name);
        *ret_fields = c.fields;
        return 0;
}

void regex_list_done(struct regex_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                expr_regex_free(l->items[i]);
        free(l->items);
        *l = (struct regex_list) {};
}
