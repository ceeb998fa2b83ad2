/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin actions on batches and queue entries through ferryd's API
 * and the ferry CLI: POST /1.0/batches/NAME/:start|:stop|:reset and
 * /1.0/queue/UUID/:retry|:cancel, the states they move through, their
 * refusals, and the shipped next-batch hook driven by a real
 * batch-finished event.  Needs no lab: the instances, a network and a
 * target with a lab-like inventory are stored before ferryd starts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "api-client.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "db/db.h"
#include "db/instance.h"
#include "db/network.h"
#include "db/target.h"
#include "ferryd-fixture.h"
#include "proc.h"
#include "seed.h"

#ifndef FERRYD_PATH
#error "FERRYD_PATH must name the ferryd binary under test"
#endif
#ifndef FERRY_PATH
#error "FERRY_PATH must name the ferry binary under test"
#endif
#ifndef SCRIPTLETS_DIR
#error "SCRIPTLETS_DIR must name the shipped scriptlets"
#endif

#define WEB02 "4a3c5e0e-0000-4000-8000-000000000003"
#define APP03 "4a3c5e0e-0000-4000-8000-000000000004"
#define CBT01 "4a3c5e0e-0000-4000-8000-000000000005"

static const char target_json[] =
        "{\"name\": \"incus1\", \"type\": \"incus\", \"properties\": {\"endpoint\": \"https://127.0.0.1:9\"},"
        " \"inventory\": {"
        "  \"server\": {\"version\": \"6.0.4\", \"name\": \"lab\", \"clustered\": false, \"restricted\": false},"
        "  \"projects\": [{\"name\": \"default\", \"features\": {\"networks\": true, \"profiles\": true}}],"
        "  \"networks\": [{\"name\": \"labbr0\", \"project\": \"default\", \"type\": \"bridge\", \"managed\": true}],"
        "  \"storage_pools\": [{\"name\": \"default\", \"driver\": \"dir\"}],"
        "  \"profiles\": [{\"name\": \"default\", \"project\": \"default\"}],"
        "  \"cluster_members\": []}}";

static const char *const instances_json[] = {
        "{\"uuid\": \"" WEB02 "\", \"source\": \"vc01\", \"name\": \"web02\", \"location\": \"/dc1/vm/web/web02\","
        " \"cpus\": 2, \"memory\": 4294967296, \"os\": \"Debian GNU/Linux 12\", \"os_type\": \"linux\", \"running\": false,"
        " \"disks\": [{\"name\": \"disk0\", \"capacity\": 17179869184, \"supported\": true}],"
        " \"nics\": [{\"hardware_address\": \"00:50:56:00:00:02\", \"network\": \"network-1\"}]}",
        "{\"uuid\": \"" APP03 "\", \"source\": \"vc01\", \"name\": \"app03\", \"location\": \"/dc1/vm/app/app03\","
        " \"cpus\": 1, \"memory\": 2147483648, \"os\": \"Debian GNU/Linux 12\", \"os_type\": \"linux\", \"running\": false,"
        " \"disks\": [{\"name\": \"disk0\", \"capacity\": 8589934592, \"supported\": true}], \"nics\": []}",
        "{\"uuid\": \"" CBT01 "\", \"source\": \"vc01\", \"name\": \"cbt01\", \"location\": \"/dc1/vm/app/cbt01\","
        " \"cpus\": 1, \"memory\": 2147483648, \"os\": \"Debian GNU/Linux 12\", \"os_type\": \"linux\", \"running\": true,"
        " \"background_import\": false,"
        " \"disks\": [{\"name\": \"disk0\", \"capacity\": 8589934592, \"supported\": true}],"
        " \"nics\": [{\"hardware_address\": \"00:50:56:00:00:05\", \"network\": \"network-1\", \"ipv4_address\": \"10.0.0.5\"}]}",
};

static void seed(const char *data_dir)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_db_ struct db *db = NULL;
        _cleanup_json_ json_t *target = NULL, *mappings = NULL;
        struct ferry_error err = {};

        seed_lab_inventory(data_dir);
        assert_true(asprintf(&path, "%s/ferry.db", data_dir) > 0);
        assert_int_equal(db_open(path, &db, &err), 0);
        assert_int_equal(json_parse_strict(target_json, strlen(target_json), &target, &err), 0);
        assert_int_equal(db_target_create(db, target, &err), 0);
        for (size_t i = 0; i < ELEMENTSOF(instances_json); i++) {
                _cleanup_json_ json_t *v = NULL;

                assert_int_equal(json_parse_strict(instances_json[i], strlen(instances_json[i]), &v, &err), 0);
                assert_int_equal(db_instance_put(db, v, &err), 1);
        }
        mappings = json_pack("{s:{s:s, s:s}}", "*", "network", "labbr0", "nictype", "managed");
        assert_int_equal(db_network_set_mappings(db, "network-1", mappings, &err), 0);
}

