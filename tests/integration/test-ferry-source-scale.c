/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferryd and ferry against a vSphere simulator of the test's own, built
 * from a generated model (vcsim-model.c): 200 VMs in 2 datacenters with
 * folders, standard and distributed portgroups, listed as the model says;
 * sources that sync on their own every sync.source_interval; and a
 * ferryd that stops at once while a sync hangs on its source; and
 * GET /1.0/operations/{id}/wait on such a sync.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "ferryd-fixture.h"
#include "proc.h"
#include "source/source.h"
#include "source/vmware/vmware.h"
#include "vcsim-model.h"
#include "vcsim-proc.h"

#define ARGS(...) ((const char *const[]) { __VA_ARGS__, NULL })

struct ctx {
        struct ferryd_fixture *f;
        struct vcsim_proc sim;
        json_t *model;
        char *model_path;
};

static char *ferry_ok(struct ferryd_fixture *f, const char *const *args)
{
        char *argv[32] = { (char *) FERRY_PATH, (char *) "--socket", f->socket_path };
        char *out = NULL, *err = NULL;
        size_t n = 3;
        int status;

        for (; *args; args++) {
                assert_true(n < ELEMENTSOF(argv) - 1);
                argv[n++] = (char *) *args;
        }
        status = proc_run(argv, &out, &err);
        if (status != 0)
                fail_msg("ferry %s %s exited with %d:\n%s%s", argv[3], argv[4], status, out, err);
        free(err);
        return out;
}

