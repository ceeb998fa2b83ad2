/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP client's configuration checks, and what it sends and keeps
 * of one exchange with a one-shot server forked on a unix socket (the
 * peers themselves are tested in tests/integration). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/http.h"
#include "common/strbuf.h"

static void assert_config_refused(const struct http_client_config *config, int code, const char *message)
{
        struct ferry_error err = {};
        struct http_client *c = http_client_new(config, &err);

        assert_null(c);
        assert_int_equal(errno, -code);
        assert_int_equal(err.code, code);
        assert_string_equal(err.message, message);
}

static void test_endpoint_without_known_scheme_is_refused(void **state)
{
        (void) state;
        assert_config_refused(&(struct http_client_config) { .endpoint = "ftp://example.invalid" }, -EINVAL,
                              "Endpoint 'ftp://example.invalid' must start with https://, http:// or unix://");
}

static void test_empty_endpoint_is_refused(void **state)
{
        (void) state;
        assert_config_refused(&(struct http_client_config) { .endpoint = "" }, -EINVAL, "Endpoint is empty");
}

static void test_relative_unix_socket_path_is_refused(void **state)
{
        (void) state;
        assert_config_refused(&(struct http_client_config) { .endpoint = "unix://var/lib/incus/unix.socket" },
                              -EINVAL,
                              "Endpoint 'unix://var/lib/incus/unix.socket' must name an absolute socket path "
                              "(unix:///path)");
}

static void test_client_certificate_without_key_is_refused(void **state)
{
        (void) state;
        assert_config_refused(&(struct http_client_config) {
                                      .endpoint = "https://127.0.0.1:8443",
                                      .client_cert = "/etc/ferry/client.crt",
                              },
                              -EINVAL, "A client certificate needs its key, and a key its certificate");
}

static void test_malformed_pinned_fingerprint_is_refused(void **state)
{
        (void) state;
        assert_config_refused(&(struct http_client_config) {
                                      .endpoint = "https://127.0.0.1:8443",
                                      .pinned_fingerprint = "abc123",
                              },
                              -EINVAL, "'abc123' is not a SHA-256 certificate fingerprint");
}

static void test_valid_configurations_are_accepted(void **state)
{
        static const char *const endpoints[] = {
                "https://127.0.0.1:8443/", "http://[::1]:8080", "unix:///run/incus/unix.socket",
        };
        struct ferry_error err = {};

        (void) state;
        for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
                struct http_client *c = http_client_new(
                        &(struct http_client_config) {
                                .endpoint = endpoints[i],
                                .pinned_fingerprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
                                                      "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
                        },
                        &err);
                assert_non_null(c);
                assert_null(http_client_peer_fingerprint(c));
                http_client_free(c);
        }
}

static void test_connection_refused_names_the_url(void **state)
{
        struct ferry_error err = {};
        struct http_response resp = {};
        struct http_client *c;
        int r;

        (void) state;
        c = http_client_new(&(struct http_client_config) { .endpoint = "unix:///nonexistent/ferry.socket" }, &err);
        assert_non_null(c);
        r = http_request(c, "GET", "/1.0", NULL, NULL, 0, NULL, &resp, &err);
        assert_int_equal(r, -ECONNREFUSED);
        assert_string_equal(err.message,
                            "Cannot connect to 'unix:///nonexistent/ferry.socket': No such file or directory");
        http_client_free(c);
}

/*
 * A server for one request: it accepts one connection on a unix socket,
 * reads the request (headers and a Content-Length body), keeps all of it
 * in a memfd the test reads afterwards, and sends a canned answer.
 */
struct one_shot_server {
        char dir[32];
        char socket_path[64];
        char endpoint[80];
        int request_fd;         /* memfd: the request as received */
        pid_t pid;
};

static int read_request(int c, int out)
{
        struct strbuf req = STRBUF_INIT;
        size_t header_len = 0, content_length = 0;
        char buf[65536];
        const char *end, *cl;
        ssize_t n;

        for (;;) {
                n = read(c, buf, sizeof buf);
                if (n <= 0)
                        break;
                if (strbuf_append_len(&req, buf, (size_t) n) < 0)
                        return -1;
                if (!header_len && (end = strstr(strbuf_str(&req), "\r\n\r\n"))) {
                        header_len = (size_t) (end - req.data) + 4;
                        cl = strcasestr(req.data, "\r\nContent-Length:");
                        if (cl && cl < end)
                                content_length = strtoull(cl + strlen("\r\nContent-Length:"), NULL, 10);
                }
                if (header_len && req.len >= header_len + content_length)
                        break;
        }
        if (write(out, strbuf_str(&req), req.len) != (ssize_t) req.len)
                return -1;
        strbuf_done(&req);
        return 0;
}

