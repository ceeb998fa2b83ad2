/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/strbuf.h"
#include "expr/expr.h"
#include "expr/funcs.h"
#include "expr/lexer.h"
#include "expr/parser.h"

struct parser {
        const struct expr_source *src;
        struct arena *arena;
        const struct token *tokens;
        size_t n_tokens;
        size_t i;
        unsigned nesting;
        unsigned predicates;
        struct ferry_error *err;
        int failed; /* the first error's code, 0 while none */
};

struct binary_op {
        enum token_kind token;
        enum op op;
        enum node_kind kind; /* NODE_BINARY, NODE_AND, NODE_OR */
        int precedence;
        const char *name;
};

static const struct binary_op binary_ops[] = {
        { TOKEN_OR, OP_NONE, NODE_OR, 10, "or" },
        { TOKEN_OROR, OP_NONE, NODE_OR, 10, "||" },
        { TOKEN_AND, OP_NONE, NODE_AND, 15, "and" },
        { TOKEN_ANDAND, OP_NONE, NODE_AND, 15, "&&" },
        { TOKEN_EQ, OP_EQ, NODE_BINARY, 20, "==" },
        { TOKEN_NE, OP_NE, NODE_BINARY, 20, "!=" },
        { TOKEN_LT, OP_LT, NODE_BINARY, 20, "<" },
        { TOKEN_LE, OP_LE, NODE_BINARY, 20, "<=" },
        { TOKEN_GT, OP_GT, NODE_BINARY, 20, ">" },
        { TOKEN_GE, OP_GE, NODE_BINARY, 20, ">=" },
        { TOKEN_IN, OP_IN, NODE_BINARY, 20, "in" },
        { TOKEN_MATCHES, OP_MATCHES, NODE_BINARY, 20, "matches" },
        { TOKEN_CONTAINS, OP_CONTAINS, NODE_BINARY, 20, "contains" },
        { TOKEN_STARTSWITH, OP_STARTSWITH, NODE_BINARY, 20, "startsWith" },
        { TOKEN_ENDSWITH, OP_ENDSWITH, NODE_BINARY, 20, "endsWith" },
        { TOKEN_PLUS, OP_ADD, NODE_BINARY, 30, "+" },
        { TOKEN_MINUS, OP_SUB, NODE_BINARY, 30, "-" },
        { TOKEN_STAR, OP_MUL, NODE_BINARY, 60, "*" },
        { TOKEN_SLASH, OP_DIV, NODE_BINARY, 60, "/" },
        { TOKEN_PERCENT, OP_MOD, NODE_BINARY, 60, "%" },
        { TOKEN_COALESCE, OP_COALESCE, NODE_BINARY, 500, "??" },
};

/* 'not in', 'not matches', ... */
static const char *const negated_names[] = {
        [OP_IN] = "not in",
        [OP_MATCHES] = "not matches",
        [OP_CONTAINS] = "not contains",
        [OP_STARTSWITH] = "not startsWith",
        [OP_ENDSWITH] = "not endsWith",
};

static const struct binary_op *binary_op_of(enum token_kind kind)
{
        for (size_t i = 0; i < ELEMENTSOF(binary_ops); i++)
                if (binary_ops[i].token == kind)
                        return &binary_ops[i];
        return NULL;
}

static bool is_comparison(enum op op)
{
        return op == OP_LT || op == OP_LE || op == OP_GT || op == OP_GE;
}

static bool is_negatable(enum token_kind kind)
{
        return kind == TOKEN_IN || kind == TOKEN_MATCHES || kind == TOKEN_CONTAINS || kind == TOKEN_STARTSWITH ||
               kind == TOKEN_ENDSWITH;
}

static const struct token *cur(const struct parser *p)
{
        return &p->tokens[p->i];
}

static const struct token *peek(const struct parser *p, size_t ahead)
{
        return p->i + ahead < p->n_tokens ? &p->tokens[p->i + ahead] : &p->tokens[p->n_tokens - 1];
}

static void advance(struct parser *p)
{
        if (p->i + 1 < p->n_tokens)
                p->i++;
}