static json_t *ferry_json(struct ferryd_fixture *f, const char *const *args)
{
        _cleanup_free_ char *out = ferry_ok(f, args);
        json_error_t e;
        json_t *v = json_loads(out, 0, &e);

        if (!v)
                fail_msg("ferry printed no JSON (%s):\n%s", e.text, out);
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

/* A simulator on a generated model of n_vms VMs. */
static void start_sim(struct ctx *c, unsigned n_vms)
{
        c->model = vcsim_model_generate(n_vms);
        assert_non_null(c->model);
        c->model_path = strjoin(c->f->dir, "/model.json", NULL);
        assert_int_equal(json_dump_file(c->model, c->model_path, 0), 0);
        vcsim_proc_start(&c->sim, c->model_path, NULL);
}

static char *add_source(struct ctx *c)
{
        return ferry_ok(c->f, ARGS("source", "add", "gen", vcsim_proc_env(&c->sim, "VCSIM_URL"), "--username",
                                   vcsim_proc_env(&c->sim, "VCSIM_USERNAME"), "--password",
                                   vcsim_proc_env(&c->sim, "VCSIM_PASSWORD"), "--fingerprint",
                                   vcsim_proc_env(&c->sim, "VCSIM_FINGERPRINT"), "--wait"));
}

static void test_200_vms_in_2_datacenters_are_listed_as_the_model_says(void **state)
{
        struct ctx *c = *state;
        _cleanup_free_ char *add = NULL;
        _cleanup_json_ json_t *instances = NULL, *networks = NULL, *prod = NULL;
        size_t i, j, k, n_vms = 0, n_nets = 0, n_prod = 0;
        json_t *dc, *mvm, *net, *dvs, *pg;
        char location[512];

        start_sim(c, 200);
        ferryd_fixture_start(c->f);
        add = add_source(c);
        assert_contains(add, "Source gen synced: 200 instances added");

        instances = ferry_json(c->f, ARGS("instance", "list", "-f", "json"));
        json_array_foreach(json_object_get(c->model, "datacenters"), i, dc)
                json_array_foreach(json_object_get(dc, "vms"), j, mvm) {
                        const json_t *vm, *mdisk = json_array_get(json_object_get(mvm, "disks"), 0),
                                          *mnic = json_array_get(json_object_get(mvm, "nics"), 0), *nic;

                        snprintf(location, sizeof(location), "/%s/vm/%s/%s", str(dc, "name"), str(mvm, "folder"),
                                 str(mvm, "name"));
                        vm = find_by(instances, "location", location);
                        if (!vm)
                                fail_msg("'%s' is not listed", location);
                        n_vms++;
                        assert_string_equal(str(vm, "name"), str(mvm, "name"));
                        assert_string_equal(str(vm, "source"), "gen");
                        assert_int_equal(json_integer_value(json_object_get(vm, "cpus")),
                                         json_integer_value(json_object_get(mvm, "cpus")));
                        assert_int_equal(json_integer_value(json_object_get(vm, "memory")),
                                         json_integer_value(json_object_get(mvm, "memory_mib")) << 20);
                        assert_string_equal(str(vm, "os"), str(mvm, "guest_full_name"));
                        assert_int_equal(json_is_true(json_object_get(vm, "running")),
                                         streq(str(mvm, "power_state"), "poweredOn"));
                        assert_int_equal(json_is_true(json_object_get(vm, "background_import")),
                                         json_is_true(json_object_get(mvm, "change_tracking")));
                        assert_int_equal(json_array_size(json_object_get(vm, "disks")), 1);
                        assert_int_equal(json_integer_value(json_object_get(
                                                 json_array_get(json_object_get(vm, "disks"), 0), "capacity")),
                                         json_integer_value(json_object_get(mdisk, "capacity_mib")) << 20);
                        assert_int_equal(json_array_size(json_object_get(vm, "nics")), 1);
                        nic = json_array_get(json_object_get(vm, "nics"), 0);
                        assert_string_equal(str(nic, "hardware_address"), str(mnic, "mac"));
                        /* vSphere tags (vAPI) as config "tag.<category>". */
                        assert_string_equal(str(json_object_get(vm, "config"), "tag.env"),
                                            json_string_value(json_array_get(
                                                    json_object_get(json_object_get(mvm, "tags"), "env"), 0)));
                        n_prod += streq(json_string_value(json_array_get(
                                                json_object_get(json_object_get(mvm, "tags"), "env"), 0)),
                                        "prod");
                }
        assert_int_equal(n_vms, 200);
        assert_int_equal(json_array_size(instances), n_vms);
        prod = ferry_json(c->f, ARGS("instance", "list", "has_tag('env', 'prod')", "-f", "json"));
        assert_true(n_prod > 0);
        assert_int_equal(json_array_size(prod), n_prod);

        networks = ferry_json(c->f, ARGS("network", "list", "-f", "json"));
        json_array_foreach(json_object_get(c->model, "datacenters"), i, dc) {
                snprintf(location, sizeof(location), "/%s/network/VM Network", str(dc, "name"));
                assert_non_null(find_by(networks, "location", location));
                n_nets++;
                json_array_foreach(json_object_get(dc, "networks"), j, net) {
                        char vlan[16];
                        const json_t *got;

                        snprintf(location, sizeof(location), "/%s/network/%s", str(dc, "name"), str(net, "name"));
                        got = find_by(networks, "location", location);
                        if (!got)
                                fail_msg("'%s' is not listed", location);
                        assert_string_equal(str(got, "type"), "standard");
                        snprintf(vlan, sizeof(vlan), "%" JSON_INTEGER_FORMAT,
                                 json_integer_value(json_object_get(net, "vlan")));
                        assert_string_equal(str(got, "vlan"), vlan);
                        n_nets++;
                }
                json_array_foreach(json_object_get(dc, "dvswitches"), j, dvs)
                        json_array_foreach(json_object_get(dvs, "portgroups"), k, pg) {
                                _cleanup_strbuf_ struct strbuf vlan = STRBUF_INIT;
                                const json_t *got, *range;
                                size_t t;

                                snprintf(location, sizeof(location), "/%s/network/%s", str(dc, "name"),
                                         str(pg, "name"));
                                got = find_by(networks, "location", location);
                                if (!got)
                                        fail_msg("'%s' is not listed", location);
                                assert_string_equal(str(got, "type"), "distributed");
                                if (json_object_get(pg, "trunk"))
                                        json_array_foreach(json_object_get(pg, "trunk"), t, range)
                                                strbuf_appendf(&vlan, "%s%" JSON_INTEGER_FORMAT "-%" JSON_INTEGER_FORMAT,
                                                               t ? "," : "",
                                                               json_integer_value(json_object_get(range, "start")),
                                                               json_integer_value(json_object_get(range, "end")));
                                else
                                        strbuf_appendf(&vlan, "%" JSON_INTEGER_FORMAT,
                                                       json_integer_value(json_object_get(pg, "vlan")));
                                assert_string_equal(str(got, "vlan"), strbuf_str(&vlan));
                                n_nets++;
                        }
        }
        assert_int_equal(json_array_size(networks), n_nets);
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether ferry lists the VM named name as running, polled until it says want or timeout_ms. */
static bool wait_running(struct ctx *c, const char *name, bool want, int timeout_ms)
{
        int64_t deadline = now_ms() + timeout_ms;

        for (;;) {
                _cleanup_json_ json_t *list = ferry_json(c->f, ARGS("instance", "list", "-f", "json"));
                const json_t *vm = find_by(list, "name", name);

                assert_non_null(vm);
                if (json_is_true(json_object_get(vm, "running")) == want)
                        return true;
                if (now_ms() >= deadline)
                        return false;
                struct timespec ts = { 0, 200 * 1000000L };
                nanosleep(&ts, NULL);
        }
}

static void test_a_source_syncs_on_its_own_every_interval(void **state)
{
        struct ctx *c = *state;
        _cleanup_free_ char *add = NULL, *config_path = strjoin(c->f->dir, "/config.yaml", NULL);
        _cleanup_json_ json_t *src = NULL, *list = NULL, *ops = NULL;
        const char *const extra[] = { "--config", config_path, NULL };
        struct source_connect_result res;
        struct ferry_error err = {};
        struct source *s = NULL;
        const json_t *vm;
        FILE *f;
        size_t i, syncs = 0;
        json_t *op;

        start_sim(c, 4);
        f = fopen(config_path, "w");
        assert_non_null(f);
        fputs("sync:\n  source_interval: 1s\n", f);
        fclose(f);
        ferryd_fixture_start_with(c->f, extra);
        add = add_source(c);
        list = ferry_json(c->f, ARGS("instance", "list", "-f", "json"));
        vm = find_by(list, "name", "gen-00001");
        assert_non_null(vm);
        assert_true(json_is_true(json_object_get(vm, "running")));

        /* Power it off behind ferry's back: the next periodic sync notices. */
        src = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "name", "gen", "type", "vmware", "properties", "endpoint",
                        vcsim_proc_env(&c->sim, "VCSIM_URL"), "username", vcsim_proc_env(&c->sim, "VCSIM_USERNAME"),
                        "password", vcsim_proc_env(&c->sim, "VCSIM_PASSWORD"),
                        "trusted_server_certificate_fingerprint", vcsim_proc_env(&c->sim, "VCSIM_FINGERPRINT"));
        if (vmware_source_ops.connect(src, &s, &res, &err) < 0)
                fail_msg("connect: %s", err.message);
        if (vmware_source_ops.power_off(s, str(vm, "uuid"), 30, &err) < 0)
                fail_msg("power off: %s", err.message);
        vmware_source_ops.disconnect(s);
        if (!wait_running(c, "gen-00001", false, 15000))
                fail_msg("No sync saw the VM powered off within 15 s");

        /* Those syncs were operations of their own, none of them asked for. */
        ops = ferry_json(c->f, ARGS("query", "/1.0/operations?recursion=1"));
        json_array_foreach(ops, i, op)
                syncs += streq(str(op, "description"), "Syncing source 'gen'");
        assert_true(syncs >= 2);
}

static void test_stopping_ferryd_cancels_a_sync_stuck_on_its_source(void **state)
{
        struct ctx *c = *state;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        _cleanup_free_ char *add = NULL;
        char url[64];
        int64_t t0;
        int fd;

        /* A server that accepts connections into its backlog and never answers: the TLS handshake hangs. */
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 16), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        snprintf(url, sizeof(url), "https://127.0.0.1:%u/sdk", ntohs(sa.sin_port));

        ferryd_fixture_start(c->f);
        add = ferry_ok(c->f, ARGS("source", "add", "stuck", url, "--username", "u", "--password", "p"));
        /* Let the job thread get into the handshake. */
        struct timespec ts = { 0, 500 * 1000000L };
        nanosleep(&ts, NULL);

        t0 = now_ms();
        assert_int_equal(ferryd_fixture_stop(c->f), 0);
        assert_true(now_ms() - t0 < 3000);
        close(fd);
}

