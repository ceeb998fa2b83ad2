/* SPDX-License-Identifier: Apache-2.0 */
/* Warnings (src/db/warning.c): raising, counting and acknowledging. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "db-test.h"
#include "db/warning.h"

/* Raise (sync, source, entity, type) and return its uuid; free() it. */
static char *raise_warning(struct db *db, const char *entity, const char *type, const char *message, int expected)
{
        struct ferry_error err = {};
        char *uuid = NULL;

        assert_int_equal(db_warning_raise(db, "sync", "source", entity, type, message, &uuid, &err), expected);
        assert_non_null(uuid);
        return uuid;
}

static json_t *get(struct db *db, const char *uuid)
{
        struct ferry_error err = {};
        json_t *warning = NULL;

        assert_ok(db_warning_get(db, uuid, &warning, &err), &err);
        return warning;
}

static void test_raise_creates_a_new_warning_with_a_random_uuid(void **state)
{
        struct db_test *t = *state;
        _cleanup_free_ char *uuid = raise_warning(t->db, "vc01", "Cannot connect", "Connection refused", 1);
        _cleanup_json_ json_t *warning = get(t->db, uuid), *expected = NULL;

        assert_int_equal(strlen(uuid), 36);
        assert_int_equal(uuid[14], '4');
        assert_non_null(strchr("89ab", uuid[19]));
        assert_string_equal(string_at(warning, "first_seen"), string_at(warning, "last_seen"));

        expected = json_pack("{sss{ssssss}sssss[s]sIsOsO}", "uuid", uuid, "scope", "scope", "sync", "entity_type",
                             "source", "entity", "vc01", "type", "Cannot connect", "status", "new", "messages",
                             "Connection refused", "count", (json_int_t) 1, "first_seen",
                             json_object_get(warning, "first_seen"), "last_seen",
                             json_object_get(warning, "last_seen"));
        assert_json_equal(warning, expected);
}

static void test_raising_the_same_problem_again_counts_it(void **state)
{
        struct db_test *t = *state;
        _cleanup_free_ char *first = raise_warning(t->db, "vc01", "Cannot connect", "Connection refused", 1);
        _cleanup_json_ json_t *before = get(t->db, first), *after = NULL, *messages = NULL;
        _cleanup_free_ char *second = raise_warning(t->db, "vc01", "Cannot connect", "Connection refused", 0);

        assert_string_equal(second, first);
        after = get(t->db, first);
        assert_int_equal(json_integer_value(json_object_get(after, "count")), 2);
        assert_string_equal(string_at(after, "first_seen"), string_at(before, "first_seen"));
        assert_true(strcmp(string_at(after, "last_seen"), string_at(before, "last_seen")) >= 0);
        messages = json_from("[\"Connection refused\"]");
        assert_json_equal(json_object_get(after, "messages"), messages);
}

static void test_a_new_message_is_appended(void **state)
{
        struct db_test *t = *state;
        _cleanup_free_ char *a = raise_warning(t->db, "vc01", "Cannot connect", "Connection refused", 1),
                            *b = raise_warning(t->db, "vc01", "Cannot connect", "No route to host", 0);
        _cleanup_json_ json_t *warning = get(t->db, a), *messages = NULL;

        assert_string_equal(a, b);      /* one warning, two messages */
        messages = json_from("[\"Connection refused\", \"No route to host\"]");
        assert_json_equal(json_object_get(warning, "messages"), messages);
}

static void test_only_the_latest_messages_are_kept(void **state)
{
        struct db_test *t = *state;
        _cleanup_free_ char *uuid = NULL;
        _cleanup_json_ json_t *warning = NULL;
        json_t *messages;

        for (int i = 1; i <= DB_WARNING_MESSAGES_MAX + 5; i++) {
                char message[32];

                (void) snprintf(message, sizeof message, "Attempt %d failed", i);
                free(uuid);
                uuid = raise_warning(t->db, "vc01", "Cannot connect", message, i == 1 ? 1 : 0);
        }
        warning = get(t->db, uuid);
        messages = json_object_get(warning, "messages");
        assert_int_equal(json_array_size(messages), DB_WARNING_MESSAGES_MAX);
        assert_string_equal(json_string_value(json_array_get(messages, 0)), "Attempt 6 failed");
        assert_string_equal(json_string_value(json_array_get(messages, DB_WARNING_MESSAGES_MAX - 1)),
                            "Attempt 25 failed");
        assert_int_equal(json_integer_value(json_object_get(warning, "count")), DB_WARNING_MESSAGES_MAX + 5);
}