_printf_(3, 4)
static struct node *fail_at(struct parser *p, size_t pos, const char *fmt, ...)
{
        char message[FERRY_ERROR_MESSAGE_MAX];
        va_list ap;

        if (p->failed)
                return NULL;
        va_start(ap, fmt);
        (void) vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        p->failed = expr_error_at(p->err, -EINVAL, p->src, pos, "%s", message);
        return NULL;
}

static struct node *fail_oom(struct parser *p)
{
        if (!p->failed)
                p->failed = ferry_error_set(p->err, -ENOMEM, "Out of memory");
        return NULL;
}

/* How a token reads in a message: "end of expression", "')'", "name 'foo'". */
static const char *describe(const struct parser *p, const struct token *t, char *buf, size_t size)
{
        char clipped[EXPR_CLIP_BUF];

        expr_clip(p->src->text + t->pos, t->len, EXPR_CLIP_MAX, clipped, sizeof clipped);
        switch (t->kind) {
        case TOKEN_EOF:
                snprintf(buf, size, "end of expression");
                break;
        case TOKEN_STRING:
                snprintf(buf, size, "string %s", clipped);
                break;
        case TOKEN_INT:
        case TOKEN_FLOAT:
                snprintf(buf, size, "number %s", clipped);
                break;
        case TOKEN_IDENT:
                snprintf(buf, size, "name '%s'", clipped);
                break;
        default:
                snprintf(buf, size, "'%s'", clipped);
                break;
        }
        return buf;
}

static struct node *fail_unexpected(struct parser *p, const struct token *t)
{
        char what[EXPR_CLIP_BUF + 32], clipped[EXPR_CLIP_BUF];

        if (t->kind == TOKEN_UNSUPPORTED) {
                expr_clip(p->src->text + t->pos, t->len, EXPR_CLIP_MAX, clipped, sizeof clipped);
                if (streq(clipped, "="))
                        return fail_at(p, t->pos, "Unexpected '=' (compare with '==')");
                if (streq(clipped, "&"))
                        return fail_at(p, t->pos, "Unexpected '&' (use 'and' or '&&')");
                if (streq(clipped, "|"))
                        return fail_at(p, t->pos, "Unexpected '|' (use 'or' or '||')");
                return fail_at(p, t->pos, "'%s' is not supported", clipped);
        }
        return fail_at(p, t->pos, "Unexpected %s", describe(p, t, what, sizeof what));
}

static bool expect(struct parser *p, enum token_kind kind, const char *text)
{
        char what[EXPR_CLIP_BUF + 32];

        if (cur(p)->kind == kind) {
                advance(p);
                return true;
        }
        fail_at(p, cur(p)->pos, "Expected '%s' but found %s", text, describe(p, cur(p), what, sizeof what));
        return false;
}

/* Between list items: a ',' or the closing bracket. */
static bool expect_comma(struct parser *p, const char *closing)
{
        char what[EXPR_CLIP_BUF + 32];

        if (cur(p)->kind == TOKEN_COMMA) {
                advance(p);
                return true;
        }
        fail_at(p, cur(p)->pos, "Expected ',' or '%s' but found %s", closing, describe(p, cur(p), what, sizeof what));
        return false;
}

static struct node *node_new(struct parser *p, enum node_kind kind, size_t pos)
{
        struct node *n = arena_zalloc(p->arena, sizeof(*n));

        if (!n)
                return fail_oom(p);
        n->kind = kind;
        n->pos = pos;
        n->depth = 1;
        return n;
}

static bool node_depth_ok(struct parser *p, struct node *n)
{
        if (n->depth <= EXPR_DEPTH_MAX)
                return true;
        fail_at(p, n->pos, "Expression is nested too deeply (more than %d levels)", EXPR_DEPTH_MAX);
        return false;
}

static void depth_include(struct node *n, const struct node *child)
{
        if (child && child->depth + 1 > n->depth)
                n->depth = child->depth + 1;
}

