/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry source add/sync against the lab's vSphere simulator, through the
 * built ferryd and ferry: the instances and networks ferry lists are the
 * lab model's, checked against tests/lab/vcsim/model.json; a wrong password
 * and an unconfirmed certificate import nothing and say why.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "ferryd-fixture.h"
#include "lab.h"
#include "proc.h"

static json_t *model;

struct run {
        int status;
        char *out;
        char *err;
};

static void run_done(struct run *r)
{
        free(r->out);
        free(r->err);
}

#define _cleanup_run_ _cleanup_(run_done)
#define ARGS(...) ((const char *const[]) { __VA_ARGS__, NULL })

static void ferry(struct ferryd_fixture *f, const char *const *args, struct run *ret)
{
        char *argv[32] = { (char *) FERRY_PATH, (char *) "--socket", f->socket_path };
        size_t n = 3;

        for (; *args; args++) {
                assert_true(n < ELEMENTSOF(argv) - 1);
                argv[n++] = (char *) *args;
        }
        ret->status = proc_run(argv, &ret->out, &ret->err);
}

static char *ferry_ok(struct ferryd_fixture *f, const char *const *args)
{
        _cleanup_run_ struct run r = {};

        ferry(f, args, &r);
        if (r.status != 0)
                fail_msg("ferry %s exited with %d:\n%s%s", args[0], r.status, r.out, r.err);
        return TAKE_PTR(r.out);
}

static json_t *ferry_json(struct ferryd_fixture *f, const char *const *args)
{
        _cleanup_free_ char *out = ferry_ok(f, args);
        json_error_t e;
        json_t *v = json_loads(out, 0, &e);

        if (!v)
                fail_msg("ferry %s %s printed no JSON (%s):\n%s", args[0], args[1], e.text, out);
        return v;
}

static const char *str(const json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));

        return s ? s : "";
}

static const json_t *find_by(const json_t *array, const char *key, const char *value)
{
        size_t i;
        json_t *v;

        json_array_foreach(array, i, v)
                if (streq(str(v, key), value))
                        return v;
        return NULL;
}

static size_t model_vm_count(void)
{
        size_t i, n = 0;
        json_t *dc;

        json_array_foreach(json_object_get(model, "datacenters"), i, dc)
                n += json_array_size(json_object_get(dc, "vms"));
        return n;
}

static const char *source_status(struct ferryd_fixture *f)
{
        static char status[64];
        _cleanup_json_ json_t *list = ferry_json(f, ARGS("source", "list", "-f", "json"));

        snprintf(status, sizeof(status), "%s",
                 str(json_object_get(json_array_get(list, 0), "properties"), "connectivity_status"));
        return status;
}

/* Every VM of the model is listed with its place, size, OS and power state. */
static void assert_instances_match_model(struct ferryd_fixture *f)
{
        _cleanup_json_ json_t *list = ferry_json(f, ARGS("instance", "list", "-f", "json"));
        size_t i, j;
        json_t *dc, *mvm;

        assert_int_equal(json_array_size(list), model_vm_count());
        json_array_foreach(json_object_get(model, "datacenters"), i, dc) {
                json_array_foreach(json_object_get(dc, "vms"), j, mvm) {
                        char location[512];
                        const json_t *vm;

                        snprintf(location, sizeof(location), "/%s/vm/%s/%s", str(dc, "name"), str(mvm, "folder"),
                                 str(mvm, "name"));
                        vm = find_by(list, "location", location);
                        if (!vm)
                                fail_msg("'%s' is not listed", location);
                        assert_string_equal(str(vm, "name"), str(mvm, "name"));
                        assert_string_equal(str(vm, "source"), "lab");
                        assert_int_equal(json_integer_value(json_object_get(vm, "cpus")),
                                         json_integer_value(json_object_get(mvm, "cpus")));
                        assert_int_equal(json_integer_value(json_object_get(vm, "memory")),
                                         json_integer_value(json_object_get(mvm, "memory_mib")) << 20);
                        assert_string_equal(str(vm, "os"), str(mvm, "guest_full_name"));
                        assert_int_equal(json_is_true(json_object_get(vm, "running")),
                                         !json_object_get(mvm, "power_state") ||
                                                 streq(str(mvm, "power_state"), "poweredOn"));
                        assert_int_equal(json_array_size(json_object_get(vm, "disks")),
                                         json_array_size(json_object_get(mvm, "disks")));
                        assert_int_equal(json_array_size(json_object_get(vm, "nics")),
                                         json_array_size(json_object_get(mvm, "nics")));
                        if (json_object_get(mvm, "instance_uuid"))
                                assert_string_equal(str(vm, "uuid"), str(mvm, "instance_uuid"));
                }
        }
}

