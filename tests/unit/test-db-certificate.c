/* SPDX-License-Identifier: Apache-2.0 */
/* The trust store (src/db/certificate.c): client certificates and trust tokens. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/duration.h"
#include "common/json.h"
#include "db-test.h"
#include "db/certificate.h"
#include "db/db-internal.h"

#define FP_A "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
#define FP_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define SECRET_SHA256 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static json_t *sample_certificate(const char *fingerprint, const char *name)
{
        json_t *v = json_pack("{ssssssss}", "fingerprint", fingerprint, "name", name, "certificate",
                              "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "type", "client");

        assert_non_null(v);
        return v;
}

static void add(struct db *db, const char *fingerprint, const char *name)
{
        _cleanup_json_ json_t *certificate = sample_certificate(fingerprint, name);
        struct ferry_error err = {};

        assert_ok(db_certificate_add(db, certificate, &err), &err);
}

static void create_token(struct db *db, const char *name, const char *secret, int64_t expires_in_usec)
{
        struct ferry_error err = {};

        assert_ok(db_trust_token_create(db, name, secret, db_now_usec() + expires_in_usec, &err), &err);
}

static size_t token_count(struct db *db)
{
        _cleanup_json_ json_t *list = NULL;
        struct ferry_error err = {};

        assert_ok(db_trust_token_list(db, &list, &err), &err);
        return json_array_size(list);
}

static void test_an_added_certificate_comes_back_with_created_at(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *expected = sample_certificate(FP_A, "admin"), *stored = NULL;
        struct ferry_error err = {};
        int64_t usec;

        add(t->db, FP_A, "admin");
        assert_ok(db_certificate_get(t->db, FP_A, &stored, &err), &err);
        assert_int_equal(timestamp_parse_rfc3339(json_string_value(json_object_get(stored, "created_at")), &usec), 0);
        assert_null(json_object_get(stored, "updated_at"));
        assert_int_equal(json_object_set(expected, "created_at", json_object_get(stored, "created_at")), 0);
        assert_json_equal(stored, expected);
}

static void test_certificates_are_listed_by_name(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *list = NULL;
        struct ferry_error err = {};

        add(t->db, FP_A, "zed");
        add(t->db, FP_B, "alice");
        assert_ok(db_certificate_list(t->db, &list, &err), &err);
        assert_int_equal(json_array_size(list), 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "fingerprint")), FP_B);
        assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "fingerprint")), FP_A);
}

static void test_a_fingerprint_is_trusted_once(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *again = sample_certificate(FP_A, "other");
        struct ferry_error err = {};

        add(t->db, FP_A, "admin");
        assert_error(db_certificate_add(t->db, again, &err), &err, -EEXIST, "Certificate '" FP_A "' already exists");
}

static void test_a_deleted_certificate_is_not_found(void **state)
{
        struct db_test *t = *state;
        struct ferry_error err = {};
        json_t *stored = NULL;

        add(t->db, FP_A, "admin");
        assert_ok(db_certificate_delete(t->db, FP_A, &err), &err);
        assert_error(db_certificate_get(t->db, FP_A, &stored, &err), &err, -ENOENT,
                     "Certificate '" FP_A "' not found");
        assert_error(db_certificate_delete(t->db, FP_A, &err), &err, -ENOENT, "Certificate '" FP_A "' not found");
}

static void test_a_certificate_needs_its_pem(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *certificate = sample_certificate(FP_A, "admin");
        struct ferry_error err = {};

        assert_int_equal(json_object_del(certificate, "certificate"), 0);
        assert_error(db_certificate_add(t->db, certificate, &err), &err, -EINVAL,
                     "Missing required field 'certificate'");
}

static void test_token_list_shows_name_and_expiry_but_never_the_secret(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *list = NULL, *expected = NULL;
        _cleanup_free_ char *text = NULL;
        struct ferry_error err = {};

        assert_ok(db_trust_token_create(t->db, "laptop", SECRET_SHA256, INT64_C(1795514400123456), &err), &err);
        assert_ok(db_trust_token_list(t->db, &list, &err), &err);
        expected = json_pack("[{sssssO}]", "name", "laptop", "expires_at", "2026-11-24T10:00:00.123456Z",
                             "created_at", json_object_get(json_array_get(list, 0), "created_at"));
        assert_json_equal(list, expected);
        text = json_dumps(list, 0);
        assert_null(strstr(text, SECRET_SHA256));
}

static void test_a_token_can_be_consumed_once(void **state)
{
        struct db_test *t = *state;
        _cleanup_free_ char *name = NULL;
        struct ferry_error err = {};
        char *again = NULL;

        create_token(t->db, "laptop", SECRET_SHA256, 3600 * (int64_t) USEC_PER_SEC);
        assert_ok(db_trust_token_consume(t->db, SECRET_SHA256, &name, &err), &err);
        assert_string_equal(name, "laptop");
        assert_error(db_trust_token_consume(t->db, SECRET_SHA256, &again, &err), &err, -ENOENT, "Unknown trust token");
        assert_null(again);
        assert_int_equal(token_count(t->db), 0);
}

static void test_an_expired_token_is_refused_and_removed(void **state)
{
        struct db_test *t = *state;
        struct ferry_error err = {};
        char *name = NULL;

        create_token(t->db, "old", SECRET_SHA256, -(int64_t) USEC_PER_SEC);
        assert_error(db_trust_token_consume(t->db, SECRET_SHA256, &name, &err), &err, -ETIMEDOUT,
                     "Trust token 'old' has expired");
        assert_null(name);
        assert_int_equal(token_count(t->db), 0);
}

static void test_token_names_and_secrets_are_unique(void **state)
{
        struct db_test *t = *state;
        struct ferry_error err = {};

        create_token(t->db, "laptop", SECRET_SHA256, 60 * (int64_t) USEC_PER_SEC);
        assert_error(db_trust_token_create(t->db, "laptop", "0000", db_now_usec(), &err), &err, -EEXIST,
                     "Trust token 'laptop' already exists");
        assert_error(db_trust_token_create(t->db, "desktop", SECRET_SHA256, db_now_usec(), &err), &err, -EEXIST,
                     "Trust token 'desktop' already exists");
        assert_int_equal(token_count(t->db), 1);
}

static void test_a_revoked_token_cannot_be_used(void **state)
{
        struct db_test *t = *state;
        struct ferry_error err = {};
        char *name = NULL;

        create_token(t->db, "laptop", SECRET_SHA256, 60 * (int64_t) USEC_PER_SEC);
        assert_ok(db_trust_token_delete(t->db, "laptop", &err), &err);
        assert_error(db_trust_token_delete(t->db, "laptop", &err), &err, -ENOENT, "Trust token 'laptop' not found");
        assert_error(db_trust_token_consume(t->db, SECRET_SHA256, &name, &err), &err, -ENOENT, "Unknown trust token");
}

static void test_purge_removes_only_expired_tokens(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *list = NULL;
        struct ferry_error err = {};

        create_token(t->db, "old1", "01", -(int64_t) USEC_PER_SEC);
        create_token(t->db, "fresh", "02", 3600 * (int64_t) USEC_PER_SEC);
        create_token(t->db, "old2", "03", -3600 * (int64_t) USEC_PER_SEC);
        assert_int_equal(db_trust_token_purge_expired(t->db, &err), 2);
        assert_int_equal(db_trust_token_purge_expired(t->db, &err), 0);
        assert_ok(db_trust_token_list(t->db, &list, &err), &err);
        assert_int_equal(json_array_size(list), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")), "fresh");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define DB_TEST(f) cmocka_unit_test_setup_teardown(f, db_test_setup, db_test_teardown)
                DB_TEST(test_an_added_certificate_comes_back_with_created_at),
                DB_TEST(test_certificates_are_listed_by_name),
                DB_TEST(test_a_fingerprint_is_trusted_once),
                DB_TEST(test_a_deleted_certificate_is_not_found),
                DB_TEST(test_a_certificate_needs_its_pem),
                DB_TEST(test_token_list_shows_name_and_expiry_but_never_the_secret),
                DB_TEST(test_a_token_can_be_consumed_once),
                DB_TEST(test_an_expired_token_is_refused_and_removed),
                DB_TEST(test_token_names_and_secrets_are_unique),
                DB_TEST(test_a_revoked_token_cannot_be_used),
                DB_TEST(test_purge_removes_only_expired_tokens),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