/* Compute n's depth from its children and refuse it beyond the limit. */
static struct node *node_finish(struct parser *p, struct node *n)
{
        if (!n)
                return NULL;
        depth_include(n, n->a);
        depth_include(n, n->b);
        depth_include(n, n->c);
        for (size_t i = 0; i < n->n_args; i++)
                depth_include(n, n->args[i]);
        return node_depth_ok(p, n) ? n : NULL;
}

static bool node_append(struct parser *p, struct node *n, struct node *child)
{
        if (n->n_args == n->cap_args) {
                size_t cap = n->cap_args ? n->cap_args * 2 : 4;
                struct node **args = arena_alloc(p->arena, cap * sizeof(*args));

                if (!args) {
                        fail_oom(p);
                        return false;
                }
                if (n->n_args)
                        memcpy(args, n->args, n->n_args * sizeof(*args));
                n->args = args;
                n->cap_args = cap;
        }
        n->args[n->n_args++] = child;
        depth_include(n, child);
        return node_depth_ok(p, n);
}

static struct node *parse_expression(struct parser *p, int precedence);

static struct node *parse_predicate(struct parser *p)
{
        bool braces = cur(p)->kind == TOKEN_LBRACE;
        struct node *body;

        if (braces)
                advance(p);
        p->predicates++;
        body = parse_expression(p, 0);
        p->predicates--;
        if (!body)
                return NULL;
        if (braces && !expect(p, TOKEN_RBRACE, "}"))
                return NULL;
        return body;
}

static struct node *parse_call(struct parser *p, const struct token *name)
{
        const struct func *f = func_lookup(p->src->text + name->pos, name->len);
        char clipped[EXPR_CLIP_BUF];
        struct node *call;

        if (!f) {
                expr_clip(p->src->text + name->pos, name->len, EXPR_CLIP_MAX, clipped, sizeof clipped);
                if (!p->failed) {
                        char detail[256];

                        snprintf(detail, sizeof detail, "functions: %s", func_names);
                        p->failed = expr_error_at_detail(p->err, -EINVAL, p->src, name->pos, detail,
                                                         "Unknown function '%s'", clipped);
                }
                return NULL;
        }
        if (!(call = node_new(p, NODE_CALL, name->pos)))
                return NULL;
        call->func = f;
        call->str = f->name;
        call->str_len = strlen(f->name);

        if (!expect(p, TOKEN_LPAREN, "("))
                return NULL;
        while (cur(p)->kind != TOKEN_RPAREN) {
                struct node *arg;

                if (call->n_args > 0) {
                        if (!expect_comma(p, ")"))
                                return NULL;
                        if (cur(p)->kind == TOKEN_RPAREN)
                                break;
                }
                if (f->predicate && call->n_args == 1)
                        arg = parse_predicate(p);
                else
                        arg = parse_expression(p, 0);
                if (!arg || !node_append(p, call, arg))
                        return NULL;
        }
        advance(p);

        if (call->n_args < f->min_args || call->n_args > f->max_args) {
                if (f->min_args == f->max_args)
                        return fail_at(p, name->pos, "Function '%s' takes %u argument%s, not %zu", f->name,
                                       f->min_args, f->min_args == 1 ? "" : "s", call->n_args);
                return fail_at(p, name->pos, "Function '%s' takes %u or %u arguments, not %zu", f->name,
                               f->min_args, f->max_args, call->n_args);
        }
        return call;
}

/* A name after '.': any word, keywords included (config.in is the key "in"). */
static bool is_property_name(enum token_kind kind)
{
        switch (kind) {
        case TOKEN_IDENT:
        case TOKEN_TRUE:
        case TOKEN_FALSE:
        case TOKEN_NIL:
        case TOKEN_NOT:
        case TOKEN_AND:
        case TOKEN_OR:
        case TOKEN_IN:
        case TOKEN_MATCHES:
        case TOKEN_CONTAINS:
        case TOKEN_STARTSWITH:
        case TOKEN_ENDSWITH:
                return true;
        default:
                return false;
        }
}