/* Every network of the model: standard ones, distributed portgroups, and each datacenter's VM Network. */
static void assert_networks_match_model(struct ferryd_fixture *f)
{
        _cleanup_json_ json_t *list = ferry_json(f, ARGS("network", "list", "-f", "json"));
        size_t i, j, k, n = 0;
        json_t *dc, *net, *dvs, *pg;
        char location[512];

        json_array_foreach(json_object_get(model, "datacenters"), i, dc) {
                snprintf(location, sizeof(location), "/%s/network/VM Network", str(dc, "name"));
                assert_non_null(find_by(list, "location", location));
                n++;
                json_array_foreach(json_object_get(dc, "networks"), j, net) {
                        snprintf(location, sizeof(location), "/%s/network/%s", str(dc, "name"), str(net, "name"));
                        if (!find_by(list, "location", location))
                                fail_msg("'%s' is not listed", location);
                        assert_string_equal(str(find_by(list, "location", location), "type"), "standard");
                        n++;
                }
                json_array_foreach(json_object_get(dc, "dvswitches"), j, dvs)
                        json_array_foreach(json_object_get(dvs, "portgroups"), k, pg) {
                                snprintf(location, sizeof(location), "/%s/network/%s", str(dc, "name"),
                                         str(pg, "name"));
                                if (!find_by(list, "location", location))
                                        fail_msg("'%s' is not listed", location);
                                assert_string_equal(str(find_by(list, "location", location), "type"),
                                                    "distributed");
                                n++;
                        }
        }
        assert_int_equal(json_array_size(list), n);
}

static void test_add_with_the_servers_fingerprint_imports_every_vm_and_network(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *out = NULL;

        ferryd_fixture_start(f);
        out = ferry_ok(f, ARGS("source", "add", "lab", lab_env("LAB_VCSIM_URL"), "--username",
                               lab_env("LAB_VCSIM_USERNAME"), "--password", lab_env("LAB_VCSIM_PASSWORD"),
                               "--fingerprint", lab_env("LAB_VCSIM_FINGERPRINT"), "--wait"));
        assert_contains(out, "Source lab added");
        assert_contains(out, "Source lab synced");
        assert_string_equal(source_status(f), "OK");
        assert_instances_match_model(f);
        assert_networks_match_model(f);
}

static void test_a_second_sync_changes_nothing(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *add = NULL, *out = NULL;
        char want[128];

        ferryd_fixture_start(f);
        add = ferry_ok(f, ARGS("source", "add", "lab", lab_env("LAB_VCSIM_URL"), "--username",
                               lab_env("LAB_VCSIM_USERNAME"), "--password", lab_env("LAB_VCSIM_PASSWORD"),
                               "--fingerprint", lab_env("LAB_VCSIM_FINGERPRINT"), "--wait"));
        snprintf(want, sizeof(want), "Source lab synced: %zu instances added", model_vm_count());
        assert_contains(add, want);
        out = ferry_ok(f, ARGS("source", "sync", "lab"));
        assert_contains(out, "Source lab synced: 0 instances added, 0 updated, 0 removed; "
                             "0 networks added, 0 updated, 0 removed");
}

