/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state machines of batches and queue entries: pure rules, no I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/json.h"
#include "common/macros.h"
#include "common/strbuf.h"
#include "model/model.h"
#include "model/queue.h"

static const char *const queue_status_table[_QUEUE_STATUS_MAX] = {
        [QUEUE_BLOCKED] = "Blocked",
        [QUEUE_WAITING] = "Waiting",
        [QUEUE_CREATING] = "Creating",
        [QUEUE_BACKGROUND_IMPORT] = "Background import",
        [QUEUE_IDLE] = "Idle",
        [QUEUE_FINAL_IMPORT] = "Final import",
        [QUEUE_POST_IMPORT] = "Post-import",
        [QUEUE_FINISHED] = "Finished",
        [QUEUE_ERROR] = "Error",
        [QUEUE_CANCELED] = "Canceled",
        [QUEUE_CONFLICT] = "Conflict",
};

static const char *const batch_status_table[_BATCH_STATUS_MAX] = {
        [BATCH_DEFINED] = "Defined",
        [BATCH_RUNNING] = "Running",
        [BATCH_STOPPED] = "Stopped",
        [BATCH_FINISHED] = "Finished",
        [BATCH_ERROR] = "Error",
};

const char *queue_status_to_string(enum queue_status s)
{
        return (int) s >= 0 && s < _QUEUE_STATUS_MAX ? queue_status_table[s] : NULL;
}

enum queue_status queue_status_from_string(const char *s)
{
        return s ? (enum queue_status) string_table_lookup(queue_status_table, _QUEUE_STATUS_MAX, s)
                 : _QUEUE_STATUS_INVALID;
}

const char *batch_status_to_string(enum batch_status s)
{
        return (int) s >= 0 && s < _BATCH_STATUS_MAX ? batch_status_table[s] : NULL;
}

enum batch_status batch_status_from_string(const char *s)
{
        return s ? (enum batch_status) string_table_lookup(batch_status_table, _BATCH_STATUS_MAX, s)
                 : _BATCH_STATUS_INVALID;
}

bool queue_status_is_settled(enum queue_status s)
{
        return s == QUEUE_BLOCKED || s == QUEUE_FINISHED || s == QUEUE_ERROR || s == QUEUE_CANCELED ||
               s == QUEUE_CONFLICT;
}

int queue_check_retry(enum queue_status s, const char *name, struct ferry_error *err)
{
        if (queue_status_is_settled(s) && s != QUEUE_FINISHED)
                return 0;
        return ferry_error_set(err, -EBUSY,
                               "Queue entry of '%s' is %s: only Blocked, Error, Canceled and Conflict entries can be retried",
                               name, queue_status_to_string(s) ?: "in an unknown state");
}

int queue_check_cancel(enum queue_status s, const char *name, struct ferry_error *err)
{
        if (s == QUEUE_FINISHED)
                return ferry_error_set(err, -EBUSY,
                                       "Queue entry of '%s' is Finished: the VM runs on its target and there is nothing to cancel",
                                       name);
        if (s == QUEUE_CANCELED)
                return ferry_error_set(err, -EBUSY, "Queue entry of '%s' is already Canceled", name);
        if ((int) s < 0 || s >= _QUEUE_STATUS_MAX)
                return ferry_error_set(err, -EINVAL, "Queue entry of '%s' is in an unknown state", name);
        return 0;
}

int batch_check_start(enum batch_status s, const char *name, struct ferry_error *err)
{
        switch (s) {
        case BATCH_DEFINED:
        case BATCH_STOPPED:
                return 0;
        case BATCH_RUNNING:
                return ferry_error_set(err, -EBUSY, "Batch '%s' is already Running", name);
        case BATCH_FINISHED:
        case BATCH_ERROR:
                return ferry_error_set(err, -EBUSY,
                                       "Batch '%s' is %s: retry its entries, or reset it to start it again",
                                       name, batch_status_to_string(s));
        default:
                return ferry_error_set(err, -EINVAL, "Batch '%s' is in an unknown state", name);
        }
}

int batch_check_stop(enum batch_status s, const char *name, struct ferry_error *err)
{
        if (s == BATCH_RUNNING)
                return 0;
        if ((int) s < 0 || s >= _BATCH_STATUS_MAX)
                return ferry_error_set(err, -EINVAL, "Batch '%s' is in an unknown state", name);
        return ferry_error_set(err, -EBUSY, "Batch '%s' is %s: only a Running batch can be stopped", name,
                               batch_status_to_string(s));
}

int batch_check_reset(enum batch_status s, const char *name, struct ferry_error *err)
{
        switch (s) {
        case BATCH_STOPPED:
        case BATCH_FINISHED:
        case BATCH_ERROR:
                return 0;
        case BATCH_DEFINED:
                return ferry_error_set(err, -EBUSY, "Batch '%s' is Defined: there is nothing to reset", name);
        case BATCH_RUNNING:
                return ferry_error_set(err, -EBUSY, "Batch '%s' is Running: stop it before resetting it", name);
        default:
                return ferry_error_set(err, -EINVAL, "Batch '%s' is in an unknown state", name);
        }
}

