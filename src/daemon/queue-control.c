/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "daemon/api-filter.h"
#include "daemon/queue-control.h"
#include "daemon/queue-target.h"
#include "db/batch.h"
#include "db/db.h"
#include "db/instance.h"
#include "db/network.h"
#include "db/queue.h"
#include "db/target.h"
#include "expr/expr.h"
#include "model/model.h"
#include "model/queue.h"
#include "scriptlet/placement.h"

static int add_event(const struct queue_control *qc, const char *action, const char *source, json_t *context)
{
        json_t *e = json_pack("{s:s, s:s, s:o?}", "action", action, "source", source, "context", context);

        if (!e || !qc->events || json_array_append_new(qc->events, e) < 0)
                return -ENOMEM;
        return 0;
}

/* Forget the events added since there were n: their change was rolled back. */
static void events_truncate(const struct queue_control *qc, size_t n)
{
        while (json_array_size(qc->events) > n)
                json_array_remove(qc->events, json_array_size(qc->events) - 1);
}

static int add_batch_event(const struct queue_control *qc, const char *action, const char *name, json_t *context)
{
        _cleanup_free_ char *source = strjoin("/1.0/batches/", name, NULL);

        if (!source) {
                json_decref(context);
                return -ENOMEM;
        }
        return add_event(qc, action, source, context);
}

static int add_entry_event(const struct queue_control *qc, const char *action, const json_t *entry)
{
        _cleanup_free_ char *source =
                strjoin("/1.0/queue/", json_string_value(json_object_get(entry, "instance_uuid")) ?: "", NULL);

        if (!source)
                return -ENOMEM;
        return add_event(qc, action, source,
                         json_pack("{s:s, s:s}", "batch", json_string_value(json_object_get(entry, "batch")) ?: "",
                                   "status", json_string_value(json_object_get(entry, "status")) ?: ""));
}

static int oom(struct ferry_error *err)
{
        return ferry_error_set(err, -ENOMEM, "Out of memory");
}

static enum batch_status batch_status_of(const json_t *batch)
{
        return batch_status_from_string(json_string_value(json_object_get(batch, "status")));
}

static enum queue_status entry_status_of(const json_t *entry)
{
        return queue_status_from_string(json_string_value(json_object_get(entry, "status")));
}

static const char *entry_name(const json_t *entry)
{
        return json_string_value(json_object_get(entry, "name")) ?: json_string_value(json_object_get(entry, "instance_uuid")) ?: "";
}

/* Store batch with status (and status_message ""). */
static int batch_set_status(struct db *db, const char *name, json_t *batch, enum batch_status s,
                            struct ferry_error *err)
{
        if (json_object_set_new(batch, "status", json_string(batch_status_to_string(s))) < 0 ||
            json_object_set_new(batch, "status_message", json_string("")) < 0)
                return oom(err);
        return db_batch_update(db, name, batch, err);
}

/* --- placing one instance ----------------------------------------------------------------- */

struct placing {
        const json_t *batch;
        const json_t *targets;
        const json_t *networks;
};

static json_t *history_line(const char *level, const char *message)
{
        char now[TIMESTAMP_RFC3339_MAX];

        timestamp_now_rfc3339(now);
        return json_pack("{s:s, s:s, s:s}", "time", now, "level", level, "message", message);
}

/*
 * Fill entry's status, status_message, placement and history for
 * instance: Blocked by a restriction or a failed placement, else Waiting.
 */
