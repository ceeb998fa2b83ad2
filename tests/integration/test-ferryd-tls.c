/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferryd's HTTPS listener and its trust store, end to end: the built
 * ferryd with a config file that sets core.https_address on a free
 * loopback port, reached over its real unix socket and over TLS (with
 * ferry's own HTTP client, the built ferry CLI and the openssl tool).
 * Needs no lab.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "api-client.h"
#include "common/fileio.h"
#include "common/fingerprint.h"
#include "common/http.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/tls-cert.h"
#include "common/trust-token.h"
#include "common/yaml.h"
#include "ferryd-fixture.h"

#ifndef FERRYD_PATH
#error "FERRYD_PATH must name the ferryd binary under test"
#endif
#ifndef FERRY_PATH
#error "FERRY_PATH must name the ferry binary under test"
#endif

#define NOT_TRUSTED "Not authorized: this client certificate is not trusted"

struct tls_fixture {
        struct ferryd_fixture *d;
        int port;
        char *url;                      /* https://127.0.0.1:<port> */
        char *config_path;              /* <dir>/ferryd.yaml */
        char *conf_dir;                 /* <dir>/conf: FERRY_CONF of the CLI */
        char server_fp[FINGERPRINT_HEX_SIZE];
        char *stranger_cert;            /* a client certificate ferryd never saw */
        char *stranger_key;
        struct strbuf answers;          /* every HTTPS answer, for the key check */
};

/* A loopback port nobody listens on right now. */
static int free_port(void)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        close(fd);
        return ntohs(sa.sin_port);
}

/* Wait until 127.0.0.1:port (or [::1]:port) accepts connections. */
static void wait_for_port(struct proc *p, int port, bool v6)
{
        struct sockaddr_in sa4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                   .sin_port = htons((uint16_t) port) };
        struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT,
                                    .sin6_port = htons((uint16_t) port) };

        for (int i = 0; i < 2000; i++) {
                int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                int r;

                assert_true(fd >= 0);
                r = v6 ? connect(fd, (struct sockaddr *) &sa6, sizeof(sa6))
                       : connect(fd, (struct sockaddr *) &sa4, sizeof(sa4));
                close(fd);
                if (r == 0)
                        return;
                if (!proc_running(p)) {
                        _cleanup_free_ char *err = proc_stderr(p);

                        fail_msg("ferryd exited before listening on port %d: %s", port, err);
                }
                usleep(10 * 1000);
        }
        fail_msg("Nothing listens on port %d after 20 s", port);
}

static void write_text(const char *path, const char *text)
{
        struct ferry_error err = {};

        if (fileio_write_atomic(path, text, strlen(text), 0644, &err) < 0)
                fail_msg("%s", ferry_error_message(&err));
}

static void write_config(struct tls_fixture *t, const char *text)
{
        write_text(t->config_path, text);
}

static int setup(void **state)
{
        struct tls_fixture *t = calloc(1, sizeof(*t));
        _cleanup_free_ char *config = NULL, *cert_pem = NULL, *key_pem = NULL;
        struct ferry_error err = {};

        assert_non_null(t);
        t->d = ferryd_fixture_new(FERRYD_PATH);
        t->port = free_port();
        assert_true(asprintf(&t->url, "https://127.0.0.1:%d", t->port) > 0);
        assert_non_null(t->config_path = strjoin(t->d->dir, "/ferryd.yaml", NULL));
        assert_non_null(t->conf_dir = strjoin(t->d->dir, "/conf", NULL));
        assert_true(asprintf(&config, "core.https_address: \"127.0.0.1:%d\"\n", t->port) > 0);
        write_config(t, config);

        assert_non_null(t->stranger_cert = strjoin(t->d->dir, "/stranger.crt", NULL));
        assert_non_null(t->stranger_key = strjoin(t->d->dir, "/stranger.key", NULL));
        assert_int_equal(tls_cert_generate("stranger", &cert_pem, &key_pem, &err), 0);
        write_text(t->stranger_cert, cert_pem);
        write_text(t->stranger_key, key_pem);

        setenv("FERRY_CONF", t->conf_dir, 1);
        setenv("FERRY_DIR", t->d->data_dir, 1);
        *state = t;
        return 0;
}

static int teardown(void **state)
{
        struct tls_fixture *t = *state;
        int r = ferryd_fixture_stop(t->d);

        unsetenv("FERRY_CONF");
        unsetenv("FERRY_DIR");
        ferryd_fixture_free(t->d);
        free(t->url);
        free(t->config_path);
        free(t->conf_dir);
        free(t->stranger_cert);
        free(t->stranger_key);
        strbuf_done(&t->answers);
        free(t);
        return r;
}

/* Start ferryd on the config file and wait for both listeners. */
static void start(struct tls_fixture *t)
{
        _cleanup_free_ char *cert = NULL;
        struct ferry_error err = {};

        ferryd_fixture_start_with(t->d, (const char *const[]) { "--config", t->config_path, "--log-level", "debug",
                                                                NULL });
        wait_for_port(&t->d->ferryd, t->port, false);

        assert_non_null(cert = strjoin(t->d->data_dir, "/server.crt", NULL));
        if (fingerprint_from_pem_file(cert, t->server_fp, &err) < 0)
                fail_msg("%s", ferry_error_message(&err));
}

/*
 * One request over HTTPS, the server pinned by its fingerprint, with the
 * client certificate cert/key (both NULL: none).
 */
