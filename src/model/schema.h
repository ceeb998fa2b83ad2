/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Entity schemas: one table of fields per REST object, and the code that
 * checks a request body against it.  Every entity (model/source.c,
 * model/batch.c, ...) is a static table, so the rules an admin meets in
 * a 400 answer are the rules written down once, here:
 *
 *     static const struct model_field source_fields[] = {
 *             { "name", MODEL_STRING, MODEL_REQUIRED | MODEL_IMMUTABLE, .check = model_check_name },
 *             { "import_limit", MODEL_INT, .min = 1, .max = 1000000, .default_json = "50" },
 *             {}
 *     };
 *
 * Objects stay jansson values: the database stores them and the API sends
 * them as they are; the schema decides what may go in and what comes out.
 */
#ifndef FERRY_MODEL_SCHEMA_H
#define FERRY_MODEL_SCHEMA_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"

enum model_type {
        MODEL_STRING,
        MODEL_INT,
        MODEL_BOOL,
        MODEL_OBJECT,           /* the keys listed in .fields, nothing else; any keys without .fields */
        MODEL_MAP,              /* any keys; each value as .item says */
        MODEL_ARRAY,            /* each element as .item says */
        _MODEL_TYPE_MAX,
        _MODEL_TYPE_INVALID = -EINVAL,
};

enum {
        MODEL_REQUIRED = 1u << 0,   /* must be in every create and PUT body */
        MODEL_READ_ONLY = 1u << 1,  /* set by ferryd: ignored in bodies, kept on update */
        MODEL_WRITE_ONLY = 1u << 2, /* a secret: taken from bodies, never shown; absent on PUT keeps it */
        MODEL_IMMUTABLE = 1u << 3,  /* set on create; an update may repeat it, not change it */
        MODEL_NULLABLE = 1u << 4,   /* JSON null is a value (read-only fields like artifact.file) */
};

struct model_field;

/*
 * Checks one value beyond its type.  path names the field for messages
 * ("properties.endpoint", "migration_windows[1].end").  A check may hand
 * back a normalized replacement in *ret_value (a new reference), e.g. a
 * fingerprint without colons; leaving it NULL keeps the value.
 */
typedef int (*model_check_fn)(const char *path, const json_t *value, json_t **ret_value,
                              struct ferry_error *err);

struct model_field {
        const char *name;               /* NULL ends a table */
        enum model_type type;
        unsigned flags;
        int64_t min, max;               /* MODEL_INT bounds, inclusive; both 0: none */
        const char *const *choices;     /* MODEL_STRING: allowed values, NULL-terminated */
        const char *default_json;       /* JSON text used when the field is absent */
        model_check_fn check;
        const struct model_field *fields; /* MODEL_OBJECT */
        const struct model_field *item;   /* MODEL_MAP and MODEL_ARRAY elements (name unused) */
        size_t max_items;                 /* MODEL_MAP/MODEL_ARRAY: 0 means 10000 */
};

/* created_at and updated_at: set by the database, shown by GET, ignored in
 * bodies so that what GET returns can be sent back with PUT. */
#define MODEL_FIELDS_TIMESTAMPS                                         \
        { .name = "created_at", .type = MODEL_STRING, .flags = MODEL_READ_ONLY }, \
        { .name = "updated_at", .type = MODEL_STRING, .flags = MODEL_READ_ONLY }

struct model_schema {
        const char *name;               /* "source", for messages */
        const struct model_field *fields;
        /* Rules across fields, run on the normalized object (windows end
         * after they start, ...).  May be NULL. */
        int (*check)(const json_t *obj, struct ferry_error *err);
};

/*
 * Check a request body and build the object to store: known fields with
 * the right types and values, defaults filled in, read-only fields taken
 * from current (or their defaults on create), write-only fields kept from
 * current when the body leaves them out.  current is NULL on create and
 * the stored object on update.  Errors (-EINVAL) name the field:
 * "Unknown field 'colour' in properties", "Field 'import_limit' must be
 * between 1 and 1000000", "Missing required field 'name'".
 */
int model_validate(const struct model_schema *s, const json_t *body, const json_t *current,
                   json_t **ret, struct ferry_error *err);

/* What GET shows: a deep copy without write-only fields.  NULL on ENOMEM. */
json_t *model_public(const struct model_schema *s, const json_t *obj);

/*
 * RFC 7396 merge patch: patch's members replace target's, objects merge
 * recursively, null deletes.  A new value; NULL on ENOMEM.
 */
json_t *model_merge_patch(const json_t *target, const json_t *patch);

/* Strong ETag of an object's public form: the SHA-256 of its canonical
 * JSON (sorted keys), as 64 hex digits. */
#define MODEL_ETAG_SIZE 65
int model_etag(const json_t *obj, char ret[static MODEL_ETAG_SIZE]);

/* Value checks for .check. */
int model_check_name(const char *path, const json_t *value, json_t **ret_value, struct ferry_error *err);
int model_check_url(const char *path, const json_t *value, json_t **ret_value, struct ferry_error *err);
int model_check_duration(const char *path, const json_t *value, json_t **ret_value, struct ferry_error *err);
int model_check_timestamp(const char *path, const json_t *value, json_t **ret_value, struct ferry_error *err);
int model_check_fingerprint(const char *path, const json_t *value, json_t **ret_value, struct ferry_error *err);
int model_check_absolute_path(const char *path, const json_t *value, json_t **ret_value,
                              struct ferry_error *err);

/* The rule behind model_check_name(), for names that arrive in paths. */
bool model_name_is_valid(const char *name);

#endif