static int setup(void **state)
{
        struct ferryd_fixture *f;

        ferryd_fixture_setup(state);
        f = *state;
        seed(f->data_dir);
        ferryd_fixture_start(f);
        return 0;
}

static const char *field(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}

static void add_batch(const char *socket_path, const char *name, const char *expression, const char *windows)
{
        _cleanup_free_ char *body = NULL;
        struct api_answer a = {};

        assert_true(asprintf(&body,
                             "{\"name\": \"%s\", \"include_expression\": \"%s\", \"migration_windows\": %s, "
                             "\"defaults\": {\"placement\": {\"target\": \"incus1\", \"storage_pool\": \"default\"}}}",
                             name, expression, windows ?: "[]") > 0);
        api_expect(socket_path, "POST", "/1.0/batches", body, 200, &a);
        api_answer_done(&a);
}

/* POST path, wait for the operation it started; the ended operation (a copy). */
static json_t *act(const char *socket_path, const char *path)
{
        _cleanup_free_ char *wait = NULL;
        struct api_answer a = {}, w = {};
        json_t *op;

        api_call(socket_path, "POST", path, "{}", NULL, &a);
        assert_int_equal(a.status, 202);
        assert_true(asprintf(&wait, "/1.0/operations/%s/wait?timeout=30",
                             field(json_object_get(a.envelope, "metadata"), "id")) > 0);
        op = json_deep_copy(api_expect(socket_path, "GET", wait, NULL, 200, &w));
        api_answer_done(&a);
        api_answer_done(&w);
        assert_non_null(op);
        return op;
}

/* act() expecting success; the operation's metadata (a copy). */
static json_t *act_ok(const char *socket_path, const char *path)
{
        _cleanup_json_ json_t *op = act(socket_path, path);

        if (!streq_ptr(field(op, "status"), "Success"))
                fail_msg("%s failed: %s", path, field(op, "err"));
        return json_incref(json_object_get(op, "metadata"));
}

static void act_fails(const char *socket_path, const char *path, const char *message)
{
        _cleanup_json_ json_t *op = act(socket_path, path);

        assert_string_equal(field(op, "status"), "Failure");
        assert_string_equal(field(op, "err"), message);
}

static json_t *get(const char *socket_path, const char *path)
{
        struct api_answer a = {};
        json_t *v = json_deep_copy(api_expect(socket_path, "GET", path, NULL, 200, &a));

        api_answer_done(&a);
        return v;
}

static char *batch_status(const char *socket_path, const char *name)
{
        _cleanup_free_ char *path = strjoin("/1.0/batches/", name, NULL);
        _cleanup_json_ json_t *b = get(socket_path, path);

        return strdup(field(b, "status"));
}

static void assert_batch_status(const char *socket_path, const char *name, const char *status)
{
        _cleanup_free_ char *s = batch_status(socket_path, name);

        assert_string_equal(s, status);
}

#define WAVE1_EXPR "name in ['web01', 'web02', 'db01', 'cbt01']"