static void https_call(struct tls_fixture *t, const char *cert, const char *key, const char *method,
                       const char *path, const char *body, struct api_answer *ret)
{
        _cleanup_http_client_ struct http_client *c = NULL;
        struct http_response resp = {};
        struct ferry_error err = {};
        json_error_t jerr;

        c = http_client_new(&(struct http_client_config) { .endpoint = t->url, .client_cert = cert,
                                                            .client_key = key, .pinned_fingerprint = t->server_fp },
                            &err);
        if (!c)
                fail_msg("%s", ferry_error_message(&err));
        if (http_request(c, method, path, body ? "application/json" : NULL, body, body ? strlen(body) : 0, NULL,
                         &resp, &err) < 0)
                fail_msg("%s %s: %s", method, path, ferry_error_message(&err));

        *ret = (struct api_answer) { .status = resp.status, .text = strdup(resp.body) };
        assert_non_null(ret->text);
        assert_int_equal(strbuf_append(&t->answers, ret->text), 0);
        ret->envelope = json_loads(ret->text, 0, &jerr);
        if (!ret->envelope)
                fail_msg("%s %s: not JSON: %s", method, path, ret->text);
        http_response_done(&resp);
}

static json_t *https_expect(struct tls_fixture *t, const char *cert, const char *key, const char *method,
                            const char *path, const char *body, long status, struct api_answer *ret)
{
        https_call(t, cert, key, method, path, body, ret);
        if (ret->status != status)
                fail_msg("%s %s: expected %ld, got %ld: %s", method, path, status, ret->status, ret->text);
        return json_object_get(ret->envelope, "metadata");
}

static const char *str(const json_t *v, const char *key)
{
        const char *s = json_string_value(json_object_get(v, key));

        if (!s)
                fail_msg("'%s' is not a string", key);
        return s;
}

/* A trust token from the unix socket, as an admin makes one. */
static char *make_token(struct tls_fixture *t, const char *name, const char *expires_in)
{
        _cleanup_free_ char *body = NULL;
        struct api_answer a = {};
        json_t *m;
        char *token;

        if (expires_in)
                assert_true(asprintf(&body, "{\"name\": \"%s\", \"token\": true, \"expires_in\": \"%s\"}", name,
                                     expires_in) > 0);
        else
                assert_true(asprintf(&body, "{\"name\": \"%s\", \"token\": true}", name) > 0);
        m = api_expect(t->d->socket_path, "POST", "/1.0/certificates", body, 200, &a);
        assert_string_equal(str(m, "name"), name);
        assert_non_null(token = strdup(str(m, "token")));
        api_answer_done(&a);
        return token;
}

static void test_an_untrusted_client_gets_get_1_0_and_is_told_it_is_untrusted(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *pem = NULL, *cert_path = NULL;
        struct api_answer a = {};
        json_t *m, *env;

        start(t);
        m = https_expect(t, t->stranger_cert, t->stranger_key, "GET", "/1.0", NULL, 200, &a);

        assert_string_equal(str(m, "auth"), "untrusted");
        assert_string_equal(json_string_value(json_array_get(json_object_get(m, "auth_methods"), 0)), "tls");
        env = json_object_get(m, "environment");
        assert_string_equal(str(env, "certificate_fingerprint"), t->server_fp);
        assert_non_null(cert_path = strjoin(t->d->data_dir, "/server.crt", NULL));
        assert_int_equal(fileio_read(cert_path, 65536, &pem, NULL), 0);
        assert_string_equal(str(env, "certificate"), pem);
        /* Only what pins the server; nothing about the host. */
        assert_null(json_object_get(env, "data_dir"));
        assert_null(json_object_get(env, "pid"));
        api_answer_done(&a);
}

static void test_an_untrusted_client_gets_403_on_everything_else(void **state)
{
        struct tls_fixture *t = *state;
        static const char *const calls[][3] = {
                { "GET", "/1.0/sources", NULL },
                { "POST", "/1.0/sources", "{\"name\": \"s1\"}" },
                { "GET", "/1.0/certificates", NULL },
                { "GET", "/1.0/certificates/tokens", NULL },
                { "DELETE", "/1.0/certificates/0011", NULL },
                { "GET", "/1.0/events", NULL },
                { "GET", "/1.0/no-such-thing", NULL },
                { "PUT", "/1.0", "{}" },
        };
        struct api_answer a = {};

        start(t);
        for (size_t i = 0; i < ELEMENTSOF(calls); i++) {
                https_call(t, t->stranger_cert, t->stranger_key, calls[i][0], calls[i][1], calls[i][2], &a);
                api_assert_error(&a, 403, NOT_TRUSTED);
                api_answer_done(&a);
        }
}

static void test_an_untrusted_client_cannot_make_itself_a_token(void **state)
{
        struct tls_fixture *t = *state;
        struct api_answer a = {};

        start(t);
        https_call(t, t->stranger_cert, t->stranger_key, "POST", "/1.0/certificates",
                   "{\"name\": \"me\", \"token\": true}", &a);
        api_assert_error(&a, 403, NOT_TRUSTED);
        api_answer_done(&a);
        https_call(t, t->stranger_cert, t->stranger_key, "POST", "/1.0/certificates",
                   "{\"name\": \"me\", \"certificate\": \"x\"}", &a);
        api_assert_error(&a, 403, NOT_TRUSTED);
        api_answer_done(&a);
}

