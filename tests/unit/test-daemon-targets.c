/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/daemon/targets.c without Incus: ferry's identity towards targets,
 * the client configuration of a stored target, what counts as
 * registered, and how inventories and states are stored.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "daemon/targets.h"
#include "db-test.h"
#include "db/target.h"

#define FP "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1"

static json_t *target_with(const char *endpoint, const char *fingerprint, const char *token)
{
        json_t *t = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:[]}, s:{}}", "name", "lab", "type", "incus",
                              "properties", "endpoint", endpoint, "trusted_server_certificate_fingerprint",
                              fingerprint ? fingerprint : "", "connection_timeout", "2s", "restricted_projects",
                              "inventory");

        assert_non_null(t);
        if (token)
                assert_int_equal(json_object_set_new(json_object_get(t, "properties"), "trust_token",
                                                     json_string(token)),
                                 0);
        return t;
}

static void test_identity_is_made_once_and_loaded_after(void **state)
{
        struct db_test *t = *state;
        struct target_identity a = {}, b = {};
        struct ferry_error err = {};
        struct stat st;

        assert_ok(target_identity_load(t->dir, &a, &err), &err);
        assert_true(endswith(a.cert_path, "/" TARGETS_CLIENT_CERT_NAME));
        assert_int_equal(stat(a.key_path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(strlen(a.fingerprint), 64);

        assert_ok(target_identity_load(t->dir, &b, &err), &err);
        assert_string_equal(a.fingerprint, b.fingerprint);
        target_identity_done(&a);
        target_identity_done(&b);
}

static void test_unix_target_needs_no_certificate(void **state)
{
        _cleanup_json_ json_t *target = target_with("unix:///var/lib/incus/unix.socket", NULL, NULL);
        struct target_identity id = { .cert_path = (char *) "/c", .key_path = (char *) "/k" };
        struct incus_client_config config;
        struct ferry_error err = {};

        (void) state;
        assert_ok(target_client_config(target, &id, &config, &err), &err);
        assert_string_equal(config.endpoint, "unix:///var/lib/incus/unix.socket");
        assert_null(config.client_cert);
        assert_null(config.server_fingerprint);
        assert_int_equal(config.connect_timeout_ms, 2000);
        assert_true(target_is_registered(target));
}

static void test_https_target_uses_ferrys_certificate_and_the_pinned_fingerprint(void **state)
{
        _cleanup_json_ json_t *target = target_with("https://10.0.0.1:8443", FP, NULL);
        struct target_identity id = { .cert_path = (char *) "/c", .key_path = (char *) "/k" };
        struct incus_client_config config;
        struct ferry_error err = {};

        (void) state;
        assert_ok(target_client_config(target, &id, &config, &err), &err);
        assert_string_equal(config.client_cert, "/c");
        assert_string_equal(config.client_key, "/k");
        assert_string_equal(config.server_fingerprint, FP);
        assert_true(target_is_registered(target));
}

static void test_https_target_without_fingerprint_is_not_registered(void **state)
{
        _cleanup_json_ json_t *target = target_with("https://10.0.0.1:8443", NULL, NULL);
        struct target_identity id = {};
        struct incus_client_config config;
        struct ferry_error err = {};

        (void) state;
        assert_false(target_is_registered(target));
        assert_error(target_client_config(target, &id, &config, &err), &err, -EACCES,
                     "Target 'lab' is not registered: give it a trust token from 'incus config trust add ferry' "
                     "with 'ferry target update lab --token TOKEN'");
}

static void test_target_with_a_waiting_token_is_not_registered_yet(void **state)
{
        _cleanup_json_ json_t *target = target_with("https://10.0.0.1:8443", FP, "dG9rZW4=");

        (void) state;
        assert_false(target_is_registered(target));
}

static void test_client_errors_become_connectivity_states(void **state)
{
        (void) state;
        assert_string_equal(target_status_from_errno(-EPERM), "TLS error");
        assert_string_equal(target_status_from_errno(-EACCES), "Authentication error");
        assert_string_equal(target_status_from_errno(-ECONNREFUSED), "Cannot connect");
        assert_string_equal(target_status_from_errno(-ETIMEDOUT), "Cannot connect");
}

static void test_inventory_is_stored_with_status_ok_and_only_when_changed(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *target = target_with("unix:///run/incus.socket", NULL, NULL), *stored = NULL;
        _cleanup_json_ json_t *inv = json_from("{\"projects\": [{\"name\": \"default\"}]}");
        _cleanup_json_ json_t *restricted = json_from("[\"lab\"]");
        struct ferry_error err = {};
        bool changed = false;

        assert_ok(db_target_create(t->db, target, &err), &err);
        assert_ok(target_store_inventory(t->db, "lab", inv, restricted, &changed, &err), &err);
        assert_true(changed);
        assert_ok(db_target_get(t->db, "lab", &stored, &err), &err);
        assert_json_equal(json_object_get(stored, "inventory"), inv);
        assert_string_equal(string_at(json_object_get(stored, "properties"), "connectivity_status"), "OK");
        assert_json_equal(json_object_get(json_object_get(stored, "properties"), "restricted_projects"), restricted);

        /* The same again (restricted projects kept by NULL): nothing to write. */
        assert_ok(target_store_inventory(t->db, "lab", inv, NULL, &changed, &err), &err);
        assert_false(changed);
}

static void test_failure_status_is_stored_and_inventory_kept(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *target = target_with("unix:///run/incus.socket", NULL, NULL), *stored = NULL;
        _cleanup_json_ json_t *inv = json_from("{\"projects\": [{\"name\": \"default\"}]}");
        struct ferry_error err = {};

        assert_ok(db_target_create(t->db, target, &err), &err);
        assert_ok(target_store_inventory(t->db, "lab", inv, NULL, NULL, &err), &err);
        target_store_status(t->db, "lab", "Cannot connect");
        assert_ok(db_target_get(t->db, "lab", &stored, &err), &err);
        assert_string_equal(string_at(json_object_get(stored, "properties"), "connectivity_status"), "Cannot connect");
        assert_json_equal(json_object_get(stored, "inventory"), inv);
}

static void test_inventory_of_a_missing_target_is_not_found(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *inv = json_from("{}");
        struct ferry_error err = {};

        assert_error(target_store_inventory(t->db, "gone", inv, NULL, NULL, &err), &err, -ENOENT,
                     "Target 'gone' not found");
}

static void test_sync_of_an_unregistered_https_target_says_so(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *target = target_with("https://127.0.0.1:1", NULL, NULL), *stored = NULL;
        struct target_identity id = {};
        struct ferry_error err = {};

        assert_ok(db_target_create(t->db, target, &err), &err);
        assert_error(target_sync(t->db, &id, "lab", NULL, &err), &err, -EACCES,
                     "Target 'lab' is not registered: give it a trust token from 'incus config trust add ferry' "
                     "with 'ferry target update lab --token TOKEN'");
        assert_ok(db_target_get(t->db, "lab", &stored, &err), &err);
        assert_string_equal(string_at(json_object_get(stored, "properties"), "connectivity_status"), "Not registered");
}

static void test_sync_of_a_missing_socket_says_cannot_connect(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *target = target_with("unix:///nonexistent/incus.socket", NULL, NULL), *stored = NULL;
        struct target_identity id = {};
        struct ferry_error err = {};
        int r;

        assert_ok(db_target_create(t->db, target, &err), &err);
        r = target_sync(t->db, &id, "lab", NULL, &err);
        assert_int_equal(r, -ECONNREFUSED);
        assert_true(startswith(err.message, "Target 'lab': Cannot connect to 'unix:///nonexistent/incus.socket'"));
        assert_ok(db_target_get(t->db, "lab", &stored, &err), &err);
        assert_string_equal(string_at(json_object_get(stored, "properties"), "connectivity_status"), "Cannot connect");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, db_test_setup, db_test_teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(test_identity_is_made_once_and_loaded_after),
                T(test_unix_target_needs_no_certificate),
                T(test_https_target_uses_ferrys_certificate_and_the_pinned_fingerprint),
                T(test_https_target_without_fingerprint_is_not_registered),
                T(test_target_with_a_waiting_token_is_not_registered_yet),
                T(test_client_errors_become_connectivity_states),
                T(test_inventory_is_stored_with_status_ok_and_only_when_changed),
                T(test_failure_status_is_stored_and_inventory_kept),
                T(test_inventory_of_a_missing_target_is_not_found),
                T(test_sync_of_an_unregistered_https_target_says_so),
                T(test_sync_of_a_missing_socket_says_cannot_connect),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
