/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../integration/proc.h" /* tmpdir_new(), tmpdir_remove() */
#include "common/json.h"
#include "common/strbuf.h"
#include "db-test.h"
#include "db/batch.h"
#include "db/instance.h"
#include "db/queue.h"
#include "db/source.h"
#include "db/target.h"

int db_test_setup_unopened(void **state)
{
        struct db_test *t;

        t = calloc(1, sizeof *t);
        assert_non_null(t);
        t->param = *state;
        t->dir = tmpdir_new();
        t->path = strjoin(t->dir, "/ferry.db", NULL);
        assert_non_null(t->path);
        *state = t;
        return 0;
}

int db_test_setup(void **state)
{
        struct ferry_error err = {};
        struct db_test *t;

        db_test_setup_unopened(state);
        t = *state;
        assert_ok(db_open(t->path, &t->db, &err), &err);
        return 0;
}

int db_test_teardown(void **state)
{
        struct db_test *t = *state;

        db_close(t->db);
        tmpdir_remove(t->dir);
        free(t->path);
        free(t->dir);
        free(t);
        return 0;
}

json_t *json_from(const char *text)
{
        struct ferry_error err = {};
        json_t *v = NULL;

        if (json_parse_strict(text, strlen(text), &v, &err) < 0)
                fail_msg("Invalid test JSON '%s': %s", text, err.message);
        return v;
}

void assert_json_equal(const json_t *a, const json_t *b)
{
        _cleanup_free_ char *ta = NULL, *tb = NULL;

        if (json_equal(a, b))
                return;
        ta = json_dumps(a, JSON_SORT_KEYS | JSON_ENCODE_ANY);
        tb = json_dumps(b, JSON_SORT_KEYS | JSON_ENCODE_ANY);
        fail_msg("JSON differs:\n  %s\n  %s", ta ? ta : "(null)", tb ? tb : "(null)");
}

void assert_error(int r, const struct ferry_error *err, int code, const char *message)
{
        if (r != code)
                fail_msg("Expected error %d '%s', got %d '%s'", code, message, r, err->message);
        assert_int_equal(err->code, code);
        assert_string_equal(err->message, message);
}

void assert_ok(int r, const struct ferry_error *err)
{
        if (r < 0)
                fail_msg("Unexpected error %d: %s", r, ferry_error_message(err));
}

const char *string_at(const json_t *obj, const char *key)
{
        const char *s = json_string_value(json_object_get(obj, key));

        if (!s)
                fail_msg("No string '%s'", key);
        return s;
}

json_t *json_without_timestamps(const json_t *obj)
{
        json_t *copy = json_deep_copy(obj);

        assert_non_null(copy);
        json_object_del(copy, "created_at");
        json_object_del(copy, "updated_at");
        return copy;
}

/* json_from(text) with the string fields given as name/value pairs (up to a NULL) set. */
static json_t *sample(const char *text, ...)
{
        json_t *v = json_from(text);
        const char *name;
        va_list ap;

        va_start(ap, text);
        while ((name = va_arg(ap, const char *))) {
                const char *value = va_arg(ap, const char *);
                json_t *holder = v;

                /* "placement.target": one level of nesting is all the samples need. */
                if (strchr(name, '.')) {
                        _cleanup_free_ char *parent = strndup(name, (size_t) (strchr(name, '.') - name));

                        holder = json_object_get(v, parent);
                        name = strchr(name, '.') + 1;
                }
                assert_int_equal(json_object_set_new(holder, name, json_string(value)), 0);
        }
        va_end(ap);
        return v;
}

static const char sample_source_json[] =
        "{\"type\": \"vmware\", \"properties\": {"
        "\"endpoint\": \"https://vcenter.example.org/sdk\","
        "\"username\": \"administrator@vsphere.local\", \"password\": \"s3cret\","
        "\"trusted_server_certificate_fingerprint\": \"\", \"connectivity_status\": \"Unknown\","
        "\"import_limit\": 50, \"datacenters\": [\"dc1\"],"
        "\"disk_access\": {\"mode\": \"datastore\", \"datastore_mounts\": {\"ds1\": \"/mnt/ds1\"}}}}";

