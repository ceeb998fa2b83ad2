/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event hooks through ferryd: /1.0/hooks, the checks when one is saved,
 * runs triggered by ferry's own lifecycle events whose actions are
 * visible through the API, the record of each run, hostile hooks while
 * ferryd keeps serving, webhooks to a loopback server, and `ferry hook`.
 * Needs no lab (Incus lifecycle events reach hooks once ferryd forwards
 * them from its targets).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "api-client.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "ferryd-fixture.h"
#include "seed.h"

#ifndef FERRYD_PATH
#error "FERRYD_PATH must name the ferryd binary under test"
#endif
#ifndef FERRY_PATH
#error "FERRY_PATH must name the ferry binary under test"
#endif
#ifndef SCRIPTLETS_DIR
#error "SCRIPTLETS_DIR must name the source tree's scriptlets/"
#endif

static int setup(void **state)
{
        struct ferryd_fixture *f;

        ferryd_fixture_setup(state);
        f = *state;
        seed_lab_inventory(f->data_dir);
        ferryd_fixture_start(f);
        return 0;
}

static long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void add_hook(const char *socket_path, const char *name, const char *events, const char *script)
{
        _cleanup_json_ json_t *b = json_pack("{s:s, s:o, s:s}", "name", name, "events",
                                             json_loads(events, 0, NULL), "script", script);
        _cleanup_free_ char *body = json_dumps(b, JSON_COMPACT);
        struct api_answer a = {};

        api_expect(socket_path, "POST", "/1.0/hooks", body, 200, &a);
        api_answer_done(&a);
}

static void add_batch(const char *socket_path, const char *name)
{
        _cleanup_free_ char *body = NULL;
        struct api_answer a = {};

        assert_true(asprintf(&body, "{\"name\": \"%s\", \"include_expression\": \"true\"}", name) > 0);
        api_expect(socket_path, "POST", "/1.0/batches", body, 200, &a);
        api_answer_done(&a);
}

/* Wait (at most 20 s) until hook name ran count times; a copy of the hook. */
static json_t *wait_runs(const char *socket_path, const char *name, int count)
{
        _cleanup_free_ char *path = NULL;
        long deadline = now_ms() + 20000;

        assert_true(asprintf(&path, "/1.0/hooks/%s", name) > 0);
        while (now_ms() < deadline) {
                struct api_answer a = {};
                json_t *h = api_expect(socket_path, "GET", path, NULL, 200, &a), *copy;

                if (json_integer_value(json_object_get(json_object_get(h, "runs"), "count")) >= count) {
                        copy = json_deep_copy(h);
                        api_answer_done(&a);
                        return copy;
                }
                api_answer_done(&a);
                usleep(20 * 1000);
        }
        fail_msg("hook %s did not run %d times within 20 s", name, count);
        return NULL;
}

static const json_t *last_run(const json_t *hook)
{
        return json_array_get(json_object_get(json_object_get(hook, "runs"), "last"), 0);
}

static const char *field(const json_t *v, const char *key)
{
        return json_string_value(json_object_get(v, key));
}

static void assert_last_failure(const char *socket_path, const char *name, const char *error)
{
        _cleanup_json_ json_t *h = wait_runs(socket_path, name, 1);

        assert_string_equal(field(last_run(h), "status"), "Failure");
        assert_string_equal(field(last_run(h), "error"), error);
}

/* --- saving ---------------------------------------------------------------------------- */