static void test_wrong_password_is_an_authentication_error_and_imports_nothing(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_run_ struct run r = {};
        _cleanup_json_ json_t *instances = NULL, *warnings = NULL;

        ferryd_fixture_start(f);
        ferry(f,
              ARGS("source", "add", "lab", lab_env("LAB_VCSIM_URL"), "--username", lab_env("LAB_VCSIM_USERNAME"),
                   "--password", "not-the-password", "--fingerprint", lab_env("LAB_VCSIM_FINGERPRINT"), "--wait"),
              &r);
        assert_int_not_equal(r.status, 0);
        assert_contains(r.out, "Source lab added");
        assert_contains(r.err, "Source lab: Authentication error");
        assert_string_equal(source_status(f), "Authentication error");
        instances = ferry_json(f, ARGS("instance", "list", "-f", "json"));
        assert_int_equal(json_array_size(instances), 0);
        warnings = ferry_json(f, ARGS("warning", "list", "-f", "json"));
        assert_non_null(find_by(warnings, "type", "Authentication error"));
}

static void test_unknown_certificate_imports_nothing_until_its_fingerprint_is_confirmed(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_run_ struct run r = {};
        _cleanup_json_ json_t *before = NULL;
        _cleanup_free_ char *updated = NULL, *synced = NULL;

        ferryd_fixture_start(f);
        ferry(f,
              ARGS("source", "add", "lab", lab_env("LAB_VCSIM_URL"), "--username", lab_env("LAB_VCSIM_USERNAME"),
                   "--password", lab_env("LAB_VCSIM_PASSWORD"), "--wait"),
              &r);
        assert_int_not_equal(r.status, 0);
        assert_contains(r.err, "Source lab: Confirm TLS fingerprint");
        assert_contains(r.err, lab_env("LAB_VCSIM_FINGERPRINT"));
        assert_string_equal(source_status(f), "Confirm TLS fingerprint");
        before = ferry_json(f, ARGS("instance", "list", "-f", "json"));
        assert_int_equal(json_array_size(before), 0);

        updated = ferry_ok(f, ARGS("source", "update", "lab", "--fingerprint", lab_env("LAB_VCSIM_FINGERPRINT")));
        synced = ferry_ok(f, ARGS("source", "sync", "lab"));
        assert_contains(synced, "Source lab synced");
        assert_string_equal(source_status(f), "OK");
        assert_instances_match_model(f);
}

/* Warnings name each partial or unmigratable VM once, and count again on the next sync. */
static void test_sync_raises_warnings_for_unknown_os_disabled_cbt_and_unsupported_disks(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *warnings = NULL, *instances = NULL;
        _cleanup_free_ char *add = NULL, *again = NULL;
        size_t i, j, os = 0, cbt = 0, disks = 0;
        json_t *dc, *mvm, *w;

        ferryd_fixture_start(f);
        add = ferry_ok(f, ARGS("source", "add", "lab", lab_env("LAB_VCSIM_URL"), "--username",
                               lab_env("LAB_VCSIM_USERNAME"), "--password", lab_env("LAB_VCSIM_PASSWORD"),
                               "--fingerprint", lab_env("LAB_VCSIM_FINGERPRINT"), "--wait"));
        again = ferry_ok(f, ARGS("source", "sync", "lab"));
        warnings = ferry_json(f, ARGS("warning", "list", "-f", "json"));
        instances = ferry_json(f, ARGS("instance", "list", "-f", "json"));

        json_array_foreach(json_object_get(model, "datacenters"), i, dc)
                json_array_foreach(json_object_get(dc, "vms"), j, mvm) {
                        size_t k;
                        json_t *d;

                        os += !*str(mvm, "guest_full_name");
                        cbt += !json_is_true(json_object_get(mvm, "change_tracking"));
                        json_array_foreach(json_object_get(mvm, "disks"), k, d)
                                disks += startswith(str(d, "mode"), "independent") ||
                                         (*str(d, "sharing") && !streq(str(d, "sharing"), "sharingNone"));
                }

        json_array_foreach(warnings, i, w) {
                const json_t *scope = json_object_get(w, "scope");
                const json_t *vm = find_by(instances, "uuid", str(scope, "entity"));
                const char *type = str(w, "type");

                assert_string_equal(str(scope, "scope"), "sync");
                assert_string_equal(str(scope, "entity_type"), "instance");
                assert_non_null(vm);
                assert_int_equal(json_integer_value(json_object_get(w, "count")), 2);
                if (streq(type, "Could not determine instance OS")) {
                        assert_string_equal(str(vm, "os"), "");
                        assert_true(startswith(json_string_value(json_array_get(json_object_get(w, "messages"), 0)),
                                               "Could not determine instance OS, check if guest agent is running"));
                        os--;
                } else if (streq(type, "Change block tracking disabled")) {
                        assert_false(json_is_true(json_object_get(vm, "background_import")));
                        cbt--;
                } else if (streq(type, "Unsupported disk")) {
                        disks--;
                } else
                        fail_msg("Unexpected warning '%s'", type);
        }
        assert_int_equal(os, 0);
        assert_int_equal(cbt, 0);
        assert_int_equal(disks, 0);
}