static struct node *parse_postfix(struct parser *p, struct node *node)
{
        while (node) {
                const struct token *t = cur(p);

                if (t->kind == TOKEN_DOT) {
                        const struct token *name;
                        struct node *m;

                        advance(p);
                        name = cur(p);
                        if (!is_property_name(name->kind)) {
                                char what[EXPR_CLIP_BUF + 32];

                                return fail_at(p, name->pos, "Expected a field name after '.' but found %s",
                                               describe(p, name, what, sizeof what));
                        }
                        advance(p);
                        if (cur(p)->kind == TOKEN_LPAREN)
                                return fail_at(p, name->pos, "Method calls are not supported");
                        if (!(m = node_new(p, NODE_MEMBER, name->pos)))
                                return NULL;
                        m->a = node;
                        if (!(m->str = arena_strndup(p->arena, p->src->text + name->pos, name->len)))
                                return fail_oom(p);
                        m->str_len = name->len;
                        node = node_finish(p, m);
                } else if (t->kind == TOKEN_LBRACKET) {
                        struct node *index, *m;

                        advance(p);
                        if (cur(p)->kind == TOKEN_COLON)
                                return fail_at(p, cur(p)->pos, "Slices are not supported");
                        if (!(index = parse_expression(p, 0)))
                                return NULL;
                        if (cur(p)->kind == TOKEN_COLON)
                                return fail_at(p, cur(p)->pos, "Slices are not supported");
                        if (!expect(p, TOKEN_RBRACKET, "]"))
                                return NULL;
                        if (index->kind == NODE_STRING) {
                                /* a['key'] is a.key: resolved and checked the same way. */
                                if (!(m = node_new(p, NODE_MEMBER, index->pos)))
                                        return NULL;
                                m->a = node;
                                m->str = index->str;
                                m->str_len = index->str_len;
                        } else {
                                if (!(m = node_new(p, NODE_INDEX, t->pos)))
                                        return NULL;
                                m->a = node;
                                m->b = index;
                        }
                        node = node_finish(p, m);
                } else
                        break;
        }
        return node;
}

static struct node *parse_array(struct parser *p)
{
        struct node *array = node_new(p, NODE_ARRAY, cur(p)->pos);

        if (!array)
                return NULL;
        advance(p);
        while (cur(p)->kind != TOKEN_RBRACKET) {
                struct node *item;

                if (array->n_args > 0) {
                        if (!expect_comma(p, "]"))
                                return NULL;
                        if (cur(p)->kind == TOKEN_RBRACKET)
                                break;
                }
                if (!(item = parse_expression(p, 0)) || !node_append(p, array, item))
                        return NULL;
        }
        advance(p);
        return array;
}

static struct node *parse_secondary(struct parser *p)
{
        const struct token *t = cur(p);
        struct node *n;

        switch (t->kind) {
        case TOKEN_TRUE:
        case TOKEN_FALSE:
                if (!(n = node_new(p, NODE_BOOL, t->pos)))
                        return NULL;
                n->lit.b = t->kind == TOKEN_TRUE;
                advance(p);
                return n;
        case TOKEN_NIL:
                advance(p);
                return node_new(p, NODE_NIL, t->pos);
        case TOKEN_INT:
                if (!(n = node_new(p, NODE_INT, t->pos)))
                        return NULL;
                n->lit.i = t->i;
                advance(p);
                return n;
        case TOKEN_FLOAT:
                if (!(n = node_new(p, NODE_FLOAT, t->pos)))
                        return NULL;
                n->lit.f = t->f;
                advance(p);
                return n;
        case TOKEN_STRING:
                if (!(n = node_new(p, NODE_STRING, t->pos)))
                        return NULL;
                n->str = t->str.s;
                n->str_len = t->str.n;
                advance(p);
                return parse_postfix(p, n);
        case TOKEN_IDENT:
                advance(p);
                if (cur(p)->kind == TOKEN_LPAREN)
                        return parse_postfix(p, parse_call(p, t));
                if (!(n = node_new(p, NODE_FIELD, t->pos)))
                        return NULL;
                if (!(n->str = arena_strndup(p->arena, p->src->text + t->pos, t->len)))
                        return fail_oom(p);
                n->str_len = t->len;
                return parse_postfix(p, n);
        case TOKEN_LBRACKET:
                return parse_postfix(p, parse_array(p));
        case TOKEN_LBRACE:
                return fail_at(p, t->pos, "Map literals are not supported");
        default:
                return fail_unexpected(p, t);
        }
}

