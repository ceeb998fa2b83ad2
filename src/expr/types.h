/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The static types the checker works with, and the two schemas: the fields
 * of an instance and of a network as they appear in the REST API's JSON
 * (docs/rest-api.md).  TYPE_ANY is "not known before evaluation".
 */
#ifndef FERRY_EXPR_TYPES_H
#define FERRY_EXPR_TYPES_H

#include <stdbool.h>
#include <stddef.h>

#include "expr/expr.h"

enum type_kind {
        TYPE_ANY,
        TYPE_NIL,
        TYPE_BOOL,
        TYPE_INT,
        TYPE_FLOAT,
        TYPE_STRING,
        TYPE_ARRAY,
        TYPE_MAP,    /* string keys to values of one type (config) */
        TYPE_OBJECT, /* known fields (a disk, a NIC, the instance) */
};

struct type_field;

struct type {
        enum type_kind kind;
        const char *name;               /* for messages: "int", "disk", "array" */
        const struct type *elem;        /* TYPE_ARRAY element, TYPE_MAP value */
        const struct type_field *fields; /* TYPE_OBJECT */
        size_t n_fields;
        bool open;                      /* TYPE_OBJECT: other fields may exist (type any) */
        const char *field_list;         /* TYPE_OBJECT: "a, b, c" for messages */
};

struct type_field {
        const char *name;
        const struct type *type;
};

extern const struct type type_any, type_nil, type_bool, type_int, type_float, type_string;
extern const struct type type_array_any;

/* Schemas have at most this many fields (one bit each in a uint64_t). */
#define SCHEMA_FIELDS_MAX 64

/* The schema of the objects an expression is evaluated on. */
const struct type *schema_type(enum expr_schema schema);

/* The field of an object type, or NULL. */
const struct type_field *type_find_field(const struct type *t, const char *name, size_t len);

/* An array type of elem (array of any when there is no static one). */
const struct type *type_array_of(const struct type *elem);

static inline bool type_is_number(const struct type *t)
{
        return t->kind == TYPE_INT || t->kind == TYPE_FLOAT;
}

#endif