static void test_start_queues_waiting_and_blocked_entries_and_skips_queued_ones(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *md = NULL, *web02 = NULL, *db01 = NULL, *cbt01 = NULL;
        const json_t *skipped;

        add_batch(f->socket_path, "wave1", WAVE1_EXPR, NULL);
        md = act_ok(f->socket_path, "/1.0/batches/wave1/:start");
        assert_int_equal(json_integer_value(json_object_get(md, "queued")), 3);
        assert_int_equal(json_integer_value(json_object_get(md, "waiting")), 1);
        assert_int_equal(json_integer_value(json_object_get(md, "blocked")), 2);
        skipped = json_object_get(md, "skipped");
        assert_int_equal(json_array_size(skipped), 1);
        assert_string_equal(field(json_array_get(skipped, 0), "name"), "web01");
        assert_string_equal(field(json_array_get(skipped, 0), "reason"),
                            "Already queued in batch 'seeded' (Background import)");
        assert_batch_status(f->socket_path, "wave1", "Running");

        web02 = get(f->socket_path, "/1.0/queue/" WEB02);
        assert_string_equal(field(web02, "status"), "Waiting");
        assert_string_equal(field(web02, "batch"), "wave1");
        assert_string_equal(field(web02, "name"), "web02");
        assert_string_equal(field(web02, "status_message"), "Waiting to be created on target 'incus1'");
        assert_string_equal(field(json_object_get(web02, "placement"), "target"), "incus1");
        assert_string_equal(field(json_array_get(json_object_get(json_object_get(web02, "placement"), "nics"), 0),
                                  "network"),
                            "labbr0");
        assert_true(json_array_size(json_object_get(web02, "history")) >= 1);

        db01 = get(f->socket_path, "/1.0/queue/" SEED_DB01);
        assert_string_equal(field(db01, "status"), "Blocked");
        assert_string_equal(field(db01, "status_message"),
                            "The guest OS of 'db01' is unknown: set overrides.os_type, or allow_unknown_os in the "
                            "batch's config.instance_restriction_overrides");
        assert_null(json_object_get(db01, "placement"));

        cbt01 = get(f->socket_path, "/1.0/queue/" CBT01);
        assert_string_equal(field(cbt01, "status"), "Blocked");
        assert_true(startswith(field(cbt01, "status_message"),
                               "'cbt01' is running and change block tracking is off"));

        act_fails(f->socket_path, "/1.0/batches/wave1/:start", "Batch 'wave1' is already Running");
}

static void test_start_refuses_a_batch_with_nothing_to_queue_or_no_time_left(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *entries = NULL;
        struct api_answer a = {};

        add_batch(f->socket_path, "nobody", "name == 'nobody'", NULL);
        act_fails(f->socket_path, "/1.0/batches/nobody/:start",
                  "Batch 'nobody' selects no instances: check its include_expression with 'ferry batch info nobody'");
        assert_batch_status(f->socket_path, "nobody", "Defined");

        /* web01 is queued by the seeded batch already. */
        add_batch(f->socket_path, "again", "name == 'web01'", NULL);
        act_fails(f->socket_path, "/1.0/batches/again/:start",
                  "Batch 'again' selects 1 instances, but none can be queued (the first: Already queued in batch "
                  "'seeded' (Background import))");

        add_batch(f->socket_path, "late", "name == 'web02'",
                  "[{\"name\": \"past\", \"start\": \"2020-01-01T00:00:00Z\", \"end\": \"2020-01-01T02:00:00Z\"}]");
        act_fails(f->socket_path, "/1.0/batches/late/:start",
                  "Every migration window of batch 'late' has ended (the last, 'past', at 2020-01-01T02:00:00Z): add a "
                  "window");
        assert_batch_status(f->socket_path, "late", "Defined");
        entries = get(f->socket_path, "/1.0/queue?batch=late");
        assert_int_equal(json_array_size(entries), 0);

        api_call(f->socket_path, "POST", "/1.0/batches/ghost/:start", "{}", NULL, &a);
        api_assert_error(&a, 404, "Batch 'ghost' not found");
        api_answer_done(&a);
        api_call(f->socket_path, "POST", "/1.0/queue/" WEB02 "/:cancel", "{}", NULL, &a);
        api_assert_error(&a, 404, "Queue entry '" WEB02 "' not found");
        api_answer_done(&a);
}

static void test_stop_then_start_carries_on_with_the_same_entries(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *before = NULL, *after = NULL, *md = NULL;

        add_batch(f->socket_path, "wave1", WAVE1_EXPR, NULL);
        json_decref(act_ok(f->socket_path, "/1.0/batches/wave1/:start"));
        before = get(f->socket_path, "/1.0/queue?batch=wave1&recursion=1");
        json_decref(act_ok(f->socket_path, "/1.0/batches/wave1/:stop"));
        assert_batch_status(f->socket_path, "wave1", "Stopped");
        act_fails(f->socket_path, "/1.0/batches/wave1/:stop",
                  "Batch 'wave1' is Stopped: only a Running batch can be stopped");

        md = act_ok(f->socket_path, "/1.0/batches/wave1/:start");
        assert_string_equal(field(md, "status"), "Running");
        assert_batch_status(f->socket_path, "wave1", "Running");
        after = get(f->socket_path, "/1.0/queue?batch=wave1&recursion=1");
        assert_true(json_equal(before, after));
}

