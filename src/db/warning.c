/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "db/object.h"
#include "db/warning.h"

#define UUID_STRING_SIZE 37

static const struct db_field warning_fields[] = {
        { .name = "uuid", .column = "uuid", .required = true },
        { .parent = "scope", .name = "scope", .column = "scope", .required = true },
        { .parent = "scope", .name = "entity_type", .column = "entity_type", .required = true },
        { .parent = "scope", .name = "entity", .column = "entity", .required = true },
        { .name = "type", .column = "type", .required = true },
        { .name = "status", .column = "status", .required = true },
        { .name = "count", .column = "count", .type = DB_FIELD_INTEGER, .required = true },
        { .name = "first_seen", .column = "first_seen", .required = true },
        { .name = "last_seen", .column = "last_seen", .required = true },
};

const struct db_table db_table_warnings = {
        .table = "warnings",
        .what = "warning",
        .key = "uuid",
        .fields = warning_fields,
        .n_fields = ELEMENTSOF(warning_fields),
        .order_by = "t.first_seen, t.id",
};

DB_DEFINE_GET(db_warning_get, db_table_warnings)
DB_DEFINE_LIST(db_warning_list, db_table_warnings)
DB_DEFINE_DELETE(db_warning_delete, db_table_warnings)

/* A random (version 4) UUID. */
static int uuid_random(char ret[static UUID_STRING_SIZE], struct ferry_error *err)
{
        uint8_t b[16];
        ssize_t n;

        do
                n = getrandom(b, sizeof b, 0);
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t) sizeof b)
                return ferry_error_set(err, n < 0 ? -errno : -EIO, "Cannot get random bytes for a UUID: %m");

        b[6] = (uint8_t) ((b[6] & 0x0f) | 0x40);
        b[8] = (uint8_t) ((b[8] & 0x3f) | 0x80);
        (void) snprintf(ret, UUID_STRING_SIZE,
                        "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                        b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
        return 0;
}

/* The uuid of the warning for this problem: 1 and *ret_uuid (free() it), or 0. */
static int warning_find(struct db *db, const char *scope, const char *entity_type, const char *entity,
                        const char *type, char **ret_uuid, struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        char *uuid = NULL;
        int r;

        r = db_query(db, &stmt, err,
                     "SELECT uuid FROM warnings WHERE scope = ? AND entity_type = ? AND entity = ? AND type = ?",
                     "tttt", scope, entity_type, entity, type);
        if (r <= 0)
                return r;

        uuid = strdup(db_column_text(stmt, 0));
        if (!uuid)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        *ret_uuid = uuid;
        return 1;
}

static const char *scope_field(const json_t *warning, const char *name)
{
        return json_string_value(json_object_get(json_object_get(warning, "scope"), name));
}

static int set_default(json_t *obj, const char *name, json_t *value)
{
        if (json_object_get(obj, name)) {
                json_decref(value);
                return 0;
        }
        return value && json_object_set_new(obj, name, value) == 0 ? 0 : -ENOMEM;
}

/* Insert warning, refusing a second one for the same problem with a message that names the first. */
static int warning_insert(struct db *db, const json_t *warning, struct ferry_error *err)
{
        _cleanup_free_ char *existing = NULL;
        const char *scope, *entity_type, *entity, *type;
        int r;

        scope = scope_field(warning, "scope");
        entity_type = scope_field(warning, "entity_type");
        entity = scope_field(warning, "entity");
        type = json_string_value(json_object_get(warning, "type"));
        if (scope && entity_type && entity && type) {
                r = warning_find(db, scope, entity_type, entity, type, &existing, err);
                if (r < 0)
                        return r;
                if (r > 0)
                        return ferry_error_set(err, -EEXIST,
                                               "Warning '%s' already exists for type '%s' of %s '%s'", existing,
                                               type, entity_type, entity);
        }
        return db_object_create(db, &db_table_warnings, warning, err);
}

/* The uuid of a filled-in warning, for *ret_uuid. */
static int warning_uuid(const json_t *warning, char **ret, struct ferry_error *err)
{
        char *uuid = strdup(json_string_value(json_object_get(warning, "uuid")));

        if (!uuid)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        *ret = uuid;
        return 0;
}

/* A copy of warning with what is absent filled in. */
static int warning_with_defaults(const json_t *warning, json_t **ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *copy = NULL;
        char uuid[UUID_STRING_SIZE], now[DB_TIMESTAMP_SIZE];
        int r;

        if (!json_is_object(warning))
                return ferry_error_set(err, -EINVAL, "Warning must be a JSON object");
        copy = json_deep_copy(warning);
        if (!copy)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (!json_object_get(copy, "uuid")) {
                r = uuid_random(uuid, err);
                if (r < 0)
                        return r;
                r = set_default(copy, "uuid", json_string(uuid));
                if (r < 0)
                        return ferry_error_set(err, r, "Out of memory");
        }

        db_timestamp_now(now);
        r = set_default(copy, "status", json_string("new"));
        if (r >= 0)
                r = set_default(copy, "count", json_integer(1));
        if (r >= 0)
                r = set_default(copy, "messages", json_array());
        if (r >= 0)
                r = set_default(copy, "first_seen", json_string(now));
        if (r >= 0)
                r = set_default(copy, "last_seen", json_string(now));
        if (r < 0)
                return ferry_error_set(err, r, "Out of memory");

        *ret = TAKE_PTR(copy);
        return 0;
}

