/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Placement scriptlets through ferryd's API: the checks when a batch is
 * saved, GET /1.0/batches/NAME/placement (a dry run on the job thread),
 * and hostile scripts that fail with a clear message while ferryd keeps
 * answering other requests.  Needs no lab: the instances, a network and a
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
#include "common/json.h"
#include "common/strbuf.h"
#include "db/db.h"
#include "db/instance.h"
#include "db/network.h"
#include "db/target.h"
#include "ferryd-fixture.h"
#include "seed.h"

#ifndef FERRYD_PATH
#error "FERRYD_PATH must name the ferryd binary under test"
#endif
#ifndef FERRY_PATH
#error "FERRY_PATH must name the ferry binary under test"
#endif

#define WEB02 "4a3c5e0e-0000-4000-8000-000000000003"

static const char target_json[] =
        "{\"name\": \"incus1\", \"type\": \"incus\", \"properties\": {\"endpoint\": \"https://127.0.0.1:8443\"},"
        " \"inventory\": {"
        "  \"server\": {\"version\": \"6.0.4\", \"name\": \"lab\", \"clustered\": false, \"restricted\": false},"
        "  \"projects\": [{\"name\": \"default\", \"features\": {\"networks\": true, \"profiles\": true}},"
        "                {\"name\": \"lab\", \"features\": {\"images\": false, \"networks\": false, \"profiles\": true}}],"
        "  \"networks\": [{\"name\": \"labbr0\", \"project\": \"default\", \"type\": \"bridge\", \"managed\": true,"
        "                  \"vlan_capable\": true}],"
        "  \"storage_pools\": [{\"name\": \"default\", \"driver\": \"dir\"}],"
        "  \"profiles\": [{\"name\": \"default\", \"project\": \"default\"}, {\"name\": \"default\", \"project\": \"lab\"}],"
        "  \"cluster_members\": []}}";

/* The seed, a target incus1 like the lab's incusd, and web02 with a NIC on network-1 (mapped to labbr0). */
static void seed(const char *data_dir)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_db_ struct db *db = NULL;
        _cleanup_json_ json_t *target = NULL, *web02 = NULL, *mappings = NULL;
        struct ferry_error err = {};
        const char *web02_json =
                "{\"uuid\": \"" WEB02 "\", \"source\": \"vc01\", \"name\": \"web02\", \"location\": \"/dc1/vm/web/web02\","
                " \"cpus\": 2, \"memory\": 4294967296, \"os\": \"Windows\","
                " \"disks\": [{\"name\": \"disk0\", \"capacity\": 17179869184, \"supported\": true}],"
                " \"nics\": [{\"hardware_address\": \"00:50:56:00:00:02\", \"network\": \"network-1\"}]}";

        seed_lab_inventory(data_dir);
        assert_true(asprintf(&path, "%s/ferry.db", data_dir) > 0);
        assert_int_equal(db_open(path, &db, &err), 0);
        assert_int_equal(json_parse_strict(target_json, strlen(target_json), &target, &err), 0);
        assert_int_equal(db_target_create(db, target, &err), 0);
        assert_int_equal(json_parse_strict(web02_json, strlen(web02_json), &web02, &err), 0);
        assert_int_equal(db_instance_put(db, web02, &err), 1);
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

/* A batch body with this scriptlet (a JSON string literal's content, escaped by the caller). */
static char *batch_body(const char *name, const char *script)
{
        _cleanup_json_ json_t *b = json_pack("{s:s, s:s, s:{s:{s:s, s:s}}, s:{s:s}}", "name", name,
                                             "include_expression", "name matches '^(web|db)'", "defaults",
                                             "placement", "target", "incus1", "storage_pool", "default", "config",
                                             "placement_scriptlet", script);

        return json_dumps(b, JSON_COMPACT);
}

static void assert_save_refused(const char *socket_path, const char *script, const char *message)
{
        _cleanup_free_ char *body = batch_body("b1", script);
        struct api_answer a = {};

        api_call(socket_path, "POST", "/1.0/batches", body, NULL, &a);
        api_assert_error(&a, 400, message);
        api_answer_done(&a);
}

