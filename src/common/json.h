/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jansson helpers: strict parsing and typed field access whose errors name
 * the field.  Knows nothing of ferry.
 *
 *     const char *name;
 *     int64_t limit = 50;
 *
 *     r = json_get_string(obj, "name", true, &name, err);
 *     if (r < 0)
 *             return r;
 *     r = json_get_int(obj, "import_limit", false, 1, INT64_MAX, &limit, err);
 *     if (r < 0)
 *             return r;
 *
 * A field that is absent or JSON null counts as missing.  The getters
 * return 1 and write *ret when the field is present, 0 when an optional
 * field is missing (leaving *ret, so that it can hold the default), and a
 * negative errno with err filled otherwise.  Returned pointers are borrowed
 * from obj and valid while obj holds the value.
 */
#ifndef FERRY_COMMON_JSON_H
#define FERRY_COMMON_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"

DEFINE_CLEANUP_FUNC(json_t, json_decref);
#define _cleanup_json_ _cleanup_(json_decref_p)

/*
 * Parse buf as one JSON object or array, refusing duplicate keys and NUL
 * characters in strings.  Errors: "Invalid JSON at line L, column C: <why>".
 */
int json_parse_strict(const char *buf, size_t len, json_t **ret, struct ferry_error *err);

int json_get_string(const json_t *obj, const char *key, bool required, const char **ret,
                    struct ferry_error *err);
/*
 * An integer (not a real like 5.0) in [min, max]; pass INT64_MIN/INT64_MAX
 * for no bound.  Out of bounds is -ERANGE: "Field 'x' must be between 1 and 10".
 */
int json_get_int(const json_t *obj, const char *key, bool required, int64_t min, int64_t max,
                 int64_t *ret, struct ferry_error *err);
int json_get_bool(const json_t *obj, const char *key, bool required, bool *ret, struct ferry_error *err);
int json_get_object(const json_t *obj, const char *key, bool required, json_t **ret,
                    struct ferry_error *err);
int json_get_array(const json_t *obj, const char *key, bool required, json_t **ret,
                   struct ferry_error *err);

/*
 * Fail with "Unknown field 'foo' in <context>" (or without " in <context>"
 * when context is NULL) for the first key of obj not in the NULL-terminated
 * list allowed.
 */
int json_check_known_fields(const json_t *obj, const char *const *allowed, const char *context,
                            struct ferry_error *err);

/* Compact text of any JSON value (free() it); NULL with errno set on failure. */
char *json_dump_compact(const json_t *v);

#endif
