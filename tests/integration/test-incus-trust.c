/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registering ferry with the lab's incusd by trust tokens made with
 * `incus config trust add`, over HTTPS with a fresh client certificate.
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
#include <jansson.h>
#include <openssl/evp.h>

#include "common/strbuf.h"
#include "lab.h"
#include "proc.h"
#include "target/incus/trust.h"

struct identity {
        char dir[64];
        char *cert;
        char *key;
};

/* A new client certificate, as ferry makes one (ECDSA P-384, self-signed). */
static int identity_setup(void **state)
{
        struct identity *id = calloc(1, sizeof(*id));
        _cleanup_free_ char *out = NULL;

        assert_non_null(id);
        snprintf(id->dir, sizeof(id->dir), "/tmp/ferry-trust-XXXXXX");
        assert_non_null(mkdtemp(id->dir));
        assert_non_null(id->cert = strjoin(id->dir, "/client.crt", NULL));
        assert_non_null(id->key = strjoin(id->dir, "/client.key", NULL));
        out = proc_run_stdout(0, (char *const[]) { "/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                                   "ec_paramgen_curve:secp384r1", "-nodes", "-subj", "/O=ferry/CN=ferry",
                                                   "-days", "30", "-keyout", id->key, "-out", id->cert, NULL });
        *state = id;
        return 0;
}

static int identity_teardown(void **state)
{
        struct identity *id = *state;

        unlink(id->cert);
        unlink(id->key);
        rmdir(id->dir);
        free(id->cert);
        free(id->key);
        free(id);
        return 0;
}

/* `incus config trust add NAME [extra]` in the lab: the token text. */
static char *trust_add(const char *name, const char *extra1, const char *extra2)
{
        _cleanup_free_ char *env = strjoin("INCUS_DIR=", lab_env("LAB_INCUS_DIR"), NULL);
        char *out;
        size_t len;

        assert_non_null(env);
        out = proc_run_stdout(0, (char *const[]) { "/usr/bin/env", env, "incus", "config", "trust", "add",
                                                   (char *) name, "--quiet", (char *) extra1, (char *) extra2, NULL });
        len = strlen(out);
        while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
                out[--len] = '\0';
        return out;
}

/* The server fingerprint a token carries (base64 JSON). */
static void token_fingerprint(const char *token, char ret[static 65])
{
        size_t len = strlen(token);
        unsigned char *raw = malloc(len);
        json_t *v;
        int n;

        assert_non_null(raw);
        n = EVP_DecodeBlock(raw, (const unsigned char *) token, (int) len);
        assert_true(n > 0);
        while (n > 0 && raw[n - 1] == '\0')
                n--;
        v = json_loadb((const char *) raw, (size_t) n, 0, NULL);
        assert_non_null(v);
        snprintf(ret, 65, "%s", json_string_value(json_object_get(v, "fingerprint")));
        json_decref(v);
        free(raw);
}

static struct incus_client_config config_for(const struct identity *id, const char *fingerprint)
{
        return (struct incus_client_config) {
                .endpoint = lab_env("LAB_INCUS_URL"),
                .client_cert = id->cert,
                .client_key = id->key,
                .server_fingerprint = fingerprint,
        };
}

static void test_token_registers_ferry_and_calls_then_work(void **state)
{
        struct identity *id = *state;
        _cleanup_free_ char *token = trust_add("ferry-plain", NULL, NULL);
        _cleanup_incus_client_ struct incus_client *c = NULL;
        _cleanup_json_ json_t *pools = NULL;
        struct incus_trust_status status = {};
        struct incus_client_config config;
        struct ferry_error err = {};
        char fingerprint[65];

        token_fingerprint(token, fingerprint);
        assert_string_equal(fingerprint, lab_env("LAB_INCUS_FINGERPRINT"));
        config = config_for(id, fingerprint);

        if (incus_trust_register(&config, token, &status, &err) < 0)
                fail_msg("%s", err.message);
        assert_true(status.trusted);
        assert_false(status.restricted);
        assert_null(status.projects);
        assert_true(startswith(status.server_version, "6."));
        assert_string_equal(status.server_fingerprint, lab_env("LAB_INCUS_FINGERPRINT"));
        incus_trust_status_done(&status);

        c = incus_client_new(&config, &err);
        assert_non_null(c);
        if (incus_get(c, "/1.0/storage-pools", NULL, &pools, &err) < 0)
                fail_msg("%s", err.message);
        assert_true(json_array_size(pools) >= 1);

        /* Registering again is harmless: ferry is trusted already. */
        if (incus_trust_register(&config, token, NULL, &err) < 0)
                fail_msg("%s", err.message);
}