static void test_other_entities_and_types_are_other_warnings(void **state)
{
        struct db_test *t = *state;
        _cleanup_free_ char *a = raise_warning(t->db, "vc01", "Cannot connect", "x", 1),
                            *b = raise_warning(t->db, "vc02", "Cannot connect", "x", 1),
                            *c = raise_warning(t->db, "vc01", "TLS error", "x", 1);
        _cleanup_json_ json_t *list = NULL;
        struct ferry_error err = {};

        assert_ok(db_warning_list(t->db, &list, &err), &err);
        assert_int_equal(json_array_size(list), 3);
        assert_string_equal(string_at(json_array_get(list, 0), "uuid"), a);
        assert_string_equal(string_at(json_array_get(list, 1), "uuid"), b);
        assert_string_equal(string_at(json_array_get(list, 2), "uuid"), c);
}

static void test_an_acknowledged_warning_stays_acknowledged_when_raised_again(void **state)
{
        struct db_test *t = *state;
        _cleanup_free_ char *uuid = raise_warning(t->db, "vc01", "Cannot connect", "x", 1), *again = NULL;
        _cleanup_json_ json_t *warning = NULL;
        struct ferry_error err = {};

        assert_ok(db_warning_set_status(t->db, uuid, "acknowledged", &err), &err);
        again = raise_warning(t->db, "vc01", "Cannot connect", "x", 0);
        warning = get(t->db, uuid);
        assert_string_equal(string_at(warning, "status"), "acknowledged");
        assert_int_equal(json_integer_value(json_object_get(warning, "count")), 2);
}

static void test_missing_warnings_are_not_found(void **state)
{
        struct db_test *t = *state;
        struct ferry_error err = {};
        json_t *warning = NULL;

        assert_error(db_warning_get(t->db, "ghost", &warning, &err), &err, -ENOENT, "Warning 'ghost' not found");
        assert_error(db_warning_set_status(t->db, "ghost", "acknowledged", &err), &err, -ENOENT,
                     "Warning 'ghost' not found");
        assert_error(db_warning_delete(t->db, "ghost", &err), &err, -ENOENT, "Warning 'ghost' not found");
}

static void test_after_delete_the_problem_raises_a_new_warning(void **state)
{
        struct db_test *t = *state;
        _cleanup_free_ char *first = raise_warning(t->db, "vc01", "Cannot connect", "x", 1), *second = NULL,
                            *message = NULL;
        _cleanup_json_ json_t *warning = NULL;
        struct ferry_error err = {};

        assert_ok(db_warning_delete(t->db, first, &err), &err);
        message = strjoin("Warning '", first, "' not found", NULL);
        assert_error(db_warning_get(t->db, first, &warning, &err), &err, -ENOENT, message);
        second = raise_warning(t->db, "vc01", "Cannot connect", "x", 1);
        assert_string_not_equal(second, first);
}

static void test_create_stores_a_whole_warning_as_given(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *warning = NULL, *stored = NULL;
        _cleanup_free_ char *uuid = NULL;
        struct ferry_error err = {};

        warning = json_from("{\"uuid\": \"6f1c1f0e-3f5a-4e8e-9a53-2d1e0c9b7a10\","
                            " \"scope\": {\"scope\": \"migration\", \"entity_type\": \"instance\", \"entity\": \"i-1\"},"
                            " \"type\": \"Unknown OS\", \"status\": \"acknowledged\", \"messages\": [\"a\", \"b\"],"
                            " \"count\": 7, \"first_seen\": \"2026-11-24T10:00:00.000000Z\","
                            " \"last_seen\": \"2026-11-25T10:00:00.000000Z\"}");
        assert_ok(db_warning_create(t->db, warning, &uuid, &err), &err);
        assert_string_equal(uuid, "6f1c1f0e-3f5a-4e8e-9a53-2d1e0c9b7a10");
        stored = get(t->db, uuid);
        assert_json_equal(stored, warning);
}

