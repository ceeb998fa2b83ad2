/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "expr/eval.h"
#include "expr/expr-internal.h"
#include "expr/funcs.h"
#include "expr/types.h"
#include "expr/utf8.h"

/* Most evaluations make no strings or arrays, or small ones. */
#define EVAL_STACK_ARENA 2048

struct eval {
        const struct expr *e;
        const json_t *root;
        struct arena arena;
        struct value scopes[EXPR_DEPTH_MAX + 1]; /* the elements the enclosing predicates look at */
        size_t n_scopes;
        const json_t *fields[SCHEMA_FIELDS_MAX]; /* the object's fields read so far */
        uint64_t loaded;                         /* bit i: fields[i] is set */
        void *match_data;
        struct ferry_error *err;
};

static const char *const value_kind_names[] = {
        [VALUE_NIL] = "nil",       [VALUE_BOOL] = "bool",   [VALUE_INT] = "int",  [VALUE_FLOAT] = "float",
        [VALUE_STRING] = "string", [VALUE_ARRAY] = "array", [VALUE_MAP] = "map",
};

const char *value_kind_name(enum value_kind kind)
{
        return kind < ELEMENTSOF(value_kind_names) ? value_kind_names[kind] : "unknown";
}

struct value value_from_json(const json_t *j)
{
        if (!j)
                return (struct value) { .kind = VALUE_NIL };
        switch (json_typeof(j)) {
        case JSON_TRUE:
                return (struct value) { .kind = VALUE_BOOL, .b = true };
        case JSON_FALSE:
                return (struct value) { .kind = VALUE_BOOL, .b = false };
        case JSON_INTEGER:
                return (struct value) { .kind = VALUE_INT, .i = (int64_t) json_integer_value(j) };
        case JSON_REAL:
                return (struct value) { .kind = VALUE_FLOAT, .f = json_real_value(j) };
        case JSON_STRING:
                return (struct value) { .kind = VALUE_STRING, .s = { json_string_value(j), json_string_length(j) } };
        case JSON_ARRAY:
                return (struct value) { .kind = VALUE_ARRAY, .a = { .json = j, .n = json_array_size(j) } };
        case JSON_OBJECT:
                return (struct value) { .kind = VALUE_MAP, .map = j };
        default:
                return (struct value) { .kind = VALUE_NIL };
        }
}

static struct value array_at(const struct value *v, size_t i)
{
        if (v->a.json)
                return value_from_json(json_array_get(v->a.json, i));
        return v->a.items[i];
}

static const json_t *object_get(const json_t *object, const char *key, size_t len)
{
#if JANSSON_VERSION_HEX >= 0x020e00
        return json_object_getn(object, key, len);
#else
        return strlen(key) == len ? json_object_get(object, key) : NULL;
#endif
}

static bool is_number(const struct value *v)
{
        return v->kind == VALUE_INT || v->kind == VALUE_FLOAT;
}

static double as_double(const struct value *v)
{
        return v->kind == VALUE_INT ? (double) v->i : v->f;
}

bool value_equal(const struct value *a, const struct value *b)
{
        if (is_number(a) && is_number(b)) {
                if (a->kind == VALUE_INT && b->kind == VALUE_INT)
                        return a->i == b->i;
                return as_double(a) == as_double(b);
        }
        if (a->kind != b->kind)
                return false;
        switch (a->kind) {
        case VALUE_NIL:
                return true;
        case VALUE_BOOL:
                return a->b == b->b;
        case VALUE_STRING:
                return a->s.n == b->s.n && (a->s.n == 0 || memcmp(a->s.p, b->s.p, a->s.n) == 0);
        case VALUE_ARRAY:
                if (a->a.n != b->a.n)
                        return false;
                for (size_t i = 0; i < a->a.n; i++) {
                        struct value x = array_at(a, i), y = array_at(b, i);

                        if (!value_equal(&x, &y))
                                return false;
                }
                return true;
        case VALUE_MAP: {
                const char *key;
                size_t key_len;
                json_t *item;

                if (a->map == b->map)
                        return true;
                if (json_object_size(a->map) != json_object_size(b->map))
                        return false;
                json_object_keylen_foreach((json_t *) a->map, key, key_len, item) {
                        const json_t *other = object_get(b->map, key, key_len);
                        struct value x, y;

                        if (!other)
                                return false;
                        x = value_from_json(item);
                        y = value_from_json(other);
                        if (!value_equal(&x, &y))
                                return false;
                }
                return true;
        }
        default:
                return false;
        }
}