static void test_a_client_without_a_certificate_is_untrusted(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *token = NULL, *body = NULL;
        struct api_answer a = {};
        json_t *m;

        start(t);
        m = https_expect(t, NULL, NULL, "GET", "/1.0", NULL, 200, &a);
        assert_string_equal(str(m, "auth"), "untrusted");
        api_answer_done(&a);

        https_call(t, NULL, NULL, "GET", "/1.0/sources", NULL, &a);
        api_assert_error(&a, 403, NOT_TRUSTED);
        api_answer_done(&a);

        /* A token needs a certificate to trust, and stays unused. */
        token = make_token(t, "c1", NULL);
        assert_true(asprintf(&body, "{\"trust_token\": \"%s\"}", token) > 0);
        https_call(t, NULL, NULL, "POST", "/1.0/certificates", body, &a);
        api_assert_error(&a, 400,
                         "A trust token adds the certificate of the TLS client that sends it: send it over HTTPS "
                         "with a client certificate");
        api_answer_done(&a);
        m = api_expect(t->d->socket_path, "GET", "/1.0/certificates/tokens", NULL, 200, &a);
        assert_int_equal(json_array_size(m), 1);
        api_answer_done(&a);
}

static void test_a_trust_token_trusts_the_client_certificate_once(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *token = NULL, *body = NULL, *path = NULL;
        char fp[FINGERPRINT_HEX_SIZE];
        struct ferry_error err = {};
        struct api_answer a = {};
        json_t *m;

        start(t);
        assert_int_equal(fingerprint_from_pem_file(t->stranger_cert, fp, &err), 0);
        token = make_token(t, "laptop", NULL);
        assert_true(asprintf(&body, "{\"trust_token\": \"%s\"}", token) > 0);

        m = https_expect(t, t->stranger_cert, t->stranger_key, "POST", "/1.0/certificates", body, 200, &a);
        assert_string_equal(str(m, "name"), "laptop");
        assert_string_equal(str(m, "fingerprint"), fp);
        api_answer_done(&a);

        m = https_expect(t, t->stranger_cert, t->stranger_key, "GET", "/1.0", NULL, 200, &a);
        assert_string_equal(str(m, "auth"), "trusted");
        assert_string_equal(str(m, "auth_user_name"), "laptop");
        assert_non_null(json_object_get(json_object_get(m, "environment"), "data_dir"));
        api_answer_done(&a);
        m = https_expect(t, t->stranger_cert, t->stranger_key, "GET", "/1.0/sources", NULL, 200, &a);
        assert_int_equal(json_array_size(m), 0);
        api_answer_done(&a);

        /* Used up: nobody else gets in with it. */
        https_call(t, NULL, NULL, "POST", "/1.0/certificates", body, &a);
        api_assert_error(&a, 400,
                         "A trust token adds the certificate of the TLS client that sends it: send it over HTTPS "
                         "with a client certificate");
        api_answer_done(&a);
        m = api_expect(t->d->socket_path, "GET", "/1.0/certificates/tokens", NULL, 200, &a);
        assert_int_equal(json_array_size(m), 0);
        api_answer_done(&a);

        /* The store lists it, under its fingerprint or a prefix of it. */
        m = api_expect(t->d->socket_path, "GET", "/1.0/certificates", NULL, 200, &a);
        assert_non_null(path = strjoin("/1.0/certificates/", fp, NULL));
        assert_string_equal(json_string_value(json_array_get(m, 0)), path);
        api_answer_done(&a);
        free(path);
        assert_true(asprintf(&path, "/1.0/certificates/%.8s", fp) > 0);
        m = api_expect(t->d->socket_path, "GET", path, NULL, 200, &a);
        assert_string_equal(str(m, "name"), "laptop");
        assert_true(startswith(str(m, "certificate"), "-----BEGIN CERTIFICATE-----\n"));
        assert_non_null(a.etag);
        api_answer_done(&a);
}

static void test_a_used_token_is_refused_and_stores_nothing(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *token = NULL, *body = NULL, *other_cert = NULL, *other_key = NULL;
        _cleanup_free_ char *cert_pem = NULL, *key_pem = NULL;
        struct ferry_error err = {};
        struct api_answer a = {};
        json_t *m;

        start(t);
        token = make_token(t, "laptop", NULL);
        assert_true(asprintf(&body, "{\"trust_token\": \"%s\"}", token) > 0);
        https_expect(t, t->stranger_cert, t->stranger_key, "POST", "/1.0/certificates", body, 200, &a);
        api_answer_done(&a);

        /* A second client with the same token. */
        assert_non_null(other_cert = strjoin(t->d->dir, "/other.crt", NULL));
        assert_non_null(other_key = strjoin(t->d->dir, "/other.key", NULL));
        assert_int_equal(tls_cert_generate("other", &cert_pem, &key_pem, &err), 0);
        write_text(other_cert, cert_pem);
        write_text(other_key, key_pem);
        https_call(t, other_cert, other_key, "POST", "/1.0/certificates", body, &a);
        api_assert_error(&a, 403, "Unknown trust token: it was never issued, or it was used or revoked");
        api_answer_done(&a);

        https_call(t, other_cert, other_key, "GET", "/1.0/sources", NULL, &a);
        api_assert_error(&a, 403, NOT_TRUSTED);
        api_answer_done(&a);
        m = api_expect(t->d->socket_path, "GET", "/1.0/certificates", NULL, 200, &a);
        assert_int_equal(json_array_size(m), 1);
        api_answer_done(&a);
}

static void test_an_expired_token_is_refused(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *token = NULL, *body = NULL;
        struct api_answer a = {};
        json_t *m;

        start(t);
        token = make_token(t, "late", "1s");
        assert_true(asprintf(&body, "{\"trust_token\": \"%s\"}", token) > 0);
        usleep(1100 * 1000);

        https_call(t, t->stranger_cert, t->stranger_key, "POST", "/1.0/certificates", body, &a);
        api_assert_error(&a, 403, "Trust token 'late' has expired");
        api_answer_done(&a);
        m = api_expect(t->d->socket_path, "GET", "/1.0/certificates", NULL, 200, &a);
        assert_int_equal(json_array_size(m), 0);
        api_answer_done(&a);
}

