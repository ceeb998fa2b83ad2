/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>

#include "common/json.h"
#include "common/strbuf.h"

int json_parse_strict(const char *buf, size_t len, json_t **ret, struct ferry_error *err)
{
        json_error_t jerr;
        json_t *v = NULL;

        if (!buf)
                return ferry_error_set(err, -EINVAL, "Invalid JSON: no input");

        v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!v) {
                if (json_error_code(&jerr) == json_error_out_of_memory)
                        return ferry_error_set(err, -ENOMEM, "Out of memory while parsing JSON");
                /* jansson names its own flag here; say what is wrong instead. */
                if (startswith(jerr.text, "\\u0000 is not allowed"))
                        return ferry_error_set(err, -EINVAL,
                                               "Invalid JSON at line %d, column %d: strings must not contain \\u0000",
                                               jerr.line, jerr.column);
                return ferry_error_set(err, -EINVAL, "Invalid JSON at line %d, column %d: %s", jerr.line,
                                       jerr.column, jerr.text);
        }

        *ret = v;
        return 0;
}

/* The field as described in the header: 1 and *ret if present, 0 if missing and optional. */
static int json_lookup(const json_t *obj, const char *key, bool required, json_t **ret,
                       struct ferry_error *err)
{
        json_t *v = NULL;

        if (!json_is_object(obj))
                return ferry_error_set(err, -EINVAL, "Cannot read field '%s' from a value that is not an object",
                                       key);

        v = json_object_get(obj, key);
        if (!v || json_is_null(v)) {
                if (required)
                        return ferry_error_set(err, -EINVAL, "Missing required field '%s'", key);
                return 0;
        }

        *ret = v;
        return 1;
}

int json_get_string(const json_t *obj, const char *key, bool required, const char **ret,
                    struct ferry_error *err)
{
        json_t *v = NULL;
        int r;

        r = json_lookup(obj, key, required, &v, err);
        if (r <= 0)
                return r;
        if (!json_is_string(v))
                return ferry_error_set(err, -EINVAL, "Field '%s' must be a string", key);

        *ret = json_string_value(v);
        return 1;
}

int json_get_int(const json_t *obj, const char *key, bool required, int64_t min, int64_t max,
                 int64_t *ret, struct ferry_error *err)
{
        json_int_t value;
        json_t *v = NULL;
        int r;

        r = json_lookup(obj, key, required, &v, err);
        if (r <= 0)
                return r;
        if (!json_is_integer(v))
                return ferry_error_set(err, -EINVAL, "Field '%s' must be an integer", key);

        value = json_integer_value(v);
        if (value < min || value > max) {
                if (min == INT64_MIN)
                        return ferry_error_set(err, -ERANGE, "Field '%s' must be at most %" PRId64, key, max);
                if (max == INT64_MAX)
                        return ferry_error_set(err, -ERANGE, "Field '%s' must be at least %" PRId64, key, min);
                return ferry_error_set(err, -ERANGE, "Field '%s' must be between %" PRId64 " and %" PRId64, key,
                                       min, max);
        }

        *ret = (int64_t) value;
        return 1;
}

int json_get_bool(const json_t *obj, const char *key, bool required, bool *ret, struct ferry_error *err)
{
        json_t *v = NULL;
        int r;

        r = json_lookup(obj, key, required, &v, err);
        if (r <= 0)
                return r;
        if (!json_is_boolean(v))
                return ferry_error_set(err, -EINVAL, "Field '%s' must be a boolean", key);

        *ret = json_is_true(v);
        return 1;
}

/* A present field of the given container type, or the error naming it. */
static int json_get_container(const json_t *obj, const char *key, bool required, json_type type,
                              json_t **ret, struct ferry_error *err)
{
        json_t *v = NULL;
        int r;

        r = json_lookup(obj, key, required, &v, err);
        if (r <= 0)
                return r;
        if (json_typeof(v) != type)
                return ferry_error_set(err, -EINVAL, "Field '%s' must be %s", key,
                                       type == JSON_OBJECT ? "an object" : "an array");

        *ret = v;
        return 1;
}

int json_get_object(const json_t *obj, const char *key, bool required, json_t **ret,
                    struct ferry_error *err)
{
        return json_get_container(obj, key, required, JSON_OBJECT, ret, err);
}

int json_get_array(const json_t *obj, const char *key, bool required, json_t **ret,
                   struct ferry_error *err)
{
        return json_get_container(obj, key, required, JSON_ARRAY, ret, err);
}

static bool string_in_list(const char *s, const char *const *list)
{
        for (; list && *list; list++)
                if (streq(*list, s))
                        return true;
        return false;
}

int json_check_known_fields(const json_t *obj, const char *const *allowed, const char *context,
                            struct ferry_error *err)
{
        const char *key;
        json_t *v = NULL;

        if (!json_is_object(obj)) {
                if (context)
                        return ferry_error_set(err, -EINVAL, "Expected an object for %s", context);
                return ferry_error_set(err, -EINVAL, "Expected an object");
        }

        /* jansson's iterators take a non-const object but do not change it. */
        json_object_foreach ((json_t *) obj, key, v) {
                if (string_in_list(key, allowed))
                        continue;
                if (context)
                        return ferry_error_set(err, -EINVAL, "Unknown field '%s' in %s", key, context);
                return ferry_error_set(err, -EINVAL, "Unknown field '%s'", key);
        }
        return 0;
}

char *json_dump_compact(const json_t *v)
{
        char *s;

        if (!v) {
                errno = EINVAL;
                return NULL;
        }
        s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s)
                errno = ENOMEM;
        return s;
}
