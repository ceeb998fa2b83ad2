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

static void wait_for_port(struct proc *p, int port)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                  .sin_port = htons((uint16_t) port) };

        for (int i = 0; i < 2000; i++) {
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                int r;

                assert_true(fd >= 0);
                r = connect(fd, (struct sockaddr *) &sa, sizeof(sa));
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
        wait_for_port(&t->d->ferryd, t->port);

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
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