static void test_a_revoked_or_foreign_token_is_refused(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *token = NULL, *body = NULL, *forged = NULL;
        _cleanup_trust_token_ struct trust_token *decoded = NULL;
        struct ferry_error err = {};
        struct api_answer a = {};

        start(t);
        token = make_token(t, "gone", NULL);
        api_expect(t->d->socket_path, "DELETE", "/1.0/certificates/tokens/gone", NULL, 200, &a);
        api_answer_done(&a);
        assert_true(asprintf(&body, "{\"trust_token\": \"%s\"}", token) > 0);
        https_call(t, t->stranger_cert, t->stranger_key, "POST", "/1.0/certificates", body, &a);
        api_assert_error(&a, 403, "Unknown trust token: it was never issued, or it was used or revoked");
        api_answer_done(&a);

        /* The same secret in a token naming another server. */
        free(token);
        free(body);
        token = make_token(t, "other-server", NULL);
        assert_int_equal(trust_token_decode(token, &decoded, &err), 0);
        memset(decoded->fingerprint, 'a', 64);
        assert_int_equal(trust_token_encode(decoded, &forged), 0);
        assert_true(asprintf(&body, "{\"trust_token\": \"%s\"}", forged) > 0);
        https_call(t, t->stranger_cert, t->stranger_key, "POST", "/1.0/certificates", body, &a);
        api_assert_error(&a, 403,
                         "The trust token was issued by another server (certificate fingerprint "
                         "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')");
        api_answer_done(&a);

        /* The bare secret works, as Incus accepts it. */
        free(body);
        assert_true(asprintf(&body, "{\"trust_token\": \"%s\"}", decoded->secret) > 0);
        https_expect(t, t->stranger_cert, t->stranger_key, "POST", "/1.0/certificates", body, 200, &a);
        api_answer_done(&a);
}

static void test_deleting_a_certificate_takes_the_trust_back(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *token = NULL, *body = NULL, *path = NULL;
        char fp[FINGERPRINT_HEX_SIZE];
        struct ferry_error err = {};
        struct api_answer a = {};

        start(t);
        assert_int_equal(fingerprint_from_pem_file(t->stranger_cert, fp, &err), 0);
        token = make_token(t, "laptop", NULL);
        assert_true(asprintf(&body, "{\"trust_token\": \"%s\"}", token) > 0);
        https_expect(t, t->stranger_cert, t->stranger_key, "POST", "/1.0/certificates", body, 200, &a);
        api_answer_done(&a);

        assert_non_null(path = strjoin("/1.0/certificates/", fp, NULL));
        api_expect(t->d->socket_path, "DELETE", path, NULL, 200, &a);
        api_answer_done(&a);

        https_call(t, t->stranger_cert, t->stranger_key, "GET", "/1.0/sources", NULL, &a);
        api_assert_error(&a, 403, NOT_TRUSTED);
        api_answer_done(&a);
        free(body);
        assert_non_null(body = strjoin("Certificate '", fp, "' not found", NULL));
        api_call(t->d->socket_path, "GET", path, NULL, NULL, &a);
        api_assert_error(&a, 404, body);
        api_answer_done(&a);
}

/* Run openssl s_client against the listener; its exit status and output. */
static int s_client(struct tls_fixture *t, const char *const *options, char **ret_out, char **ret_err)
{
        char *argv[16] = { (char *) "/usr/bin/openssl", (char *) "s_client", (char *) "-connect" };
        _cleanup_free_ char *connect = NULL;
        size_t n = 3;

        assert_true(asprintf(&connect, "127.0.0.1:%d", t->port) > 0);
        argv[n++] = connect;
        for (; *options; options++)
                argv[n++] = (char *) *options;
        return proc_run(argv, ret_out, ret_err);
}

static void test_tls_below_1_2_is_refused(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *out11 = NULL, *err11 = NULL, *out12 = NULL, *err12 = NULL;

        start(t);
        /* SECLEVEL=0 lets the client offer TLS 1.1 at all: the refusal is the server's. */
        assert_int_not_equal(s_client(t, (const char *const[]) { "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0", NULL },
                                      &out11, &err11),
                             0);
        assert_contains(err11, "alert protocol version");
        assert_contains(out11, "Cipher is (NONE)");

        assert_int_equal(s_client(t, (const char *const[]) { "-tls1_2", NULL }, &out12, &err12), 0);
        assert_contains(out12, "Protocol  : TLSv1.2");
        assert_null(strstr(out12, "Cipher is (NONE)"));
}

static void test_http2_is_not_offered(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *out = NULL, *err = NULL;

        start(t);
        assert_int_equal(s_client(t, (const char *const[]) { "-alpn", "h2,http/1.1", NULL }, &out, &err), 0);
        assert_contains(out, "ALPN protocol: http/1.1");
}

/* ferry with args (NULL-terminated), expecting status; stdout, stderr kept in t->answers too. */
static char *ferry(struct tls_fixture *t, int status, char **ret_err, ...)
{
        char *argv[16] = { (char *) FERRY_PATH };
        _cleanup_free_ char *err = NULL;
        char *out = NULL;
        size_t n = 1;
        va_list ap;
        int r;

        va_start(ap, ret_err);
        for (const char *a; (a = va_arg(ap, const char *));) {
                assert_true(n < ELEMENTSOF(argv) - 1);
                argv[n++] = (char *) a;
        }
        va_end(ap);

        r = proc_run(argv, &out, &err);
        assert_int_equal(strbuf_append(&t->answers, out), 0);
        assert_int_equal(strbuf_append(&t->answers, err), 0);
        if (r != status)
                fail_msg("ferry %s %s: exit %d, expected %d\nstdout: %s\nstderr: %s", argv[1], argv[2] ?: "", r,
                         status, out, err);
        if (ret_err)
                *ret_err = TAKE_PTR(err);
        return out;
}

