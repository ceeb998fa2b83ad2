/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/duration.h"
#include "common/fingerprint.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "model/schema.h"

#define MODEL_MAX_ITEMS_DEFAULT 10000
#define MODEL_NAME_MAX 63

static const char *const model_type_names[_MODEL_TYPE_MAX] = {
        [MODEL_STRING] = "a string",
        [MODEL_INT] = "an integer",
        [MODEL_BOOL] = "a boolean",
        [MODEL_OBJECT] = "an object",
        [MODEL_MAP] = "an object",
        [MODEL_ARRAY] = "an array",
};

static bool model_type_matches(enum model_type type, const json_t *v)
{
        switch (type) {
        case MODEL_STRING:
                return json_is_string(v);
        case MODEL_INT:
                return json_is_integer(v);
        case MODEL_BOOL:
                return json_is_boolean(v);
        case MODEL_OBJECT:
        case MODEL_MAP:
                return json_is_object(v);
        case MODEL_ARRAY:
                return json_is_array(v);
        default:
                return false;
        }
}

/* "properties" + "endpoint" → "properties.endpoint"; "" + "name" → "name". */
static char *model_path_join(const char *prefix, const char *name)
{
        char *p;

        if (!prefix || !*prefix)
                return strdup(name);
        if (asprintf(&p, "%s.%s", prefix, name) < 0)
                return NULL;
        return p;
}

static int model_validate_value(const struct model_field *f, const char *path, const json_t *v,
                                const json_t *current, json_t **ret, struct ferry_error *err);

static int model_validate_fields(const struct model_field *fields, const char *prefix, const json_t *body,
                                 const json_t *current, json_t **ret, struct ferry_error *err);

static int model_validate_scalar(const struct model_field *f, const char *path, const json_t *v, json_t **ret,
                                 struct ferry_error *err)
{
        json_t *normalized = NULL;
        int r;

        if (f->type == MODEL_INT && (f->min != 0 || f->max != 0)) {
                json_int_t n = json_integer_value(v);

                if (n < f->min || n > f->max)
                        return ferry_error_set(err, -EINVAL, "Field '%s' must be between %" PRId64 " and %" PRId64,
                                               path, f->min, f->max);
        }

        if (f->type == MODEL_STRING && f->choices) {
                const char *s = json_string_value(v);
                _cleanup_(strbuf_done) struct strbuf list = {};
                bool found = false;

                for (const char *const *c = f->choices; *c; c++) {
                        if (streq(*c, s))
                                found = true;
                        if (strbuf_appendf(&list, "%s'%s'", c == f->choices ? "" : ", ", *c) < 0)
                                return ferry_error_set(err, -ENOMEM, "Out of memory");
                }
                if (!found)
                        return ferry_error_set(err, -EINVAL, "Field '%s' must be one of %s, not '%s'", path,
                                               strbuf_str(&list), s);
        }

        if (f->check) {
                r = f->check(path, v, &normalized, err);
                if (r < 0)
                        return r;
        }

        *ret = normalized ?: json_deep_copy(v);
        return *ret ? 0 : ferry_error_set(err, -ENOMEM, "Out of memory");
}

static int model_validate_array(const struct model_field *f, const char *path, const json_t *v, json_t **ret,
                                struct ferry_error *err)
{
        size_t max = f->max_items ?: MODEL_MAX_ITEMS_DEFAULT;
        _cleanup_json_ json_t *out = NULL;
        const json_t *item;
        size_t i;
        int r;

        if (json_array_size(v) > max)
                return ferry_error_set(err, -EINVAL, "Field '%s' has more than %zu items", path, max);