static void test_create_fills_in_what_is_absent(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *warning = NULL, *stored = NULL, *empty = json_array();
        _cleanup_free_ char *uuid = NULL;
        struct ferry_error err = {};

        warning = json_from("{\"scope\": {\"scope\": \"sync\", \"entity_type\": \"target\", \"entity\": \"incus1\"},"
                            " \"type\": \"TLS error\"}");
        assert_ok(db_warning_create(t->db, warning, &uuid, &err), &err);
        stored = get(t->db, uuid);
        assert_string_equal(string_at(stored, "status"), "new");
        assert_int_equal(json_integer_value(json_object_get(stored, "count")), 1);
        assert_json_equal(json_object_get(stored, "messages"), empty);
        assert_string_equal(string_at(stored, "first_seen"), string_at(stored, "last_seen"));
}

static void test_create_refuses_a_second_warning_for_the_same_problem(void **state)
{
        struct db_test *t = *state;
        _cleanup_free_ char *uuid = raise_warning(t->db, "vc01", "Cannot connect", "x", 1), *message = NULL;
        _cleanup_json_ json_t *same_problem = NULL, *same_uuid = NULL, *list = NULL;
        struct ferry_error err = {};

        same_problem = json_from("{\"scope\": {\"scope\": \"sync\", \"entity_type\": \"source\", \"entity\": \"vc01\"},"
                                 " \"type\": \"Cannot connect\"}");
        message = strjoin("Warning '", uuid, "' already exists for type 'Cannot connect' of source 'vc01'", NULL);
        assert_error(db_warning_create(t->db, same_problem, NULL, &err), &err, -EEXIST, message);

        same_uuid = json_pack("{ss s{ssssss} ss}", "uuid", uuid, "scope", "scope", "sync", "entity_type", "source",
                              "entity", "vc02", "type", "Cannot connect");
        free(message);
        message = strjoin("Warning '", uuid, "' already exists", NULL);
        assert_error(db_warning_create(t->db, same_uuid, NULL, &err), &err, -EEXIST, message);

        assert_ok(db_warning_list(t->db, &list, &err), &err);
        assert_int_equal(json_array_size(list), 1);
}

static void test_create_without_scope_is_refused(void **state)
{
        struct db_test *t = *state;
        _cleanup_json_ json_t *warning = json_from("{\"type\": \"x\"}");
        struct ferry_error err = {};

        assert_error(db_warning_create(t->db, warning, NULL, &err), &err, -EINVAL,
                     "Missing required field 'scope.scope'");
}

static void test_raise_needs_every_part_of_the_problem(void **state)
{
        struct db_test *t = *state;
        struct ferry_error err = {};
        char *uuid = NULL;

        assert_error(db_warning_raise(t->db, "sync", "source", NULL, "x", "y", &uuid, &err), &err, -EINVAL,
                     "A warning needs a scope, entity type, entity, type and message");
        assert_null(uuid);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define DB_TEST(f) cmocka_unit_test_setup_teardown(f, db_test_setup, db_test_teardown)
                DB_TEST(test_raise_creates_a_new_warning_with_a_random_uuid),
                DB_TEST(test_raising_the_same_problem_again_counts_it),
                DB_TEST(test_a_new_message_is_appended),
                DB_TEST(test_only_the_latest_messages_are_kept),
                DB_TEST(test_other_entities_and_types_are_other_warnings),
                DB_TEST(test_an_acknowledged_warning_stays_acknowledged_when_raised_again),
                DB_TEST(test_missing_warnings_are_not_found),
                DB_TEST(test_after_delete_the_problem_raises_a_new_warning),
                DB_TEST(test_create_stores_a_whole_warning_as_given),
                DB_TEST(test_create_fills_in_what_is_absent),
                DB_TEST(test_create_refuses_a_second_warning_for_the_same_problem),
                DB_TEST(test_create_without_scope_is_refused),
                DB_TEST(test_raise_needs_every_part_of_the_problem),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