/* `ferry config trust add NAME [--expires E]` on the unix socket: the token. */
static char *cli_token(struct tls_fixture *t, const char *name, const char *expires)
{
        _cleanup_free_ char *out = NULL, *err = NULL;
        char *token;

        if (expires)
                out = ferry(t, 0, &err, "config", "trust", "add", name, "--expires", expires, NULL);
        else
                out = ferry(t, 0, &err, "config", "trust", "add", name, NULL);
        assert_int_equal(strlen(out) - strcspn(out, "\n"), 1);     /* the token alone, one line */
        assert_non_null(token = strndup(out, strcspn(out, "\n")));
        assert_contains(err, "Trust token for '");
        return token;
}

static void test_remote_add_with_a_token_has_the_cli_trusted(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *token = NULL, *out = NULL, *info = NULL, *list = NULL, *config = NULL;
        _cleanup_free_ char *config_path = NULL, *key_path = NULL;
        _cleanup_json_ json_t *doc = NULL;
        struct ferry_error err = {};
        json_t *r1;
        struct stat st;

        start(t);
        token = cli_token(t, "c1", NULL);
        out = ferry(t, 0, NULL, "remote", "add", "r1", t->url, "--token", token, NULL);
        assert_true(startswith(out, "Remote r1 added: "));
        assert_contains(out, " trusts this client (certificate fingerprint ");

        info = ferry(t, 0, NULL, "--remote", "r1", "info", NULL);
        assert_contains(info, "auth: trusted\n");
        assert_contains(info, "auth_user_name: c1\n");
        list = ferry(t, 0, NULL, "--remote", "r1", "source", "list", "-f", "json", NULL);
        assert_string_equal(list, "[]\n");

        /* The remote pins the fingerprint the token named. */
        assert_non_null(config_path = strjoin(t->conf_dir, "/config.yml", NULL));
        assert_int_equal(fileio_read(config_path, 65536, &config, NULL), 0);
        assert_int_equal(yaml_parse_to_json(config, strlen(config), &doc, &err), 0);
        r1 = json_object_get(json_object_get(doc, "remotes"), "r1");
        assert_string_equal(str(r1, "addr"), t->url);
        assert_string_equal(str(r1, "fingerprint"), t->server_fp);
        assert_string_equal(str(doc, "default-remote"), "local");
        assert_non_null(key_path = strjoin(t->conf_dir, "/client.key", NULL));
        assert_int_equal(stat(key_path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_remote_add_refuses_a_used_token_and_adds_nothing(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *token = NULL, *out = NULL, *err = NULL, *other = NULL;

        start(t);
        token = cli_token(t, "c1", NULL);
        free(ferry(t, 0, NULL, "remote", "add", "r1", t->url, "--token", token, NULL));

        /* Another client (its own config dir and certificate), the same token. */
        assert_non_null(other = strjoin(t->d->dir, "/conf2", NULL));
        setenv("FERRY_CONF", other, 1);
        out = ferry(t, 1, &err, "remote", "add", "r1", t->url, "--token", token, NULL);
        assert_string_equal(out, "");
        assert_string_equal(err, "Error: Unknown trust token: it was never issued, or it was used or revoked\n");
        free(out);
        out = ferry(t, 0, NULL, "remote", "list", "-f", "csv", NULL);
        assert_null(strstr(out, "r1"));
}

static void test_remote_add_refuses_an_expired_token(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *token = NULL, *out = NULL, *err = NULL;

        start(t);
        token = cli_token(t, "late", "1s");
        usleep(1100 * 1000);
        out = ferry(t, 1, &err, "remote", "add", "r1", t->url, "--token", token, NULL);
        assert_string_equal(err, "Error: Trust token 'late' has expired\n");
}

static void test_remote_add_refuses_a_server_that_is_not_the_one_of_the_token(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *token = NULL, *forged = NULL, *out = NULL, *err = NULL, *expected = NULL;
        _cleanup_trust_token_ struct trust_token *decoded = NULL;
        struct ferry_error ferr = {};
        struct api_answer a = {};
        json_t *m;

        start(t);
        token = cli_token(t, "c1", NULL);
        assert_int_equal(trust_token_decode(token, &decoded, &ferr), 0);
        memset(decoded->fingerprint, 'b', 64);
        assert_int_equal(trust_token_encode(decoded, &forged), 0);

        out = ferry(t, 1, &err, "remote", "add", "r1", t->url, "--token", forged, NULL);
        assert_true(asprintf(&expected,
                             "Error: Cannot talk to ferryd at '%s': Server certificate fingerprint '%s' does not "
                             "match the trusted fingerprint "
                             "'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'\n",
                             t->url, t->server_fp) > 0);
        assert_string_equal(err, expected);

        /* Nothing was sent: the token is still there. */
        m = api_expect(t->d->socket_path, "GET", "/1.0/certificates/tokens", NULL, 200, &a);
        assert_int_equal(json_array_size(m), 1);
        api_answer_done(&a);
}

static void test_remote_add_without_a_token_asks_about_the_certificate(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *expected = NULL, *cert = NULL, *info = NULL;
        char *out, *err = NULL;

        start(t);
        out = ferry(t, 1, &err, "remote", "add", "r1", t->url, NULL);
        assert_true(asprintf(&expected,
                             "Error: The server certificate of '%s' has fingerprint %s: check it and run again with "
                             "--accept-certificate, or use --token\n",
                             t->url, t->server_fp) > 0);
        assert_string_equal(err, expected);
        free(out);
        free(err);

        out = ferry(t, 0, &err, "remote", "add", "r1", t->url, "--accept-certificate", NULL);
        assert_contains(out, "but ferryd does not trust this client yet");
        free(out);
        free(err);
        out = ferry(t, 1, &err, "--remote", "r1", "source", "list", NULL);
        assert_string_equal(err, "Error: " NOT_TRUSTED "\n");
        free(out);
        free(err);

        /* The admin trusts the certificate file the message names. */
        assert_non_null(cert = strjoin(t->conf_dir, "/client.crt", NULL));
        out = ferry(t, 0, NULL, "config", "trust", "add-certificate", "laptop", cert, NULL);
        assert_true(startswith(out, "Certificate "));
        free(out);
        info = ferry(t, 0, NULL, "--remote", "r1", "info", NULL);
        assert_contains(info, "auth_user_name: laptop\n");
}

static void test_remote_add_reads_the_token_from_stdin(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *cmd = NULL, *out = NULL, *err = NULL, *info = NULL;

        start(t);
        /* The pipe of the example: one ferry makes the token, the other uses it. */
        assert_true(asprintf(&cmd, "'%s' config trust add piped | '%s' remote add r1 '%s' --token-stdin", FERRY_PATH,
                             FERRY_PATH, t->url) > 0);
        assert_int_equal(proc_run((char *const[]) { (char *) "/bin/sh", (char *) "-c", cmd, NULL }, &out, &err), 0);
        assert_true(startswith(out, "Remote r1 added: "));
        info = ferry(t, 0, NULL, "--remote", "r1", "info", NULL);
        assert_contains(info, "auth_user_name: piped\n");
}

static void test_remote_list_switch_and_remove(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *token = NULL, *expected = NULL;
        char *out, *err = NULL;

        start(t);
        token = cli_token(t, "c1", NULL);
        free(ferry(t, 0, NULL, "remote", "add", "r1", t->url, "--token", token, NULL));

        out = ferry(t, 0, NULL, "remote", "list", "-f", "csv", NULL);
        assert_true(asprintf(&expected, "local,unix://%s,YES\nr1,%s,NO\n", t->d->socket_path, t->url) > 0);
        assert_string_equal(out, expected);
        free(out);

        free(ferry(t, 0, NULL, "remote", "switch", "r1", NULL));
        out = ferry(t, 0, NULL, "remote", "get-default", NULL);
        assert_string_equal(out, "r1\n");
        free(out);
        out = ferry(t, 0, NULL, "info", NULL);
        assert_contains(out, "auth_user_name: c1\n");
        free(out);
        /* --socket and --remote local still mean the unix socket. */
        out = ferry(t, 0, NULL, "--socket", t->d->socket_path, "info", NULL);
        assert_contains(out, "auth_user_name: ''\n");
        free(out);
        out = ferry(t, 0, NULL, "--remote", "local", "info", NULL);
        assert_contains(out, "auth_user_name: ''\n");
        free(out);

        out = ferry(t, 1, &err, "--remote", "nope", "info", NULL);
        assert_string_equal(err, "Error: Remote 'nope' does not exist: see 'ferry remote list'\n");
        free(out);
        free(err);
        out = ferry(t, 1, &err, "remote", "remove", "local", NULL);
        assert_string_equal(err, "Error: The remote 'local' cannot be removed\n");
        free(out);
        free(err);
        out = ferry(t, 1, &err, "remote", "add", "r1", t->url, "--token", token, NULL);
        assert_string_equal(err, "Error: Remote 'r1' already exists\n");
        free(out);
        free(err);

        out = ferry(t, 0, NULL, "remote", "remove", "r1", NULL);
        assert_string_equal(out, "Remote r1 removed\n");
        free(out);
        out = ferry(t, 0, NULL, "remote", "get-default", NULL);
        assert_string_equal(out, "local\n");
        free(out);
}

static void test_config_trust_lists_and_removes_certificates_and_tokens(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *token = NULL, *pending = NULL;
        char *out, *err = NULL;

        start(t);
        token = cli_token(t, "c1", NULL);
        free(ferry(t, 0, NULL, "remote", "add", "r1", t->url, "--token", token, NULL));
        pending = cli_token(t, "later", "30m");

        out = ferry(t, 0, NULL, "config", "trust", "list", "-f", "csv", NULL);
        assert_true(startswith(out, "c1,client,"));
        assert_contains(out, "\nlater,token,,");
        free(out);

        out = ferry(t, 0, NULL, "config", "trust", "remove", "later", NULL);
        assert_string_equal(out, "Trust token later revoked\n");
        free(out);
        out = ferry(t, 0, NULL, "config", "trust", "remove", "c1", NULL);
        assert_string_equal(out, "Certificate c1 removed\n");
        free(out);
        out = ferry(t, 1, &err, "--remote", "r1", "source", "list", NULL);
        assert_string_equal(err, "Error: " NOT_TRUSTED "\n");
        free(out);
        free(err);

        out = ferry(t, 1, &err, "config", "trust", "remove", "c1", NULL);
        assert_string_equal(err, "Error: No trusted certificate or pending token is named 'c1', and no certificate "
                                 "fingerprint starts with it\n");
        free(out);
        free(err);
        out = ferry(t, 2, &err, "config", "trust", "add", "x", "--expires", "soon", NULL);
        assert_contains(err, "ferry: Invalid --expires 'soon': use a duration of at least 1s, like 30m or 1h\n");
        free(out);
        free(err);
}

/* The base64 lines of a PEM private key file. */
static void assert_key_absent(const char *key_path, const char *haystack)
{
        _cleanup_free_ char *pem = NULL;
        char *line, *save = NULL;
        int n = 0;

        assert_int_equal(fileio_read(key_path, 65536, &pem, NULL), 0);
        for (line = strtok_r(pem, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (startswith(line, "-----"))
                        continue;
                n++;
                if (strstr(haystack, line))
                        fail_msg("A line of '%s' appears in an answer or the log", key_path);
        }
        assert_true(n > 0);
}

static void test_private_keys_appear_in_no_answer_and_no_log(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *token = NULL, *server_key = NULL, *client_key = NULL, *log = NULL;
        struct api_answer a = {};

        start(t);
        token = cli_token(t, "c1", NULL);
        free(ferry(t, 0, NULL, "remote", "add", "r1", t->url, "--token", token, NULL));
        free(ferry(t, 0, NULL, "--remote", "r1", "info", NULL));
        free(ferry(t, 0, NULL, "--remote", "r1", "config", "trust", "list", "-f", "yaml", NULL));
        free(ferry(t, 0, NULL, "--remote", "r1", "remote", "list", "-f", "json", NULL));
        free(ferry(t, 0, NULL, "--remote", "r1", "query", "/1.0/certificates?recursion=1", NULL));
        https_expect(t, t->stranger_cert, t->stranger_key, "GET", "/1.0", NULL, 200, &a);
        api_answer_done(&a);

        assert_int_equal(ferryd_fixture_stop(t->d), 0);
        log = proc_stderr(&t->d->ferryd);
        assert_contains(log, "Trusted certificate ");
        assert_int_equal(strbuf_append(&t->answers, log), 0);

        assert_non_null(server_key = strjoin(t->d->data_dir, "/server.key", NULL));
        assert_non_null(client_key = strjoin(t->conf_dir, "/client.key", NULL));
        assert_key_absent(server_key, strbuf_str(&t->answers));
        assert_key_absent(client_key, strbuf_str(&t->answers));
        assert_key_absent(t->stranger_key, strbuf_str(&t->answers));
        assert_null(strstr(strbuf_str(&t->answers), "PRIVATE KEY"));
        /* Nor the token's secret. */
        assert_null(strstr(log, token));
}

static void test_ferryd_serves_https_on_ipv6_loopback(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *config = NULL, *cert = NULL;
        struct ferry_error err = {};
        struct api_answer a = {};
        json_t *m;

        assert_true(asprintf(&config, "core:\n  https_address: \"[::1]:%d\"\n", t->port) > 0);
        write_config(t, config);
        free(t->url);
        assert_true(asprintf(&t->url, "https://[::1]:%d", t->port) > 0);
        ferryd_fixture_start_with(t->d, (const char *const[]) { "--config", t->config_path, NULL });
        wait_for_port(&t->d->ferryd, t->port, true);
        assert_non_null(cert = strjoin(t->d->data_dir, "/server.crt", NULL));
        assert_int_equal(fingerprint_from_pem_file(cert, t->server_fp, &err), 0);

        m = https_expect(t, t->stranger_cert, t->stranger_key, "GET", "/1.0", NULL, 200, &a);
        assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(m, "environment"),
                                                                               "addresses"),
                                                              0)),
                            strchr(t->url, '[') ?: "");
        api_answer_done(&a);
}