static void test_retry_evaluates_an_entry_again_after_an_override(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *entry = NULL;
        struct api_answer a = {};

        add_batch(f->socket_path, "wave1", WAVE1_EXPR, NULL);
        json_decref(act_ok(f->socket_path, "/1.0/batches/wave1/:start"));

        act_fails(f->socket_path, "/1.0/queue/" WEB02 "/:retry",
                  "Queue entry of 'web02' is Waiting: only Blocked, Error, Canceled and Conflict entries can be retried");

        /* Still blocked: nothing changed. */
        entry = act_ok(f->socket_path, "/1.0/queue/" SEED_DB01 "/:retry");
        assert_string_equal(field(entry, "status"), "Blocked");
        json_decref(entry);

        api_expect(f->socket_path, "PATCH", "/1.0/instances/" SEED_DB01 "/override", "{\"os_type\": \"linux\"}", 200,
                   &a);
        api_answer_done(&a);
        entry = act_ok(f->socket_path, "/1.0/queue/" SEED_DB01 "/:retry");
        assert_string_equal(field(entry, "status"), "Waiting");
        assert_string_equal(field(entry, "status_message"), "Waiting to be created on target 'incus1'");
        assert_string_equal(field(json_object_get(entry, "placement"), "storage_pool"), "default");
        /* The first placement and each retry left their lines. */
        assert_true(json_array_size(json_object_get(entry, "history")) >= 3);
}

static void test_canceling_the_last_entry_finishes_the_batch_and_the_hook_starts_the_next(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *path = strjoin(SCRIPTLETS_DIR, "/hooks/next-batch.lua", NULL), *text = NULL, *body = NULL;
        _cleanup_json_ json_t *entry = NULL, *app03 = NULL;
        struct api_answer a = {};
        size_t len;
        int i;

        assert_int_equal(fileio_read(path, 1024 * 1024, &text, &len), 0);
        body = json_dumps(json_pack("{s:s, s:[s], s:s}", "name", "next", "events", "batch-finished", "script", text),
                          JSON_COMPACT);
        assert_non_null(body);
        api_expect(f->socket_path, "POST", "/1.0/hooks", body, 200, &a);
        api_answer_done(&a);

        add_batch(f->socket_path, "wave1", "name == 'web02'", NULL);
        add_batch(f->socket_path, "wave2", "name == 'app03'", NULL);
        json_decref(act_ok(f->socket_path, "/1.0/batches/wave1/:start"));

        entry = act_ok(f->socket_path, "/1.0/queue/" WEB02 "/:cancel");
        assert_string_equal(field(entry, "status"), "Canceled");
        assert_batch_status(f->socket_path, "wave1", "Finished");
        act_fails(f->socket_path, "/1.0/queue/" WEB02 "/:cancel", "Queue entry of 'web02' is already Canceled");

        /* batch-finished runs the hook, which starts wave2 through the same path. */
        for (i = 0; i < 200; i++) {
                _cleanup_free_ char *s = batch_status(f->socket_path, "wave2");

                if (streq(s, "Running"))
                        break;
                usleep(100 * 1000);
        }
        assert_batch_status(f->socket_path, "wave2", "Running");
        app03 = get(f->socket_path, "/1.0/queue/" APP03);
        assert_string_equal(field(app03, "status"), "Waiting");
        assert_string_equal(field(app03, "batch"), "wave2");
}

static void test_a_batch_of_blocked_entries_settles_and_cancel_finishes_it(void **state)
{
        struct ferryd_fixture *f = *state;

        add_batch(f->socket_path, "wave1", "name == 'cbt01'", NULL);
        json_decref(act_ok(f->socket_path, "/1.0/batches/wave1/:start"));
        assert_batch_status(f->socket_path, "wave1", "Error");
        act_fails(f->socket_path, "/1.0/batches/wave1/:start",
                  "Batch 'wave1' is Error: retry its entries, or reset it to start it again");
        json_decref(act_ok(f->socket_path, "/1.0/queue/" CBT01 "/:cancel"));
        assert_batch_status(f->socket_path, "wave1", "Finished");
        /* A retry runs the batch again. */
        json_decref(act_ok(f->socket_path, "/1.0/queue/" CBT01 "/:retry"));
        assert_batch_status(f->socket_path, "wave1", "Error");
}

