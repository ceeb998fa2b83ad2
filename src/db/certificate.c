/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "common/json.h"
#include "db/certificate.h"
#include "db/object.h"

static const struct db_field certificate_fields[] = {
        { .name = "fingerprint", .column = "fingerprint", .required = true },
        { .name = "name", .column = "name", .required = true },
        { .name = "certificate", .column = "certificate", .required = true },
};

const struct db_table db_table_certificates = {
        .table = "certificates",
        .what = "certificate",
        .key = "fingerprint",
        .fields = certificate_fields,
        .n_fields = ELEMENTSOF(certificate_fields),
        .created_column = "created_at",
        .order_by = "t.name, t.fingerprint",
};

int db_certificate_add(struct db *db, const json_t *certificate, struct ferry_error *err)
{
        return db_object_create(db, &db_table_certificates, certificate, err);
}

int db_certificate_get(struct db *db, const char *fingerprint, json_t **ret, struct ferry_error *err)
{
        return db_object_get(db, &db_table_certificates, fingerprint, ret, err);
}

int db_certificate_list(struct db *db, json_t **ret, struct ferry_error *err)
{
        return db_object_list(db, &db_table_certificates, NULL, NULL, ret, err);
}

int db_certificate_delete(struct db *db, const char *fingerprint, struct ferry_error *err)
{
        return db_object_delete(db, &db_table_certificates, fingerprint, err);
}

int db_trust_token_create(struct db *db, const char *name, const char *secret_sha256, int64_t expires_at_usec,
                          struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        char expires_at[DB_TIMESTAMP_SIZE], now[DB_TIMESTAMP_SIZE];
        int r;

        if (!name || !*name || !secret_sha256 || !*secret_sha256)
                return ferry_error_set(err, -EINVAL, "A trust token needs a name and a secret");
        if (db_timestamp(expires_at_usec, expires_at) < 0)
                return ferry_error_set(err, -ERANGE, "Trust token expiry is out of range");
        db_timestamp_now(now);

        r = db_prepare(db,
                       "INSERT INTO trust_tokens (name, secret_sha256, expires_at, created_at)"
                       " VALUES (?, ?, ?, ?)",
                       &stmt, err);
        if (r >= 0)
                r = db_bind_text(db, stmt, 1, name, err);
        if (r >= 0)
                r = db_bind_text(db, stmt, 2, secret_sha256, err);
        if (r >= 0)
                r = db_bind_text(db, stmt, 3, expires_at, err);
        if (r >= 0)
                r = db_bind_text(db, stmt, 4, now, err);
        if (r >= 0)
                r = db_step(db, stmt, err);
        if (r == -EEXIST)
                return ferry_error_set(err, -EEXIST, "Trust token '%s' already exists", name);
        return r;
}

int db_trust_token_list(struct db *db, json_t **ret, struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        _cleanup_json_ json_t *list = NULL;
        int r;

        r = db_prepare(db, "SELECT name, expires_at, created_at FROM trust_tokens ORDER BY name", &stmt, err);
        if (r < 0)
                return r;
        list = json_array();
        if (!list)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        while ((r = db_step(db, stmt, err)) > 0)
                if (json_array_append_new(list, json_pack("{ssssss}", "name", db_column_text(stmt, 0), "expires_at",
                                                          db_column_text(stmt, 1), "created_at",
                                                          db_column_text(stmt, 2))) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (r < 0)
                return r;

        *ret = TAKE_PTR(list);
        return 0;
}

/* The delete of consume: *name and whether it expired, or -ENOENT. */
static int trust_token_take(struct db *db, const char *secret_sha256, char **ret_name, bool *ret_expired,
                            struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *select = NULL, *delete = NULL;
        char now[DB_TIMESTAMP_SIZE];
        char *name;
        int r;

        r = db_prepare(db, "SELECT id, name, expires_at FROM trust_tokens WHERE secret_sha256 = ?", &select, err);
        if (r >= 0)
                r = db_bind_text(db, select, 1, secret_sha256, err);
        if (r >= 0)
                r = db_step(db, select, err);
        if (r < 0)
                return r;
        if (r == 0)
                return ferry_error_set(err, -ENOENT, "Unknown trust token");

        r = db_prepare(db, "DELETE FROM trust_tokens WHERE id = ?", &delete, err);
        if (r >= 0)
                r = db_bind_int64(db, delete, 1, sqlite3_column_int64(select, 0), err);
        if (r >= 0)
                r = db_step(db, delete, err);
        if (r < 0)
                return r;

        name = strdup(db_column_text(select, 1));
        if (!name)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        db_timestamp_now(now);
        *ret_expired = strcmp(db_column_text(select, 2), now) <= 0;
        *ret_name = name;
        return 0;
}

int db_trust_token_consume(struct db *db, const char *secret_sha256, char **ret_name, struct ferry_error *err)
{
        _cleanup_free_ char *name = NULL;
        bool expired = false;
        int r;

        if (!secret_sha256)
                return ferry_error_set(err, -EINVAL, "No trust token given");
        r = db_begin(db, err);
        if (r < 0)
                return r;
        /* An expired token is deleted all the same: commit, then refuse. */
        r = db_end(db, trust_token_take(db, secret_sha256, &name, &expired, err), err);
        if (r < 0)
                return r;
        if (expired)
                return ferry_error_set(err, -ETIMEDOUT, "Trust token '%s' has expired", name);
        *ret_name = TAKE_PTR(name);
        return 0;
}

/* Run a DELETE on trust_tokens with one text parameter; returns the rows deleted. */
static int trust_token_delete_where(struct db *db, const char *sql, const char *param, struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        int r;

        r = db_prepare(db, sql, &stmt, err);
        if (r >= 0)
                r = db_bind_text(db, stmt, 1, param, err);
        if (r >= 0)
                r = db_step(db, stmt, err);
        if (r < 0)
                return r;
        return sqlite3_changes(db->conn);
}

int db_trust_token_delete(struct db *db, const char *name, struct ferry_error *err)
{
        int r;

        if (!name)
                return ferry_error_set(err, -EINVAL, "No trust token given");
        r = trust_token_delete_where(db, "DELETE FROM trust_tokens WHERE name = ?", name, err);
        if (r == 0)
                return ferry_error_set(err, -ENOENT, "Trust token '%s' not found", name);
        return r < 0 ? r : 0;
}

int db_trust_token_purge_expired(struct db *db, struct ferry_error *err)
{
        char now[DB_TIMESTAMP_SIZE];

        db_timestamp_now(now);
        return trust_token_delete_where(db, "DELETE FROM trust_tokens WHERE expires_at <= ?", now, err);
}