static void test_ferryd_stops_on_a_config_it_does_not_understand(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *err = NULL, *expected = NULL, *out = NULL;

        write_config(t, "core.http_address: \"127.0.0.1:8443\"\n");
        assert_int_equal(proc_run((char *const[]) { (char *) FERRYD_PATH, "--data-dir", t->d->data_dir, "--config",
                                                    t->config_path, NULL },
                                  &out, &err),
                         1);
        assert_true(asprintf(&expected, "ferryd: error: Config file '%s': Unknown key 'core.http_address'\n",
                             t->config_path) > 0);
        assert_string_equal(err, expected);
        free(TAKE_PTR(err));
        free(TAKE_PTR(out));

        assert_int_equal(proc_run((char *const[]) { (char *) FERRYD_PATH, "--data-dir", t->d->data_dir, "--config",
                                                    "/nonexistent/ferryd.yaml", NULL },
                                  &out, &err),
                         1);
        assert_string_equal(err, "ferryd: error: Config file '/nonexistent/ferryd.yaml' does not exist\n");
}

static void test_ferryd_says_why_it_cannot_listen(void **state)
{
        struct tls_fixture *t = *state;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                  .sin_port = htons((uint16_t) t->port) };
        _cleanup_free_ char *err = NULL, *expected = NULL, *out = NULL;
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 1), 0);

        assert_int_equal(proc_run((char *const[]) { (char *) FERRYD_PATH, "--data-dir", t->d->data_dir, "--config",
                                                    t->config_path, NULL },
                                  &out, &err),
                         1);
        assert_true(asprintf(&expected, "ferryd: error: Cannot listen on 127.0.0.1:%d: Address already in use\n",
                             t->port) > 0);
        assert_contains(err, expected);
}