_printf_(3, 4)
static int fail_at(struct eval *ev, size_t pos, const char *fmt, ...)
{
        char message[FERRY_ERROR_MESSAGE_MAX];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        return expr_error_at(ev->err, -EINVAL, &ev->e->src, pos, "%s", message);
}

static int fail_oom(struct eval *ev)
{
        return ferry_error_set(ev->err, -ENOMEM, "Out of memory");
}

static const char *kind(const struct value *v)
{
        return value_kind_name(v->kind);
}

static int eval(struct eval *ev, const struct node *n, struct value *out);

/* A field of the object, looked up once per evaluation. */
static const json_t *field(struct eval *ev, unsigned slot)
{
        if (!(ev->loaded & (UINT64_C(1) << slot))) {
                ev->fields[slot] = json_object_get(ev->root, ev->e->type->fields[slot].name);
                ev->loaded |= UINT64_C(1) << slot;
        }
        return ev->fields[slot];
}

static int fail_operands(struct eval *ev, const struct node *n, const struct value *l, const struct value *r)
{
        return fail_at(ev, n->pos, "Operator '%s' cannot be applied to %s and %s", n->op_name, kind(l), kind(r));
}

static int regex_search(struct eval *ev, const struct node *pattern_node, const struct expr_regex *compiled,
                        const struct value *pattern, const char *s, size_t len, bool *ret)
{
        struct expr_regex *owned = NULL;
        const struct expr_regex *re = compiled;
        char reason[256] = "", clipped[EXPR_CLIP_BUF];
        int r;

        if (!re) {
                r = expr_regex_cache_get(ev->e->cache, pattern->s.p, pattern->s.n, &re, &owned, reason,
                                         sizeof reason);
                if (r == -ENOMEM)
                        return fail_oom(ev);
                if (r < 0)
                        return fail_at(ev, pattern_node->pos, "Invalid regular expression '%s': %s",
                                       expr_clip(pattern->s.p, pattern->s.n, EXPR_CLIP_MAX, clipped, sizeof clipped),
                                       reason);
        }
        r = expr_regex_search(re, s, len, &ev->match_data);
        expr_regex_free(owned);
        if (r == -ENOMEM)
                return fail_oom(ev);
        if (r < 0)
                return fail_at(ev, pattern_node->pos, "Regular expression '%s' exceeded its match limit",
                               expr_clip(pattern->s.p, pattern->s.n, EXPR_CLIP_MAX, clipped, sizeof clipped));
        *ret = r > 0;
        return 0;
}

static int compare(struct eval *ev, const struct node *n, const struct value *l, const struct value *r, int *ret)
{
        if (l->kind == VALUE_INT && r->kind == VALUE_INT) {
                *ret = (l->i > r->i) - (l->i < r->i);
                return 0;
        }
        if (is_number(l) && is_number(r)) {
                double a = as_double(l), b = as_double(r);

                /* NaN compares false every way, as in Go. */
                *ret = a < b ? -1 : a > b ? 1 : a == b ? 0 : 2;
                return 0;
        }
        if (l->kind == VALUE_STRING && r->kind == VALUE_STRING) {
                size_t min = l->s.n < r->s.n ? l->s.n : r->s.n;
                int c = min ? memcmp(l->s.p, r->s.p, min) : 0;

                *ret = c != 0 ? (c > 0) - (c < 0) : (l->s.n > r->s.n) - (l->s.n < r->s.n);
                return 0;
        }
        return fail_operands(ev, n, l, r);
}

/* Go's int64 arithmetic wraps around; do it on unsigned values to stay defined in C. */
static int64_t wrap_add(int64_t a, int64_t b)
{
        return (int64_t) ((uint64_t) a + (uint64_t) b);
}

static int64_t wrap_sub(int64_t a, int64_t b)
{
        return (int64_t) ((uint64_t) a - (uint64_t) b);
}

static int64_t wrap_mul(int64_t a, int64_t b)
{
        return (int64_t) ((uint64_t) a * (uint64_t) b);
}