static int setup_model(void **state)
{
        json_error_t e;

        (void) state;
        model = json_load_file(LAB_VCSIM_MODEL, 0, &e);
        if (!model)
                fail_msg("Cannot read %s: %s", LAB_VCSIM_MODEL, e.text);
        return 0;
}

static int teardown_model(void **state)
{
        (void) state;
        json_decref(model);
        return 0;
}

/* What a sync changed reaches the event stream: the source, and each warning it raised anew. */
static void test_syncs_emit_source_and_warning_events(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *warnings = NULL;
        _cleanup_free_ char *add = NULL, *again = NULL, *out = NULL;
        struct proc monitor = {};
        size_t created = 0, updated = 0, source_created = 0;
        char *line, *save = NULL;

        ferryd_fixture_start(f);
        proc_start(&monitor, (char *const[]) { (char *) FERRY_PATH, (char *) "--socket", f->socket_path,
                                               (char *) "monitor", (char *) "--type", (char *) "lifecycle",
                                               (char *) "-f", (char *) "json", NULL });
        usleep(300 * 1000);     /* let it subscribe */

        add = ferry_ok(f, ARGS("source", "add", "lab", lab_env("LAB_VCSIM_URL"), "--username",
                               lab_env("LAB_VCSIM_USERNAME"), "--password", lab_env("LAB_VCSIM_PASSWORD"),
                               "--fingerprint", lab_env("LAB_VCSIM_FINGERPRINT"), "--wait"));
        again = ferry_ok(f, ARGS("source", "sync", "lab"));
        warnings = ferry_json(f, ARGS("warning", "list", "-f", "json"));
        usleep(300 * 1000);     /* let the last events arrive */
        proc_terminate(&monitor, 5000);
        out = proc_stdout(&monitor);

        for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_json_ json_t *ev = json_loads(line, 0, NULL);
                const json_t *md = json_object_get(ev, "metadata");
                const char *action = json_string_value(json_object_get(md, "action"));

                if (!action)
                        fail_msg("Not an event: %s", line);
                if (streq(action, "source-created"))
                        source_created++;
                else if (streq(action, "source-updated")) {
                        assert_string_equal(str(md, "source"), "/1.0/sources/lab");
                        assert_string_equal(str(json_object_get(md, "requestor"), "protocol"), "internal");
                        updated++;
                } else if (streq(action, "warning-created"))
                        created++;
        }
        proc_cleanup(&monitor);

        assert_int_equal(source_created, 1);
        assert_int_equal(updated, 2);           /* the first sync and the second */
        assert_true(json_array_size(warnings) > 0);
        assert_int_equal(created, json_array_size(warnings)); /* the second sync raised none anew */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_add_with_the_servers_fingerprint_imports_every_vm_and_network,
                                                ferryd_fixture_setup, ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_syncs_emit_source_and_warning_events, ferryd_fixture_setup,
                                                ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_a_second_sync_changes_nothing, ferryd_fixture_setup,
                                                ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_wrong_password_is_an_authentication_error_and_imports_nothing,
                                                ferryd_fixture_setup, ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(
                        test_unknown_certificate_imports_nothing_until_its_fingerprint_is_confirmed,
                        ferryd_fixture_setup, ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(
                        test_sync_raises_warnings_for_unknown_os_disabled_cbt_and_unsupported_disks,
                        ferryd_fixture_setup, ferryd_fixture_teardown),
        };

        return cmocka_run_group_tests(tests, setup_model, teardown_model);
}