static void test_a_remote_whose_server_certificate_changed_is_refused(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *token = NULL, *config_path = NULL, *config = NULL, *expected = NULL;
        char *out, *err = NULL, *at;

        start(t);
        token = cli_token(t, "c1", NULL);
        free(ferry(t, 0, NULL, "remote", "add", "r1", t->url, "--token", token, NULL));

        /* As if ferryd had a new certificate: the pin no longer matches. */
        assert_non_null(config_path = strjoin(t->conf_dir, "/config.yml", NULL));
        assert_int_equal(fileio_read(config_path, 65536, &config, NULL), 0);
        assert_non_null(at = strstr(config, t->server_fp));
        memset(at, 'c', 64);
        write_text(config_path, config);

        out = ferry(t, 1, &err, "--remote", "r1", "info", NULL);
        assert_true(asprintf(&expected,
                             "Error: Cannot talk to ferryd at '%s': Server certificate fingerprint '%s' does not "
                             "match the trusted fingerprint "
                             "'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc'\n",
                             t->url, t->server_fp) > 0);
        assert_string_equal(err, expected);
        free(out);
        free(err);
}

static void test_the_command_line_log_level_wins_over_the_config_file(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *config = NULL, *quiet = NULL, *loud = NULL;

        assert_true(asprintf(&config, "core.https_address: \"127.0.0.1:%d\"\nlog.level: error\n", t->port) > 0);
        write_config(t, config);

        ferryd_fixture_start_with(t->d, (const char *const[]) { "--config", t->config_path, NULL });
        wait_for_port(&t->d->ferryd, t->port, false);
        assert_int_equal(ferryd_fixture_stop(t->d), 0);
        quiet = proc_stderr(&t->d->ferryd);
        assert_null(strstr(quiet, "Listening on"));
        proc_cleanup(&t->d->ferryd);

        ferryd_fixture_start_with(t->d, (const char *const[]) { "--config", t->config_path, "--log-level", "info",
                                                                NULL });
        wait_for_port(&t->d->ferryd, t->port, false);
        assert_int_equal(ferryd_fixture_stop(t->d), 0);
        loud = proc_stderr(&t->d->ferryd);
        assert_contains(loud, "ferryd: info: Listening on https://127.0.0.1:");
}