static int eval_binary(struct eval *ev, const struct node *n, struct value *out)
{
        struct value l, r;
        int c = 0, rc;

        if ((rc = eval(ev, n->a, &l)) < 0)
                return rc;
        if (n->op == OP_COALESCE) {
                if (l.kind != VALUE_NIL) {
                        *out = l;
                        return 0;
                }
                return eval(ev, n->b, out);
        }
        if ((rc = eval(ev, n->b, &r)) < 0)
                return rc;

        switch (n->op) {
        case OP_EQ:
        case OP_NE:
                *out = (struct value) { .kind = VALUE_BOOL, .b = value_equal(&l, &r) == (n->op == OP_EQ) };
                return 0;
        case OP_LT:
        case OP_LE:
        case OP_GT:
        case OP_GE:
                if ((rc = compare(ev, n, &l, &r, &c)) < 0)
                        return rc;
                out->kind = VALUE_BOOL;
                out->b = n->op == OP_LT ? c == -1 : n->op == OP_LE ? (c == -1 || c == 0) :
                         n->op == OP_GT ? c == 1 : (c == 1 || c == 0);
                return 0;
        case OP_ADD:
                if (l.kind == VALUE_STRING && r.kind == VALUE_STRING) {
                        char *s = arena_alloc(&ev->arena, l.s.n + r.s.n + 1);

                        if (!s)
                                return fail_oom(ev);
                        if (l.s.n)
                                memcpy(s, l.s.p, l.s.n);
                        if (r.s.n)
                                memcpy(s + l.s.n, r.s.p, r.s.n);
                        s[l.s.n + r.s.n] = '\0';
                        *out = (struct value) { .kind = VALUE_STRING, .s = { s, l.s.n + r.s.n } };
                        return 0;
                }
                __attribute__((fallthrough));
        case OP_SUB:
        case OP_MUL:
                if (!is_number(&l) || !is_number(&r))
                        return fail_operands(ev, n, &l, &r);
                if (l.kind == VALUE_INT && r.kind == VALUE_INT) {
                        out->kind = VALUE_INT;
                        out->i = n->op == OP_ADD ? wrap_add(l.i, r.i) :
                                 n->op == OP_SUB ? wrap_sub(l.i, r.i) : wrap_mul(l.i, r.i);
                } else {
                        double a = as_double(&l), b = as_double(&r);

                        out->kind = VALUE_FLOAT;
                        out->f = n->op == OP_ADD ? a + b : n->op == OP_SUB ? a - b : a * b;
                }
                return 0;
        case OP_DIV:
                if (!is_number(&l) || !is_number(&r))
                        return fail_operands(ev, n, &l, &r);
                *out = (struct value) { .kind = VALUE_FLOAT, .f = as_double(&l) / as_double(&r) };
                return 0;
        case OP_MOD:
                if (l.kind != VALUE_INT || r.kind != VALUE_INT)
                        return fail_operands(ev, n, &l, &r);
                if (r.i == 0)
                        return fail_at(ev, n->pos, "Integer division by zero");
                *out = (struct value) { .kind = VALUE_INT, .i = r.i == -1 ? 0 : l.i % r.i };
                return 0;
        case OP_IN:
                out->kind = VALUE_BOOL;
                out->b = false;
                if (r.kind == VALUE_NIL)
                        break;
                if (r.kind == VALUE_ARRAY) {
                        for (size_t i = 0; i < r.a.n && !out->b; i++) {
                                struct value item = array_at(&r, i);

                                out->b = value_equal(&item, &l);
                        }
                        break;
                }
                if (r.kind == VALUE_MAP && l.kind == VALUE_STRING) {
                        out->b = object_get(r.map, l.s.p, l.s.n) != NULL;
                        break;
                }
                return fail_operands(ev, n, &l, &r);
        case OP_MATCHES:
        case OP_CONTAINS:
        case OP_STARTSWITH:
        case OP_ENDSWITH:
                out->kind = VALUE_BOOL;
                out->b = false;
                if (l.kind == VALUE_NIL || r.kind == VALUE_NIL)
                        break;
                if (l.kind != VALUE_STRING || r.kind != VALUE_STRING)
                        return fail_operands(ev, n, &l, &r);
                if (n->op == OP_MATCHES) {
                        if ((rc = regex_search(ev, n->b, n->re, &r, l.s.p, l.s.n, &out->b)) < 0)
                                return rc;
                } else if (n->op == OP_CONTAINS)
                        out->b = r.s.n == 0 || (l.s.n >= r.s.n && memmem(l.s.p, l.s.n, r.s.p, r.s.n));
                else if (n->op == OP_STARTSWITH)
                        out->b = l.s.n >= r.s.n && (r.s.n == 0 || memcmp(l.s.p, r.s.p, r.s.n) == 0);
                else
                        out->b = l.s.n >= r.s.n && (r.s.n == 0 || memcmp(l.s.p + l.s.n - r.s.n, r.s.p, r.s.n) == 0);
                break;
        default:
                return fail_at(ev, n->pos, "Unknown operator");
        }
        if (n->negate)
                out->b = !out->b;
        return 0;
}