static void test_used_token_is_refused_with_incus_reason(void **state)
{
        struct identity *id = *state;
        _cleanup_free_ char *token = trust_add("ferry-used", NULL, NULL);
        struct incus_client_config config;
        struct ferry_error err = {};
        char fingerprint[65];

        token_fingerprint(token, fingerprint);
        config = config_for(id, fingerprint);
        if (incus_trust_register(&config, token, NULL, &err) < 0)
                fail_msg("%s", err.message);

        /* A second identity with the same, now used, token. */
        {
                void *other = NULL;
                struct incus_client_config other_config;

                identity_setup(&other);
                other_config = config_for(other, fingerprint);
                assert_int_equal(incus_trust_register(&other_config, token, NULL, &err), -EACCES);
                assert_string_equal(err.message, "Incus refused the trust token: No matching certificate add operation found");
                identity_teardown(&other);
        }
}

static void test_restricted_token_limits_ferry_to_its_projects(void **state)
{
        struct identity *id = *state;
        _cleanup_free_ char *token = trust_add("ferry-restricted", "--restricted", "--projects=lab");
        struct incus_trust_status status = {};
        struct incus_client_config config;
        struct ferry_error err = {};
        char fingerprint[65];

        token_fingerprint(token, fingerprint);
        config = config_for(id, fingerprint);
        if (incus_trust_register(&config, token, &status, &err) < 0)
                fail_msg("%s", err.message);
        assert_true(status.trusted);
        assert_true(status.restricted);
        assert_non_null(status.projects);
        assert_string_equal(status.projects[0], lab_env("LAB_INCUS_PROJECT"));
        assert_null(status.projects[1]);
        incus_trust_status_done(&status);
}

static void test_wrong_fingerprint_fails_before_sending_the_token(void **state)
{
        struct identity *id = *state;
        _cleanup_free_ char *token = trust_add("ferry-pin", NULL, NULL);
        _cleanup_free_ char *expected = NULL;
        struct incus_client_config config;
        struct ferry_error err = {};

        config = config_for(id, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
        assert_int_equal(incus_trust_register(&config, token, NULL, &err), -EPERM);
        assert_true(asprintf(&expected,
                             "Server certificate fingerprint '%s' does not match the trusted fingerprint "
                             "'00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'",
                             lab_env("LAB_INCUS_FINGERPRINT")) > 0);
        assert_string_equal(err.message, expected);
}

static void test_unix_endpoint_cannot_register(void **state)
{
        struct identity *id = *state;
        struct incus_client_config config = config_for(id, NULL);
        struct ferry_error err = {};

        config.endpoint = "unix:///var/lib/incus/unix.socket";
        assert_int_equal(incus_trust_register(&config, "token", NULL, &err), -EINVAL);
        assert_string_equal(err.message,
                            "Registering with a trust token needs an https:// endpoint, not "
                            "'unix:///var/lib/incus/unix.socket'");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_token_registers_ferry_and_calls_then_work, identity_setup,
                                                identity_teardown),
                cmocka_unit_test_setup_teardown(test_used_token_is_refused_with_incus_reason, identity_setup,
                                                identity_teardown),
                cmocka_unit_test_setup_teardown(test_restricted_token_limits_ferry_to_its_projects, identity_setup,
                                                identity_teardown),
                cmocka_unit_test_setup_teardown(test_wrong_fingerprint_fails_before_sending_the_token,
                                                identity_setup, identity_teardown),
                cmocka_unit_test_setup_teardown(test_unix_endpoint_cannot_register, identity_setup,
                                                identity_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