        out = json_array();
        if (!out)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        json_array_foreach(v, i, item) {
                _cleanup_free_ char *item_path = NULL;
                json_t *checked = NULL;

                if (asprintf(&item_path, "%s[%zu]", path, i) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                r = model_validate_value(f->item, item_path, item, NULL, &checked, err);
                if (r < 0)
                        return r;
                if (json_array_append_new(out, checked) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }

        *ret = TAKE_PTR(out);
        return 0;
}

static int model_validate_map(const struct model_field *f, const char *path, const json_t *v, json_t **ret,
                              struct ferry_error *err)
{
        size_t max = f->max_items ?: MODEL_MAX_ITEMS_DEFAULT;
        _cleanup_json_ json_t *out = NULL;
        const char *key;
        json_t *item;
        int r;

        if (json_object_size(v) > max)
                return ferry_error_set(err, -EINVAL, "Field '%s' has more than %zu keys", path, max);

        out = json_object();
        if (!out)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        json_object_foreach((json_t *) v, key, item) {
                _cleanup_free_ char *item_path = NULL;
                json_t *checked = NULL;

                if (!*key)
                        return ferry_error_set(err, -EINVAL, "Field '%s' has an empty key", path);
                item_path = model_path_join(path, key);
                if (!item_path)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                r = model_validate_value(f->item, item_path, item, NULL, &checked, err);
                if (r < 0)
                        return r;
                if (json_object_set_new(out, key, checked) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }

        *ret = TAKE_PTR(out);
        return 0;
}

static int model_validate_value(const struct model_field *f, const char *path, const json_t *v,
                                const json_t *current, json_t **ret, struct ferry_error *err)
{
        if (json_is_null(v) && (f->flags & MODEL_NULLABLE)) {
                *ret = json_null();
                return 0;
        }

        if (!model_type_matches(f->type, v))
                return ferry_error_set(err, -EINVAL, "Field '%s' must be %s", path, model_type_names[f->type]);

        switch (f->type) {
        case MODEL_OBJECT:
                if (!f->fields)
                        break;  /* free-form: ferryd's own (read-only) data */
                return model_validate_fields(f->fields, path, v, current, ret, err);
        case MODEL_MAP:
                if (!f->item)
                        break;
                return model_validate_map(f, path, v, ret, err);
        case MODEL_ARRAY:
                if (!f->item)
                        break;
                return model_validate_array(f, path, v, ret, err);
        default:
                break;
        }
        return model_validate_scalar(f, path, v, ret, err);
}

static const struct model_field *model_find_field(const struct model_field *fields, const char *name)
{
        for (const struct model_field *f = fields; f->name; f++)
                if (streq(f->name, name))
                        return f;
        return NULL;
}

static int model_set_default(const struct model_field *f, const char *path, const json_t *current, json_t *out,
                             struct ferry_error *err)
{
        json_t *v = NULL;

        if (f->type == MODEL_OBJECT && f->fields && !f->default_json) {
                /* An absent object still gets its fields' defaults. */
                _cleanup_json_ json_t *empty = json_object();
                int r;

                if (!empty)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                r = model_validate_fields(f->fields, path, empty, current, &v, err);
                if (r < 0)
                        return r;
        } else if (f->default_json) {
                v = json_loads(f->default_json, JSON_DECODE_ANY, NULL);
                if (!v)
                        return ferry_error_set(err, -EINVAL, "Bad default for field '%s'", path);
        } else
                return 0;

        if (json_object_set_new(out, f->name, v) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return 0;
}

static int model_validate_fields(const struct model_field *fields, const char *prefix, const json_t *body,
                                 const json_t *current, json_t **ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *out = NULL;
        const char *key;
        json_t *v;
        int r;

        json_object_foreach((json_t *) body, key, v)
                if (!model_find_field(fields, key)) {
                        _cleanup_free_ char *path = model_path_join(prefix, key);

                        return ferry_error_set(err, -EINVAL, "Unknown field '%s'", path ?: key);
                }

        out = json_object();
        if (!out)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        for (const struct model_field *f = fields; f->name; f++) {
                _cleanup_free_ char *path = model_path_join(prefix, f->name);
                const json_t *given = json_object_get(body, f->name);
                const json_t *stored = current ? json_object_get(current, f->name) : NULL;
                json_t *checked = NULL;

                if (!path)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");

                if (f->flags & MODEL_READ_ONLY) {
                        /* Whatever the body says, ferryd's value stands. */
                        if (stored) {
                                if (json_object_set(out, f->name, (json_t *) stored) < 0)
                                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                        } else if (!current) {
                                r = model_set_default(f, path, NULL, out, err);
                                if (r < 0)
                                        return r;
                        }
                        continue;
                }

                if (json_is_null(given))
                        given = NULL;

                if (!given) {
                        if (stored && (f->flags & (MODEL_WRITE_ONLY | MODEL_IMMUTABLE))) {
                                if (json_object_set(out, f->name, (json_t *) stored) < 0)
                                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                                continue;
                        }
                        if (f->flags & MODEL_REQUIRED)
                                return ferry_error_set(err, -EINVAL, "Missing required field '%s'", path);
                        r = model_set_default(f, path, f->type == MODEL_OBJECT ? stored : NULL, out, err);
                        if (r < 0)
                                return r;
                        continue;
                }

                r = model_validate_value(f, path, given, stored, &checked, err);
                if (r < 0)
                        return r;

                if ((f->flags & MODEL_IMMUTABLE) && stored && !json_equal(stored, checked)) {
                        json_decref(checked);
                        return ferry_error_set(err, -EINVAL, "Field '%s' cannot be changed", path);
                }

                if (json_object_set_new(out, f->name, checked) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }

        *ret = TAKE_PTR(out);
        return 0;
}

int model_validate(const struct model_schema *s, const json_t *body, const json_t *current, json_t **ret,
                   struct ferry_error *err)
{
        _cleanup_json_ json_t *out = NULL;
        int r;

        if (!json_is_object(body))
                return ferry_error_set(err, -EINVAL, "The request body must be a JSON object");

        r = model_validate_fields(s->fields, "", body, current, &out, err);
        if (r < 0)
                return r;

        if (s->check) {
                r = s->check(out, err);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(out);
        return 0;
}

static json_t *model_public_value(const struct model_field *f, const json_t *v);

static json_t *model_public_fields(const struct model_field *fields, const json_t *obj)
{
        _cleanup_json_ json_t *out = json_object();
        const char *key;
        json_t *v;

        if (!out)
                return NULL;

        json_object_foreach((json_t *) obj, key, v) {
                const struct model_field *f = model_find_field(fields, key);
                json_t *copy;

                if (f && (f->flags & MODEL_WRITE_ONLY))
                        continue;
                /* Fields the schema does not know (created_at, ...) are
                 * ferryd's own and shown as they are. */
                copy = f ? model_public_value(f, v) : json_deep_copy(v);
                if (!copy || json_object_set_new(out, key, copy) < 0)
                        return NULL;
        }
        return TAKE_PTR(out);
}

static json_t *model_public_value(const struct model_field *f, const json_t *v)
{
        if (f->type == MODEL_OBJECT && f->fields && json_is_object(v))
                return model_public_fields(f->fields, v);

        if (f->type == MODEL_ARRAY && f->item && json_is_array(v) && f->item->type == MODEL_OBJECT) {
                _cleanup_json_ json_t *out = json_array();
                const json_t *item;
                size_t i;

                if (!out)
                        return NULL;
                json_array_foreach(v, i, item)
                        if (json_array_append_new(out, model_public_value(f->item, item)) < 0)
                                return NULL;
                return TAKE_PTR(out);
        }

        return json_deep_copy(v);
}

json_t *model_public(const struct model_schema *s, const json_t *obj)
{
        json_t *v = model_public_fields(s->fields, obj);

        if (!v)
                errno = ENOMEM;
        return v;
}

json_t *model_merge_patch(const json_t *target, const json_t *patch)
{
        _cleanup_json_ json_t *out = NULL;
        const char *key;
        json_t *v;

        if (!json_is_object(patch))
                return json_deep_copy(patch);

        out = json_is_object(target) ? json_deep_copy(target) : json_object();
        if (!out)
                return NULL;

        json_object_foreach((json_t *) patch, key, v) {
                json_t *merged;

                if (json_is_null(v)) {
                        json_object_del(out, key);
                        continue;
                }
                merged = model_merge_patch(json_object_get(out, key), v);
                if (!merged || json_object_set_new(out, key, merged) < 0)
                        return NULL;
        }
        return TAKE_PTR(out);
}

int model_etag(const json_t *obj, char ret[static MODEL_ETAG_SIZE])
{
        _cleanup_free_ char *text = NULL;
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int len = 0;

        text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (!text)
                return -ENOMEM;
        if (EVP_Digest(text, strlen(text), digest, &len, EVP_sha256(), NULL) != 1)
                return -EIO;
        return hex_encode(digest, len, ret, MODEL_ETAG_SIZE);
}

bool model_name_is_valid(const char *name)
{
        size_t len = strlen(name);

        if (len == 0 || len > MODEL_NAME_MAX)
                return false;
        if (!strchr("0123456789", name[0]) && !((name[0] | 0x20) >= 'a' && (name[0] | 0x20) <= 'z'))
                return false;
        return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == len;
}

int model_check_name(const char *path, const json_t *value, json_t **ret_value, struct ferry_error *err)
{
        (void) ret_value;

        if (!model_name_is_valid(json_string_value(value)))
                return ferry_error_set(err, -EINVAL,
                                       "Field '%s' must be 1 to %d letters, digits, '-', '_' or '.', "
                                       "starting with a letter or digit, not '%s'",
                                       path, MODEL_NAME_MAX, json_string_value(value));
        return 0;
}

int model_check_url(const char *path, const json_t *value, json_t **ret_value, struct ferry_error *err)
{
        const char *s = json_string_value(value), *host;

        (void) ret_value;

        if (startswith(s, "https://"))
                host = s + strlen("https://");
        else if (startswith(s, "http://"))
                host = s + strlen("http://");
        else
                return ferry_error_set(err, -EINVAL, "Field '%s' must be an https:// or http:// URL, not '%s'",
                                       path, s);

        if (strchr("/:?#", *host) || *host == '\0')
                return ferry_error_set(err, -EINVAL, "Field '%s' has no host name: '%s'", path, s);
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f)
                        return ferry_error_set(err, -EINVAL, "Field '%s' must not contain spaces or control characters",
                                               path);
        return 0;
}

int model_check_duration(const char *path, const json_t *value, json_t **ret_value, struct ferry_error *err)
{
        uint64_t usec;

        (void) ret_value;

        if (duration_parse(json_string_value(value), &usec) < 0)
                return ferry_error_set(err, -EINVAL,
                                       "Field '%s' must be a duration like '30s', '10m' or '1h30m', not '%s'", path,
                                       json_string_value(value));
        return 0;
}

int model_check_timestamp(const char *path, const json_t *value, json_t **ret_value, struct ferry_error *err)
{
        int64_t usec;

        (void) ret_value;

        if (timestamp_parse_rfc3339(json_string_value(value), &usec) < 0)
                return ferry_error_set(err, -EINVAL,
                                       "Field '%s' must be an RFC 3339 time like '2026-11-28T22:00:00Z', not '%s'",
                                       path, json_string_value(value));
        return 0;
}

int model_check_fingerprint(const char *path, const json_t *value, json_t **ret_value, struct ferry_error *err)
{
        char normalized[FINGERPRINT_HEX_SIZE];
        const char *s = json_string_value(value);

        if (!*s)
                return 0;       /* none: trust the system CAs */

        if (fingerprint_normalize(s, normalized) < 0)
                return ferry_error_set(err, -EINVAL,
                                       "Field '%s' must be a SHA-256 fingerprint (64 hex digits, colons allowed)",
                                       path);
        *ret_value = json_string(normalized);
        return *ret_value ? 0 : ferry_error_set(err, -ENOMEM, "Out of memory");
}

int model_check_absolute_path(const char *path, const json_t *value, json_t **ret_value, struct ferry_error *err)
{
        const char *s = json_string_value(value);

        (void) ret_value;

        if (s[0] != '/')
                return ferry_error_set(err, -EINVAL, "Field '%s' must be an absolute path, not '%s'", path, s);
        return 0;
}