static int eval_unary(struct eval *ev, const struct node *n, struct value *out)
{
        struct value v;
        int r;

        if ((r = eval(ev, n->a, &v)) < 0)
                return r;
        switch (n->op) {
        case OP_NOT:
                if (v.kind != VALUE_BOOL)
                        break;
                *out = (struct value) { .kind = VALUE_BOOL, .b = !v.b };
                return 0;
        case OP_NEGATE:
                if (v.kind == VALUE_INT)
                        *out = (struct value) { .kind = VALUE_INT, .i = wrap_sub(0, v.i) };
                else if (v.kind == VALUE_FLOAT)
                        *out = (struct value) { .kind = VALUE_FLOAT, .f = -v.f };
                else
                        break;
                return 0;
        case OP_UNARY_PLUS:
                if (!is_number(&v))
                        break;
                *out = v;
                return 0;
        default:
                break;
        }
        return fail_at(ev, n->pos, "Operator '%s' cannot be applied to %s", n->op_name, kind(&v));
}

static int eval_member(struct eval *ev, const struct node *n, const struct value *base, const char *key,
                       size_t key_len, struct value *out)
{
        char clipped[EXPR_CLIP_BUF];
        const json_t *j;

        if (base->kind != VALUE_MAP)
                return fail_at(ev, n->pos, "Cannot get field '%s' of %s",
                               expr_clip(key, key_len, EXPR_CLIP_MAX, clipped, sizeof clipped), kind(base));
        j = object_get(base->map, key, key_len);
        if (!j && n->missing_is_empty)
                *out = (struct value) { .kind = VALUE_STRING, .s = { "", 0 } };
        else
                *out = value_from_json(j);
        return 0;
}

static int eval_index(struct eval *ev, const struct node *n, struct value *out)
{
        struct value base, index;
        int r;

        if ((r = eval(ev, n->a, &base)) < 0 || (r = eval(ev, n->b, &index)) < 0)
                return r;
        switch (base.kind) {
        case VALUE_ARRAY: {
                int64_t i;

                if (index.kind != VALUE_INT)
                        return fail_at(ev, n->b->pos, "Array index must be an integer, not %s", kind(&index));
                i = index.i < 0 ? wrap_add(index.i, (int64_t) base.a.n) : index.i;
                if (i < 0 || (uint64_t) i >= base.a.n)
                        return fail_at(ev, n->pos, "Index %" PRId64 " out of range (array length is %zu)", index.i,
                                       base.a.n);
                *out = array_at(&base, (size_t) i);
                return 0;
        }
        case VALUE_MAP:
                if (index.kind != VALUE_STRING)
                        return fail_at(ev, n->b->pos, "Map key must be a string, not %s", kind(&index));
                return eval_member(ev, n, &base, index.s.p, index.s.n, out);
        default:
                return fail_at(ev, n->pos, "Cannot index %s", kind(&base));
        }
}

static int string_arg(struct eval *ev, const struct node *call, size_t i, struct value *out)
{
        int r = eval(ev, call->args[i], out);

        if (r < 0)
                return r;
        if (out->kind != VALUE_STRING)
                return fail_at(ev, call->args[i]->pos, "Argument %zu of '%s' must be a string, not %s", i + 1,
                               call->func->name, kind(out));
        return 0;
}