int db_warning_create(struct db *db, const json_t *warning, char **ret_uuid, struct ferry_error *err)
{
        _cleanup_json_ json_t *copy = NULL;
        _cleanup_free_ char *uuid = NULL;
        int r;

        r = warning_with_defaults(warning, &copy, err);
        if (r < 0)
                return r;
        r = warning_uuid(copy, &uuid, err);
        if (r < 0)
                return r;
        r = db_begin(db, err);
        if (r < 0)
                return r;
        r = db_end(db, warning_insert(db, copy, err), err);
        if (r >= 0 && ret_uuid)
                *ret_uuid = TAKE_PTR(uuid);
        return r;
}

/* Count the existing warning uuid once more. */
static int warning_count_again(struct db *db, const char *uuid, const char *message, struct ferry_error *err)
{
        _cleanup_json_ json_t *warning = NULL;
        char now[DB_TIMESTAMP_SIZE];
        json_int_t count;
        json_t *messages;
        bool seen = false;
        size_t i;
        json_t *m;
        int r;

        r = db_warning_get(db, uuid, &warning, err);
        if (r < 0)
                return r;

        messages = json_object_get(warning, "messages");
        if (!json_is_array(messages)) {
                messages = json_array();
                if (!messages || json_object_set_new(warning, "messages", messages) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        json_array_foreach(messages, i, m)
                seen = seen || streq_ptr(json_string_value(m), message);
        if (!seen && json_array_append_new(messages, json_string(message)) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        while (json_array_size(messages) > DB_WARNING_MESSAGES_MAX)
                (void) json_array_remove(messages, 0);

        count = json_integer_value(json_object_get(warning, "count"));
        db_timestamp_now(now);
        if (json_object_set_new(warning, "count", json_integer(count + 1)) < 0 ||
            json_object_set_new(warning, "last_seen", json_string(now)) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return db_object_update(db, &db_table_warnings, uuid, warning, err);
}

/* Create or count the warning; *uuid (the caller frees it) becomes its uuid. */
static int warning_raise(struct db *db, const char *scope, const char *entity_type, const char *entity,
                         const char *type, const char *message, char **uuid, struct ferry_error *err)
{
        _cleanup_json_ json_t *warning = NULL, *filled = NULL;
        int r;

        r = warning_find(db, scope, entity_type, entity, type, uuid, err);
        if (r < 0)
                return r;
        if (r > 0)
                return warning_count_again(db, *uuid, message, err);

        warning = json_pack("{s{ssssss}sss[s]}", "scope", "scope", scope, "entity_type", entity_type, "entity",
                            entity, "type", type, "messages", message);
        if (!warning)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = warning_with_defaults(warning, &filled, err);
        if (r < 0)
                return r;
        r = warning_uuid(filled, uuid, err);
        if (r < 0)
                return r;
        r = warning_insert(db, filled, err);
        return r < 0 ? r : 1;
}

int db_warning_raise(struct db *db, const char *scope, const char *entity_type, const char *entity,
                     const char *type, const char *message, char **ret_uuid, struct ferry_error *err)
{
        _cleanup_free_ char *uuid = NULL;
        int r;

        if (!scope || !entity_type || !entity || !type || !message)
                return ferry_error_set(err, -EINVAL, "A warning needs a scope, entity type, entity, type and message");
        r = db_begin(db, err);
        if (r < 0)
                return r;
        r = db_end(db, warning_raise(db, scope, entity_type, entity, type, message, &uuid, err), err);
        if (r >= 0 && ret_uuid)
                *ret_uuid = TAKE_PTR(uuid);
        return r;
}

static int warning_replace_status(struct db *db, const char *uuid, const char *status, struct ferry_error *err)
{
        _cleanup_json_ json_t *warning = NULL;
        int r;

        r = db_warning_get(db, uuid, &warning, err);
        if (r < 0)
                return r;
        if (json_object_set_new(warning, "status", json_string(status)) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return db_object_update(db, &db_table_warnings, uuid, warning, err);
}

int db_warning_set_status(struct db *db, const char *uuid, const char *status, struct ferry_error *err)
{
        int r;

        if (!status)
                return ferry_error_set(err, -EINVAL, "No warning status given");
        r = db_begin(db, err);
        if (r < 0)
                return r;
        r = warning_replace_status(db, uuid, status, err);
        return db_end(db, r, err);
}