/* A listener that takes connections into its backlog and never answers: a source whose sync hangs. */
static int blackhole(char url[static 64])
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 16), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        snprintf(url, 64, "https://127.0.0.1:%u/sdk", ntohs(sa.sin_port));
        return fd;
}

/* The id of the only operation. */
static char *only_operation(struct ctx *c)
{
        _cleanup_json_ json_t *ops = ferry_json(c->f, ARGS("query", "/1.0/operations?recursion=1"));

        assert_int_equal(json_array_size(ops), 1);
        return strdup(str(json_array_get(ops, 0), "id"));
}

static void test_waiting_on_an_operation_answers_when_it_ends_or_times_out(void **state)
{
        struct ctx *c = *state;
        _cleanup_free_ char *add = NULL, *id = NULL, *path = NULL, *timed = NULL, *out = NULL;
        _cleanup_json_ json_t *running = NULL, *done = NULL;
        struct proc waiter = {};
        char url[64];
        int64_t t0;
        int fd = blackhole(url);

        ferryd_fixture_start(c->f);
        add = ferry_ok(c->f, ARGS("source", "add", "stuck", url, "--username", "u", "--password", "p"));
        id = only_operation(c);

        /* With a timeout: the operation as it is, after that long. */
        timed = strjoin("/1.0/operations/", id, "/wait?timeout=1", NULL);
        t0 = now_ms();
        running = ferry_json(c->f, ARGS("query", timed));
        assert_true(now_ms() - t0 >= 900);
        assert_string_equal(str(running, "status"), "Running");

        /* Without: the answer comes when the sync fails, here once the listener goes away. */
        path = strjoin("/1.0/operations/", id, "/wait", NULL);
        char *const argv[] = { (char *) FERRY_PATH, (char *) "--socket", c->f->socket_path, (char *) "query", path,
                               NULL };
        proc_start(&waiter, argv);
        struct timespec ts = { 0, 500 * 1000000L };
        nanosleep(&ts, NULL);
        assert_true(proc_running(&waiter));
        close(fd);
        assert_int_equal(proc_wait(&waiter, 20000), 0);
        out = proc_stdout(&waiter);
        done = json_loads(out, 0, NULL);
        assert_non_null(done);
        assert_string_equal(str(done, "status"), "Failure");
        assert_string_equal(str(done, "id"), id);
        proc_cleanup(&waiter);
}