/* all any none one filter map count */
static int eval_predicate_call(struct eval *ev, const struct node *n, struct value *out)
{
        enum func_id id = n->func->id;
        struct value coll, *items = NULL;
        size_t matched = 0, n_items = 0;
        bool done = false;
        int r;

        if ((r = eval(ev, n->args[0], &coll)) < 0)
                return r;
        if (coll.kind != VALUE_ARRAY)
                return fail_at(ev, n->args[0]->pos, "Argument 1 of '%s' must be an array, not %s", n->func->name,
                               kind(&coll));

        if (n->n_args == 1) {
                /* count(array): the true elements. */
                for (size_t i = 0; i < coll.a.n; i++) {
                        struct value item = array_at(&coll, i);

                        if (item.kind != VALUE_BOOL)
                                return fail_at(ev, n->args[0]->pos,
                                               "Argument 1 of '%s' must be an array of booleans when there is "
                                               "no predicate, not an array of %s",
                                               n->func->name, kind(&item));
                        matched += item.b;
                }
                *out = (struct value) { .kind = VALUE_INT, .i = (int64_t) matched };
                return 0;
        }

        if ((id == FUNC_FILTER || id == FUNC_MAP) && coll.a.n > 0) {
                items = arena_alloc(&ev->arena, coll.a.n * sizeof(*items));
                if (!items)
                        return fail_oom(ev);
        }

        ev->n_scopes++;
        for (size_t i = 0; i < coll.a.n && !done; i++) {
                struct value v;

                ev->scopes[ev->n_scopes - 1] = array_at(&coll, i);
                if ((r = eval(ev, n->args[1], &v)) < 0) {
                        ev->n_scopes--;
                        return r;
                }
                if (id == FUNC_MAP) {
                        items[n_items++] = v;
                        continue;
                }
                if (v.kind != VALUE_BOOL) {
                        ev->n_scopes--;
                        return fail_at(ev, n->args[1]->pos, "Predicate of '%s' must return a boolean, not %s",
                                       n->func->name, kind(&v));
                }
                if (!v.b)
                        continue;
                matched++;
                switch (id) {
                case FUNC_ALL:
                        break;
                case FUNC_ANY:
                case FUNC_NONE:
                        done = true;
                        break;
                case FUNC_ONE:
                        done = matched > 1;
                        break;
                case FUNC_FILTER:
                        items[n_items++] = ev->scopes[ev->n_scopes - 1];
                        break;
                default:
                        break;
                }
        }
        ev->n_scopes--;

        switch (id) {
        case FUNC_ALL:
                *out = (struct value) { .kind = VALUE_BOOL, .b = matched == coll.a.n };
                break;
        case FUNC_ANY:
                *out = (struct value) { .kind = VALUE_BOOL, .b = matched > 0 };
                break;
        case FUNC_NONE:
                *out = (struct value) { .kind = VALUE_BOOL, .b = matched == 0 };
                break;
        case FUNC_ONE:
                *out = (struct value) { .kind = VALUE_BOOL, .b = matched == 1 };
                break;
        case FUNC_COUNT:
                *out = (struct value) { .kind = VALUE_INT, .i = (int64_t) matched };
                break;
        default:
                *out = (struct value) { .kind = VALUE_ARRAY, .a = { .items = items, .n = n_items } };
                break;
        }
        return 0;
}

/* has_tag() and matches_tag() over config['tag.<category>'], a comma-separated list. */
static int eval_tag_call(struct eval *ev, const struct node *n, struct value *out)
{
        const json_t *config = field(ev, n->slot);
        struct value category, tag;
        const char *key;
        size_t key_len;
        json_t *value;
        int r;

        if ((r = string_arg(ev, n, 0, &category)) < 0 || (r = string_arg(ev, n, 1, &tag)) < 0)
                return r;
        *out = (struct value) { .kind = VALUE_BOOL, .b = false };
        if (!json_is_object(config))
                return 0;

        json_object_keylen_foreach((json_t *) config, key, key_len, value) {
                const char *list = json_string_value(value), *end;
                size_t list_len;

                if (key_len < 4 || memcmp(key, "tag.", 4) != 0 || !list)
                        continue;
                if (!(category.s.n == 1 && category.s.p[0] == '*') &&
                    (key_len - 4 != category.s.n || memcmp(key + 4, category.s.p, category.s.n) != 0))
                        continue;

                list_len = json_string_length(value);
                end = list + list_len;
                for (const char *item = list; item <= end;) {
                        const char *comma = memchr(item, ',', (size_t) (end - item));
                        const char *stop = comma ? comma : end;
                        size_t len;
                        const char *t = str_trim_space(item, (size_t) (stop - item), &len);

                        if (len > 0) {
                                bool hit;

                                if (n->func->id == FUNC_HAS_TAG)
                                        hit = len == tag.s.n && memcmp(t, tag.s.p, len) == 0;
                                else if ((r = regex_search(ev, n->args[1], n->re, &tag, t, len, &hit)) < 0)
                                        return r;
                                if (hit) {
                                        out->b = true;
                                        return 0;
                                }
                        }
                        if (!comma)
                                break;
                        item = comma + 1;
                }
        }
        return 0;
}

