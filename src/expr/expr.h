/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry's filter expressions: the subset of expr-lang (expr-lang.org) that
 * selects instances for batches and constraints and filters list requests.
 * docs/expressions.md describes the language.
 *
 *     _cleanup_expr_ struct expr *e = NULL;
 *     bool match;
 *
 *     r = expr_compile("hasPrefix(os, 'Windows') and cpus >= 4",
 *                      EXPR_SCHEMA_INSTANCE, &e, &err);
 *     if (r < 0)
 *             return r;        (err: message with line, column and a caret line)
 *     r = expr_match(e, instance_json, &match, &err);
 *
 * Compilation checks field names, function arity and the types it can know
 * ahead; a compiled expression is immutable and may be evaluated from
 * several threads at once.  Evaluation reads the JSON object in the shape
 * of docs/rest-api.md (an instance with its overrides applied, or a
 * network); a field missing from the object is nil.
 */
#ifndef FERRY_EXPR_EXPR_H
#define FERRY_EXPR_EXPR_H

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "common/macros.h"

/* What an expression is evaluated on. */
enum expr_schema {
        EXPR_SCHEMA_INSTANCE,
        EXPR_SCHEMA_NETWORK,
        _EXPR_SCHEMA_MAX,
        _EXPR_SCHEMA_INVALID = -EINVAL,
};

/* Longer expression texts are refused (bytes). */
#define EXPR_TEXT_MAX (64 * 1024)
/* Deeper nesting of sub-expressions is refused. */
#define EXPR_DEPTH_MAX 100

struct expr;

/*
 * Compile text for objects of the given schema.  Errors are -EINVAL with a
 * message such as "Unknown field 'cpu' at line 1, column 1 (valid fields:
 * ...)" followed by the line and a caret, -E2BIG for a text over
 * EXPR_TEXT_MAX, -ENOMEM.
 */
int expr_compile(const char *text, enum expr_schema schema, struct expr **ret, struct ferry_error *err);

/*
 * Evaluate e on one JSON object; the result must be a boolean, else
 * -EINVAL "Expression must return a boolean, not <type>".  Runtime errors
 * (-EINVAL, a type error naming the operator, an index out of range) point
 * into the text like compile errors.
 */
int expr_match(const struct expr *e, const json_t *object, bool *ret, struct ferry_error *err);

void expr_free(struct expr *e);
DEFINE_CLEANUP_FUNC(struct expr, expr_free);
#define _cleanup_expr_ _cleanup_(expr_free_p)

/* The text e was compiled from; borrowed, valid while e lives. */
const char *expr_text(const struct expr *e);

/*
 * The shorthand of the CLI and the API's ?filter=: an argument that is one
 * bare word (letters, digits and _ - . / @ only) and not a field name, a
 * function or a keyword means "location matches 'word'".  Anything else is
 * returned as it is.  *ret is a new allocation (free() it).
 */
int expr_from_filter_argument(const char *arg, char **ret);

const char *expr_schema_to_string(enum expr_schema s);
enum expr_schema expr_schema_from_string(const char *s);

#endif