static void test_waiting_with_a_bad_timeout_or_on_an_unknown_operation_says_why(void **state)
{
        struct ctx *c = *state;
        char *out = NULL, *err = NULL;
        char *const bad[] = { (char *) FERRY_PATH, (char *) "--socket", c->f->socket_path, (char *) "query",
                              (char *) "/1.0/operations/x/wait?timeout=soon", NULL };
        char *const unknown[] = { (char *) FERRY_PATH, (char *) "--socket", c->f->socket_path, (char *) "query",
                                  (char *) "/1.0/operations/nope/wait?timeout=5", NULL };

        ferryd_fixture_start(c->f);
        assert_int_equal(proc_run(bad, &out, &err), 1);
        assert_contains(err, "Invalid timeout 'soon': expected seconds, or -1 for no limit");
        free(out);
        free(err);
        assert_int_equal(proc_run(unknown, &out, &err), 1);
        assert_contains(err, "Operation 'nope' not found");
        free(out);
        free(err);
}

static int setup(void **state)
{
        struct ctx *c = calloc(1, sizeof(*c));

        c->f = ferryd_fixture_new(FERRYD_PATH);
        *state = c;
        return 0;
}

static int teardown(void **state)
{
        struct ctx *c = *state;
        int r = ferryd_fixture_stop(c->f);

        ferryd_fixture_free(c->f);
        vcsim_proc_stop(&c->sim);
        json_decref(c->model);
        free(c->model_path);
        free(c);
        return r;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_200_vms_in_2_datacenters_are_listed_as_the_model_says, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_a_source_syncs_on_its_own_every_interval, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stopping_ferryd_cancels_a_sync_stuck_on_its_source, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_waiting_on_an_operation_answers_when_it_ends_or_times_out, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_waiting_with_a_bad_timeout_or_on_an_unknown_operation_says_why,
                                                setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