static int eval_call(struct eval *ev, const struct node *n, struct value *out)
{
        struct value a, b;
        const char *s;
        size_t len;
        int r;

        if (n->func->predicate)
                return eval_predicate_call(ev, n, out);

        switch (n->func->id) {
        case FUNC_LEN:
                if ((r = eval(ev, n->args[0], &a)) < 0)
                        return r;
                switch (a.kind) {
                case VALUE_STRING:
                        /* Characters, as expr-lang counts them, not bytes. */
                        len = utf8_count(a.s.p, a.s.n);
                        break;
                case VALUE_ARRAY:
                        len = a.a.n;
                        break;
                case VALUE_MAP:
                        len = json_object_size(a.map);
                        break;
                default:
                        return fail_at(ev, n->args[0]->pos,
                                       "Argument 1 of 'len' must be a string, an array or a map, not %s", kind(&a));
                }
                *out = (struct value) { .kind = VALUE_INT, .i = (int64_t) len };
                return 0;
        case FUNC_LOWER:
        case FUNC_UPPER:
                if ((r = string_arg(ev, n, 0, &a)) < 0)
                        return r;
                s = n->func->id == FUNC_LOWER ? str_lower(&ev->arena, a.s.p, a.s.n, &len) :
                                                str_upper(&ev->arena, a.s.p, a.s.n, &len);
                if (!s)
                        return fail_oom(ev);
                break;
        case FUNC_TRIM:
                if ((r = string_arg(ev, n, 0, &a)) < 0)
                        return r;
                if (n->n_args == 1)
                        s = str_trim_space(a.s.p, a.s.n, &len);
                else {
                        if ((r = string_arg(ev, n, 1, &b)) < 0)
                                return r;
                        s = str_trim_cutset(a.s.p, a.s.n, b.s.p, b.s.n, &len);
                }
                break;
        case FUNC_PATH_BASE:
                if ((r = string_arg(ev, n, 0, &a)) < 0)
                        return r;
                s = path_base(a.s.p, a.s.n, &len);
                break;
        case FUNC_PATH_DIR:
                if ((r = string_arg(ev, n, 0, &a)) < 0)
                        return r;
                if (!(s = path_dir(&ev->arena, a.s.p, a.s.n, &len)))
                        return fail_oom(ev);
                break;
        case FUNC_HASPREFIX:
        case FUNC_HASSUFFIX:
                if ((r = string_arg(ev, n, 0, &a)) < 0 || (r = string_arg(ev, n, 1, &b)) < 0)
                        return r;
                out->kind = VALUE_BOOL;
                if (n->func->id == FUNC_HASPREFIX)
                        out->b = a.s.n >= b.s.n && (b.s.n == 0 || memcmp(a.s.p, b.s.p, b.s.n) == 0);
                else
                        out->b = a.s.n >= b.s.n && (b.s.n == 0 || memcmp(a.s.p + a.s.n - b.s.n, b.s.p, b.s.n) == 0);
                return 0;
        case FUNC_HAS_TAG:
        case FUNC_MATCHES_TAG:
                return eval_tag_call(ev, n, out);
        default:
                return fail_at(ev, n->pos, "Unknown function");
        }
        *out = (struct value) { .kind = VALUE_STRING, .s = { s, len } };
        return 0;
}