static void test_reset_needs_a_stopped_batch_and_removes_its_entries(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *md = NULL, *entries = NULL;
        struct api_answer a = {};

        add_batch(f->socket_path, "wave1", WAVE1_EXPR, NULL);
        act_fails(f->socket_path, "/1.0/batches/wave1/:reset", "Batch 'wave1' is Defined: there is nothing to reset");
        json_decref(act_ok(f->socket_path, "/1.0/batches/wave1/:start"));
        act_fails(f->socket_path, "/1.0/batches/wave1/:reset", "Batch 'wave1' is Running: stop it before resetting it");
        json_decref(act_ok(f->socket_path, "/1.0/batches/wave1/:stop"));

        md = act_ok(f->socket_path, "/1.0/batches/wave1/:reset");
        assert_int_equal(json_integer_value(json_object_get(md, "removed")), 3);
        assert_int_equal(json_integer_value(json_object_get(md, "kept")), 0);
        assert_batch_status(f->socket_path, "wave1", "Defined");
        entries = get(f->socket_path, "/1.0/queue?batch=wave1");
        assert_int_equal(json_array_size(entries), 0);
        api_call(f->socket_path, "GET", "/1.0/queue/" WEB02, NULL, NULL, &a);
        assert_int_equal(a.status, 404);
        api_answer_done(&a);

        /* And it starts again from scratch. */
        json_decref(act_ok(f->socket_path, "/1.0/batches/wave1/:start"));
        assert_batch_status(f->socket_path, "wave1", "Running");
}

static char *ferry(const struct ferryd_fixture *f, int status, const char *a1, const char *a2, const char *a3)
{
        return proc_run_stdout(status, (char *const[]) { (char *) FERRY_PATH, (char *) "--socket", f->socket_path,
                                                         (char *) a1, (char *) a2, (char *) a3, NULL });
}

static void test_ferry_batch_start_stop_and_queue_cancel(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *start = NULL, *stop = NULL, *cancel = NULL, *err = NULL, *list = NULL;

        add_batch(f->socket_path, "wave1", WAVE1_EXPR, NULL);
        start = ferry(f, 0, "batch", "start", "wave1");
        assert_true(startswith(start, "Batch wave1 started: 3 queued (1 waiting, 2 blocked), 1 skipped\n"));
        assert_non_null(strstr(start, "  Blocked db01: The guest OS of 'db01' is unknown"));
        assert_non_null(strstr(start, "  Skipped web01: Already queued in batch 'seeded' (Background import)\n"));

        list = proc_run_stdout(0, (char *const[]) { (char *) FERRY_PATH, (char *) "--socket", f->socket_path,
                                                    (char *) "queue", (char *) "list", (char *) "-f", (char *) "csv",
                                                    NULL });
        assert_non_null(strstr(list, WEB02 ",web02,wave1,Waiting,"));

        stop = ferry(f, 0, "batch", "stop", "wave1");
        assert_string_equal(stop, "Batch wave1 stopped: no new migration step starts until 'ferry batch start wave1'\n");
        cancel = ferry(f, 0, "queue", "cancel", WEB02);
        assert_string_equal(cancel, "Queue entry of web02 canceled: Canceled\n");

        err = proc_run_stderr(1, (char *const[]) { (char *) FERRY_PATH, (char *) "--socket", f->socket_path,
                                                   (char *) "batch", (char *) "stop", (char *) "wave1", NULL });
        assert_non_null(strstr(err, "Batch 'wave1' is Stopped: only a Running batch can be stopped"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_start_queues_waiting_and_blocked_entries_and_skips_queued_ones,
                                                setup, ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_start_refuses_a_batch_with_nothing_to_queue_or_no_time_left, setup,
                                                ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_stop_then_start_carries_on_with_the_same_entries, setup,
                                                ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_retry_evaluates_an_entry_again_after_an_override, setup,
                                                ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(
                        test_canceling_the_last_entry_finishes_the_batch_and_the_hook_starts_the_next, setup,
                        ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_a_batch_of_blocked_entries_settles_and_cancel_finishes_it, setup,
                                                ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_reset_needs_a_stopped_batch_and_removes_its_entries, setup,
                                                ferryd_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_ferry_batch_start_stop_and_queue_cancel, setup,
                                                ferryd_fixture_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
