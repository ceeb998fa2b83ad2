/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The evaluator: walks the checked tree over one JSON object, reading
 * fields straight from jansson (nothing is copied), short-circuiting
 * 'and'/'or', with expr-lang's runtime semantics:
 *
 * - int and float mix (int op int stays int and wraps like Go's int64,
 *   '/' always gives a float); == between different types is false;
 * - nil: nil == nil; 'matches', 'contains', 'startsWith' and 'endsWith'
 *   with a nil operand are false; 'x in nil' is false; other operators,
 *   len() and the string functions refuse nil with an error;
 * - a key missing from config reads as "" (config maps strings to strings),
 *   a field missing from any other object as nil.
 *
 * Strings and arrays that evaluation creates live in an arena that starts
 * on the stack and is freed when expr_match() returns.  expr_match() is
 * declared in expr.h.
 */
#ifndef FERRY_EXPR_EVAL_H
#define FERRY_EXPR_EVAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "expr/expr.h"

enum value_kind {
        VALUE_NIL,
        VALUE_BOOL,
        VALUE_INT,
        VALUE_FLOAT,
        VALUE_STRING,
        VALUE_ARRAY,
        VALUE_MAP,
};

/* A value during evaluation; strings and arrays are borrowed. */
struct value {
        enum value_kind kind;
        union {
                bool b;
                int64_t i;
                double f;
                struct {
                        const char *p; /* not NUL-terminated in general */
                        size_t n;
                } s;
                struct {
                        const json_t *json;         /* a JSON array, or NULL: */
                        const struct value *items;  /* values made by evaluation */
                        size_t n;
                } a;
                const json_t *map;                  /* a JSON object */
        };
};

/* "nil", "bool", "int", "float", "string", "array", "map". */
const char *value_kind_name(enum value_kind kind);

/* The value of a JSON node (NULL is nil). */
struct value value_from_json(const json_t *j);

/* expr-lang's ==: numbers by value across int and float, arrays and maps deeply, other types never equal. */
bool value_equal(const struct value *a, const struct value *b);

#endif