enum batch_status batch_status_settle(const enum queue_status *entries, size_t n)
{
        bool failed = false;

        if (n == 0)
                return BATCH_RUNNING;
        for (size_t i = 0; i < n; i++) {
                if (!queue_status_is_settled(entries[i]))
                        return BATCH_RUNNING;
                if (entries[i] != QUEUE_FINISHED && entries[i] != QUEUE_CANCELED)
                        failed = true;
        }
        return failed ? BATCH_ERROR : BATCH_FINISHED;
}

static bool flag(const json_t *obj, const char *key)
{
        return json_is_true(json_object_get(obj, key));
}

static int disk_restriction(const json_t *instance, const char *name, char **ret_reason)
{
        const json_t *disk;
        size_t i;

        json_array_foreach(json_object_get(instance, "disks"), i, disk) {
                const char *disk_name = json_string_value(json_object_get(disk, "name")) ?: "";
                const char *why = json_string_value(json_object_get(disk, "unsupported_reason"));

                if (flag(disk, "shared")) {
                        if (asprintf(ret_reason, "Disk '%s' of '%s' is shared between VMs: ferry cannot migrate shared disks",
                                     disk_name, name) < 0)
                                return -ENOMEM;
                        return 1;
                }
                if (json_is_false(json_object_get(disk, "supported"))) {
                        if (asprintf(ret_reason, "Disk '%s' of '%s' is not supported: %s", disk_name, name,
                                     why && *why ? why : "its backing cannot be read") < 0)
                                return -ENOMEM;
                        return 1;
                }
        }
        return 0;
}

static bool has_ipv4(const json_t *instance)
{
        const json_t *nic;
        size_t i;

        json_array_foreach(json_object_get(instance, "nics"), i, nic) {
                const char *a = json_string_value(json_object_get(nic, "ipv4_address"));

                if (a && *a)
                        return true;
        }
        return false;
}

int queue_restrictions(const json_t *instance, const json_t *batch, char **ret_reason, struct ferry_error *err)
{
        const json_t *allow = json_object_get(json_object_get(batch, "config"), "instance_restriction_overrides");
        _cleanup_json_ json_t *effective = model_instance_effective(instance);
        const char *name, *os_type;
        char *reason = NULL;
        bool ignore;
        int r;

        if (!effective)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        name = json_string_value(json_object_get(effective, "name")) ?: "";
        os_type = json_string_value(json_object_get(effective, "os_type"));
        ignore = flag(json_object_get(instance, "overrides"), "ignore_restrictions");

        r = disk_restriction(effective, name, &reason);
        if (r < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (r == 0 && !ignore) {
                if ((!os_type || !*os_type) && !flag(allow, "allow_unknown_os"))
                        r = asprintf(&reason,
                                     "The guest OS of '%s' is unknown: set overrides.os_type, or allow_unknown_os in the "
                                     "batch's config.instance_restriction_overrides",
                                     name);
                else if (flag(effective, "running") && !flag(effective, "background_import") &&
                         !flag(allow, "allow_no_background_import"))
                        r = asprintf(&reason,
                                     "'%s' is running and change block tracking is off, so it cannot be copied while it "
                                     "runs: enable CBT, power it off, or set allow_no_background_import in the batch's "
                                     "config.instance_restriction_overrides",
                                     name);
                else if (flag(effective, "running") && !has_ipv4(effective) && !flag(allow, "allow_no_ipv4"))
                        r = asprintf(&reason,
                                     "'%s' has no IPv4 address reported by VMware Tools, so ferry cannot tell that its "
                                     "network works after the move: install VMware Tools, or set allow_no_ipv4 in the "
                                     "batch's config.instance_restriction_overrides",
                                     name);
                if (r < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        *ret_reason = reason;
        return 0;
}

int batch_check_windows(const json_t *windows, const char *name, int64_t now_usec, struct ferry_error *err)
{
        char buf[TIMESTAMP_RFC3339_MAX];
        const char *last_name = NULL;
        int64_t last_end = INT64_MIN;
        const json_t *w;
        size_t i;

        if (json_array_size(windows) == 0)
                return 0;
        json_array_foreach(windows, i, w) {
                int64_t end;

                if (timestamp_parse_rfc3339(json_string_value(json_object_get(w, "end")), &end) < 0)
                        return ferry_error_set(err, -EINVAL, "Migration window %zu of batch '%s' has no valid end", i,
                                               name);
                if (end > now_usec)
                        return 0;
                if (end > last_end) {
                        last_end = end;
                        last_name = json_string_value(json_object_get(w, "name"));
                }
        }
        if (timestamp_format_rfc3339(last_end, buf, sizeof(buf)) < 0)
                buf[0] = '\0';
        return ferry_error_set(err, -EINVAL,
                               "Every migration window of batch '%s' has ended (the last, '%s', at %s): add a window",
                               name, last_name ?: "", buf);
}