static int entry_place(const struct placing *p, const json_t *instance, json_t *entry, struct ferry_error *err)
{
        _cleanup_json_ json_t *log = json_array(), *placement = NULL, *history = json_array();
        struct placement_input in = { .instance = instance, .batch = p->batch, .targets = p->targets,
                                      .networks = p->networks };
        _cleanup_free_ char *reason = NULL, *message = NULL;
        struct ferry_error perr = {};
        const char *target;
        const json_t *line;
        size_t i;
        int r;

        if (!log || !history)
                return oom(err);
        r = queue_restrictions(instance, p->batch, &reason, err);
        if (r < 0)
                return r;
        if (!reason) {
                r = placement_compute(&in, NULL, log, &placement, &perr);
                if (r == -ENOMEM && !*perr.message)
                        return oom(err);
                if (r == PLACEMENT_BLOCKED)
                        reason = strjoin("The placement scriptlet blocked it: ",
                                         json_string_value(json_object_get(placement, "reason")) ?: "", NULL);
                else if (r < 0)
                        reason = strjoin("Placement failed: ", ferry_error_message(&perr), NULL);
                if ((r == PLACEMENT_BLOCKED || r < 0) && !reason)
                        return oom(err);
        }

        json_array_foreach(log, i, line)
                if (json_array_append_new(history, history_line(json_string_value(json_object_get(line, "level")) ?: "info",
                                                                json_string_value(json_object_get(line, "message")) ?: "")) < 0)
                        return oom(err);

        json_object_del(entry, "placement");
        if (reason) {
                message = TAKE_PTR(reason);
                r = json_object_set_new(entry, "status", json_string("Blocked"));
        } else {
                target = json_string_value(json_object_get(placement, "target")) ?: "";
                if (asprintf(&message, "Waiting to be created on target '%s'", target) < 0)
                        return oom(err);
                r = json_object_set_new(entry, "status", json_string("Waiting")) |
                    json_object_set(entry, "placement", placement);
        }
        if (r < 0 || json_object_set_new(entry, "status_message", json_string(message)) < 0 ||
            json_array_append_new(history, history_line("info", message)) < 0)
                return oom(err);

        /* The history grows over retries; keep the latest lines. */
        if (json_is_array(json_object_get(entry, "history"))) {
                json_t *old = json_deep_copy(json_object_get(entry, "history"));

                if (!old || json_array_extend(old, history) < 0) {
                        json_decref(old);
                        return oom(err);
                }
                while (json_array_size(old) > 100)
                        json_array_remove(old, 0);
                return json_object_set_new(entry, "history", old) < 0 ? oom(err) : 0;
        }
        return json_object_set(entry, "history", history) < 0 ? oom(err) : 0;
}

static int placing_load(struct db *db, const json_t *batch, struct placing *p, json_t **ret_targets,
                        json_t **ret_networks, struct ferry_error *err)
{
        _cleanup_json_ json_t *targets = NULL, *networks = NULL;
        int r;

        r = db_target_list(db, &targets, err);
        if (r >= 0)
                r = db_network_list(db, NULL, &networks, err);
        if (r < 0)
                return r;
        *p = (struct placing) { .batch = batch, .targets = targets, .networks = networks };
        *ret_targets = TAKE_PTR(targets);
        *ret_networks = TAKE_PTR(networks);
        return 0;
}

/* --- removing what ferry created on a target --------------------------------------------- */

/* Only what the entry records: an entry that never got past Waiting made nothing. */
static int entry_remove_created(const struct queue_control *qc, const json_t *entry, struct ferry_error *err)
{
        const json_t *created = json_object_get(entry, "created");
        int r;

        if (!json_is_object(created) || json_object_size(created) == 0)
                return 0;
        if (!qc->identity)
                return ferry_error_set(err, -EINVAL, "Cannot reach targets to remove what ferry created for '%s'",
                                       entry_name(entry));
        r = queue_target_remove(qc->db, qc->identity, entry, created, err);
        if (r < 0)
                return ferry_error_prefix(err, "Cannot remove what ferry created for '%s'", entry_name(entry));
        return 0;
}

/* --- start --------------------------------------------------------------------------------- */

