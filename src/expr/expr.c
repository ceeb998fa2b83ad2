/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "expr/expr-internal.h"
#include "expr/funcs.h"
#include "expr/optimizer.h"
#include "expr/parser.h"
#include "expr/types.h"
#include "expr/utf8.h"

static const char *const schema_names[_EXPR_SCHEMA_MAX] = {
        [EXPR_SCHEMA_INSTANCE] = "instance",
        [EXPR_SCHEMA_NETWORK] = "network",
};

const char *expr_schema_to_string(enum expr_schema s)
{
        if (s < 0 || s >= _EXPR_SCHEMA_MAX)
                return NULL;
        return schema_names[s];
}

enum expr_schema expr_schema_from_string(const char *s)
{
        return (enum expr_schema) string_table_lookup(schema_names, _EXPR_SCHEMA_MAX, s);
}

void expr_free(struct expr *e)
{
        if (!e)
                return;
        regex_list_done(&e->regexes);
        expr_regex_cache_free(e->cache);
        arena_done(&e->arena);
        free(e->text);
        free(e);
}

int expr_compile(const char *text, enum expr_schema schema, struct expr **ret, struct ferry_error *err)
{
        _cleanup_expr_ struct expr *e = NULL;
        size_t len, bad;
        int r;

        if (!text)
                return ferry_error_set(err, -EINVAL, "Expression is empty");
        if (!schema_type(schema))
                return ferry_error_set(err, -EINVAL, "Unknown expression schema %d", (int) schema);
        len = strnlen(text, EXPR_TEXT_MAX + 1);
        if (len > EXPR_TEXT_MAX)
                return ferry_error_set(err, -E2BIG, "Expression is too long (more than %d bytes)", EXPR_TEXT_MAX);

        e = calloc(1, sizeof(*e));
        if (!e)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        e->text = strndup(text, len);
        if (!e->text)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        e->src = (struct expr_source) { .text = e->text, .len = len };
        e->schema = schema;
        arena_init(&e->arena, NULL, 0);
        e->cache = expr_regex_cache_new();
        if (!e->cache)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        bad = utf8_invalid_offset(text, len);
        if (bad < len)
                return expr_error_at(err, -EINVAL, &e->src, bad, "Expression is not valid UTF-8");

        r = expr_parse(&e->src, &e->arena, &e->root, err);
        if (r < 0)
                return r;
        e->type = schema_type(schema);
        r = expr_check(&e->src, schema, e->root, &e->regexes, &e->fields, err);
        if (r < 0)
                return r;
        r = expr_optimize(e->root, &e->arena);
        if (r < 0)
                return ferry_error_set(err, r, "Out of memory");

        *ret = TAKE_PTR(e);
        return 0;
}

const char *expr_text(const struct expr *e)
{
        return e ? e->text : NULL;
}

static bool is_word_char(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.' || c == '/' || c == '@' || c >= 0x80;
}

/* Words that keep their meaning as an expression on their own. */
static bool is_reserved_word(const char *w, size_t len)
{
        static const char *const words[] = {
                "true", "false", "nil", "not", "and", "or", "in", "matches", "contains", "startsWith", "endsWith",
        };

        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strlen(words[i]) == len && memcmp(words[i], w, len) == 0)
                        return true;
        for (enum expr_schema s = 0; s < _EXPR_SCHEMA_MAX; s++)
                if (type_find_field(schema_type(s), w, len))
                        return true;
        return func_lookup(w, len) != NULL;
}

int expr_from_filter_argument(const char *arg, char **ret)
{
        const char *start, *end;
        size_t len, invalid;
        char *out;

        if (!arg || !ret)
                return -EINVAL;
        start = arg;
        end = arg + strlen(arg);
        while (start < end && strchr(" \t\n\r", *start))
                start++;
        while (end > start && strchr(" \t\n\r", end[-1]))
                end--;
        len = (size_t) (end - start);
        invalid = utf8_invalid_offset(start, len);

        bool word = len > 0 && invalid == len;
        for (size_t i = 0; word && i < len; i++)
                if (!is_word_char((unsigned char) start[i]))
                        word = false;
        /* A number alone, or a name, is no filter either: it is part of a location. */
        if (!word || is_reserved_word(start, len)) {
                out = strdup(arg);
                if (!out)
                        return -ENOMEM;
                *ret = out;
                return 0;
        }

        /* The word has no quote or backslash to escape. */
        out = malloc(strlen("location matches ''") + len + 1);
        if (!out)
                return -ENOMEM;
        memcpy(out, "location matches '", strlen("location matches '"));
        memcpy(out + strlen("location matches '"), start, len);
        strcpy(out + strlen("location matches '") + len, "'");
        *ret = out;
        return 0;
}