static struct node *parse_primary(struct parser *p)
{
        const struct token *t = cur(p);
        struct node *n;

        switch (t->kind) {
        case TOKEN_NOT:
        case TOKEN_BANG:
        case TOKEN_MINUS:
        case TOKEN_PLUS: {
                bool logical = t->kind == TOKEN_NOT || t->kind == TOKEN_BANG;

                advance(p);
                if (!(n = node_new(p, NODE_UNARY, t->pos)))
                        return NULL;
                n->op = logical ? OP_NOT : t->kind == TOKEN_MINUS ? OP_NEGATE : OP_UNARY_PLUS;
                n->op_name = t->kind == TOKEN_NOT ? "not" : t->kind == TOKEN_BANG ? "!" :
                             t->kind == TOKEN_MINUS ? "-" : "+";
                n->a = parse_expression(p, logical ? 50 : 90);
                if (!n->a)
                        return NULL;
                return parse_postfix(p, node_finish(p, n));
        }
        case TOKEN_LPAREN:
                advance(p);
                if (!(n = parse_expression(p, 0)))
                        return NULL;
                if (!expect(p, TOKEN_RPAREN, ")"))
                        return NULL;
                return parse_postfix(p, n);
        case TOKEN_HASH:
        case TOKEN_DOT:
                if (p->predicates == 0)
                        return fail_at(p, t->pos, "Unexpected '%s' outside of a predicate",
                                       t->kind == TOKEN_HASH ? "#" : ".");
                if (t->kind == TOKEN_HASH) {
                        if (t->len > 1) {
                                char clipped[EXPR_CLIP_BUF];

                                expr_clip(p->src->text + t->pos, t->len, EXPR_CLIP_MAX, clipped, sizeof clipped);
                                return fail_at(p, t->pos, "Unknown variable '%s'", clipped);
                        }
                        advance(p);
                }
                /* .field is #.field: parse_postfix() reads the '.'. */
                return parse_postfix(p, node_new(p, NODE_POINTER, t->pos));
        default:
                return parse_secondary(p);
        }
}

/* a < b < c: (a < b) and (b < c), b evaluated again. */
static struct node *parse_comparison(struct parser *p, struct node *left, const struct token *op_token,
                                     const struct binary_op *op)
{
        struct node *chain = NULL;

        for (;;) {
                struct node *right, *cmp;

                if (!(right = parse_expression(p, op->precedence + 1)))
                        return NULL;
                if (!(cmp = node_new(p, NODE_BINARY, op_token->pos)))
                        return NULL;
                cmp->op = op->op;
                cmp->op_name = op->name;
                cmp->a = left;
                cmp->b = right;
                if (!node_finish(p, cmp))
                        return NULL;
                if (!chain)
                        chain = cmp;
                else {
                        if (chain->kind != NODE_AND) {
                                struct node *and = node_new(p, NODE_AND, chain->pos);

                                if (!and || !node_append(p, and, chain))
                                        return NULL;
                                and->op_name = "and";
                                chain = and;
                        }
                        if (!node_append(p, chain, cmp))
                                return NULL;
                }

                op_token = cur(p);
                op = binary_op_of(op_token->kind);
                if (!op || !is_comparison(op->op))
                        return chain;
                advance(p);
                if (!(left = node_new(p, NODE_REF, right->pos)))
                        return NULL;
                left->a = right;
                if (!node_finish(p, left))
                        return NULL;
        }
}

