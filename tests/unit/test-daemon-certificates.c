/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/daemon/api-certificates.c without a server: the trust store's
 * routes through api_handle() on a real database, with requestors as
 * server.c makes them, and the lifecycle events they emit.
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

#include "common/duration.h"
#include "common/fingerprint.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/tls-cert.h"
#include "common/trust-token.h"
#include "daemon/api.h"
#include "daemon/daemon.h"
#include "daemon/events.h"
#include "db-test.h"

struct fixture {
        struct db_test *dbt;
        struct daemon d;
        struct event_subscription *sub;
        json_t *events;         /* every lifecycle event, in order */
        char *client_pem;       /* a client certificate, as server.c hands it on */
        char client_fp[FINGERPRINT_HEX_SIZE];
};

static void on_event(const json_t *event, void *userdata)
{
        struct fixture *f = userdata;

        assert_int_equal(json_array_append(f->events, (json_t *) event), 0);
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        _cleanup_free_ char *key = NULL;
        struct ferry_error err = {};

        assert_non_null(f);
        db_test_setup((void **) &f->dbt);
        f->d = (struct daemon) { .data_dir = (char *) "/srv/ferry", .lock_fd = -EBADF, .pid = 4242,
                                 .db = f->dbt->db };
        assert_int_equal(event_hub_new(&f->d.events), 0);
        assert_non_null(f->events = json_array());
        assert_int_equal(event_hub_subscribe(f->d.events, EVENT_TYPE_MASK(EVENT_LIFECYCLE), on_event, f, &f->sub), 0);

        assert_int_equal(tls_cert_generate("ferry-test", &f->d.server_cert_pem, &key, &err), 0);
        assert_int_equal(fingerprint_from_pem(f->d.server_cert_pem, strlen(f->d.server_cert_pem),
                                              f->d.server_fingerprint, &err),
                         0);
        assert_non_null(f->d.https_address = strdup("127.0.0.1:8443"));
        free(key);
        key = NULL;
        assert_int_equal(tls_cert_generate("laptop", &f->client_pem, &key, &err), 0);
        assert_int_equal(fingerprint_from_pem(f->client_pem, strlen(f->client_pem), f->client_fp, &err), 0);
        assert_int_equal(api_certificates_load(&f->d, &err), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        event_subscription_free(f->sub);
        event_hub_free(f->d.events);
        json_decref(f->d.trusted);
        json_decref(f->events);
        free(f->d.server_cert_pem);
        free(f->d.https_address);
        free(f->client_pem);
        db_test_teardown((void **) &f->dbt);
        free(f);
        return 0;
}

/* The unix socket: trusted, no certificate. */
static const struct api_requestor local = { .protocol = "unix", .username = "", .trusted = true };

/* The laptop's TLS connection before it is trusted. */
static struct api_requestor laptop(const struct fixture *f)
{
        return (struct api_requestor) { .protocol = "tls", .username = "", .fingerprint = f->client_fp,
                                        .certificate = f->client_pem, .trusted = false };
}

static json_t *call(struct fixture *f, struct api_requestor who, const char *method, const char *path,
                    const char *body, int status)
{
        _cleanup_api_response_ struct api_response resp = {};
        const char *args[] = { "recursion=1" };
        struct api_request req = {
                .method = method,
                .path = path,
                .body = body,
                .body_len = body ? strlen(body) : 0,
                .requestor = who,
        };
        char *q = strchr(path, '?');
        _cleanup_free_ char *bare = NULL;

        if (q) {
                assert_string_equal(q + 1, "recursion=1");
                assert_non_null(bare = strndup(path, (size_t) (q - path)));
                req.path = bare;
                req.args[0] = args[0];
                req.n_args = 1;
        }
        if (!who.trusted && !api_allows(&req)) {
                assert_int_equal(status, 403);
                return NULL;
        }
        assert_int_equal(api_handle(&f->d, &req, &resp), 0);
        if (resp.status != status) {
                _cleanup_free_ char *text = json_dumps(resp.envelope, 0);

                fail_msg("%s %s: expected %d, got %d: %s", method, path, status, resp.status, text);
        }
        return json_incref(resp.envelope);
}

static json_t *metadata(json_t *envelope)
{
        json_t *m = json_incref(json_object_get(envelope, "metadata"));

        json_decref(envelope);
        return m;
}

static void assert_error_message(json_t *envelope, const char *message)
{
        assert_string_equal(string_at(envelope, "error"), message);
        json_decref(envelope);
}

/* POST a token for name from the unix socket; the token text. */
static char *make_token(struct fixture *f, const char *body)
{
        _cleanup_json_ json_t *m = metadata(call(f, local, "POST", "/1.0/certificates", body, 200));

        return strdup(string_at(m, "token"));
}

static void use_token(struct fixture *f, const char *token, int status)
{
        _cleanup_free_ char *body = NULL;

        assert_true(asprintf(&body, "{\"trust_token\": \"%s\"}", token) > 0);
        json_decref(call(f, laptop(f), "POST", "/1.0/certificates", body, status));
}

static void test_a_token_names_the_server_its_addresses_and_an_expiry_an_hour_away(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *m = NULL;
        _cleanup_trust_token_ struct trust_token *t = NULL;
        struct ferry_error err = {};
        int64_t expires = 0, now = (int64_t) time(NULL) * (int64_t) USEC_PER_SEC;

        m = metadata(call(f, local, "POST", "/1.0/certificates", "{\"name\": \"laptop\", \"token\": true}", 200));
        assert_string_equal(string_at(m, "name"), "laptop");
        assert_int_equal(trust_token_decode(string_at(m, "token"), &t, &err), 0);
        assert_string_equal(t->client_name, "laptop");
        assert_string_equal(t->fingerprint, f->d.server_fingerprint);
        assert_string_equal(t->addresses[0], "127.0.0.1:8443");
        assert_null(t->addresses[1]);
        assert_int_equal(timestamp_parse_rfc3339(string_at(m, "expires_at"), &expires), 0);
        assert_int_equal(expires, t->expires_at);
        assert_true(expires > now + 59 * (int64_t) USEC_PER_MINUTE);
        assert_true(expires < now + 61 * (int64_t) USEC_PER_MINUTE);
}

static void test_a_token_takes_its_expiry_and_lists_without_its_secret(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *m = NULL, *list = NULL;
        _cleanup_trust_token_ struct trust_token *t = NULL;
        _cleanup_free_ char *text = NULL;
        struct ferry_error err = {};
        int64_t now = (int64_t) time(NULL) * (int64_t) USEC_PER_SEC;

        m = metadata(call(f, local, "POST", "/1.0/certificates",
                          "{\"name\": \"ci\", \"token\": true, \"expires_in\": \"5m\"}", 200));
        assert_int_equal(trust_token_decode(string_at(m, "token"), &t, &err), 0);
        assert_true(t->expires_at < now + 6 * (int64_t) USEC_PER_MINUTE);

        list = metadata(call(f, local, "GET", "/1.0/certificates/tokens", NULL, 200));
        assert_int_equal(json_array_size(list), 1);
        assert_string_equal(string_at(json_array_get(list, 0), "name"), "ci");
        assert_false(json_is_true(json_object_get(json_array_get(list, 0), "expired")));
        assert_non_null(text = json_dumps(list, 0));
        assert_null(strstr(text, t->secret));
}

static void test_a_token_request_is_checked(void **state)
{
        struct fixture *f = *state;

        assert_error_message(call(f, local, "POST", "/1.0/certificates", "{\"name\": \"a b\", \"token\": true}", 400),
                             "Invalid name 'a b': use 1 to 63 letters, digits, '-', '_' and '.', starting with a "
                             "letter or digit");
        assert_error_message(call(f, local, "POST", "/1.0/certificates",
                                  "{\"name\": \"x\", \"token\": true, \"expires_in\": \"0s\"}", 400),
                             "Field 'expires_in' must be a duration of at least 1s, like '30m' or '1h'");
        assert_error_message(call(f, local, "POST", "/1.0/certificates",
                                  "{\"name\": \"x\", \"token\": true, \"colour\": 1}", 400),
                             "Unknown field 'colour'");
        assert_error_message(call(f, local, "POST", "/1.0/certificates", "{\"token\": true}", 400),
                             "Missing required field 'name'");
        assert_error_message(call(f, local, "POST", "/1.0/certificates", "{\"name\": \"x\"}", 400),
                             "Send {\"name\": ..., \"token\": true} for a trust token, {\"name\": ..., "
                             "\"certificate\": PEM} to trust a certificate, or {\"trust_token\": ...} to use a token");
        json_decref(call(f, local, "POST", "/1.0/certificates", "{\"name\": \"x\", \"token\": true}", 200));
        assert_error_message(call(f, local, "POST", "/1.0/certificates", "{\"name\": \"x\", \"token\": true}", 409),
                             "Trust token 'x' already exists");
}

static void test_using_a_token_trusts_the_certificate_and_announces_it(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *token = make_token(f, "{\"name\": \"laptop\", \"token\": true}"), *source = NULL;
        _cleanup_json_ json_t *cert = NULL;
        json_t *event, *meta;

        use_token(f, token, 200);

        assert_string_equal(api_certificates_lookup(&f->d, f->client_fp), "laptop");
        assert_non_null(source = strjoin("/1.0/certificates/", f->client_fp, NULL));
        cert = metadata(call(f, local, "GET", source, NULL, 200));
        assert_string_equal(string_at(cert, "name"), "laptop");
        assert_string_equal(string_at(cert, "certificate"), f->client_pem);

        assert_int_equal(json_array_size(f->events), 1);
        event = json_array_get(f->events, 0);
        meta = json_object_get(event, "metadata");
        assert_string_equal(string_at(event, "type"), "lifecycle");
        assert_string_equal(string_at(meta, "action"), "certificate-created");
        assert_string_equal(string_at(meta, "source"), source);
        assert_string_equal(string_at(json_object_get(meta, "requestor"), "protocol"), "tls");
}

static void test_a_token_works_once(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *token = make_token(f, "{\"name\": \"laptop\", \"token\": true}");

        use_token(f, token, 200);
        use_token(f, token, 403);
        assert_int_equal(json_array_size(f->events), 1);
}

static void test_a_trusted_certificate_keeps_an_unused_token(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *first = make_token(f, "{\"name\": \"laptop\", \"token\": true}");
        _cleanup_free_ char *second = make_token(f, "{\"name\": \"again\", \"token\": true}"), *body = NULL;
        _cleanup_free_ char *expected = NULL;
        _cleanup_json_ json_t *tokens = NULL;
        struct api_requestor who = laptop(f);

        use_token(f, first, 200);
        who.trusted = true;
        assert_true(asprintf(&body, "{\"trust_token\": \"%s\"}", second) > 0);
        assert_non_null(expected = strjoin("Certificate '", f->client_fp, "' is already trusted as 'laptop'", NULL));
        assert_error_message(call(f, who, "POST", "/1.0/certificates", body, 409), expected);
        tokens = metadata(call(f, local, "GET", "/1.0/certificates/tokens", NULL, 200));
        assert_int_equal(json_array_size(tokens), 1);
        assert_string_equal(string_at(json_array_get(tokens, 0), "name"), "again");
}

static void test_a_token_over_the_unix_socket_is_refused(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *token = make_token(f, "{\"name\": \"laptop\", \"token\": true}"), *body = NULL;

        assert_true(asprintf(&body, "{\"trust_token\": \"%s\"}", token) > 0);
        assert_error_message(call(f, local, "POST", "/1.0/certificates", body, 400),
                             "A trust token adds the certificate of the TLS client that sends it: send it over "
                             "HTTPS with a client certificate");
}

static void test_an_untrusted_client_may_only_use_a_token(void **state)
{
        struct fixture *f = *state;

        json_decref(call(f, laptop(f), "GET", "/1.0/certificates", NULL, 403));
        json_decref(call(f, laptop(f), "GET", "/1.0/certificates/tokens", NULL, 403));
        assert_error_message(call(f, laptop(f), "POST", "/1.0/certificates", "{\"name\": \"me\", \"token\": true}",
                                  403),
                             "Not authorized: this client certificate is not trusted");
        assert_error_message(call(f, laptop(f), "POST", "/1.0/certificates", "{\"trust_token\": \"not a token!\"}", 403),
                             "Invalid trust token: not base64");
        assert_int_equal(json_array_size(f->events), 0);
}

static void test_a_certificate_is_stored_without_anything_else_its_pem_held(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *cert = NULL, *key = NULL, *pem = NULL, *fp_path = NULL;
        _cleanup_json_ json_t *body = NULL, *m = NULL, *stored = NULL;
        char fp[FINGERPRINT_HEX_SIZE];
        struct ferry_error err = {};

        assert_int_equal(tls_cert_generate("ci", &cert, &key, &err), 0);
        assert_int_equal(fingerprint_from_pem(cert, strlen(cert), fp, &err), 0);
        assert_non_null(pem = strjoin(key, cert, NULL));
        body = json_pack("{s:s, s:s}", "name", "ci", "certificate", pem);
        assert_non_null(body);
        {
                _cleanup_free_ char *text = json_dumps(body, 0);

                m = metadata(call(f, local, "POST", "/1.0/certificates", text, 200));
        }
        assert_string_equal(string_at(m, "fingerprint"), fp);
        assert_string_equal(string_at(m, "certificate"), cert);

        assert_non_null(fp_path = strjoin("/1.0/certificates/", fp, NULL));
        stored = metadata(call(f, local, "GET", fp_path, NULL, 200));
        assert_null(strstr(string_at(stored, "certificate"), "PRIVATE KEY"));
        assert_string_equal(api_certificates_lookup(&f->d, fp), "ci");
}

static void test_a_certificate_that_is_no_pem_certificate_is_refused(void **state)
{
        struct fixture *f = *state;

        assert_error_message(call(f, local, "POST", "/1.0/certificates",
                                  "{\"name\": \"ci\", \"certificate\": \"-----BEGIN NONSENSE-----\"}", 400),
                             "Field 'certificate' is not a PEM certificate");
        assert_int_equal(json_array_size(f->events), 0);
}

/* Trust a new certificate under name directly; its fingerprint. */
static void add_certificate(struct fixture *f, const char *name, char fp[static FINGERPRINT_HEX_SIZE])
{
        _cleanup_free_ char *cert = NULL, *key = NULL, *text = NULL;
        _cleanup_json_ json_t *body = NULL;
        struct ferry_error err = {};

        assert_int_equal(tls_cert_generate(name, &cert, &key, &err), 0);
        assert_int_equal(fingerprint_from_pem(cert, strlen(cert), fp, &err), 0);
        assert_non_null(body = json_pack("{s:s, s:s}", "name", name, "certificate", cert));
        assert_non_null(text = json_dumps(body, 0));
        json_decref(call(f, local, "POST", "/1.0/certificates", text, 200));
}

static void test_a_certificate_is_found_by_a_prefix_only_it_has(void **state)
{
        struct fixture *f = *state;
        char fps[17][FINGERPRINT_HEX_SIZE], path[64];
        size_t a = 0, b = 0;
        bool found = false;

        /* Among 17 fingerprints two share their first hex digit. */
        for (size_t i = 0; i < ELEMENTSOF(fps) && !found; i++) {
                char name[16];

                snprintf(name, sizeof(name), "c%zu", i);
                add_certificate(f, name, fps[i]);
                for (size_t j = 0; j < i && !found; j++)
                        if (fps[j][0] == fps[i][0]) {
                                a = j;
                                b = i;
                                found = true;
                        }
        }
        assert_true(found);

        snprintf(path, sizeof(path), "/1.0/certificates/%c", fps[a][0]);
        {
                _cleanup_free_ char *expected = NULL;

                assert_true(asprintf(&expected, "Fingerprint prefix '%c' matches more than one certificate",
                                     fps[a][0]) > 0);
                assert_error_message(call(f, local, "GET", path, NULL, 400), expected);
        }
        /* The whole fingerprint, in upper case with colons, or a longer prefix. */
        {
                _cleanup_json_ json_t *m = NULL;
                char upper[3 * 32], colon_path[128];
                size_t n = 0;

                for (size_t k = 0; k < 64; k++) {
                        upper[n++] = (char) (fps[b][k] >= 'a' ? fps[b][k] - 'a' + 'A' : fps[b][k]);
                        if (k % 2 == 1)
                                upper[n++] = k < 63 ? ':' : '\0';
                }
                snprintf(colon_path, sizeof(colon_path), "/1.0/certificates/%s", upper);
                m = metadata(call(f, local, "GET", colon_path, NULL, 200));
                assert_string_equal(string_at(m, "fingerprint"), fps[b]);
        }
        {
                char *long_path = NULL;
                _cleanup_json_ json_t *m = NULL;
                _cleanup_free_ char *owned = NULL;

                assert_true(asprintf(&long_path, "/1.0/certificates/%.*s", 20, fps[b]) > 0);
                owned = long_path;
                m = metadata(call(f, local, "GET", long_path, NULL, 200));
                assert_string_equal(string_at(m, "fingerprint"), fps[b]);
        }
        assert_error_message(call(f, local, "GET", "/1.0/certificates/zz", NULL, 404),
                             "Certificate 'zz' not found");
}

static void test_deleting_a_certificate_untrusts_it_and_announces_it(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *path = NULL;
        char fp[FINGERPRINT_HEX_SIZE];
        json_t *meta;

        add_certificate(f, "ci", fp);
        assert_non_null(path = strjoin("/1.0/certificates/", fp, NULL));
        json_decref(call(f, local, "DELETE", path, NULL, 200));

        assert_null(api_certificates_lookup(&f->d, fp));
        assert_int_equal(json_array_size(f->events), 2);
        meta = json_object_get(json_array_get(f->events, 1), "metadata");
        assert_string_equal(string_at(meta, "action"), "certificate-deleted");
        assert_string_equal(string_at(meta, "source"), path);
        assert_string_equal(string_at(json_object_get(meta, "requestor"), "protocol"), "unix");
        json_decref(call(f, local, "DELETE", path, NULL, 404));
}

static void test_revoking_a_token_makes_it_useless(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *token = make_token(f, "{\"name\": \"laptop\", \"token\": true}");

        json_decref(call(f, local, "DELETE", "/1.0/certificates/tokens/laptop", NULL, 200));
        assert_error_message(call(f, local, "DELETE", "/1.0/certificates/tokens/laptop", NULL, 404),
                             "Trust token 'laptop' not found");
        use_token(f, token, 403);
}

static void test_the_list_is_urls_or_objects(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *urls = NULL, *objects = NULL;
        _cleanup_free_ char *url = NULL;
        char fp[FINGERPRINT_HEX_SIZE];

        add_certificate(f, "ci", fp);
        urls = metadata(call(f, local, "GET", "/1.0/certificates", NULL, 200));
        assert_non_null(url = strjoin("/1.0/certificates/", fp, NULL));
        assert_int_equal(json_array_size(urls), 1);
        assert_string_equal(json_string_value(json_array_get(urls, 0)), url);
        objects = metadata(call(f, local, "GET", "/1.0/certificates?recursion=1", NULL, 200));
        assert_string_equal(string_at(json_array_get(objects, 0), "name"), "ci");
        assert_non_null(json_object_get(json_array_get(objects, 0), "created_at"));
}

static void test_server_info_shows_untrusted_clients_only_how_to_pin_it(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *mine = NULL, *theirs = NULL;
        json_t *env;

        theirs = metadata(call(f, laptop(f), "GET", "/1.0", NULL, 200));
        assert_string_equal(string_at(theirs, "auth"), "untrusted");
        env = json_object_get(theirs, "environment");
        assert_string_equal(string_at(env, "certificate_fingerprint"), f->d.server_fingerprint);
        assert_string_equal(string_at(env, "certificate"), f->d.server_cert_pem);
        assert_string_equal(json_string_value(json_array_get(json_object_get(env, "addresses"), 0)), "127.0.0.1:8443");
        assert_null(json_object_get(env, "data_dir"));
        assert_null(json_object_get(env, "pid"));

        mine = metadata(call(f, local, "GET", "/1.0", NULL, 200));
        assert_string_equal(string_at(mine, "auth"), "trusted");
        assert_string_equal(string_at(json_object_get(mine, "environment"), "data_dir"), "/srv/ferry");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
                T(test_a_token_names_the_server_its_addresses_and_an_expiry_an_hour_away),
                T(test_a_token_takes_its_expiry_and_lists_without_its_secret),
                T(test_a_token_request_is_checked),
                T(test_using_a_token_trusts_the_certificate_and_announces_it),
                T(test_a_token_works_once),
                T(test_a_trusted_certificate_keeps_an_unused_token),
                T(test_a_token_over_the_unix_socket_is_refused),
                T(test_an_untrusted_client_may_only_use_a_token),
                T(test_a_certificate_is_stored_without_anything_else_its_pem_held),
                T(test_a_certificate_that_is_no_pem_certificate_is_refused),
                T(test_a_certificate_is_found_by_a_prefix_only_it_has),
                T(test_deleting_a_certificate_untrusts_it_and_announces_it),
                T(test_revoking_a_token_makes_it_useless),
                T(test_the_list_is_urls_or_objects),
                T(test_server_info_shows_untrusted_clients_only_how_to_pin_it),
#undef T
        };

        log_set_max_level(LOG_LEVEL_WARNING);   /* the handlers' info lines are ferryd's log */
        return cmocka_run_group_tests(tests, NULL, NULL);
}