static int select_instances(struct db *db, const json_t *batch, json_t **ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *instances = NULL;
        _cleanup_expr_ struct expr *e = NULL;
        int r;

        r = expr_compile(json_string_value(json_object_get(batch, "include_expression")), EXPR_SCHEMA_INSTANCE, &e,
                         err);
        if (r < 0)
                return ferry_error_prefix(err, "The batch's include_expression");
        r = db_instance_list(db, NULL, &instances, err);
        if (r < 0)
                return r;
        return api_filter_expr(e, EXPR_SCHEMA_INSTANCE, instances, ret, err);
}

/* The entries by instance UUID. */
static int entries_by_instance(struct db *db, json_t **ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *entries = NULL, *by = json_object();
        json_t *entry;
        size_t i;
        int r;

        if (!by)
                return oom(err);
        r = db_queue_list(db, NULL, &entries, err);
        if (r < 0)
                return r;
        json_array_foreach(entries, i, entry)
                if (json_object_set(by, json_string_value(json_object_get(entry, "instance_uuid")) ?: "", entry) < 0)
                        return oom(err);
        *ret = TAKE_PTR(by);
        return 0;
}

static int skip(json_t *skipped, const json_t *instance, const char *reason)
{
        return json_array_append_new(skipped,
                                     json_pack("{s:s, s:s, s:s}", "uuid",
                                               json_string_value(json_object_get(instance, "uuid")) ?: "", "name",
                                               json_string_value(json_object_get(instance, "name")) ?: "", "reason",
                                               reason));
}

static int batch_start_defined(const struct queue_control *qc, const char *name, json_t *batch, json_t **ret,
                               struct ferry_error *err)
{
        _cleanup_json_ json_t *selected = NULL, *queued = NULL, *targets = NULL, *networks = NULL;
        _cleanup_json_ json_t *entries = json_array(), *skipped = json_array(), *summary = json_array();
        size_t n_events = json_array_size(qc->events);
        int waiting = 0, blocked = 0, r;
        struct placing p;
        const json_t *instance;
        json_t *entry;
        size_t i;

        if (!entries || !skipped || !summary)
                return oom(err);
        r = select_instances(qc->db, batch, &selected, err);
        if (r >= 0)
                r = entries_by_instance(qc->db, &queued, err);
        if (r >= 0)
                r = placing_load(qc->db, batch, &p, &targets, &networks, err);
        if (r < 0)
                return r;