static void test_saving_a_hook_checks_its_script_and_events(void **state)
{
        struct ferryd_fixture *f = *state;
        struct api_answer a = {};

        api_call(f->socket_path, "POST", "/1.0/hooks",
                 "{\"name\": \"h\", \"events\": [\"batch-created\"], \"script\": \"function on_ev(e) end\"}", NULL, &a);
        api_assert_error(&a, 400, "Field 'script': Scriptlet 'h' does not define a function 'on_event'");
        api_answer_done(&a);

        api_call(f->socket_path, "POST", "/1.0/hooks",
                 "{\"name\": \"h\", \"events\": [\"Batch Created\"], \"script\": \"function on_event(e) end\"}", NULL,
                 &a);
        api_assert_error(&a, 400,
                         "Field 'events[0]' must be an event action like 'batch-created' (lower-case letters, digits "
                         "and '-') or '*', not 'Batch Created'");
        api_answer_done(&a);

        api_call(f->socket_path, "POST", "/1.0/hooks",
                 "{\"name\": \"h\", \"events\": [], \"script\": \"function on_event(e) end\"}", NULL, &a);
        api_assert_error(&a, 400, "Field 'events' must list at least one event action");
        api_answer_done(&a);

        api_call(f->socket_path, "POST", "/1.0/hooks",
                 "{\"name\": \"h\", \"events\": [\"*\"], \"script\": \"io.write('x') function on_event(e) end\"}",
                 NULL, &a);
        api_assert_error(&a, 400,
                         "Field 'script': Scriptlet 'h' failed at line 1: attempt to index a nil value (global 'io')");
        api_answer_done(&a);
}

/* --- runs ------------------------------------------------------------------------------ */

static void test_a_hook_overrides_an_instance_when_a_batch_is_created(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *h = NULL;
        struct api_answer a = {};
        json_t *override, *warnings, *w;
        bool found = false;
        size_t i;

        add_hook(f->socket_path, "tagger", "[\"batch-created\"]",
                 "function on_event(event)\n"
                 "  log_info('saw ' .. event.action .. ' of ' .. event.source)\n"
                 "  ferry.instance_override('" SEED_WEB01 "', {comment = 'in ' .. event.source})\n"
                 "  ferry.warn('Batch ' .. event.source .. ' needs a window')\n"
                 "end\n");
        add_batch(f->socket_path, "wave1");
        h = wait_runs(f->socket_path, "tagger", 1);
        assert_string_equal(field(last_run(h), "status"), "Success");
        assert_string_equal(field(last_run(h), "event"), "batch-created");
        assert_string_equal(field(last_run(h), "source"), "/1.0/batches/wave1");
        assert_string_equal(field(json_array_get(json_object_get(last_run(h), "log"), 0), "message"),
                            "saw batch-created of /1.0/batches/wave1");

        override = api_expect(f->socket_path, "GET", "/1.0/instances/" SEED_WEB01 "/override", NULL, 200, &a);
        assert_string_equal(field(override, "comment"), "in /1.0/batches/wave1");
        api_answer_done(&a);

        warnings = api_expect(f->socket_path, "GET", "/1.0/warnings?recursion=1", NULL, 200, &a);
        json_array_foreach(warnings, i, w)
                if (streq_ptr(field(w, "type"), "Hook warning") &&
                    streq_ptr(field(json_object_get(w, "scope"), "entity"), "tagger") &&
                    streq_ptr(json_string_value(json_array_get(json_object_get(w, "messages"), 0)),
                              "Batch /1.0/batches/wave1 needs a window"))
                        found = true;
        assert_true(found);
        api_answer_done(&a);
}

static void test_an_override_a_hook_makes_goes_through_validation(void **state)
{
        struct ferryd_fixture *f = *state;

        add_hook(f->socket_path, "bad", "[\"batch-created\"]",
                 "function on_event(event)\n"
                 "  ferry.instance_override('" SEED_WEB01 "', {cpus = 0})\n"
                 "end\n");
        add_batch(f->socket_path, "wave1");
        assert_last_failure(f->socket_path, "bad",
                            "Scriptlet 'bad' failed at line 2: instance_override: Field 'cpus' must be between 1 "
                            "and 4096");
}

static void test_queue_actions_make_the_api_checks(void **state)
{
        struct ferryd_fixture *f = *state;

        add_hook(f->socket_path, "stopper", "[\"batch-created\"]",
                 "function on_event(event)\n  ferry.batch_stop('wave1')\nend\n");
        add_batch(f->socket_path, "wave1");
        assert_last_failure(f->socket_path, "stopper",
                            "Scriptlet 'stopper' failed at line 2: batch_stop: Batch 'wave1' is Defined: only a "
                            "Running batch can be stopped");
}