static void create_batch(const char *socket_path, const char *name, const char *script)
{
        _cleanup_free_ char *body = batch_body(name, script);
        struct api_answer a = {};

        api_expect(socket_path, "POST", "/1.0/batches", body, 200, &a);
        api_answer_done(&a);
}

static long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start the dry run of batch; the operation's id (free() it). */
static char *start_dry_run(const char *socket_path, const char *batch)
{
        _cleanup_free_ char *path = NULL;
        struct api_answer a = {};
        char *id;

        assert_true(asprintf(&path, "/1.0/batches/%s/placement", batch) > 0);
        api_call(socket_path, "GET", path, NULL, NULL, &a);
        assert_int_equal(a.status, 202);
        assert_string_equal(json_string_value(json_object_get(a.envelope, "type")), "async");
        id = strdup(json_string_value(json_object_get(json_object_get(a.envelope, "metadata"), "id")));
        {
                _cleanup_free_ char *description = NULL;

                assert_true(asprintf(&description, "Placement dry run of batch '%s'", batch) > 0);
                assert_string_equal(json_string_value(json_object_get(json_object_get(a.envelope, "metadata"),
                                                                      "description")),
                                    description);
        }
        api_answer_done(&a);
        return id;
}

/* Poll the operation until it ends (at most 60 s); a copy of it. */
static json_t *wait_operation(const char *socket_path, const char *id)
{
        _cleanup_free_ char *path = NULL;
        long deadline = now_ms() + 60000;

        assert_true(asprintf(&path, "/1.0/operations/%s", id) > 0);
        while (now_ms() < deadline) {
                struct api_answer a = {};
                json_t *op = api_expect(socket_path, "GET", path, NULL, 200, &a);

                if (!streq(json_string_value(json_object_get(op, "status")), "Running")) {
                        json_t *copy = json_deep_copy(op);

                        api_answer_done(&a);
                        return copy;
                }
                api_answer_done(&a);
                usleep(50 * 1000);
        }
        fail_msg("operation %s did not end within 60 s", id);
        return NULL;
}

static json_t *dry_run(const char *socket_path, const char *batch)
{
        _cleanup_free_ char *id = start_dry_run(socket_path, batch);
        json_t *op = wait_operation(socket_path, id), *md;

        assert_string_equal(json_string_value(json_object_get(op, "status")), "Success");
        md = json_incref(json_object_get(op, "metadata"));
        json_decref(op);
        return md;
}

static const json_t *result_of(const json_t *md, const char *name)
{
        const json_t *r;
        size_t i;

        json_array_foreach(json_object_get(md, "instances"), i, r)
                if (streq(json_string_value(json_object_get(r, "name")), name))
                        return r;
        fail_msg("no result for %s", name);
        return NULL;
}

static const char *field(const json_t *v, const char *key)
{
        return json_string_value(json_object_get(v, key));
}

/* --- saving ---------------------------------------------------------------------------- */

static void test_saving_a_batch_refuses_a_syntax_error(void **state)
{
        struct ferryd_fixture *f = *state;

        assert_save_refused(f->socket_path, "function placement(i, b)\n  set_target('x'\nend\n",
                            "Field 'config.placement_scriptlet': Scriptlet 'b1' has a syntax error at line 3: ')' "
                            "expected (to close '(' at line 2) near 'end'");
}

static void test_saving_a_batch_refuses_a_scriptlet_without_placement(void **state)
{
        struct ferryd_fixture *f = *state;

        assert_save_refused(f->socket_path, "function place(i, b) end\n",
                            "Field 'config.placement_scriptlet': Scriptlet 'b1' does not define a function "
                            "'placement'");
}

static void test_saving_a_batch_bounds_the_main_chunk(void **state)
{
        struct ferryd_fixture *f = *state;
        struct api_answer a = {};
        long start = now_ms();

        assert_save_refused(f->socket_path, "while true do end\nfunction placement(i, b) end\n",
                            "Field 'config.placement_scriptlet': Scriptlet 'b1' exceeded its instruction limit of "
                            "1000000, at line 1");
        assert_true(now_ms() - start < 2000);
        /* And nothing was stored. */
        api_call(f->socket_path, "GET", "/1.0/batches/b1", NULL, NULL, &a);
        assert_int_equal(a.status, 404);
        api_answer_done(&a);
}