        json_array_foreach(selected, i, instance) {
                const char *uuid = json_string_value(json_object_get(instance, "uuid")) ?: "";
                const json_t *other = json_object_get(queued, uuid);
                _cleanup_free_ char *reason = NULL;
                _cleanup_json_ json_t *effective = NULL;

                if (json_is_true(json_object_get(json_object_get(instance, "overrides"), "disable_migration"))) {
                        if (skip(skipped, instance, "Migration is disabled by overrides.disable_migration") < 0)
                                return oom(err);
                        continue;
                }
                if (other) {
                        if (asprintf(&reason, "Already queued in batch '%s' (%s)",
                                     json_string_value(json_object_get(other, "batch")) ?: "",
                                     json_string_value(json_object_get(other, "status")) ?: "") < 0 ||
                            skip(skipped, instance, reason) < 0)
                                return oom(err);
                        continue;
                }

                effective = model_instance_effective(instance);
                entry = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "instance_uuid", uuid, "batch", name, "name",
                                  json_string_value(json_object_get(effective, "name")) ?: "", "location",
                                  json_string_value(json_object_get(instance, "location")) ?: "", "source",
                                  json_string_value(json_object_get(instance, "source")) ?: "", "migration_window",
                                  "");
                if (!effective || !entry || json_array_append_new(entries, entry) < 0)
                        return oom(err);
                r = entry_place(&p, instance, entry, err);
                if (r < 0)
                        return r;
                if (entry_status_of(entry) == QUEUE_WAITING)
                        waiting++;
                else
                        blocked++;
        }

        if (json_array_size(entries) == 0) {
                if (json_array_size(selected) == 0)
                        return ferry_error_set(err, -EINVAL,
                                               "Batch '%s' selects no instances: check its include_expression with "
                                               "'ferry batch info %s'",
                                               name, name);
                return ferry_error_set(err, -EINVAL,
                                       "Batch '%s' selects %zu instances, but none can be queued (the first: %s)", name,
                                       json_array_size(selected),
                                       json_string_value(json_object_get(json_array_get(skipped, 0), "reason")) ?: "");
        }

        r = db_begin(qc->db, err);
        if (r < 0)
                return r;
        json_array_foreach(entries, i, entry) {
                r = db_queue_create(qc->db, entry, err);
                if (r < 0)
                        goto fail;
        }
        r = batch_set_status(qc->db, name, batch, BATCH_RUNNING, err);
        if (r < 0)
                goto fail;
        /* Every entry Blocked: the batch is settled at once. */
        r = queue_control_settle(qc, name, err);
        if (r < 0)
                goto fail;
        r = db_commit(qc->db, err);
        if (r < 0)
                goto fail_events;

        json_array_foreach(entries, i, entry) {
                if (add_entry_event(qc, "queue-entry-created", entry) < 0 ||
                    json_array_append_new(summary,
                                          json_pack("{s:O, s:O, s:O, s:O}", "uuid",
                                                    json_object_get(entry, "instance_uuid"), "name",
                                                    json_object_get(entry, "name"), "status",
                                                    json_object_get(entry, "status"), "status_message",
                                                    json_object_get(entry, "status_message"))) < 0)
                        return oom(err);
        }
        if (add_batch_event(qc, "batch-started", name,
                            json_pack("{s:i, s:i, s:i}", "waiting", waiting, "blocked", blocked, "skipped",
                                      (int) json_array_size(skipped))) < 0)
                return oom(err);
        *ret = json_pack("{s:s, s:i, s:i, s:i, s:O, s:O}", "batch", name, "queued", waiting + blocked, "waiting",
                         waiting, "blocked", blocked, "skipped", skipped, "entries", summary);
        return *ret ? 0 : oom(err);

fail:
        db_rollback(qc->db);
fail_events:
        events_truncate(qc, n_events);
        return r;
}

int queue_control_batch_start(const struct queue_control *qc, const char *name, json_t **ret,
                              struct ferry_error *err)
{
        _cleanup_json_ json_t *batch = NULL;
        enum batch_status s;
        int r;

        r = db_batch_get(qc->db, name, &batch, err);
        if (r < 0)
                return r;
        s = batch_status_of(batch);
        r = batch_check_start(s, name, err);
        if (r < 0)
                return r;
        r = batch_check_windows(json_object_get(batch, "migration_windows"), name, timestamp_now_usec(), err);
        if (r < 0)
                return r;
        if (s == BATCH_DEFINED)
                return batch_start_defined(qc, name, batch, ret, err);

        /* Stopped: carry on with the entries it has. */
        r = batch_set_status(qc->db, name, batch, BATCH_RUNNING, err);
        if (r < 0)
                return r;
        if (add_batch_event(qc, "batch-started", name, json_pack("{s:b}", "resumed", true)) < 0)
                return oom(err);
        *ret = TAKE_PTR(batch);
        return 0;
}

/* --- stop and reset ------------------------------------------------------------------------ */

int queue_control_batch_stop(const struct queue_control *qc, const char *name, json_t **ret,
                             struct ferry_error *err)
{
        _cleanup_json_ json_t *batch = NULL;
        int r;

        r = db_batch_get(qc->db, name, &batch, err);
        if (r < 0)
                return r;
        r = batch_check_stop(batch_status_of(batch), name, err);
        if (r < 0)
                return r;
        r = batch_set_status(qc->db, name, batch, BATCH_STOPPED, err);
        if (r < 0)
                return r;
        if (add_batch_event(qc, "batch-stopped", name, NULL) < 0)
                return oom(err);
        *ret = TAKE_PTR(batch);
        return 0;
}