static void test_a_queue_action_needs_a_string(void **state)
{
        struct ferryd_fixture *f = *state;

        add_hook(f->socket_path, "retry", "[\"batch-created\"]",
                 "function on_event(event)\n  ferry.queue_retry(42)\nend\n");
        add_batch(f->socket_path, "wave1");
        assert_last_failure(f->socket_path, "retry",
                            "Scriptlet 'retry' failed at line 2: queue_retry: The instance UUID must be a string");
}

static void test_a_hook_does_not_run_for_its_own_changes(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *h = NULL;
        struct api_answer a = {};

        add_hook(f->socket_path, "echo", "[\"instance-override-updated\"]",
                 "function on_event(event)\n"
                 "  ferry.instance_override('" SEED_WEB01 "', {description = 'touched by echo'})\n"
                 "end\n");
        api_expect(f->socket_path, "PATCH", "/1.0/instances/" SEED_WEB01 "/override", "{\"comment\": \"by hand\"}",
                   200, &a);
        api_answer_done(&a);
        h = wait_runs(f->socket_path, "echo", 1);
        assert_string_equal(field(last_run(h), "status"), "Success");
        /* Its own override-updated event would run it again: give it the chance. */
        usleep(500 * 1000);
        json_decref(h);
        h = wait_runs(f->socket_path, "echo", 1);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "runs"), "count")), 1);
}

static void test_a_hostile_hook_fails_while_ferryd_serves(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_json_ json_t *h = NULL;
        long start;

        add_hook(f->socket_path, "spin", "[\"batch-created\"]",
                 "function on_event(event)\n  local t = {}\n  while true do t[#t + 1] = tostring(#t) end\nend\n");
        add_batch(f->socket_path, "wave1");
        for (int i = 0; i < 5; i++) {
                struct api_answer a = {};

                start = now_ms();
                api_expect(f->socket_path, "GET", "/1.0/batches", NULL, 200, &a);
                assert_true(now_ms() - start < 500);
                api_answer_done(&a);
        }
        h = wait_runs(f->socket_path, "spin", 1);
        assert_string_equal(field(last_run(h), "status"), "Failure");
        assert_true(streq(field(last_run(h), "error"), "Scriptlet 'spin' exceeded its memory limit of 16 MiB") ||
                    streq(field(last_run(h), "error"),
                          "Scriptlet 'spin' exceeded its instruction limit of 10000000, at line 3"));
}

static void test_a_disabled_hook_does_not_run(void **state)
{
        struct ferryd_fixture *f = *state;
        struct api_answer a = {};
        json_t *h;

        add_hook(f->socket_path, "off", "[\"*\"]", "function on_event(e) end");
        api_expect(f->socket_path, "PATCH", "/1.0/hooks/off", "{\"enabled\": false}", 200, &a);
        api_answer_done(&a);
        add_hook(f->socket_path, "on", "[\"*\"]", "function on_event(e) end");
        add_batch(f->socket_path, "wave1");
        json_decref(wait_runs(f->socket_path, "on", 1));
        h = api_expect(f->socket_path, "GET", "/1.0/hooks/off", NULL, 200, &a);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "runs"), "count")), 0);
        api_answer_done(&a);
}

/* --- webhooks -------------------------------------------------------------------------- */

struct receiver {
        int fd;
        int port;
        char request[8192];
};

/* Accept one connection, read one request, answer 204. */
static void *receive_one(void *userdata)
{
        struct receiver *r = userdata;
        int c = accept(r->fd, NULL, NULL);
        size_t len = 0;

        if (c < 0)
                return NULL;
        for (;;) {
                ssize_t n = read(c, r->request + len, sizeof(r->request) - 1 - len);
                char *body;
                long want;

                if (n <= 0)
                        break;
                len += (size_t) n;
                r->request[len] = '\0';
                body = strstr(r->request, "\r\n\r\n");
                if (!body)
                        continue;
                want = strcasestr(r->request, "Content-Length:") ? atol(strcasestr(r->request, "Content-Length:") + 15)
                                                                 : 0;
                if ((long) (len - (size_t) (body + 4 - r->request)) >= want)
                        break;
        }
        (void) !write(c, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 66);
        close(c);
        return NULL;
}

