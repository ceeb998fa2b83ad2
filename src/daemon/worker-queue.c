/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "common/json.h"
#include "daemon/worker-queue.h"
#include "db/db.h"
#include "db/queue.h"
#include "db/worker.h"
#include "model/worker-command.h"

int worker_queue_new_token(struct db *db, const char *instance_uuid, char ret[static TRUST_TOKEN_SECRET_HEX_SIZE],
                           struct ferry_error *err)
{
        char secret[TRUST_TOKEN_SECRET_HEX_SIZE], hash[TRUST_TOKEN_HASH_HEX_SIZE];
        int r;

        r = trust_token_secret_new(secret);
        if (r < 0)
                return ferry_error_set(err, r, "Failed to make a worker secret: %m");
        r = trust_token_secret_hash(secret, hash);
        if (r < 0)
                return ferry_error_set(err, r, "Failed to hash the worker secret: %m");
        r = db_worker_secret_set(db, instance_uuid, hash, err);
        if (r < 0)
                return r;
        memcpy(ret, secret, sizeof(secret));
        return 0;
}

int worker_queue_add(struct db *db, const char *instance_uuid, const json_t *command, int64_t *ret_id,
                     struct ferry_error *err)
{
        _cleanup_worker_command_ struct worker_command *c = NULL;
        int r;

        r = worker_command_parse(command, false, &c, err);
        if (r < 0)
                return r;
        return db_worker_command_add(db, instance_uuid, command, ret_id, err);
}

int worker_queue_check_token(struct db *db, const char *instance_uuid, const char *token, struct ferry_error *err)
{
        char hash[TRUST_TOKEN_HASH_HEX_SIZE];

        if (!token || !trust_token_is_secret(token))
                return 0;
        if (trust_token_secret_hash(token, hash) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return db_worker_secret_check(db, instance_uuid, hash, err);
}

static int apply_update(struct db *db, const char *instance_uuid, const struct worker_update *u,
                        struct ferry_error *err)
{
        _cleanup_json_ json_t *entry = NULL;
        int changed, r;

        changed = db_worker_command_set_status(db, instance_uuid, u->id, worker_update_status_to_string(u->status),
                                               u->message, u->result, err);
        if (changed < 0)
                return changed;
        if (!u->message && !u->progress)
                return changed;

        r = db_queue_get(db, instance_uuid, &entry, err);
        if (r < 0)
                return r;
        if (u->message && json_object_set_new(entry, "status_message", json_string(u->message)) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (u->progress && json_object_set(entry, "progress", u->progress) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = db_queue_update(db, instance_uuid, entry, err);
        if (r < 0)
                return r;
        return changed;
}

int worker_queue_apply_update(struct db *db, const char *instance_uuid, const json_t *update,
                              struct ferry_error *err)
{
        struct worker_update u;
        int k, r;

        r = worker_update_parse(update, &u, err);
        if (r < 0)
                return r;
        r = db_begin(db, err);
        if (r < 0)
                return r;
        r = apply_update(db, instance_uuid, &u, err);
        if (r < 0) {
                db_rollback(db);
                return r;
        }
        k = db_commit(db, err);
        return k < 0 ? k : r;
}