static void test_saving_a_batch_refuses_os_execute_at_load(void **state)
{
        struct ferryd_fixture *f = *state;

        assert_save_refused(f->socket_path, "os.execute('id')\nfunction placement(i, b) end\n",
                            "Field 'config.placement_scriptlet': Scriptlet 'b1' failed at line 1: attempt to index "
                            "a nil value (global 'os')");
}

/* --- dry runs -------------------------------------------------------------------------- */

static void test_the_dry_run_places_blocks_and_reports_per_instance(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *md = NULL;
        const json_t *r;

        create_batch(f->socket_path, "b1",
                     "function placement(instance, batch)\n"
                     "  if (instance.os or '') == '' then\n"
                     "    fail('Instance ' .. instance.name .. ' has no known OS')\n"
                     "  end\n"
                     "  log_info('placing ' .. instance.name)\n"
                     "  if instance.os == 'Windows' then set_project('lab') end\n"
                     "  set_config('user.os', instance.os)\n"
                     "end\n");
        md = dry_run(f->socket_path, "b1");
        assert_string_equal(field(md, "batch"), "b1");
        assert_int_equal(json_integer_value(json_object_get(md, "placed")), 2);
        assert_int_equal(json_integer_value(json_object_get(md, "blocked")), 1);
        assert_int_equal(json_integer_value(json_object_get(md, "failed")), 0);

        r = result_of(md, "db01");
        assert_string_equal(field(r, "status"), "Blocked");
        assert_string_equal(field(r, "reason"), "Instance db01 has no known OS");

        r = result_of(md, "web02");
        assert_string_equal(field(r, "status"), "Placed");
        assert_string_equal(field(json_object_get(r, "placement"), "target_project"), "lab");
        assert_string_equal(field(json_array_get(json_object_get(json_object_get(r, "placement"), "nics"), 0),
                                  "network"),
                            "labbr0");
        assert_string_equal(field(json_array_get(json_object_get(r, "log"), 0), "message"), "placing web02");

        r = result_of(md, "web01");
        assert_string_equal(field(r, "status"), "Placed");
        assert_string_equal(field(json_object_get(r, "placement"), "target_project"), "default");
        assert_string_equal(field(json_object_get(json_object_get(r, "placement"), "config"), "user.os"), "Ubuntu Linux (64-bit)");
}

static void test_the_dry_run_shows_inventory_errors_per_instance(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *md = NULL;

        create_batch(f->socket_path, "b1",
                     "function placement(instance, batch)\n"
                     "  if instance.name == 'web02' then set_pool('disk0', 'ssd') end\n"
                     "end\n");
        md = dry_run(f->socket_path, "b1");
        assert_int_equal(json_integer_value(json_object_get(md, "failed")), 1);
        assert_string_equal(field(result_of(md, "web02"), "error"),
                            "Storage pool 'ssd' (for disk 'disk0', from the scriptlet) is not on target 'incus1', "
                            "which has pools 'default'");
}

static void test_the_dry_run_of_an_unknown_batch_is_404(void **state)
{
        struct ferryd_fixture *f = *state;
        struct api_answer a = {};

        api_call(f->socket_path, "GET", "/1.0/batches/nope/placement", NULL, NULL, &a);
        api_assert_error(&a, 404, "Batch 'nope' not found");
        api_answer_done(&a);
}

/* A hostile placement() runs on the job thread: GET /1.0 answers meanwhile. */
static void assert_hostile_while_serving(struct ferryd_fixture *f, const char *script, const char *error)
{
        _cleanup_free_ char *id = NULL;
        _cleanup_json_ json_t *op = NULL;
        const json_t *md, *r;
        size_t i;
        bool answered_while_running = false;

        create_batch(f->socket_path, "b1", script);
        id = start_dry_run(f->socket_path, "b1");
        for (int turn = 0; turn < 200; turn++) {
                struct api_answer a = {};
                _cleanup_free_ char *path = NULL;
                long start = now_ms();
                const json_t *o;

                api_expect(f->socket_path, "GET", "/1.0", NULL, 200, &a);
                assert_true(now_ms() - start < 500);
                api_answer_done(&a);

                assert_true(asprintf(&path, "/1.0/operations/%s", id) > 0);
                o = api_expect(f->socket_path, "GET", path, NULL, 200, &a);
                if (!streq(field(o, "status"), "Running")) {
                        api_answer_done(&a);
                        break;
                }
                answered_while_running = true;
                api_answer_done(&a);
                usleep(20 * 1000);
        }
        assert_true(answered_while_running);

        op = wait_operation(f->socket_path, id);
        md = json_object_get(op, "metadata");
        assert_int_equal(json_integer_value(json_object_get(md, "failed")), 3);
        json_array_foreach(json_object_get(md, "instances"), i, r) {
                assert_string_equal(field(r, "status"), "Error");
                assert_string_equal(field(r, "error"), error);
        }
}