static struct node *parse_conditional(struct parser *p, struct node *cond)
{
        while (cond && cur(p)->kind == TOKEN_QUESTION) {
                struct node *n = node_new(p, NODE_COND, cur(p)->pos);

                if (!n)
                        return NULL;
                n->op_name = "?:";
                advance(p);
                n->a = cond;
                if (cur(p)->kind == TOKEN_COLON)
                        advance(p);
                else {
                        if (!(n->b = parse_expression(p, 0)))
                                return NULL;
                        if (!expect(p, TOKEN_COLON, ":"))
                                return NULL;
                }
                if (!(n->c = parse_expression(p, 0)))
                        return NULL;
                cond = node_finish(p, n);
        }
        return cond;
}

static struct node *parse_expression_inner(struct parser *p, int precedence)
{
        struct node *left = parse_primary(p);
        enum op previous = OP_NONE;

        while (left) {
                const struct token *op_token = cur(p);
                const struct binary_op *op;
                bool negate = false;
                struct node *right, *n;

                if (op_token->kind == TOKEN_NOT) {
                        const struct token *next = peek(p, 1);

                        if (!is_negatable(next->kind))
                                return fail_unexpected(p, op_token);
                        op = binary_op_of(next->kind);
                        if (op->precedence < precedence)
                                break;
                        negate = true;
                        advance(p);
                        op_token = next;
                } else {
                        op = binary_op_of(op_token->kind);
                        if (!op || op->precedence < precedence)
                                break;
                }
                advance(p);

                if (previous == OP_COALESCE && op->op != OP_COALESCE)
                        return fail_at(p, op_token->pos,
                                       "Operator '%s' and '?" "?' cannot be mixed: wrap either in parentheses",
                                       op->name);

                if (is_comparison(op->op)) {
                        left = parse_comparison(p, left, op_token, op);
                        previous = op->op;
                        continue;
                }

                if (!(right = parse_expression(p, op->precedence + 1)))
                        return NULL;

                if (op->kind == NODE_AND || op->kind == NODE_OR) {
                        if (left->kind == op->kind) {
                                if (!node_append(p, left, right))
                                        return NULL;
                        } else {
                                if (!(n = node_new(p, op->kind, op_token->pos)))
                                        return NULL;
                                n->op_name = op->name;
                                if (!node_append(p, n, left) || !node_append(p, n, right))
                                        return NULL;
                                left = n;
                        }
                        previous = OP_NONE;
                        continue;
                }

                if (!(n = node_new(p, NODE_BINARY, op_token->pos)))
                        return NULL;
                n->op = op->op;
                n->negate = negate;
                n->op_name = negate ? negated_names[op->op] : op->name;
                n->a = left;
                n->b = right;
                left = node_finish(p, n);
                previous = op->op;
        }

        if (left && precedence == 0)
                left = parse_conditional(p, left);
        return left;
}

static struct node *parse_expression(struct parser *p, int precedence)
{
        struct node *n;

        if (p->failed)
                return NULL;
        if (++p->nesting > EXPR_DEPTH_MAX) {
                p->nesting--;
                return fail_at(p, cur(p)->pos, "Expression is nested too deeply (more than %d levels)",
                               EXPR_DEPTH_MAX);
        }
        n = parse_expression_inner(p, precedence);
        p->nesting--;
        return n;
}

int expr_parse(const struct expr_source *src, struct arena *arena, struct node **ret, struct ferry_error *err)
{
        struct token_list tokens = {};
        struct parser p = {
                .src = src,
                .arena = arena,
                .err = err,
        };
        struct node *root;
        int r;

        r = lexer_tokenize(src, arena, &tokens, err);
        if (r < 0)
                return r;
        p.tokens = tokens.tokens;
        p.n_tokens = tokens.n;

        if (cur(&p)->kind == TOKEN_EOF) {
                token_list_done(&tokens);
                return ferry_error_set(err, -EINVAL, "Expression is empty");
        }
        root = parse_expression(&p, 0);
        if (root && cur(&p)->kind != TOKEN_EOF)
                root = fail_unexpected(&p, cur(&p));
        token_list_done(&tokens);
        if (!root)
                return p.failed ? p.failed : ferry_error_set(err, -EINVAL, "Invalid expression");
        *ret = root;
        return 0;
}