int queue_control_batch_reset(const struct queue_control *qc, const char *name, json_t **ret,
                              struct ferry_error *err)
{
        _cleanup_json_ json_t *batch = NULL, *entries = NULL;
        int removed = 0, kept = 0, r;
        json_t *entry;
        size_t i;

        r = db_batch_get(qc->db, name, &batch, err);
        if (r < 0)
                return r;
        r = batch_check_reset(batch_status_of(batch), name, err);
        if (r < 0)
                return r;
        r = db_queue_list(qc->db, name, &entries, err);
        if (r < 0)
                return r;
        json_array_foreach(entries, i, entry) {
                enum queue_status s = entry_status_of(entry);

                if (!queue_status_is_settled(s) && s != QUEUE_WAITING)
                        return ferry_error_set(err, -EBUSY,
                                               "Batch '%s' cannot be reset while '%s' is %s: wait for it to end, or "
                                               "cancel it",
                                               name, entry_name(entry), queue_status_to_string(s) ?: "at work");
        }

        /* Targets first: an entry goes only once nothing of it is left there. */
        json_array_foreach(entries, i, entry) {
                if (entry_status_of(entry) == QUEUE_FINISHED)
                        continue;
                r = entry_remove_created(qc, entry, err);
                if (r < 0)
                        return r;
        }

        r = db_begin(qc->db, err);
        if (r < 0)
                return r;
        json_array_foreach(entries, i, entry) {
                if (entry_status_of(entry) == QUEUE_FINISHED) {
                        kept++;
                        continue;
                }
                r = db_queue_delete(qc->db, json_string_value(json_object_get(entry, "instance_uuid")), err);
                if (r < 0)
                        goto fail;
                removed++;
        }
        r = batch_set_status(qc->db, name, batch, BATCH_DEFINED, err);
        if (r < 0)
                goto fail;
        r = db_commit(qc->db, err);
        if (r < 0)
                return r;
        if (add_batch_event(qc, "batch-reset", name, json_pack("{s:i, s:i}", "removed", removed, "kept", kept)) < 0)
                return oom(err);
        *ret = json_pack("{s:s, s:i, s:i}", "batch", name, "removed", removed, "kept", kept);
        return *ret ? 0 : oom(err);

fail:
        db_rollback(qc->db);
        return r;
}

/* --- settle, retry and cancel -------------------------------------------------------------- */

int queue_control_settle(const struct queue_control *qc, const char *name, struct ferry_error *err)
{
        _cleanup_json_ json_t *batch = NULL, *entries = NULL;
        _cleanup_free_ enum queue_status *statuses = NULL;
        enum batch_status next;
        json_t *entry;
        size_t i;
        int r;

        r = db_batch_get(qc->db, name, &batch, err);
        if (r < 0)
                return r;
        /* An Error batch settles again: canceling its failed entries finishes it. */
        if (batch_status_of(batch) != BATCH_RUNNING && batch_status_of(batch) != BATCH_ERROR)
                return 0;
        r = db_queue_list(qc->db, name, &entries, err);
        if (r < 0)
                return r;
        statuses = calloc(json_array_size(entries) + 1, sizeof(*statuses));
        if (!statuses)
                return oom(err);
        json_array_foreach(entries, i, entry)
                statuses[i] = entry_status_of(entry);
        next = batch_status_settle(statuses, json_array_size(entries));
        if (next == BATCH_RUNNING || next == batch_status_of(batch))
                return 0;
        r = batch_set_status(qc->db, name, batch, next, err);
        if (r < 0)
                return r;
        if (add_batch_event(qc, next == BATCH_FINISHED ? "batch-finished" : "batch-error", name,
                            json_pack("{s:s}", "status", batch_status_to_string(next))) < 0)
                return oom(err);
        return 0;
}

/*
 * Store entry in one transaction with what follows from it: its batch
 * (when rerun is set, the stored batch object) Running again, and the
 * batch settled.  The events of a rolled back change are dropped.
 */