static void test_monitor_streams_events_over_https_to_a_trusted_client(void **state)
{
        struct tls_fixture *t = *state;
        _cleanup_free_ char *token = NULL, *cert = NULL, *key = NULL, *cert_path = NULL, *out = NULL;
        _cleanup_free_ char *err = NULL, *source = NULL;
        _cleanup_json_ json_t *event = NULL;
        struct ferry_error ferr = {};
        char fp[FINGERPRINT_HEX_SIZE];
        struct proc monitor = {};
        json_error_t jerr;
        json_t *meta;
        int waited;

        start(t);
        token = cli_token(t, "c1", NULL);
        free(ferry(t, 0, NULL, "remote", "add", "r1", t->url, "--token", token, NULL));

        proc_start(&monitor, (char *const[]) { (char *) FERRY_PATH, "--remote", "r1", "monitor", "--type",
                                               "lifecycle", "-f", "json", "--count", "1", NULL });
        for (waited = 0;; waited += 10) {
                _cleanup_free_ char *log = proc_stderr(&t->d->ferryd);

                if (strstr(log, "Event listener connected"))
                        break;
                if (waited > 20000 || !proc_running(&monitor)) {
                        _cleanup_free_ char *merr = proc_stderr(&monitor);

                        fail_msg("The monitor did not connect: %s", merr);
                }
                usleep(10 * 1000);
        }

        /* A change on the unix socket, seen over HTTPS. */
        assert_int_equal(tls_cert_generate("ci", &cert, &key, &ferr), 0);
        assert_int_equal(fingerprint_from_pem(cert, strlen(cert), fp, &ferr), 0);
        assert_non_null(cert_path = strjoin(t->d->dir, "/ci.crt", NULL));
        write_text(cert_path, cert);
        free(ferry(t, 0, NULL, "config", "trust", "add-certificate", "ci", cert_path, NULL));

        assert_int_equal(proc_wait(&monitor, 20000), 0);
        out = proc_stdout(&monitor);
        event = json_loads(out, JSON_DISABLE_EOF_CHECK, &jerr);
        if (!event)
                fail_msg("Not a JSON event: %s", out);
        meta = json_object_get(event, "metadata");
        assert_string_equal(str(meta, "action"), "certificate-created");
        assert_non_null(source = strjoin("/1.0/certificates/", fp, NULL));
        assert_string_equal(str(meta, "source"), source);
        assert_string_equal(str(json_object_get(meta, "requestor"), "protocol"), "unix");
        proc_cleanup(&monitor);

        /* Untrusted again: the stream is refused, and ferry says why. */
        free(ferry(t, 0, NULL, "config", "trust", "remove", "c1", NULL));
        free(ferry(t, 1, &err, "--remote", "r1", "monitor", "--count", "1", NULL));
        assert_string_equal(err, "Error: " NOT_TRUSTED "\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_an_untrusted_client_gets_get_1_0_and_is_told_it_is_untrusted,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_an_untrusted_client_gets_403_on_everything_else, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_an_untrusted_client_cannot_make_itself_a_token, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_client_without_a_certificate_is_untrusted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_trust_token_trusts_the_client_certificate_once, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_a_used_token_is_refused_and_stores_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_an_expired_token_is_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_revoked_or_foreign_token_is_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_deleting_a_certificate_takes_the_trust_back, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tls_below_1_2_is_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_http2_is_not_offered, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remote_add_with_a_token_has_the_cli_trusted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remote_add_refuses_a_used_token_and_adds_nothing, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_remote_add_refuses_an_expired_token, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remote_add_refuses_a_server_that_is_not_the_one_of_the_token,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_remote_add_without_a_token_asks_about_the_certificate, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_remote_add_reads_the_token_from_stdin, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remote_list_switch_and_remove, setup, teardown),
                cmocka_unit_test_setup_teardown(test_config_trust_lists_and_removes_certificates_and_tokens, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_private_keys_appear_in_no_answer_and_no_log, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ferryd_serves_https_on_ipv6_loopback, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ferryd_stops_on_a_config_it_does_not_understand, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_ferryd_says_why_it_cannot_listen, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_remote_whose_server_certificate_changed_is_refused, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_the_command_line_log_level_wins_over_the_config_file, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_monitor_streams_events_over_https_to_a_trusted_client, setup,
                                                teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