static void server_start(struct one_shot_server *s, const char *head, const void *body, size_t body_len)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        strcpy(s->dir, "/tmp/ferry-http-XXXXXX");
        assert_non_null(mkdtemp(s->dir));
        snprintf(s->socket_path, sizeof s->socket_path, "%s/s", s->dir);
        snprintf(s->endpoint, sizeof s->endpoint, "unix://%s", s->socket_path);
        s->request_fd = memfd_create("request", MFD_CLOEXEC);
        assert_true(s->request_fd >= 0);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        strcpy(sa.sun_path, s->socket_path);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(listen(fd, 1), 0);

        s->pid = fork();
        assert_true(s->pid >= 0);
        if (s->pid == 0) {
                int c = accept(fd, NULL, NULL);

                if (c < 0 || read_request(c, s->request_fd) < 0)
                        _exit(1);
                if (write(c, head, strlen(head)) < 0 ||
                    (body_len && write(c, body, body_len) != (ssize_t) body_len))
                        _exit(1);
                close(c);
                _exit(0);
        }
        close(fd);
}

/* Reap the server and return what it received; free() it. */
static char *server_finish(struct one_shot_server *s, size_t *ret_len)
{
        struct stat st;
        char *req;
        int status;

        assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
        assert_int_equal(fstat(s->request_fd, &st), 0);
        req = calloc(1, (size_t) st.st_size + 1);
        assert_non_null(req);
        assert_int_equal(pread(s->request_fd, req, (size_t) st.st_size, 0), st.st_size);
        close(s->request_fd);
        unlink(s->socket_path);
        rmdir(s->dir);
        if (ret_len)
                *ret_len = (size_t) st.st_size;
        return req;
}

static struct http_client *client_for(const struct one_shot_server *s)
{
        struct ferry_error err = {};
        struct http_client *c = http_client_new(&(struct http_client_config) { .endpoint = s->endpoint }, &err);

        assert_non_null(c);
        return c;
}

/* A memfd holding size bytes of a pattern that does not repeat every 4 KiB. */
static int pattern_fd(size_t size)
{
        _cleanup_free_ unsigned char *buf = malloc(size);
        int fd = memfd_create("pattern", MFD_CLOEXEC);

        assert_true(fd >= 0);
        assert_non_null(buf);
        for (size_t i = 0; i < size; i++)
                buf[i] = (unsigned char) ((i * 7 + i / 4099) & 0xff);
        assert_int_equal(write(fd, buf, size), (ssize_t) size);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

static char *fd_contents(int fd, size_t *ret_len)
{
        struct stat st;
        char *buf;

        assert_int_equal(fstat(fd, &st), 0);
        buf = calloc(1, (size_t) st.st_size + 1);
        assert_non_null(buf);
        assert_int_equal(pread(fd, buf, (size_t) st.st_size, 0), st.st_size);
        *ret_len = (size_t) st.st_size;
        return buf;
}

#define HEAD_200_JSON(len) "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " len "\r\n"

static void test_etag_of_the_answer_is_kept(void **state)
{
        struct one_shot_server s;
        struct ferry_error err = {};
        struct http_response resp = {};
        struct http_client *c;

        (void) state;
        server_start(&s, HEAD_200_JSON("2") "ETag:  \"5d41402abc\" \r\nConnection: close\r\n\r\n{}", NULL, 0);
        c = client_for(&s);
        assert_int_equal(http_request(c, "GET", "/1.0/sources/vc01", NULL, NULL, 0, NULL, &resp, &err), 0);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.etag, "\"5d41402abc\"");
        assert_string_equal(resp.body, "{}");
        free(server_finish(&s, NULL));
        http_response_done(&resp);
        http_client_free(c);
}

static void test_answer_without_etag_has_none(void **state)
{
        struct one_shot_server s;
        struct ferry_error err = {};
        struct http_response resp = {};
        struct http_client *c;

        (void) state;
        server_start(&s, HEAD_200_JSON("2") "Connection: close\r\n\r\n{}", NULL, 0);
        c = client_for(&s);
        assert_int_equal(http_request(c, "GET", "/1.0", NULL, NULL, 0, NULL, &resp, &err), 0);
        assert_null(resp.etag);
        free(server_finish(&s, NULL));
        http_response_done(&resp);
        http_client_free(c);
}