static int entry_store(const struct queue_control *qc, const char *instance_uuid, const json_t *entry, json_t *rerun,
                       struct ferry_error *err)
{
        const char *batch_name = json_string_value(json_object_get(entry, "batch"));
        size_t n_events = json_array_size(qc->events);
        int r;

        r = db_begin(qc->db, err);
        if (r < 0)
                return r;
        r = db_queue_update(qc->db, instance_uuid, entry, err);
        if (r >= 0 && rerun)
                r = batch_set_status(qc->db, batch_name, rerun, BATCH_RUNNING, err);
        if (r >= 0)
                r = queue_control_settle(qc, batch_name, err);
        if (r < 0)
                db_rollback(qc->db);
        else
                r = db_commit(qc->db, err);
        if (r < 0)
                events_truncate(qc, n_events);
        return r;
}

int queue_control_retry(const struct queue_control *qc, const char *instance_uuid, json_t **ret,
                        struct ferry_error *err)
{
        _cleanup_json_ json_t *entry = NULL, *instance = NULL, *batch = NULL, *targets = NULL, *networks = NULL;
        const char *batch_name;
        enum batch_status bs;
        struct placing p;
        int r;

        r = db_queue_get(qc->db, instance_uuid, &entry, err);
        if (r < 0)
                return r;
        r = queue_check_retry(entry_status_of(entry), entry_name(entry), err);
        if (r < 0)
                return r;
        batch_name = json_string_value(json_object_get(entry, "batch"));
        r = db_batch_get(qc->db, batch_name, &batch, err);
        if (r >= 0)
                r = db_instance_get(qc->db, instance_uuid, &instance, err);
        if (r >= 0)
                r = placing_load(qc->db, batch, &p, &targets, &networks, err);
        if (r >= 0)
                r = entry_remove_created(qc, entry, err);
        if (r < 0)
                return r;
        json_object_del(entry, "created");
        r = entry_place(&p, instance, entry, err);
        if (r < 0)
                return r;

        bs = batch_status_of(batch);
        r = entry_store(qc, instance_uuid, entry, bs == BATCH_FINISHED || bs == BATCH_ERROR ? batch : NULL, err);
        if (r < 0)
                return r;
        if (add_entry_event(qc, "queue-retried", entry) < 0 ||
            ((bs == BATCH_FINISHED || bs == BATCH_ERROR) &&
             add_batch_event(qc, "batch-started", batch_name, json_pack("{s:s}", "retried", instance_uuid)) < 0))
                return oom(err);
        *ret = TAKE_PTR(entry);
        return 0;
}

int queue_control_cancel(const struct queue_control *qc, const char *instance_uuid, json_t **ret,
                         struct ferry_error *err)
{
        _cleanup_json_ json_t *entry = NULL;
        _cleanup_json_ json_t *history = NULL;
        int r;

        r = db_queue_get(qc->db, instance_uuid, &entry, err);
        if (r < 0)
                return r;
        r = queue_check_cancel(entry_status_of(entry), entry_name(entry), err);
        if (r < 0)
                return r;
        r = entry_remove_created(qc, entry, err);
        if (r < 0)
                return r;

        history = json_is_array(json_object_get(entry, "history")) ? json_deep_copy(json_object_get(entry, "history"))
                                                                     : json_array();
        if (!history || json_array_append_new(history, history_line("info", "Canceled")) < 0 ||
            json_object_set_new(entry, "status", json_string("Canceled")) < 0 ||
            json_object_set_new(entry, "status_message", json_string("Canceled")) < 0 ||
            json_object_set(entry, "history", history) < 0)
                return oom(err);
        json_object_del(entry, "created");

        r = entry_store(qc, instance_uuid, entry, NULL, err);
        if (r < 0)
                return r;
        if (add_entry_event(qc, "queue-canceled", entry) < 0)
                return oom(err);
        *ret = TAKE_PTR(entry);
        return 0;
}