static void test_an_infinite_placement_fails_each_instance_while_ferryd_serves(void **state)
{
        assert_hostile_while_serving(*state, "function placement(i, b)\n  local n = 0\n  while true do n = n + 1 end\nend\n",
                                     "Scriptlet 'b1' exceeded its instruction limit of 10000000, at line 3");
}

static void test_a_memory_bomb_placement_fails_each_instance_while_ferryd_serves(void **state)
{
        assert_hostile_while_serving(*state,
                                     "function placement(i, b)\n  local t = {}\n"
                                     "  for n = 1, 1e9 do t[n] = string.rep('x', 64) .. n end\nend\n",
                                     "Scriptlet 'b1' exceeded its memory limit of 16 MiB");
}

static void test_a_builtin_error_in_placement_names_the_line(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *md = NULL;

        create_batch(f->socket_path, "b1", "function placement(i, b)\n\n  set_config('raw.lxc', 'x')\nend\n");
        md = dry_run(f->socket_path, "b1");
        assert_string_equal(field(result_of(md, "web01"), "error"),
                            "Scriptlet 'b1' failed at line 3: set_config: Config key 'raw.lxc' is not one a scriptlet "
                            "may set: use user.*, limits.*, snapshots.*, boot.autostart*, boot.host_shutdown_timeout, "
                            "boot.stop.priority or cluster.evacuate");
}

static void test_ferry_batch_info_prints_the_placement(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *out = NULL, *json = NULL;
        _cleanup_json_ json_t *v = NULL;
        struct ferry_error err = {};

        create_batch(f->socket_path, "b1",
                     "function placement(instance, batch)\n"
                     "  if instance.name == 'db01' then fail('No OS known') end\n"
                     "  if instance.name == 'web01' then set_project('prod') end\n"
                     "end\n");
        out = proc_run_stdout(0, (char *const[]) { (char *) FERRY_PATH, (char *) "--socket", f->socket_path,
                                                   (char *) "batch", (char *) "info", (char *) "b1", NULL });
        assert_contains(out, "Placement: 1 placed, 1 blocked, 1 failed, 0 skipped\n");
        assert_contains(out, "No OS known");
        assert_contains(out, "Project 'prod' (from the scriptlet) is not on target 'incus1', which has projects "
                             "'default', 'lab'");
        assert_contains(out, "00:50:56:00:00:02=labbr0 (managed)");
        assert_contains(out, "disk0=default");

        json = proc_run_stdout(0, (char *const[]) { (char *) FERRY_PATH, (char *) "--socket", f->socket_path,
                                                    (char *) "batch", (char *) "info", (char *) "b1", (char *) "-f",
                                                    (char *) "json", NULL });
        assert_int_equal(json_parse_strict(json, strlen(json), &v, &err), 0);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "placement"), "blocked")), 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, ferryd_fixture_teardown)
                T(test_saving_a_batch_refuses_a_syntax_error),
                T(test_saving_a_batch_refuses_a_scriptlet_without_placement),
                T(test_saving_a_batch_bounds_the_main_chunk),
                T(test_saving_a_batch_refuses_os_execute_at_load),
                T(test_the_dry_run_places_blocks_and_reports_per_instance),
                T(test_the_dry_run_shows_inventory_errors_per_instance),
                T(test_the_dry_run_of_an_unknown_batch_is_404),
                T(test_an_infinite_placement_fails_each_instance_while_ferryd_serves),
                T(test_a_memory_bomb_placement_fails_each_instance_while_ferryd_serves),
                T(test_a_builtin_error_in_placement_names_the_line),
                T(test_ferry_batch_info_prints_the_placement),
#undef T
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