static void test_extra_headers_and_body_are_sent(void **state)
{
        _cleanup_free_ char *req = NULL;
        struct one_shot_server s;
        struct ferry_error err = {};
        struct http_response resp = {};
        struct http_client *c;

        (void) state;
        server_start(&s, HEAD_200_JSON("2") "Connection: close\r\n\r\n{}", NULL, 0);
        c = client_for(&s);
        assert_int_equal(http_request(c, "PUT", "/1.0/batches/b1", "application/json", "{\"a\":1}", 7,
                                      (const char *const[]) { "If-Match: \"abc\"", NULL }, &resp, &err),
                         0);
        req = server_finish(&s, NULL);
        assert_true(startswith(req, "PUT /1.0/batches/b1 HTTP/1.1\r\n"));
        assert_non_null(strstr(req, "\r\nIf-Match: \"abc\"\r\n"));
        assert_non_null(strstr(req, "\r\nContent-Type: application/json\r\n"));
        assert_true(endswith(req, "\r\n\r\n{\"a\":1}"));
        http_response_done(&resp);
        http_client_free(c);
}

struct progress_log {
        unsigned calls;
        uint64_t last_done, last_total;
};

static void record_progress(uint64_t done, uint64_t total, void *userdata)
{
        struct progress_log *p = userdata;

        assert_true(done >= p->last_done);
        p->calls++;
        p->last_done = done;
        p->last_total = total;
}

static void test_upload_streams_a_descriptor_as_the_body(void **state)
{
        const size_t size = 3 * 1024 * 1024 + 17;
        _cleanup_free_ char *req = NULL, *want = NULL;
        _cleanup_close_ int fd = pattern_fd(size);
        struct progress_log progress = {};
        struct http_transfer t = HTTP_TRANSFER_INIT;
        struct one_shot_server s;
        struct ferry_error err = {};
        struct http_response resp = {};
        struct http_client *c;
        size_t req_len, want_len;
        char *body;

        (void) state;
        want = fd_contents(fd, &want_len);
        server_start(&s, HEAD_200_JSON("2") "Connection: close\r\n\r\n{}", NULL, 0);
        c = client_for(&s);
        t.upload_fd = fd;
        t.upload_size = size;
        t.progress = record_progress;
        t.userdata = &progress;
        assert_int_equal(http_request_transfer(c, "PUT", "/1.0/artifacts/a/file", "application/octet-stream", &t,
                                               (const char *const[]) { "X-Ferry-SHA256: 00ff", NULL }, &resp,
                                               &err),
                         0);
        assert_int_equal(resp.status, 200);
        req = server_finish(&s, &req_len);
        assert_true(startswith(req, "PUT /1.0/artifacts/a/file HTTP/1.1\r\n"));
        assert_non_null(strcasestr(req, "\r\nContent-Length: 3145745\r\n"));
        assert_non_null(strstr(req, "\r\nContent-Type: application/octet-stream\r\n"));
        assert_non_null(strstr(req, "\r\nX-Ferry-SHA256: 00ff\r\n"));
        body = strstr(req, "\r\n\r\n") + 4;
        assert_int_equal(req_len - (size_t) (body - req), size);
        assert_memory_equal(body, want, size);
        assert_true(progress.calls > 0);
        assert_int_equal(progress.last_done, size);
        assert_int_equal(progress.last_total, size);
        http_response_done(&resp);
        http_client_free(c);
}

static void test_upload_shorter_than_announced_fails(void **state)
{
        _cleanup_close_ int fd = pattern_fd(1000);
        struct http_transfer t = HTTP_TRANSFER_INIT;
        struct one_shot_server s;
        struct ferry_error err = {};
        struct http_response resp = {};
        struct http_client *c;

        (void) state;
        server_start(&s, HEAD_200_JSON("2") "Connection: close\r\n\r\n{}", NULL, 0);
        c = client_for(&s);
        t.upload_fd = fd;
        t.upload_size = 5000;
        assert_int_equal(http_request_transfer(c, "PUT", "/f", "application/octet-stream", &t, NULL, &resp, &err),
                         -EIO);
        assert_string_equal(err.message, "Cannot read the request body: it ended after 1000 of 5000 bytes");
        http_client_free(c);
        kill(s.pid, SIGTERM);
        free(server_finish(&s, NULL));
}

static void test_upload_from_an_unreadable_descriptor_fails(void **state)
{
        struct http_transfer t = HTTP_TRANSFER_INIT;
        struct one_shot_server s;
        struct ferry_error err = {};
        struct http_response resp = {};
        struct http_client *c;
        int fd;

        (void) state;
        fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        server_start(&s, HEAD_200_JSON("2") "Connection: close\r\n\r\n{}", NULL, 0);
        c = client_for(&s);
        t.upload_fd = fd;
        t.upload_size = 10;
        assert_int_equal(http_request_transfer(c, "PUT", "/f", "application/octet-stream", &t, NULL, &resp, &err),
                         -EBADF);
        assert_string_equal(err.message, "Cannot read the request body: Bad file descriptor");
        close(fd);
        http_client_free(c);
        kill(s.pid, SIGTERM);
        free(server_finish(&s, NULL));
}