static const char sample_target_json[] =
        "{\"type\": \"incus\", \"properties\": {"
        "\"endpoint\": \"https://incus.example.org:8443\", \"trust_token\": \"token-secret\","
        "\"import_limit\": 50, \"create_limit\": 10, \"connection_timeout\": \"30s\"},"
        "\"inventory\": {\"projects\": [\"default\"], \"storage_pools\": [\"default\"]}}";

static const char sample_batch_json[] =
        "{\"include_expression\": \"cpus >= 2\", \"status\": \"Defined\","
        "\"migration_windows\": [{\"name\": \"sat-night\", \"start\": \"2026-11-28T22:00:00Z\","
        "  \"end\": \"2026-11-29T04:00:00Z\", \"lockout\": \"\", \"capacity\": 20}],"
        "\"constraints\": [],"
        "\"defaults\": {\"placement\": {\"target\": \"incus1\", \"storage_pool\": \"default\"}},"
        "\"config\": {\"post_migration_retries\": 3, \"background_sync_interval\": \"10m\"}}";

json_t *sample_source(const char *name)
{
        return sample(sample_source_json, "name", name, NULL);
}

json_t *sample_target(const char *name)
{
        return sample(sample_target_json, "name", name, NULL);
}

json_t *sample_batch(const char *name)
{
        return sample(sample_batch_json, "name", name, NULL);
}

json_t *sample_instance(const char *uuid, const char *source, const char *name)
{
        _cleanup_free_ char *location = strjoin("/dc1/vm/", name, NULL);

        assert_non_null(location);
        return sample("{\"cpus\": 2, \"memory\": 4294967296, \"running\": true, \"os\": \"ubuntu\","
                      "\"config\": {\"tag.env\": \"prod\"},"
                      "\"disks\": [{\"name\": \"disk0\", \"capacity\": 10737418240, \"shared\": false,"
                      "  \"supported\": true, \"change_tracking\": true}],"
                      "\"nics\": [{\"hardware_address\": \"00:50:56:00:00:01\", \"network\": \"network-1\"}]}",
                      "uuid", uuid, "source", source, "name", name, "location", location, NULL);
}

json_t *sample_network(const char *uuid, const char *source)
{
        return sample("{\"location\": \"/dc1/network/VM Network\", \"type\": \"standard\", \"vlan\": 10}", "uuid",
                      uuid, "source", source, NULL);
}

json_t *sample_queue_entry(const char *instance_uuid, const char *batch, const char *target)
{
        return sample("{\"status\": \"Waiting\", \"status_message\": \"\", \"import_stage\": \"background\","
                      "\"placement\": {\"project\": \"default\", \"storage_pools\": {\"disk0\": \"default\"}},"
                      "\"progress\": [{\"disk\": \"disk0\", \"bytes_done\": 0, \"bytes_total\": 10737418240}]}",
                      "instance_uuid", instance_uuid, "batch", batch, "placement.target", target, NULL);
}

void db_test_add_queued_instance(struct db *db)
{
        _cleanup_json_ json_t *source = sample_source("vc01"), *target = sample_target("incus1"),
                              *batch = sample_batch("wave1"), *instance = sample_instance("i-1", "vc01", "web01"),
                              *entry = sample_queue_entry("i-1", "wave1", "incus1");
        struct ferry_error err = {};

        assert_ok(db_source_create(db, source, &err), &err);
        assert_ok(db_target_create(db, target, &err), &err);
        assert_ok(db_batch_create(db, batch, &err), &err);
        assert_ok(db_instance_put(db, instance, &err), &err);
        assert_ok(db_queue_create(db, entry, &err), &err);
}
