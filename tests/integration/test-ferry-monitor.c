/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferryd's event stream (GET /1.0/events) through the built `ferry
 * monitor`, and through a raw websocket client for what ferry does not do:
 * sending a bad request, and never reading.  ferryd runs with
 * --log-level debug, so that its stderr tells when a listener is
 * subscribed ("Event listener connected") and its log lines make logging
 * events.  Needs no lab.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/http.h"
#include "common/json.h"
#include "common/macros.h"
#include "common/strbuf.h"
#include "ferryd-fixture.h"

#ifndef FERRYD_PATH
#error "FERRYD_PATH must name the ferryd binary under test"
#endif
#ifndef FERRY_PATH
#error "FERRY_PATH must name the ferry binary under test"
#endif

#define WAIT_MS 20000
#define CONNECTED_LINE "Event listener connected"
#define UNKNOWN_TYPE_ERROR "Unknown event type 'bogus': use lifecycle, operation or logging"

struct fixture {
        struct ferryd_fixture *server;
        struct proc monitor;
        struct http_client *http;
        int raw_fd;                     /* a raw websocket client, or -1 */
};

static void sleep_ms(int ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->server = ferryd_fixture_new(FERRYD_PATH);
        f->raw_fd = -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        int r;

        proc_cleanup(&f->monitor);
        if (f->raw_fd >= 0)
                close(f->raw_fd);
        http_client_free(f->http);
        r = ferryd_fixture_stop(f->server);
        ferryd_fixture_free(f->server);
        free(f);
        return r;
}

/* ferryd at debug level: see the file comment. */
static void start_ferryd(struct fixture *f)
{
        struct ferry_error err = {};
        _cleanup_free_ char *endpoint = NULL;

        proc_start(&f->server->ferryd, (char *const[]) { (char *) f->server->ferryd_path, "--data-dir",
                                                         f->server->data_dir, "--log-level", "debug", NULL });
        proc_wait_for_socket(&f->server->ferryd, f->server->socket_path, FERRYD_START_TIMEOUT_MS);

        assert_non_null(endpoint = strjoin("unix://", f->server->socket_path, NULL));
        f->http = http_client_new(&(struct http_client_config) { .endpoint = endpoint, .timeout_ms = 10000 }, &err);
        if (!f->http)
                fail_msg("http_client_new(): %s", err.message);
}

static size_t count_occurrences(const char *haystack, const char *needle)
{
        size_t n = 0;

        for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/* Wait until ferryd has logged `line` n times in all. */
static void wait_for_ferryd_line(struct fixture *f, const char *line, size_t n)
{
        for (int waited = 0;; waited += 10) {
                _cleanup_free_ char *err = proc_stderr(&f->server->ferryd);

                if (count_occurrences(err, line) >= n)
                        return;
                if (waited >= WAIT_MS)
                        fail_msg("ferryd did not log '%s' %zu times within %d ms; its stderr:\n%s", line, n, WAIT_MS,
                                 err);
                sleep_ms(10);
        }
}

/* Start `ferry monitor ARGS...` and wait until ferryd has subscribed it,
 * the `listeners`th listener of this ferryd. */
static void start_monitor(struct fixture *f, size_t listeners, ...)
{
        char *argv[16] = { (char *) FERRY_PATH, "--socket", f->server->socket_path, "monitor" };
        size_t n = 4;
        va_list ap;

        va_start(ap, listeners);
        for (char *a; (a = va_arg(ap, char *));) {
                assert_true(n < ELEMENTSOF(argv) - 1);
                argv[n++] = a;
        }
        va_end(ap);

        proc_start(&f->monitor, argv);
        wait_for_ferryd_line(f, CONNECTED_LINE, listeners);
}

static long api(struct fixture *f, const char *method, const char *path, const char *body)
{
        struct http_response resp = {};
        struct ferry_error err = {};
        long status;

        if (http_request(f->http, method, path, body ? "application/json" : NULL, body, body ? strlen(body) : 0,
                         NULL, &resp, &err) < 0)
                fail_msg("%s %s: %s", method, path, err.message);
        status = resp.status;
        http_response_done(&resp);
        return status;
}

static void api_ok(struct fixture *f, const char *method, const char *path, const char *body)
{
        long status = api(f, method, path, body);

        if (status < 200 || status > 299)
                fail_msg("%s %s: HTTP %ld", method, path, status);
}

/* Wait for the monitor to exit with status; return its stdout. */
static char *monitor_output(struct fixture *f, int status)
{
        int r = proc_wait(&f->monitor, WAIT_MS);

        if (r != status) {
                _cleanup_free_ char *err = proc_stderr(&f->monitor);

                fail_msg("ferry monitor exited with %d, not %d; its stderr:\n%s", r, status, err);
        }
        return proc_stdout(&f->monitor);
}

/* The monitor's -f json output: one event per line. */
static json_t *parse_json_lines(const char *out)
{
        json_t *events = json_array();

        assert_non_null(events);
        for (const char *p = out; *p;) {
                const char *nl = strchr(p, '\n');
                json_error_t jerr;
                json_t *e;

                if (!nl)
                        fail_msg("Output does not end with a newline: %s", p);
                e = json_loadb(p, (size_t) (nl - p), 0, &jerr);
                if (!e || !json_is_object(e))
                        fail_msg("Not a JSON object (%s): %.*s", jerr.text, (int) (nl - p), p);
                assert_int_equal(json_array_append_new(events, e), 0);
                p = nl + 1;
        }
        return events;
}

static const char *string_at(const json_t *v, const char *key)
{
        const char *s = json_string_value(json_object_get(v, key));

        if (!s)
                fail_msg("'%s' is not a string", key);
        return s;
}

static void assert_lifecycle(const json_t *e, const char *action, const char *source)
{
        const json_t *m = json_object_get(e, "metadata");

        assert_string_equal(string_at(e, "type"), "lifecycle");
        assert_true(strlen(string_at(e, "timestamp")) >= 20);
        assert_string_equal(string_at(m, "action"), action);
        assert_string_equal(string_at(m, "source"), source);
        assert_true(json_is_object(json_object_get(m, "context")));
        assert_string_equal(string_at(json_object_get(m, "requestor"), "protocol"), "unix");
}

static void test_monitor_prints_each_create_update_and_delete_in_order(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL;
        _cleanup_json_ json_t *events = NULL;

        start_ferryd(f);
        start_monitor(f, 1, "--type", "lifecycle", "-f", "json", "--count", "5", NULL);

        api_ok(f, "POST", "/1.0/batches", "{\"name\": \"wave1\", \"include_expression\": \"cpus > 1\"}");
        api_ok(f, "PUT", "/1.0/batches/wave1", "{\"include_expression\": \"cpus > 2\"}");
        api_ok(f, "PATCH", "/1.0/batches/wave1", "{\"include_expression\": \"cpus > 3\"}");
        api_ok(f, "POST", "/1.0/batches", "{\"name\": \"wave2\", \"include_expression\": \"true\"}");
        /* A refused change is no event. */
        assert_int_equal(api(f, "POST", "/1.0/batches", "{\"name\": \"wave2\", \"include_expression\": \"true\"}"),
                         409);
        api_ok(f, "DELETE", "/1.0/batches/wave1", NULL);

        out = monitor_output(f, 0);
        events = parse_json_lines(out);
        assert_int_equal(json_array_size(events), 5);
        assert_lifecycle(json_array_get(events, 0), "batch-created", "/1.0/batches/wave1");
        assert_lifecycle(json_array_get(events, 1), "batch-updated", "/1.0/batches/wave1");
        assert_lifecycle(json_array_get(events, 2), "batch-updated", "/1.0/batches/wave1");
        assert_lifecycle(json_array_get(events, 3), "batch-created", "/1.0/batches/wave2");
        assert_lifecycle(json_array_get(events, 4), "batch-deleted", "/1.0/batches/wave1");
}

static void test_monitor_pretty_prints_one_line_per_lifecycle_event(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL;
        char timestamp[64], rest[256];

        start_ferryd(f);
        start_monitor(f, 1, "--type", "lifecycle", "--count", "2", NULL);

        api_ok(f, "POST", "/1.0/batches", "{\"name\": \"wave1\", \"include_expression\": \"true\"}");
        api_ok(f, "DELETE", "/1.0/batches/wave1", NULL);

        out = monitor_output(f, 0);
        /* "TIMESTAMP lifecycle ACTION SOURCE" */
        assert_int_equal(sscanf(out, "%63s %255[^\n]", timestamp, rest), 2);
        assert_true(timestamp[4] == '-' && timestamp[10] == 'T' && timestamp[strlen(timestamp) - 1] == 'Z');
        assert_string_equal(rest, "lifecycle batch-created /1.0/batches/wave1");
        assert_int_equal(sscanf(strchr(out, '\n') + 1, "%63s %255[^\n]", timestamp, rest), 2);
        assert_string_equal(rest, "lifecycle batch-deleted /1.0/batches/wave1");
        assert_int_equal(count_occurrences(out, "\n"), 2);
}

static void test_monitor_yaml_output_is_one_document_per_event(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL;

        start_ferryd(f);
        start_monitor(f, 1, "--type", "lifecycle", "-f", "yaml", "--count", "2", NULL);

        api_ok(f, "POST", "/1.0/batches", "{\"name\": \"wave1\", \"include_expression\": \"true\"}");
        api_ok(f, "DELETE", "/1.0/batches/wave1", NULL);

        out = monitor_output(f, 0);
        assert_true(strncmp(out, "---\n", 4) == 0);
        assert_int_equal(count_occurrences(out, "---\n"), 2);
        assert_contains(out, "type: lifecycle\n");
        assert_contains(out, "  action: batch-created\n");
        assert_contains(out, "  action: batch-deleted\n");
        assert_contains(out, "  source: /1.0/batches/wave1\n");
}

static void test_a_logging_listener_gets_only_logging_events(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL;
        _cleanup_json_ json_t *events = NULL;
        bool saw_request = false;
        size_t i;
        json_t *e;

        start_ferryd(f);
        start_monitor(f, 1, "--type", "logging", "-f", "json", "--count", "3", NULL);

        /* One lifecycle event and, at debug level, log lines. */
        api_ok(f, "POST", "/1.0/batches", "{\"name\": \"wave1\", \"include_expression\": \"true\"}");

        out = monitor_output(f, 0);
        events = parse_json_lines(out);
        assert_int_equal(json_array_size(events), 3);
        json_array_foreach(events, i, e) {
                const json_t *m = json_object_get(e, "metadata");

                assert_string_equal(string_at(e, "type"), "logging");
                assert_string_equal(string_at(m, "level"), "debug");
                assert_true(json_is_object(json_object_get(m, "context")));
                if (streq(string_at(m, "message"), "POST /1.0/batches: 200"))
                        saw_request = true;
        }
        /* The first line logged after it subscribed is its own. */
        assert_string_equal(string_at(json_object_get(json_array_get(events, 0), "metadata"), "message"),
                            CONNECTED_LINE ": logging");
        assert_true(saw_request);
}

static void test_an_unknown_type_is_refused_with_a_clear_message(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;

        start_ferryd(f);
        err = proc_run_stderr(1, (char *const[]) { FERRY_PATH, "--socket", f->server->socket_path, "monitor",
                                                   "--type", "lifecycle,bogus", NULL });
        assert_string_equal(err, "Error: " UNKNOWN_TYPE_ERROR "\n");
}

static void test_monitor_without_ferryd_says_it_cannot_connect(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL, *expected = NULL;

        err = proc_run_stderr(1, (char *const[]) { FERRY_PATH, "--socket", f->server->socket_path, "monitor",
                                                   NULL });
        assert_non_null(expected = strjoin("Error: Cannot connect to ferryd at '", f->server->socket_path,
                                           "': No such file or directory. Is ferryd running?\n", NULL));
        assert_string_equal(err, expected);
}

static void test_monitor_fails_when_ferryd_stops(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL, *err = NULL;

        start_ferryd(f);
        start_monitor(f, 1, NULL);

        assert_int_equal(ferryd_fixture_stop(f->server), 0);

        out = monitor_output(f, 1);
        err = proc_stderr(&f->monitor);
        assert_string_equal(err, "Error: ferryd closed the event stream\n");
}

static void test_monitor_exits_cleanly_on_sigint(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL, *err = NULL;

        start_ferryd(f);
        start_monitor(f, 1, "--type", "lifecycle", NULL);
        api_ok(f, "POST", "/1.0/batches", "{\"name\": \"wave1\", \"include_expression\": \"true\"}");

        /* The event is out before the signal: it is printed, then ferry stops. */
        for (int waited = 0;; waited += 10) {
                _cleanup_free_ char *so_far = proc_stdout(&f->monitor);

                if (strstr(so_far, "batch-created"))
                        break;
                if (waited >= WAIT_MS)
                        fail_msg("ferry monitor printed no event within %d ms", WAIT_MS);
                sleep_ms(10);
        }
        assert_int_equal(kill(f->monitor.pid, SIGINT), 0);

        out = monitor_output(f, 0);
        err = proc_stderr(&f->monitor);
        assert_string_equal(err, "");
        assert_int_equal(count_occurrences(out, "\n"), 1);
        assert_contains(out, " lifecycle batch-created /1.0/batches/wave1\n");
}

static void test_monitor_checks_its_options(void **state)
{
        struct fixture *f = *state;

        (void) f;
        assert_usage_error((char *const[]) { FERRY_PATH, "monitor", "-f", "xml", NULL },
                           "ferry: Invalid format 'xml': use pretty, json or yaml\n", NULL);
        assert_usage_error((char *const[]) { FERRY_PATH, "monitor", "--count", "0", NULL },
                           "ferry: Invalid --count '0': must be a number of at least 1\n", NULL);
        assert_usage_error((char *const[]) { FERRY_PATH, "monitor", "--count", "-3", NULL },
                           "ferry: Invalid --count '-3': must be a number of at least 1\n", NULL);
        assert_usage_error((char *const[]) { FERRY_PATH, "monitor", "--bogus", NULL },
                           "ferry: Unknown option '--bogus'\n", NULL);
        assert_usage_error((char *const[]) { FERRY_PATH, "monitor", "--type", NULL },
                           "ferry: Option '--type' needs a value\n", NULL);
        assert_usage_error((char *const[]) { FERRY_PATH, "monitor", "lifecycle", NULL },
                           "ferry: 'ferry monitor' takes no arguments\n", NULL);
}

/* A websocket client of our own: connect, send the upgrade of path (with
 * the extra header lines, "" for none), and return the socket once the
 * answer's headers are read into headers. */
static int raw_upgrade_with(struct fixture *f, const char *path, const char *extra, char *headers, size_t size)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_free_ char *request = NULL;
        size_t len = 0;
        int fd;

        assert_true(strlen(f->server->socket_path) < sizeof(sa.sun_path));
        memcpy(sa.sun_path, f->server->socket_path, strlen(f->server->socket_path));
        assert_true((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
        assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);

        assert_non_null(request = strjoin("GET ", path, " HTTP/1.1\r\n"
                                          "Host: ferry\r\n"
                                          "Upgrade: websocket\r\n"
                                          "Connection: Upgrade\r\n"
                                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                          "Sec-WebSocket-Version: 13\r\n",
                                          extra, "\r\n", NULL));
        assert_int_equal(write(fd, request, strlen(request)), (ssize_t) strlen(request));

        /* Byte by byte: nothing after the headers is consumed. */
        while (len < 4 || memcmp(headers + len - 4, "\r\n\r\n", 4) != 0) {
                struct pollfd p = { .fd = fd, .events = POLLIN };

                assert_true(len < size - 1);
                if (poll(&p, 1, WAIT_MS) != 1)
                        fail_msg("No answer to the upgrade of '%s' within %d ms", path, WAIT_MS);
                assert_int_equal(read(fd, headers + len, 1), 1);
                len++;
        }
        headers[len] = '\0';
        return fd;
}

static int raw_upgrade(struct fixture *f, const char *path, char *headers, size_t size)
{
        return raw_upgrade_with(f, path, "", headers, size);
}

/* The JSON envelope after a refusal's headers. */
static json_t *read_refusal(int fd)
{
        char buf[2048];
        json_error_t jerr;
        json_t *body;
        ssize_t n;

        n = read(fd, buf, sizeof(buf) - 1);
        assert_true(n > 0);
        buf[n] = '\0';
        body = json_loads(buf, 0, &jerr);
        if (!body)
                fail_msg("The refusal is not JSON (%s): %s", jerr.text, buf);
        assert_string_equal(string_at(body, "type"), "error");
        return body;
}

static void test_a_raw_upgrade_with_an_unknown_type_gets_400_and_the_error_envelope(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *body = NULL;
        char headers[2048];

        start_ferryd(f);
        f->raw_fd = raw_upgrade(f, "/1.0/events?type=lifecycle,bogus", headers, sizeof(headers));

        assert_true(strncmp(headers, "HTTP/1.", 7) == 0);
        assert_true(strncmp(headers + 8, " 400 ", 5) == 0);
        assert_contains(headers, "content-type: application/json\r\n");

        body = read_refusal(f->raw_fd);
        assert_int_equal(json_integer_value(json_object_get(body, "error_code")), 400);
        assert_string_equal(string_at(body, "error"), UNKNOWN_TYPE_ERROR);
}

static void test_a_raw_upgrade_without_a_subprotocol_is_accepted(void **state)
{
        struct fixture *f = *state;
        char headers[2048];

        start_ferryd(f);
        f->raw_fd = raw_upgrade(f, "/1.0/events?type=lifecycle", headers, sizeof(headers));

        assert_true(strncmp(headers, "HTTP/1.1 101 ", 13) == 0);
        /* s3pPLMBiTxaQ9kYGzzhZRbK+xOo= is RFC 6455's answer to that key. */
        assert_contains(headers, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        wait_for_ferryd_line(f, CONNECTED_LINE ": lifecycle", 1);
}

static void test_a_raw_upgrade_naming_a_subprotocol_gets_400(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *body = NULL;
        char headers[2048];

        start_ferryd(f);
        f->raw_fd = raw_upgrade_with(f, "/1.0/events", "Sec-WebSocket-Protocol: chat\r\n", headers, sizeof(headers));

        assert_true(strncmp(headers + 8, " 400 ", 5) == 0);
        body = read_refusal(f->raw_fd);
        assert_string_equal(string_at(body, "error"),
                            "The event stream has no subprotocol: send no Sec-WebSocket-Protocol header, not 'chat'");
}

static void test_listeners_beyond_the_limit_get_503_until_one_leaves(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *body = NULL;
        int fds[128];
        char headers[2048];
        int fd;

        start_ferryd(f);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++) {
                fds[i] = raw_upgrade(f, "/1.0/events?type=lifecycle", headers, sizeof(headers));
                assert_true(strncmp(headers, "HTTP/1.1 101 ", 13) == 0);
        }
        wait_for_ferryd_line(f, CONNECTED_LINE, ELEMENTSOF(fds));

        f->raw_fd = raw_upgrade(f, "/1.0/events?type=lifecycle", headers, sizeof(headers));
        assert_true(strncmp(headers + 8, " 503 ", 5) == 0);
        body = read_refusal(f->raw_fd);
        assert_string_equal(string_at(body, "error"), "Too many event listeners (128): try again later");

        /* One leaves: there is room for one more. */
        close(fds[0]);
        wait_for_ferryd_line(f, "Event listener disconnected", 1);
        fd = raw_upgrade(f, "/1.0/events?type=lifecycle", headers, sizeof(headers));
        assert_true(strncmp(headers, "HTTP/1.1 101 ", 13) == 0);

        close(fd);
        for (size_t i = 1; i < ELEMENTSOF(fds); i++)
                close(fds[i]);
}

static long ferryd_status_kb(struct fixture *f, const char *field)
{
        char path[64], line[256];
        long kb = -1;
        FILE *s;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) f->server->ferryd.pid);
        assert_non_null(s = fopen(path, "re"));
        while (fgets(line, sizeof(line), s))
                if (strncmp(line, field, strlen(field)) == 0 && line[strlen(field)] == ':')
                        kb = strtol(line + strlen(field) + 1, NULL, 10);
        fclose(s);
        assert_true(kb > 0);
        return kb;
}

/* Read what the dropped client's socket still holds, until ferryd's end
 * is closed: true once it is, false if data still flows after WAIT_MS. */
static bool drains_to_end(int fd)
{
        char buf[65536];

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t n;

                if (poll(&p, 1, WAIT_MS) != 1)
                        return false;
                n = read(fd, buf, sizeof(buf));
                if (n == 0 || (n < 0 && errno == ECONNRESET))
                        return true;
                assert_true(n > 0);
        }
}

static void test_a_client_that_never_reads_is_dropped_and_ferryd_stays_small(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL, *out = NULL;
        char headers[2048], body[128];
        long rss_before, rss_after, hwm;
        int requests = 0;

        start_ferryd(f);
        f->raw_fd = raw_upgrade(f, "/1.0/events", headers, sizeof(headers));
        assert_true(strncmp(headers, "HTTP/1.1 101 ", 13) == 0);
        wait_for_ferryd_line(f, CONNECTED_LINE, 1);

        api_ok(f, "POST", "/1.0/batches", "{\"name\": \"wave1\", \"include_expression\": \"true\"}");
        rss_before = ferryd_status_kb(f, "VmRSS");

        /* Each change is a lifecycle event and two debug lines; the client
         * reads none of them.  Go on until ferryd gives up on it. */
        for (;; requests++) {
                if (requests % 100 == 0) {
                        _cleanup_free_ char *so_far = proc_stderr(&f->server->ferryd);

                        if (strstr(so_far, "Dropping an event listener"))
                                break;
                        if (requests >= 20000)
                                fail_msg("ferryd did not drop the listener after %d changes", requests);
                }
                snprintf(body, sizeof(body), "{\"include_expression\": \"cpus > %d\"}", requests);
                api_ok(f, "PATCH", "/1.0/batches/wave1", body);
        }

        /* As many changes again: nobody holds them now. */
        for (int i = 0; i < requests; i++) {
                snprintf(body, sizeof(body), "{\"include_expression\": \"cpus > %d\"}", i);
                api_ok(f, "PATCH", "/1.0/batches/wave1", body);
        }
        rss_after = ferryd_status_kb(f, "VmRSS");
        hwm = ferryd_status_kb(f, "VmHWM");
        print_message("ferryd dropped the listener after %d changes; RSS %ld kB before, %ld kB after %d more "
                      "changes, peak %ld kB\n", requests, rss_before, rss_after, requests, hwm);

        assert_true(drains_to_end(f->raw_fd));

        err = proc_stderr(&f->server->ferryd);
        assert_contains(err, "ferryd: warning: Dropping an event listener that fell 1024 events (");
        assert_contains(err, CONNECTED_LINE);

        /* ferryd serves the next listener as before. */
        start_monitor(f, 2, "--type", "lifecycle", "-f", "json", "--count", "1", NULL);
        api_ok(f, "DELETE", "/1.0/batches/wave1", NULL);
        out = monitor_output(f, 0);
        assert_contains(out, "\"action\":\"batch-deleted\"");
}

static void test_a_stopped_monitor_is_dropped_and_says_so_when_it_resumes(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL, *out = NULL;
        char body[128];

        start_ferryd(f);
        start_monitor(f, 1, "--type", "lifecycle", "-f", "json", NULL);
        api_ok(f, "POST", "/1.0/batches", "{\"name\": \"wave1\", \"include_expression\": \"true\"}");

        /* A monitor that stops reading (here: stopped) falls behind. */
        assert_int_equal(kill(f->monitor.pid, SIGSTOP), 0);
        for (int i = 0;; i++) {
                if (i % 100 == 0) {
                        _cleanup_free_ char *so_far = proc_stderr(&f->server->ferryd);

                        if (strstr(so_far, "Dropping an event listener"))
                                break;
                        if (i >= 20000)
                                fail_msg("ferryd did not drop the stopped monitor after %d changes", i);
                }
                snprintf(body, sizeof(body), "{\"include_expression\": \"cpus > %d\"}", i);
                api_ok(f, "PATCH", "/1.0/batches/wave1", body);
        }
        assert_int_equal(kill(f->monitor.pid, SIGCONT), 0);

        /* It prints what reached it, then says the stream ended. */
        out = monitor_output(f, 1);
        err = proc_stderr(&f->monitor);
        assert_true(strncmp(err, "Error: ferryd closed the event stream", 37) == 0);
        assert_contains(out, "\"action\":\"batch-created\"");
        print_message("The resumed monitor printed %zu events, then: %s", count_occurrences(out, "\n"), err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_monitor_prints_each_create_update_and_delete_in_order, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_monitor_pretty_prints_one_line_per_lifecycle_event, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_monitor_yaml_output_is_one_document_per_event, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_logging_listener_gets_only_logging_events, setup, teardown),
                cmocka_unit_test_setup_teardown(test_an_unknown_type_is_refused_with_a_clear_message, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_monitor_without_ferryd_says_it_cannot_connect, setup, teardown),
                cmocka_unit_test_setup_teardown(test_monitor_fails_when_ferryd_stops, setup, teardown),
                cmocka_unit_test_setup_teardown(test_monitor_exits_cleanly_on_sigint, setup, teardown),
                cmocka_unit_test_setup_teardown(test_monitor_checks_its_options, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_raw_upgrade_with_an_unknown_type_gets_400_and_the_error_envelope,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_raw_upgrade_without_a_subprotocol_is_accepted, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_a_raw_upgrade_naming_a_subprotocol_gets_400, setup, teardown),
                cmocka_unit_test_setup_teardown(test_listeners_beyond_the_limit_get_503_until_one_leaves, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_a_client_that_never_reads_is_dropped_and_ferryd_stays_small,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_stopped_monitor_is_dropped_and_says_so_when_it_resumes,
                                                setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
