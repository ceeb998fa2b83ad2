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

DB_DEFINE_CREATE(db_certificate_add, db_table_certificates)
DB_DEFINE_GET(db_certificate_get, db_table_certificates)
DB_DEFINE_LIST(db_certificate_list, db_table_certificates)
DB_DEFINE_DELETE(db_certificate_delete, db_table_certificates)

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

        r = db_query(db, &stmt, err,
                     "INSERT INTO trust_tokens (name, secret_sha256, expires_at, created_at) VALUES (?, ?, ?, ?)",
                     "tttt", name, secret_sha256, expires_at, now);
        if (r == -EEXIST)
                return ferry_error_set(err, -EEXIST, "Trust token '%s' already exists", name);
        return r;
}

int db_trust_token_list(struct db *db, json_t **ret, struct ferry_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
        _cleanup_json_ json_t *list = NULL;
        int r;

        list = json_array();
        if (!list)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        for (r = db_query(db, &stmt, err, "SELECT name, expires_at, created_at FROM trust_tokens ORDER BY name", NULL);
             r > 0; r = db_step(db, stmt, err))
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

        r = db_query(db, &select, err, "SELECT id, name, expires_at FROM trust_tokens WHERE secret_sha256 = ?", "t",
                     secret_sha256);
        if (r < 0)
                return r;
        if (r == 0)
                return ferry_error_set(err, -ENOENT, "Unknown trust token");

        r = db_query(db, &delete, err, "DELETE FROM trust_tokens WHERE id = ?", "i",
                     (int64_t) sqlite3_column_int64(select, 0));
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

        r = db_query(db, &stmt, err, sql, "t", param);
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
