/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "daemon/sync.h"
#include "db/db.h"
#include "db/instance.h"
#include "db/network.h"
#include "db/queue.h"
#include "db/source.h"
#include "db/warning.h"

/* What the database adds to a synced object, left out of comparisons. */
static const char *const stored_only[] = { "overrides", "mappings", "created_at", "updated_at", NULL };

static json_t *synced_part(const json_t *obj)
{
        json_t *copy = json_deep_copy(obj);

        if (!copy)
                return NULL;
        for (const char *const *k = stored_only; *k; k++)
                json_object_del(copy, *k);
        return copy;
}

/* Objects of an array keyed by their "uuid" (borrowed). */
static json_t *by_uuid(const json_t *array)
{
        json_t *map = json_object(), *v;
        size_t i;

        if (!map)
                return NULL;
        json_array_foreach(array, i, v) {
                const char *uuid = json_string_value(json_object_get(v, "uuid"));

                if (uuid && json_object_set(map, uuid, v) < 0) {
                        json_decref(map);
                        return NULL;
                }
        }
        return map;
}

static int set_source_status(struct db *db, const char *name, const char *status, struct ferry_error *err)
{
        _cleanup_json_ json_t *src = NULL;
        json_t *props;
        int r;

        r = db_source_get(db, name, &src, err);
        if (r < 0)
                return r;
        props = json_object_get(src, "properties");
        if (!props)
                return ferry_error_set(err, -EINVAL, "Source '%s' has no properties", name);
        if (streq_ptr(json_string_value(json_object_get(props, "connectivity_status")), status))
                return 0;
        if (json_object_set_new(props, "connectivity_status", json_string(status)) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return db_source_update(db, name, src, err);
}

static int apply_instances(struct db *db, const char *source, const json_t *instances, const json_t *queued,
                           struct sync_stats *st, struct ferry_error *err)
{
        _cleanup_json_ json_t *stored = NULL, *stored_map = NULL, *seen = json_object();
        size_t i;
        json_t *vm;
        int r;

        r = db_instance_list(db, source, &stored, err);
        if (r < 0)
                return r;
        stored_map = by_uuid(stored);
        if (!stored_map || !seen)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        json_array_foreach(instances, i, vm) {
                const char *uuid = json_string_value(json_object_get(vm, "uuid"));
                const json_t *old = json_object_get(stored_map, uuid);
                _cleanup_json_ json_t *old_synced = NULL;

                if (!uuid)
                        return ferry_error_set(err, -EINVAL, "An instance of source '%s' has no uuid", source);
                if (json_object_get(seen, uuid))
                        continue;       /* the same VM twice (seen through two views): once is enough */
                if (json_object_set_new(seen, uuid, json_true()) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                if (old) {
                        old_synced = synced_part(old);
                        if (!old_synced)
                                return ferry_error_set(err, -ENOMEM, "Out of memory");
                        if (json_equal(old_synced, vm)) {
                                st->instances_unchanged++;
                                continue;
                        }
                }
                r = db_instance_put(db, vm, err);
                if (r < 0)
                        return r;
                if (r > 0)
                        st->instances_added++;
                else
                        st->instances_updated++;
        }

        json_array_foreach(stored, i, vm) {
                const char *uuid = json_string_value(json_object_get(vm, "uuid"));
                _cleanup_json_ json_t *gone = NULL;

                if (json_object_get(seen, uuid))
                        continue;
                if (!json_object_get(queued, uuid)) {
                        r = db_instance_delete(db, uuid, err);
                        if (r < 0)
                                return r;
                        st->instances_removed++;
                        continue;
                }
                /* A batch holds it: keep the record, say it is gone. */
                if (json_is_true(json_object_get(vm, "vanished")))
                        continue;
                gone = synced_part(vm);
                if (!gone || json_object_set_new(gone, "vanished", json_true()) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                r = db_instance_put(db, gone, err);
                if (r < 0)
                        return r;
                st->instances_vanished++;
        }
        return 0;
}

static int apply_networks(struct db *db, const char *source, const json_t *networks, struct sync_stats *st,
                          struct ferry_error *err)
{
        _cleanup_json_ json_t *stored = NULL, *stored_map = NULL, *seen = json_object();
        size_t i;
        json_t *net;
        int r;

        r = db_network_list(db, source, &stored, err);
        if (r < 0)
                return r;
        stored_map = by_uuid(stored);
        if (!stored_map || !seen)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        json_array_foreach(networks, i, net) {
                const char *uuid = json_string_value(json_object_get(net, "uuid"));
                const json_t *old = json_object_get(stored_map, uuid);
                _cleanup_json_ json_t *synced = synced_part(net), *old_synced = NULL;
                json_t *mapping = json_object_get(net, "default_mapping");

                if (!synced)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                if (!uuid)
                        return ferry_error_set(err, -EINVAL, "A network of source '%s' has no uuid", source);
                if (json_object_get(seen, uuid))
                        continue;
                if (json_object_set_new(seen, uuid, json_true()) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                json_object_del(synced, "default_mapping");
                if (old) {
                        old_synced = synced_part(old);
                        if (!old_synced)
                                return ferry_error_set(err, -ENOMEM, "Out of memory");
                        if (json_equal(old_synced, synced))
                                continue;
                }
                r = db_network_put(db, synced, err);
                if (r < 0)
                        return r;
                if (r > 0) {
                        st->networks_added++;
                        if (json_is_object(mapping) && json_object_size(mapping) > 0) {
                                r = db_network_set_mappings(db, uuid, mapping, err);
                                if (r < 0)
                                        return r;
                        }
                } else
                        st->networks_updated++;
        }

        json_array_foreach(stored, i, net) {
                const char *uuid = json_string_value(json_object_get(net, "uuid"));

                if (json_object_get(seen, uuid))
                        continue;
                r = db_network_delete(db, uuid, err);
                if (r < 0)
                        return r;
                st->networks_removed++;
        }
        return 0;
}

int sync_apply_inventory(struct db *db, const char *source, const struct source_inventory *inv,
                         json_t *new_warnings, struct sync_stats *ret_stats, struct ferry_error *err)
{
        _cleanup_json_ json_t *queue = NULL, *queued = json_object();
        struct sync_stats st = {};
        size_t i;
        json_t *v;
        int r;

        if (!queued)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        r = db_begin(db, err);
        if (r < 0)
                return r;

        r = db_queue_list(db, NULL, &queue, err);
        if (r >= 0)
                json_array_foreach(queue, i, v) {
                        const char *uuid = json_string_value(json_object_get(v, "instance_uuid"));

                        if (uuid && json_object_set_new(queued, uuid, json_true()) < 0) {
                                r = ferry_error_set(err, -ENOMEM, "Out of memory");
                                break;
                        }
                }
        if (r >= 0)
                r = apply_networks(db, source, inv->networks, &st, err);
        if (r >= 0)
                r = apply_instances(db, source, inv->instances, queued, &st, err);
        json_array_foreach(inv->warnings, i, v) {
                _cleanup_free_ char *uuid = NULL;

                if (r < 0)
                        break;
                r = db_warning_raise(db, "sync", json_string_value(json_object_get(v, "entity_type")),
                                     json_string_value(json_object_get(v, "entity")),
                                     json_string_value(json_object_get(v, "type")),
                                     json_string_value(json_object_get(v, "message")), &uuid, err);
                if (r > 0 && new_warnings && json_array_append_new(new_warnings, json_string(uuid)) < 0)
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
                st.warnings++;
        }
        if (r >= 0)
                r = set_source_status(db, source, SOURCE_STATUS_OK, err);
        if (r < 0) {
                db_rollback(db);
                return ferry_error_prefix(err, "Storing the inventory of source '%s'", source);
        }
        r = db_commit(db, err);
        if (r < 0)
                return r;
        if (ret_stats)
                *ret_stats = st;
        return 0;
}

/* Record why the source cannot be synced; errors here are only logged: the sync's error matters more. */
static void record_failure(struct db *db, const char *name, const char *status, const struct ferry_error *why)
{
        struct ferry_error err = {};
        int r;

        r = db_begin(db, &err);
        if (r >= 0)
                r = set_source_status(db, name, status, &err);
        if (r >= 0)
                r = db_warning_raise(db, "sync", "source", name, status, ferry_error_message(why), NULL, &err);
        if (r < 0) {
                db_rollback(db);
                log_warning("Cannot record the state of source '%s': %s", name, ferry_error_message(&err));
                return;
        }
        if (db_commit(db, &err) < 0)
                log_warning("Cannot record the state of source '%s': %s", name, ferry_error_message(&err));
}

int sync_source(struct db *db, const char *name, json_t **ret_summary, struct ferry_error *err)
{
        _cleanup_json_ json_t *new_warnings = json_array();
        _cleanup_json_ json_t *src = NULL;
        struct source_connect_result res = {};
        struct source_inventory inv = {};
        struct sync_stats st = {};
        const struct source_ops *ops;
        struct source *s = NULL;
        const char *type;
        int r;

        r = db_source_get(db, name, &src, err);
        if (r < 0)
                return r;
        type = json_string_value(json_object_get(src, "type"));
        ops = source_ops_find(type);
        if (!ops || !ops->connect || !ops->sync_inventory)
                return ferry_error_set(err, -EOPNOTSUPP, "Source type '%s' cannot be synced", type ? type : "");

        r = ops->connect(src, &s, &res, err);
        if (r == -ECANCELED)
                return ferry_error_prefix(err, "Sync of source '%s' canceled", name);
        if (r < 0) {
                record_failure(db, name, res.status, err);
                return ferry_error_prefix(err, "%s", res.status);
        }
        r = ops->sync_inventory(s, &inv, err);
        ops->disconnect(s);
        if (r == -ECANCELED)
                return ferry_error_prefix(err, "Sync of source '%s' canceled", name);
        if (r < 0) {
                record_failure(db, name, SOURCE_STATUS_CANNOT_CONNECT, err);
                return ferry_error_prefix(err, "Reading the inventory of source '%s'", name);
        }

        if (!new_warnings)
                r = ferry_error_set(err, -ENOMEM, "Out of memory");
        else
                r = sync_apply_inventory(db, name, &inv, new_warnings, &st, err);
        source_inventory_done(&inv);
        if (r < 0)
                return r;

        log_info("Synced source '%s': %u instances added, %u updated, %u removed, %u vanished; "
                 "%u networks added, %u updated, %u removed",
                 name, st.instances_added, st.instances_updated, st.instances_removed, st.instances_vanished,
                 st.networks_added, st.networks_updated, st.networks_removed);
        if (ret_summary) {
                *ret_summary = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "instances_added",
                                         (json_int_t) st.instances_added, "instances_updated",
                                         (json_int_t) st.instances_updated, "instances_unchanged",
                                         (json_int_t) st.instances_unchanged, "instances_removed",
                                         (json_int_t) st.instances_removed, "instances_vanished",
                                         (json_int_t) st.instances_vanished, "networks_added",
                                         (json_int_t) st.networks_added, "networks_updated",
                                         (json_int_t) st.networks_updated, "networks_removed",
                                         (json_int_t) st.networks_removed, "warnings", (json_int_t) st.warnings);
                if (!*ret_summary ||
                    json_object_set(*ret_summary, "warnings_created", new_warnings) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        return 0;
}
