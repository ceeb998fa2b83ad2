/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Targets through the built ferryd and ferry against the lab's incusd:
 * registration over unix:// and over HTTPS with trust tokens made by
 * `incus config trust add` (plain, restricted, revoked), the inventory
 * `ferry target show` prints, changes made with the incus CLI showing up
 * there within 2 s without ferryd polling, and Incus's instance events in
 * `ferry monitor`.
 *
 * ferryd runs at debug level: it logs "Reading the inventory of target
 * 'x'" before each read, and "Event listener connected" for each monitor.
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

#include <cmocka.h>
#include <jansson.h>

#include "common/fingerprint.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/yaml.h"
#include "ferryd-fixture.h"
#include "lab.h"
#include "proc.h"

#define WAIT_MS 20000
#define READ_LINE "Reading the inventory of target 'lab'"

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

static void sleep_ms(int ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
        struct ferryd_fixture *f = ferryd_fixture_new(FERRYD_PATH);

        ferryd_fixture_start_with(f, ARGS("--log-level", "debug"));
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct ferryd_fixture *f = *state;
        int r = ferryd_fixture_stop(f);

        ferryd_fixture_free(f);
        return r;
}

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
                fail_msg("ferry %s %s exited with %d:\n%s%s", args[0], args[1], r.status, r.out, r.err);
        return TAKE_PTR(r.out);
}

static json_t *target_show(struct ferryd_fixture *f, const char *name, bool raw)
{
        _cleanup_free_ char *out = ferry_ok(f, raw ? ARGS("target", "show", name, "--raw")
                                                    : ARGS("target", "show", name));
        struct ferry_error err = {};
        json_t *v = NULL;

        if (yaml_parse_to_json(out, strlen(out), &v, &err) < 0)
                fail_msg("ferry target show printed no YAML (%s):\n%s", err.message, out);
        return v;
}

static const char *str(const json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));

        return s ? s : "";
}

static const char *prop(const json_t *target, const char *key)
{
        return str(json_object_get(target, "properties"), key);
}

/* Whether one of the summary lines of inventory.<list> starts with prefix. */
static bool shows_line(const json_t *target, const char *list, const char *prefix)
{
        const json_t *lines = json_object_get(json_object_get(target, "inventory"), list);
        size_t i;
        json_t *l;

        json_array_foreach(lines, i, l)
                if (startswith(json_string_value(l), prefix))
                        return true;
        return false;
}

/* Poll `ferry target show` until inventory.<list> has (or lacks) a line
 * starting with prefix; the milliseconds it took, or fail after limit_ms. */
static int64_t wait_for_line(struct ferryd_fixture *f, const char *list, const char *prefix, bool present,
                             int64_t limit_ms)
{
        int64_t start = now_ms();

        for (;;) {
                _cleanup_json_ json_t *t = target_show(f, "lab", false);
                int64_t took = now_ms() - start;

                if (shows_line(t, list, prefix) == present)
                        return took;
                if (took > limit_ms) {
                        _cleanup_free_ char *dump = json_dumps(json_object_get(t, "inventory"), JSON_INDENT(2));

                        fail_msg("'%s' %s %s after %lld ms:\n%s", prefix, present ? "not in" : "still in", list,
                                 (long long) took, dump);
                }
                sleep_ms(20);
        }
}