static int eval(struct eval *ev, const struct node *n, struct value *out)
{
        struct value v;
        int r;

        switch (n->kind) {
        case NODE_NIL:
                *out = (struct value) { .kind = VALUE_NIL };
                return 0;
        case NODE_BOOL:
                *out = (struct value) { .kind = VALUE_BOOL, .b = n->lit.b };
                return 0;
        case NODE_INT:
                *out = (struct value) { .kind = VALUE_INT, .i = n->lit.i };
                return 0;
        case NODE_FLOAT:
                *out = (struct value) { .kind = VALUE_FLOAT, .f = n->lit.f };
                return 0;
        case NODE_STRING:
                *out = (struct value) { .kind = VALUE_STRING, .s = { n->str, n->str_len } };
                return 0;
        case NODE_ARRAY: {
                struct value *items = n->n_args ? arena_alloc(&ev->arena, n->n_args * sizeof(*items)) : NULL;

                if (n->n_args && !items)
                        return fail_oom(ev);
                for (size_t i = 0; i < n->n_args; i++)
                        if ((r = eval(ev, n->args[i], &items[i])) < 0)
                                return r;
                *out = (struct value) { .kind = VALUE_ARRAY, .a = { .items = items, .n = n->n_args } };
                return 0;
        }
        case NODE_FIELD:
                *out = value_from_json(field(ev, n->slot));
                return 0;
        case NODE_POINTER:
                *out = ev->n_scopes > 0 ? ev->scopes[ev->n_scopes - 1] : (struct value) { .kind = VALUE_NIL };
                return 0;
        case NODE_MEMBER:
                if ((r = eval(ev, n->a, &v)) < 0)
                        return r;
                return eval_member(ev, n, &v, n->str, n->str_len, out);
        case NODE_INDEX:
                return eval_index(ev, n, out);
        case NODE_UNARY:
                return eval_unary(ev, n, out);
        case NODE_BINARY:
                return eval_binary(ev, n, out);
        case NODE_AND:
        case NODE_OR:
                for (size_t i = 0; i < n->n_args; i++) {
                        if ((r = eval(ev, n->args[i], &v)) < 0)
                                return r;
                        if (v.kind != VALUE_BOOL)
                                return fail_at(ev, n->args[i]->pos, "Operator '%s' cannot be applied to %s",
                                               n->op_name, kind(&v));
                        if (v.b == (n->kind == NODE_OR)) {
                                *out = v;
                                return 0;
                        }
                }
                *out = (struct value) { .kind = VALUE_BOOL, .b = n->kind == NODE_AND };
                return 0;
        case NODE_COND:
                if ((r = eval(ev, n->a, &v)) < 0)
                        return r;
                if (v.kind != VALUE_BOOL)
                        return fail_at(ev, n->pos, "Condition of '?:' must be a boolean, not %s", kind(&v));
                if (v.b && !n->b) {
                        *out = v;
                        return 0;
                }
                return eval(ev, v.b ? n->b : n->c, out);
        case NODE_CALL:
                return eval_call(ev, n, out);
        case NODE_REF:
                return eval(ev, n->a, out);
        }
        return fail_at(ev, n->pos, "Unknown expression");
}

int expr_match(const struct expr *e, const json_t *object, bool *ret, struct ferry_error *err)
{
        char stack[EVAL_STACK_ARENA];
        /* Not zeroed as a whole: scopes and fields are read only where set (4 KiB per call saved). */
        struct eval ev;
        struct value v;
        int r;

        if (!e || !ret)
                return ferry_error_set(err, -EINVAL, "No expression to evaluate");
        if (!json_is_object(object))
                return ferry_error_set(err, -EINVAL, "Expressions are evaluated on JSON objects");

        ev.e = e;
        ev.root = object;
        ev.err = err;
        ev.n_scopes = 0;
        ev.match_data = NULL;
        ev.loaded = 0;

        /*
         * Look up every field the expression reads before evaluating: the
         * lookups do not depend on each other, so when the object is not in
         * the CPU's caches (100,000 instances of jansson objects are not)
         * their memory accesses overlap instead of queueing one after the
         * other.
         */
        for (uint64_t bits = e->fields; bits; bits &= bits - 1) {
                unsigned i = (unsigned) __builtin_ctzll(bits);

                ev.fields[i] = json_object_get(object, e->type->fields[i].name);
                __builtin_prefetch(ev.fields[i]);
        }
        ev.loaded = e->fields;

        arena_init(&ev.arena, stack, sizeof stack);
        r = eval(&ev, e->root, &v);
        if (r >= 0 && v.kind != VALUE_BOOL)
                r = ferry_error_set(err, -EINVAL, "Expression must return a boolean, not %s", kind(&v));
        if (r >= 0)
                *ret = v.b;
        arena_done(&ev.arena);
        if (ev.match_data)
                expr_regex_match_data_free(ev.match_data);
        return r < 0 ? r : 0;
}