static void test_a_webhook_posts_json_to_loopback(void **state)
{
        struct ferryd_fixture *f = *state;
        struct receiver r = {};
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t sl = sizeof(sa);
        _cleanup_free_ char *script = NULL;
        _cleanup_json_ json_t *h = NULL;
        pthread_t t;

        r.fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(r.fd >= 0);
        assert_int_equal(bind(r.fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(r.fd, 1), 0);
        assert_int_equal(getsockname(r.fd, (struct sockaddr *) &sa, &sl), 0);
        r.port = ntohs(sa.sin_port);
        assert_int_equal(pthread_create(&t, NULL, receive_one, &r), 0);

        assert_true(asprintf(&script,
                             "function on_event(event)\n"
                             "  local answer = ferry.webhook('http://127.0.0.1:%d/hook?x=1', {action = event.action,\n"
                             "                               source = event.source, n = 1})\n"
                             "  log_info('status ' .. answer.status)\n"
                             "end\n",
                             r.port) > 0);
        add_hook(f->socket_path, "notify", "[\"batch-created\"]", script);
        add_batch(f->socket_path, "wave1");
        h = wait_runs(f->socket_path, "notify", 1);
        assert_int_equal(pthread_join(t, NULL), 0);
        close(r.fd);

        assert_string_equal(field(last_run(h), "status"), "Success");
        assert_string_equal(field(json_array_get(json_object_get(last_run(h), "log"), 0), "message"), "status 204");
        assert_true(startswith(r.request, "POST /hook?x=1 HTTP/1.1\r\n"));
        assert_non_null(strcasestr(r.request, "Content-Type: application/json"));
        {
                _cleanup_json_ json_t *body = json_loads(strstr(r.request, "\r\n\r\n") + 4, 0, NULL);

                assert_non_null(body);
                assert_string_equal(field(body, "action"), "batch-created");
                assert_string_equal(field(body, "source"), "/1.0/batches/wave1");
                assert_int_equal(json_integer_value(json_object_get(body, "n")), 1);
        }
}

static void test_a_webhook_to_plain_http_elsewhere_is_refused(void **state)
{
        struct ferryd_fixture *f = *state;

        add_hook(f->socket_path, "leak", "[\"batch-created\"]",
                 "function on_event(event)\n  ferry.webhook('http://192.0.2.1/x', {})\nend\n");
        add_batch(f->socket_path, "wave1");
        assert_last_failure(f->socket_path, "leak",
                            "Scriptlet 'leak' failed at line 2: webhook: Webhook URL 'http://192.0.2.1/x' must be "
                            "https://, or http:// to 127.0.0.1, [::1] or localhost");
}

/* --- the shipped hooks (scriptlets/hooks) ---------------------------------------------- */

/* CONFIG (may be NULL) followed by the shipped hook file. */
static char *shipped(const char *file, const char *config)
{
        _cleanup_free_ char *path = strjoin(SCRIPTLETS_DIR, "/hooks/", file, NULL), *text = NULL;
        size_t len;
        char *all;

        assert_int_equal(fileio_read(path, 1024 * 1024, &text, &len), 0);
        all = config ? strjoin("CONFIG = ", config, "\n", text, NULL) : strdup(text);
        assert_non_null(all);
        return all;
}

static void test_shipped_ack_hook_acknowledges_the_warning_an_override_resolved(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *src = shipped("ack-resolved-warnings.lua", NULL);
        _cleanup_json_ json_t *h = NULL;
        struct api_answer a = {};
        json_t *warnings, *w;
        const char *status = NULL;
        size_t i;

        add_hook(f->socket_path, "ack", "[\"instance-override-updated\"]", src);
        /* A comment resolves nothing. */
        api_expect(f->socket_path, "PATCH", "/1.0/instances/" SEED_DB01 "/override", "{\"comment\": \"x\"}", 200, &a);
        api_answer_done(&a);
        json_decref(wait_runs(f->socket_path, "ack", 1));
        api_expect(f->socket_path, "PATCH", "/1.0/instances/" SEED_DB01 "/override", "{\"os\": \"Debian\"}", 200, &a);
        api_answer_done(&a);
        h = wait_runs(f->socket_path, "ack", 2);
        {
                _cleanup_free_ char *text = json_dumps(last_run(h), 0);

                if (!streq_ptr(field(last_run(h), "status"), "Success") ||
                    !json_array_size(json_object_get(last_run(h), "log")))
                        fail_msg("%s", text);
        }
        assert_string_equal(field(json_array_get(json_object_get(last_run(h), "log"), 0), "message"),
                            "Override of db01 resolves: Could not determine instance OS");

        warnings = api_expect(f->socket_path, "GET", "/1.0/warnings?recursion=1", NULL, 200, &a);
        json_array_foreach(warnings, i, w)
                if (streq_ptr(field(w, "type"), "Could not determine instance OS"))
                        status = field(w, "status");
        assert_non_null(status);
        assert_string_equal(status, "acknowledged");
        api_answer_done(&a);
}

static void test_shipped_next_batch_hook_starts_the_next_wave(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *src = shipped("next-batch.lua", "{next = {pilot = 'wave1'}}");
        _cleanup_json_ json_t *h = NULL, *wave8 = NULL, *entry = NULL;
        struct api_answer a = {};

        /* The hook reads only the batch from the event: a delete triggers it
         * here; test-ferryd-queue drives it with a real batch-finished. */
        add_hook(f->socket_path, "next", "[\"batch-deleted\"]", src);
        add_batch(f->socket_path, "wave7");
        add_batch(f->socket_path, "wave8");
        api_expect(f->socket_path, "DELETE", "/1.0/batches/wave7", NULL, 200, &a);
        api_answer_done(&a);
        h = wait_runs(f->socket_path, "next", 1);
        assert_string_equal(field(json_array_get(json_object_get(last_run(h), "log"), 0), "message"),
                            "Batch wave7 finished: starting wave8");
        assert_string_equal(field(last_run(h), "status"), "Success");

        /* Started through the API's path: web01 is queued elsewhere, db01 is blocked by its unknown OS. */
        wave8 = json_deep_copy(api_expect(f->socket_path, "GET", "/1.0/batches/wave8", NULL, 200, &a));
        api_answer_done(&a);
        assert_string_equal(field(wave8, "status"), "Error");
        entry = json_deep_copy(api_expect(f->socket_path, "GET", "/1.0/queue/" SEED_DB01, NULL, 200, &a));
        api_answer_done(&a);
        assert_string_equal(field(entry, "batch"), "wave8");
        assert_string_equal(field(entry, "status"), "Blocked");
}

static void test_shipped_webhook_hook_posts_the_failure(void **state)
{
        struct ferryd_fixture *f = *state;
        struct receiver r = {};
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t sl = sizeof(sa);
        _cleanup_free_ char *config = NULL, *src = NULL;
        _cleanup_json_ json_t *h = NULL, *body = NULL;
        pthread_t t;

        r.fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(r.fd >= 0);
        assert_int_equal(bind(r.fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(r.fd, 1), 0);
        assert_int_equal(getsockname(r.fd, (struct sockaddr *) &sa, &sl), 0);
        assert_int_equal(pthread_create(&t, NULL, receive_one, &r), 0);
        assert_true(asprintf(&config, "{url = 'http://127.0.0.1:%d/ferry'}", ntohs(sa.sin_port)) > 0);
        src = shipped("webhook-on-failure.lua", config);

        /* A hook's ferry.warn() creates a warning: the kind of event this hook is for. */
        add_hook(f->socket_path, "notify", "[\"warning-created\"]", src);
        add_hook(f->socket_path, "warner", "[\"batch-created\"]",
                 "function on_event(e) ferry.warn('Batch ' .. e.source .. ' has no window') end");
        add_batch(f->socket_path, "wave1");
        h = wait_runs(f->socket_path, "notify", 1);
        assert_int_equal(pthread_join(t, NULL), 0);
        close(r.fd);
        assert_string_equal(field(last_run(h), "status"), "Success");
        assert_true(startswith(r.request, "POST /ferry HTTP/1.1\r\n"));
        body = json_loads(strstr(r.request, "\r\n\r\n") + 4, 0, NULL);
        assert_non_null(body);
        assert_string_equal(field(body, "action"), "warning-created");
        assert_true(startswith(field(body, "source"), "/1.0/warnings/"));
        assert_true(startswith(field(body, "text"), "ferry: warning-created /1.0/warnings/"));
}

/* --- the CLI --------------------------------------------------------------------------- */

static void test_ferry_hook_add_list_show_remove(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *dir = tmpdir_new(), *file = NULL, *out = NULL, *list = NULL, *show = NULL,
                            *gone = NULL;
        FILE *fp;

        assert_true(asprintf(&file, "%s/h.lua", dir) > 0);
        fp = fopen(file, "w");
        assert_non_null(fp);
        fputs("function on_event(event)\n  error('boom on ' .. event.action)\nend\n", fp);
        fclose(fp);

        out = proc_run_stdout(0, (char *const[]) { (char *) FERRY_PATH, (char *) "--socket", f->socket_path,
                                                   (char *) "hook", (char *) "add", (char *) "h1", file,
                                                   (char *) "--events", (char *) "batch-created,batch-deleted",
                                                   NULL });
        assert_string_equal(out, "Hook h1 added\n");
        add_batch(f->socket_path, "wave1");
        json_decref(wait_runs(f->socket_path, "h1", 1));

        list = proc_run_stdout(0, (char *const[]) { (char *) FERRY_PATH, (char *) "--socket", f->socket_path,
                                                    (char *) "hook", (char *) "list", (char *) "-f", (char *) "csv",
                                                    NULL });
        assert_contains(list, "h1,\"batch-created, batch-deleted\",YES,1,");
        assert_contains(list, ",Failure,Scriptlet 'h1' failed at line 2: boom on batch-created\n");

        show = proc_run_stdout(0, (char *const[]) { (char *) FERRY_PATH, (char *) "--socket", f->socket_path,
                                                    (char *) "hook", (char *) "show", (char *) "h1", NULL });
        assert_contains(show, "status: Failure");
        assert_contains(show, "event: batch-created");

        gone = proc_run_stdout(0, (char *const[]) { (char *) FERRY_PATH, (char *) "--socket", f->socket_path,
                                                    (char *) "hook", (char *) "remove", (char *) "h1", NULL });
        assert_string_equal(gone, "Hook h1 removed\n");
        unlink(file);
        tmpdir_remove(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, ferryd_fixture_teardown)
                T(test_saving_a_hook_checks_its_script_and_events),
                T(test_a_hook_overrides_an_instance_when_a_batch_is_created),
                T(test_an_override_a_hook_makes_goes_through_validation),
                T(test_queue_actions_make_the_api_checks),
                T(test_a_queue_action_needs_a_string),
                T(test_a_hook_does_not_run_for_its_own_changes),
                T(test_a_hostile_hook_fails_while_ferryd_serves),
                T(test_a_disabled_hook_does_not_run),
                T(test_a_webhook_posts_json_to_loopback),
                T(test_a_webhook_to_plain_http_elsewhere_is_refused),
                T(test_ferry_hook_add_list_show_remove),
                T(test_shipped_ack_hook_acknowledges_the_warning_an_override_resolved),
                T(test_shipped_next_batch_hook_starts_the_next_wave),
                T(test_shipped_webhook_hook_posts_the_failure),
#undef T
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