static size_t count_occurrences(const char *haystack, const char *needle)
{
        size_t n = 0;

        for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static size_t ferryd_lines(struct ferryd_fixture *f, const char *line)
{
        _cleanup_free_ char *err = proc_stderr(&f->ferryd);

        return count_occurrences(err, line);
}

static void wait_for_ferryd_line(struct ferryd_fixture *f, const char *line, size_t n)
{
        for (int waited = 0; ferryd_lines(f, line) < n; waited += 10) {
                if (waited >= WAIT_MS) {
                        _cleanup_free_ char *err = proc_stderr(&f->ferryd);

                        fail_msg("ferryd did not log '%s' %zu times within %d ms; its stderr:\n%s", line, n, WAIT_MS,
                                 err);
                }
                sleep_ms(10);
        }
}

/* `incus ARGS...` in the lab; its stdout, trailing white space cut. */
static char *incus_v(int status, const char *const *args)
{
        _cleanup_free_ char *env = strjoin("INCUS_DIR=", lab_env("LAB_INCUS_DIR"), NULL);
        char *argv[16] = { (char *) "/usr/bin/env", env, (char *) "incus" };
        size_t n = 3, len;
        char *out;

        assert_non_null(env);
        for (; *args; args++) {
                assert_true(n < ELEMENTSOF(argv) - 1);
                argv[n++] = (char *) *args;
        }
        out = proc_run_stdout(status, argv);
        len = strlen(out);
        while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
                out[--len] = '\0';
        return out;
}

#define incus(...) free(incus_v(0, ARGS(__VA_ARGS__)))

static char *lab_unix_endpoint(void)
{
        char *e = strjoin("unix://", lab_env("LAB_INCUS_SOCKET"), NULL);

        assert_non_null(e);
        return e;
}

/* ferryd's certificate towards targets, as Incus lists it. */
static void ferry_client_fingerprint(struct ferryd_fixture *f, char ret[static FINGERPRINT_HEX_SIZE])
{
        _cleanup_free_ char *path = strjoin(f->data_dir, "/target-client.crt", NULL);
        struct ferry_error err = {};

        assert_non_null(path);
        if (fingerprint_from_pem_file(path, ret, &err) < 0)
                fail_msg("%s", err.message);
}

/* Remove ferryd's certificate from the lab's trust store again. */
static void untrust_ferry(struct ferryd_fixture *f)
{
        char fp[FINGERPRINT_HEX_SIZE];

        ferry_client_fingerprint(f, fp);
        free(incus_v(0, ARGS("config", "trust", "remove", fp)));
}

static void test_unix_target_is_synced_on_add_and_shown_readably(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *endpoint = lab_unix_endpoint(), *out = NULL, *bridge = NULL, *pool = NULL;
        _cleanup_json_ json_t *shown = NULL, *raw = NULL;

        out = ferry_ok(f, ARGS("target", "add", "lab", endpoint, "--wait"));
        assert_true(startswith(out, "Target lab added\nTarget lab synced: "));
        assert_null(strstr(out, "Registered"));

        shown = target_show(f, "lab", false);
        assert_string_equal(prop(shown, "connectivity_status"), "OK");
        assert_int_equal(json_array_size(json_object_get(json_object_get(shown, "properties"), "restricted_projects")), 0);
        assert_true(startswith(str(json_object_get(shown, "inventory"), "server"), "Incus 6."));
        assert_true(shows_line(shown, "projects", "default"));
        assert_true(shows_line(shown, "projects", lab_env("LAB_INCUS_PROJECT")));
        assert_non_null(bridge = strjoin(lab_env("LAB_INCUS_BRIDGE"), " (bridge, managed, VLAN-capable) in project default",
                                         NULL));
        assert_true(shows_line(shown, "networks", bridge));
        assert_non_null(pool = strjoin(lab_env("LAB_INCUS_POOL"), " (dir, Created, ", NULL));
        assert_true(shows_line(shown, "storage_pools", pool));
        assert_true(shows_line(shown, "profiles", "default in project default"));

        /* --raw: the inventory as stored, the same as the API's. */
        raw = target_show(f, "lab", true);
        assert_string_equal(str(json_array_get(json_object_get(json_object_get(raw, "inventory"), "storage_pools"), 0),
                                "driver"),
                            "dir");
}

static void test_incus_cli_changes_show_up_within_two_seconds_without_polling(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *endpoint = lab_unix_endpoint();
        size_t reads;
        int64_t took;

        free(ferry_ok(f, ARGS("target", "add", "lab", endpoint, "--wait")));
        /* The sync read it once, the follower once when it connected. */
        wait_for_ferryd_line(f, READ_LINE, 2);

        /* Nothing happens: nothing is read. */
        reads = ferryd_lines(f, READ_LINE);
        sleep_ms(2500);
        assert_int_equal(ferryd_lines(f, READ_LINE), reads);

        incus("project", "create", "ferry-tp1");
        took = wait_for_line(f, "projects", "ferry-tp1", true, 2000);
        print_message("project after %lld ms\n", (long long) took);

        incus("profile", "create", "ferry-tprofile");
        took = wait_for_line(f, "profiles", "ferry-tprofile in project default", true, 2000);
        print_message("profile after %lld ms\n", (long long) took);

        incus("network", "create", "ferrytn0", "ipv4.address=none", "ipv6.address=none");
        took = wait_for_line(f, "networks", "ferrytn0 (bridge, managed", true, 2000);
        print_message("network after %lld ms\n", (long long) took);

        incus("network", "delete", "ferrytn0");
        incus("profile", "delete", "ferry-tprofile");
        incus("project", "delete", "ferry-tp1");
        wait_for_line(f, "networks", "ferrytn0", false, 2000);
        wait_for_line(f, "profiles", "ferry-tprofile", false, 2000);
        wait_for_line(f, "projects", "ferry-tp1", false, 2000);

        /* Quiet again: no more reads. */
        sleep_ms(500);
        reads = ferryd_lines(f, READ_LINE);
        sleep_ms(2000);
        assert_int_equal(ferryd_lines(f, READ_LINE), reads);
}

static void test_target_sync_reads_the_inventory_again(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *endpoint = lab_unix_endpoint(), *out = NULL;
        size_t reads;

        free(ferry_ok(f, ARGS("target", "add", "lab", endpoint, "--wait")));
        reads = ferryd_lines(f, READ_LINE);
        out = ferry_ok(f, ARGS("target", "sync", "lab"));
        assert_true(startswith(out, "Target lab synced: "));
        assert_true(ferryd_lines(f, READ_LINE) > reads);
}

static void test_instance_events_reach_ferry_monitor_with_their_target(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *endpoint = lab_unix_endpoint(), *out = NULL;
        _cleanup_json_ json_t *event = NULL;
        struct proc monitor = {};
        json_error_t jerr;
        const json_t *m;
        int r;

        free(ferry_ok(f, ARGS("target", "add", "lab", endpoint, "--wait")));
        wait_for_ferryd_line(f, READ_LINE, 2);

        proc_start(&monitor, (char *const[]) { (char *) FERRY_PATH, "--socket", f->socket_path, "monitor", "--type",
                                               "lifecycle", "-f", "json", "--count", "1", NULL });
        wait_for_ferryd_line(f, "Event listener connected", 1);

        incus("create", "--empty", "ferry-tc1", "--project", lab_env("LAB_INCUS_PROJECT"));
        r = proc_wait(&monitor, WAIT_MS);
        out = proc_stdout(&monitor);
        incus("delete", "ferry-tc1", "--project", lab_env("LAB_INCUS_PROJECT"));
        if (r != 0) {
                _cleanup_free_ char *err = proc_stderr(&monitor);

                fail_msg("ferry monitor exited with %d:\n%s%s", r, out, err);
        }
        proc_cleanup(&monitor);

        event = json_loads(out, 0, &jerr);
        if (!event)
                fail_msg("Not one JSON event (%s): %s", jerr.text, out);
        m = json_object_get(event, "metadata");
        assert_string_equal(str(event, "type"), "lifecycle");
        assert_string_equal(str(m, "action"), "instance-created");
        assert_true(startswith(str(m, "source"), "/1.0/instances/ferry-tc1"));
        assert_string_equal(str(m, "target"), "lab");
        assert_string_equal(str(m, "project"), lab_env("LAB_INCUS_PROJECT"));
}

static void test_https_target_registers_with_a_trust_token(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *token = incus_v(0, ARGS("config", "trust", "add", "ferry-target-plain", "--quiet"));
        _cleanup_free_ char *out = NULL, *secret_in_log = NULL;
        _cleanup_json_ json_t *shown = NULL;
        _cleanup_run_ struct run api = {};

        out = ferry_ok(f, ARGS("target", "add", "lab", lab_env("LAB_INCUS_URL"), "--token", token, "--wait"));
        assert_true(startswith(out, "Target lab added\nRegistered with target lab\nTarget lab synced: "));

        shown = target_show(f, "lab", false);
        assert_string_equal(prop(shown, "connectivity_status"), "OK");
        assert_string_equal(prop(shown, "trusted_server_certificate_fingerprint"), lab_env("LAB_INCUS_FINGERPRINT"));
        assert_true(shows_line(shown, "projects", "default"));

        /* Used once and gone: neither shown nor stored for another use. */
        ferry(f, ARGS("target", "show", "lab", "--raw"), &api);
        assert_null(strstr(api.out, token));
        secret_in_log = proc_stderr(&f->ferryd);
        assert_null(strstr(secret_in_log, token));

        /* Every call after registration uses the client certificate. */
        run_done(&api);
        api = (struct run) {};
        ferry(f, ARGS("target", "sync", "lab"), &api);
        assert_int_equal(api.status, 0);
        untrust_ferry(f);
}

static void test_restricted_token_limits_ferry_to_its_project_and_show_says_so(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *projects = strjoin("--projects=", lab_env("LAB_INCUS_PROJECT"), NULL);
        _cleanup_free_ char *token = NULL, *out = NULL, *expected = NULL;
        _cleanup_json_ json_t *shown = NULL;
        const json_t *restricted;

        assert_non_null(projects);
        token = incus_v(0, ARGS("config", "trust", "add", "ferry-target-restricted", "--quiet", "--restricted",
                                projects));
        out = ferry_ok(f, ARGS("target", "add", "lab", lab_env("LAB_INCUS_URL"), "--token", token, "--wait"));
        assert_non_null(expected = strjoin("Target lab restricts ferry to projects: ", lab_env("LAB_INCUS_PROJECT"),
                                           "\n", NULL));
        assert_contains(out, expected);

        shown = target_show(f, "lab", false);
        restricted = json_object_get(json_object_get(shown, "properties"), "restricted_projects");
        assert_int_equal(json_array_size(restricted), 1);
        assert_string_equal(json_string_value(json_array_get(restricted, 0)), lab_env("LAB_INCUS_PROJECT"));
        assert_contains(str(json_object_get(shown, "inventory"), "server"), "restricted certificate");
        assert_int_equal(json_array_size(json_object_get(json_object_get(shown, "inventory"), "projects")), 1);
        assert_true(shows_line(shown, "projects", lab_env("LAB_INCUS_PROJECT")));
        /* Incus 6.0 does not list pools to it: ferry finds them in the project's profiles. */
        assert_true(shows_line(shown, "storage_pools", lab_env("LAB_INCUS_POOL")));
        untrust_ferry(f);
}

static void test_revoked_token_is_refused_and_the_status_says_so(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *token = incus_v(0, ARGS("config", "trust", "add", "ferry-target-revoked", "--quiet"));
        _cleanup_json_ json_t *shown = NULL;
        _cleanup_run_ struct run r = {};

        incus("config", "trust", "revoke-token", "ferry-target-revoked");
        ferry(f, ARGS("target", "add", "lab", lab_env("LAB_INCUS_URL"), "--token", token, "--wait"), &r);
        assert_int_equal(r.status, 1);
        assert_string_equal(r.out, "Target lab added\n");
        assert_contains(r.err, "Error: Target lab: Authentication error\n");
        assert_contains(r.err, "Registering with target 'lab': Incus refused the trust token: ");

        shown = target_show(f, "lab", false);
        assert_string_equal(prop(shown, "connectivity_status"), "Authentication error");
        assert_string_equal(prop(shown, "trusted_server_certificate_fingerprint"), "");
}

static void test_https_target_without_token_is_not_registered(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *shown = NULL;
        _cleanup_run_ struct run r = {};

        ferry(f, ARGS("target", "add", "lab", lab_env("LAB_INCUS_URL"), "--wait"), &r);
        assert_int_equal(r.status, 1);
        assert_contains(r.err, "Error: Target lab: Not registered\n");
        assert_contains(r.err, "Target 'lab' is not registered: give it a trust token from 'incus config trust add "
                               "ferry' with 'ferry target update lab --token TOKEN'\n");
        shown = target_show(f, "lab", false);
        assert_string_equal(prop(shown, "connectivity_status"), "Not registered");
}

static void test_token_for_an_unreachable_target_says_cannot_connect_and_is_kept(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *token = incus_v(0, ARGS("config", "trust", "add", "ferry-target-away", "--quiet"));
        _cleanup_json_ json_t *shown = NULL;
        _cleanup_run_ struct run r = {};

        /* Port 1 on loopback: nobody listens. */
        ferry(f, ARGS("target", "add", "lab", "https://127.0.0.1:1", "--token", token, "--wait"), &r);
        assert_int_equal(r.status, 1);
        assert_contains(r.err, "Error: Target lab: Cannot connect\n");
        shown = target_show(f, "lab", false);
        assert_string_equal(prop(shown, "connectivity_status"), "Cannot connect");
        incus("config", "trust", "revoke-token", "ferry-target-away");
}

static void test_bad_token_is_refused_when_the_target_is_added(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_run_ struct run r = {};

        ferry(f, ARGS("target", "add", "lab", lab_env("LAB_INCUS_URL"), "--token", "%%not a token%%"), &r);
        assert_int_equal(r.status, 1);
        assert_string_equal(r.err, "Error: Field 'properties.trust_token': Invalid trust token: not base64\n");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(test_unix_target_is_synced_on_add_and_shown_readably),
                T(test_incus_cli_changes_show_up_within_two_seconds_without_polling),
                T(test_target_sync_reads_the_inventory_again),
                T(test_instance_events_reach_ferry_monitor_with_their_target),
                T(test_https_target_registers_with_a_trust_token),
                T(test_restricted_token_limits_ferry_to_its_project_and_show_says_so),
                T(test_revoked_token_is_refused_and_the_status_says_so),
                T(test_https_target_without_token_is_not_registered),
                T(test_token_for_an_unreachable_target_says_cannot_connect_and_is_kept),
                T(test_bad_token_is_refused_when_the_target_is_added),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