static void test_download_writes_a_success_body_to_the_descriptor(void **state)
{
        const size_t size = 2 * 1024 * 1024 + 5;
        _cleanup_close_ int src = pattern_fd(size);
        _cleanup_free_ char *want = NULL, *got = NULL, *head = NULL;
        struct progress_log progress = {};
        struct http_transfer t = HTTP_TRANSFER_INIT;
        struct one_shot_server s;
        struct ferry_error err = {};
        struct http_response resp = {};
        struct http_client *c;
        size_t want_len, got_len;
        int out;

        (void) state;
        want = fd_contents(src, &want_len);
        assert_true(asprintf(&head,
                             "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                             "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                             size) > 0);
        server_start(&s, head, want, want_len);
        c = client_for(&s);
        out = memfd_create("download", MFD_CLOEXEC);
        assert_true(out >= 0);
        t.download_fd = out;
        t.progress = record_progress;
        t.userdata = &progress;
        assert_int_equal(http_request_transfer(c, "GET", "/1.0/artifacts/a/file", NULL, &t, NULL, &resp, &err), 0);
        assert_int_equal(resp.status, 200);
        assert_int_equal(resp.body_len, 0);
        assert_string_equal(resp.content_type, "application/octet-stream");
        got = fd_contents(out, &got_len);
        assert_int_equal(got_len, size);
        assert_memory_equal(got, want, size);
        assert_int_equal(progress.last_done, size);
        free(server_finish(&s, NULL));
        close(out);
        http_response_done(&resp);
        http_client_free(c);
}

static void test_download_keeps_an_error_answer_in_memory(void **state)
{
        static const char envelope[] = "{\"type\":\"error\",\"error_code\":404,\"error\":\"Not found\"}";
        _cleanup_free_ char *head = NULL, *got = NULL;
        struct http_transfer t = HTTP_TRANSFER_INIT;
        struct one_shot_server s;
        struct ferry_error err = {};
        struct http_response resp = {};
        struct http_client *c;
        size_t got_len;
        int out;

        (void) state;
        assert_true(asprintf(&head,
                             "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                             "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                             strlen(envelope), envelope) > 0);
        server_start(&s, head, NULL, 0);
        c = client_for(&s);
        out = memfd_create("download", MFD_CLOEXEC);
        t.download_fd = out;
        assert_int_equal(http_request_transfer(c, "GET", "/1.0/artifacts/a/file", NULL, &t, NULL, &resp, &err), 0);
        assert_int_equal(resp.status, 404);
        assert_string_equal(resp.body, envelope);
        got = fd_contents(out, &got_len);
        assert_int_equal(got_len, 0);
        free(server_finish(&s, NULL));
        close(out);
        http_response_done(&resp);
        http_client_free(c);
}

static void test_download_to_an_unwritable_descriptor_fails(void **state)
{
        struct http_transfer t = HTTP_TRANSFER_INIT;
        struct one_shot_server s;
        struct ferry_error err = {};
        struct http_response resp = {};
        struct http_client *c;
        int out;

        (void) state;
        server_start(&s, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", NULL, 0);
        c = client_for(&s);
        out = open("/dev/null", O_RDONLY | O_CLOEXEC);
        t.download_fd = out;
        assert_int_equal(http_request_transfer(c, "GET", "/f", NULL, &t, NULL, &resp, &err), -EBADF);
        assert_string_equal(err.message, "Cannot write the answer of GET http://localhost/f: Bad file descriptor");
        free(server_finish(&s, NULL));
        close(out);
        http_client_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_endpoint_without_known_scheme_is_refused),
                cmocka_unit_test(test_empty_endpoint_is_refused),
                cmocka_unit_test(test_relative_unix_socket_path_is_refused),
                cmocka_unit_test(test_client_certificate_without_key_is_refused),
                cmocka_unit_test(test_malformed_pinned_fingerprint_is_refused),
                cmocka_unit_test(test_valid_configurations_are_accepted),
                cmocka_unit_test(test_connection_refused_names_the_url),
                cmocka_unit_test(test_etag_of_the_answer_is_kept),
                cmocka_unit_test(test_answer_without_etag_has_none),
                cmocka_unit_test(test_extra_headers_and_body_are_sent),
                cmocka_unit_test(test_upload_streams_a_descriptor_as_the_body),
                cmocka_unit_test(test_upload_shorter_than_announced_fails),
                cmocka_unit_test(test_upload_from_an_unreadable_descriptor_fails),
                cmocka_unit_test(test_download_writes_a_success_body_to_the_descriptor),
                cmocka_unit_test(test_download_keeps_an_error_answer_in_memory),
                cmocka_unit_test(test_download_to_an_unwritable_descriptor_fails),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
