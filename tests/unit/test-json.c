/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/json.h"

static json_t *parse_or_fail(const char *text)
{
        struct ferry_error err = {};
        json_t *v = NULL;

        if (json_parse_strict(text, strlen(text), &v, &err) < 0)
                fail_msg("Parsing '%s' failed: %s", text, err.message);
        return v;
}

static void test_json_parse_strict_accepts_an_object(_unused_ void **state)
{
        _cleanup_json_ json_t *v = NULL;
        struct ferry_error err = {};
        const char *text = "{\"name\": \"vcenter1\", \"import_limit\": 50}";

        assert_int_equal(json_parse_strict(text, strlen(text), &v, &err), 0);
        assert_true(json_is_object(v));
        assert_string_equal(json_string_value(json_object_get(v, "name")), "vcenter1");
        assert_int_equal(err.code, 0);
}

static void test_json_parse_strict_accepts_an_array(_unused_ void **state)
{
        _cleanup_json_ json_t *v = NULL;

        v = parse_or_fail("[1, \"two\", null]");
        assert_true(json_is_array(v));
        assert_int_equal(json_array_size(v), 3);
}

static void test_json_parse_strict_reads_only_len_bytes(_unused_ void **state)
{
        _cleanup_json_ json_t *v = NULL;
        struct ferry_error err = {};
        const char text[] = { '{', '}', 'x', 'y' };

        assert_int_equal(json_parse_strict(text, 2, &v, &err), 0);
        assert_true(json_is_object(v));
}

static void test_json_parse_strict_rejects_invalid_input_with_position(_unused_ void **state)
{
        static const struct {
                const char *text, *message;
        } cases[] = {
                { "{\"a\": 1, \"a\": 2}", "Invalid JSON at line 1, column 12: duplicate object key near '\"a\"'" },
                { "42", "Invalid JSON at line 1, column 2: '[' or '{' expected near '42'" },
                { "\"text\"", "Invalid JSON at line 1, column 6: '[' or '{' expected near '\"text\"'" },
                { "", "Invalid JSON at line 1, column 0: '[' or '{' expected near end of file" },
                { "{\n  \"a\": 1,\n  \"b\": tru\n}", "Invalid JSON at line 3, column 10: invalid token near 'tru'" },
                { "{\"a\": 1", "Invalid JSON at line 1, column 7: '}' expected near end of file" },
                { "{\"a\": \"x\\u0000y\"}", "Invalid JSON at line 1, column 16: strings must not contain \\u0000" },
                { "{} {}", "Invalid JSON at line 1, column 4: end of file expected near '{'" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct ferry_error err = {};
                json_t *v = (json_t *) 0x1;

                print_message("'%s'\n", cases[i].text);
                assert_int_equal(json_parse_strict(cases[i].text, strlen(cases[i].text), &v, &err), -EINVAL);
                assert_int_equal(err.code, -EINVAL);
                assert_string_equal(err.message, cases[i].message);
                assert_ptr_equal(v, (json_t *) 0x1);
        }
}

static void test_json_parse_strict_rejects_null_buffer(_unused_ void **state)
{
        struct ferry_error err = {};
        json_t *v = NULL;

        assert_int_equal(json_parse_strict(NULL, 0, &v, &err), -EINVAL);
        assert_string_equal(err.message, "Invalid JSON: no input");
}

static void test_json_get_string_returns_present_field(_unused_ void **state)
{
        _cleanup_json_ json_t *obj = parse_or_fail("{\"name\": \"web01\"}");
        struct ferry_error err = {};
        const char *name = NULL;

        assert_int_equal(json_get_string(obj, "name", true, &name, &err), 1);
        assert_string_equal(name, "web01");
}

static void test_json_get_reports_missing_required_field(_unused_ void **state)
{
        _cleanup_json_ json_t *obj = parse_or_fail("{\"other\": 1}");
        struct ferry_error err = {};
        const char *name = NULL;

        assert_int_equal(json_get_string(obj, "name", true, &name, &err), -EINVAL);
        assert_string_equal(err.message, "Missing required field 'name'");
        assert_null(name);
}

static void test_json_get_treats_null_as_missing(_unused_ void **state)
{
        _cleanup_json_ json_t *obj = parse_or_fail("{\"name\": null}");
        struct ferry_error err = {};
        const char *name = "default";

        assert_int_equal(json_get_string(obj, "name", false, &name, &err), 0);
        assert_string_equal(name, "default");
        assert_int_equal(json_get_string(obj, "name", true, &name, &err), -EINVAL);
        assert_string_equal(err.message, "Missing required field 'name'");
}

static void test_json_get_optional_missing_field_keeps_the_default(_unused_ void **state)
{
        _cleanup_json_ json_t *obj = parse_or_fail("{}");
        struct ferry_error err = {};
        const char *s = "keep";
        int64_t i = 50;
        bool b = true;
        json_t *o = (json_t *) 0x1, *a = (json_t *) 0x2;

        assert_int_equal(json_get_string(obj, "s", false, &s, &err), 0);
        assert_int_equal(json_get_int(obj, "i", false, INT64_MIN, INT64_MAX, &i, &err), 0);
        assert_int_equal(json_get_bool(obj, "b", false, &b, &err), 0);
        assert_int_equal(json_get_object(obj, "o", false, &o, &err), 0);
        assert_int_equal(json_get_array(obj, "a", false, &a, &err), 0);

        assert_string_equal(s, "keep");
        assert_int_equal(i, 50);
        assert_true(b);
        assert_ptr_equal(o, (json_t *) 0x1);
        assert_ptr_equal(a, (json_t *) 0x2);
        assert_int_equal(err.code, 0);
}

static void test_json_getters_name_the_field_of_the_wrong_type(_unused_ void **state)
{
        _cleanup_json_ json_t *obj = parse_or_fail(
                "{\"name\": 5, \"import_limit\": \"50\", \"secure_boot\": \"yes\", \"config\": [], \"disks\": {}}");
        struct ferry_error err = {};
        const char *s;
        int64_t i;
        bool b;
        json_t *v;

        assert_int_equal(json_get_string(obj, "name", true, &s, &err), -EINVAL);
        assert_string_equal(err.message, "Field 'name' must be a string");
        assert_int_equal(json_get_int(obj, "import_limit", true, INT64_MIN, INT64_MAX, &i, &err), -EINVAL);
        assert_string_equal(err.message, "Field 'import_limit' must be an integer");
        assert_int_equal(json_get_bool(obj, "secure_boot", true, &b, &err), -EINVAL);
        assert_string_equal(err.message, "Field 'secure_boot' must be a boolean");
        assert_int_equal(json_get_object(obj, "config", true, &v, &err), -EINVAL);
        assert_string_equal(err.message, "Field 'config' must be an object");
        assert_int_equal(json_get_array(obj, "disks", true, &v, &err), -EINVAL);
        assert_string_equal(err.message, "Field 'disks' must be an array");
}

static void test_json_get_int_returns_the_integer(_unused_ void **state)
{
        _cleanup_json_ json_t *obj = parse_or_fail("{\"import_limit\": 50, \"big\": -9223372036854775808}");
        struct ferry_error err = {};
        int64_t i = 0;

        assert_int_equal(json_get_int(obj, "import_limit", true, 1, 1000, &i, &err), 1);
        assert_int_equal(i, 50);
        assert_int_equal(json_get_int(obj, "big", true, INT64_MIN, INT64_MAX, &i, &err), 1);
        assert_true(i == INT64_MIN);
}

static void test_json_get_int_rejects_reals_and_other_types(_unused_ void **state)
{
        static const char *const cases[] = {
                "{\"import_limit\": 5.0}",
                "{\"import_limit\": 5.5}",
                "{\"import_limit\": true}",
                "{\"import_limit\": [5]}",
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ json_t *obj = parse_or_fail(cases[i]);
                struct ferry_error err = {};
                int64_t v = 7;

                assert_int_equal(json_get_int(obj, "import_limit", false, 0, 100, &v, &err), -EINVAL);
                assert_string_equal(err.message, "Field 'import_limit' must be an integer");
                assert_int_equal(v, 7);
        }
}

static void test_json_get_int_enforces_bounds(_unused_ void **state)
{
        _cleanup_json_ json_t *obj = parse_or_fail("{\"zero\": 0, \"huge\": 5000}");
        struct ferry_error err = {};
        int64_t v = 7;

        assert_int_equal(json_get_int(obj, "zero", true, 1, 1000, &v, &err), -ERANGE);
        assert_string_equal(err.message, "Field 'zero' must be between 1 and 1000");
        assert_int_equal(json_get_int(obj, "zero", true, 1, INT64_MAX, &v, &err), -ERANGE);
        assert_string_equal(err.message, "Field 'zero' must be at least 1");
        assert_int_equal(json_get_int(obj, "huge", true, INT64_MIN, 1000, &v, &err), -ERANGE);
        assert_string_equal(err.message, "Field 'huge' must be at most 1000");
        assert_int_equal(v, 7);

        assert_int_equal(json_get_int(obj, "huge", true, 5000, 5000, &v, &err), 1);
        assert_int_equal(v, 5000);
}

static void test_json_get_bool_returns_the_boolean(_unused_ void **state)
{
        _cleanup_json_ json_t *obj = parse_or_fail("{\"running\": false, \"tpm\": true}");
        struct ferry_error err = {};
        bool b = true;

        assert_int_equal(json_get_bool(obj, "running", true, &b, &err), 1);
        assert_false(b);
        assert_int_equal(json_get_bool(obj, "tpm", true, &b, &err), 1);
        assert_true(b);
}

static void test_json_get_object_and_array_borrow_the_child(_unused_ void **state)
{
        _cleanup_json_ json_t *obj = parse_or_fail("{\"config\": {\"a\": \"b\"}, \"disks\": [1, 2]}");
        struct ferry_error err = {};
        json_t *config = NULL, *disks = NULL;

        assert_int_equal(json_get_object(obj, "config", true, &config, &err), 1);
        assert_ptr_equal(config, json_object_get(obj, "config"));
        assert_int_equal(json_get_array(obj, "disks", true, &disks, &err), 1);
        assert_int_equal(json_array_size(disks), 2);
}

static void test_json_getters_refuse_a_container_that_is_not_an_object(_unused_ void **state)
{
        _cleanup_json_ json_t *arr = parse_or_fail("[1]");
        struct ferry_error err = {};
        const char *s;

        assert_int_equal(json_get_string(arr, "name", false, &s, &err), -EINVAL);
        assert_string_equal(err.message, "Cannot read field 'name' from a value that is not an object");
        assert_int_equal(json_get_string(NULL, "name", false, &s, &err), -EINVAL);
}

static void test_json_check_known_fields_accepts_known_fields(_unused_ void **state)
{
        static const char *const allowed[] = { "name", "type", "properties", NULL };
        _cleanup_json_ json_t *obj = parse_or_fail("{\"name\": \"x\", \"properties\": {}}");
        struct ferry_error err = {};

        assert_int_equal(json_check_known_fields(obj, allowed, "source", &err), 0);
        assert_int_equal(err.code, 0);
}

static void test_json_check_known_fields_names_the_unknown_field_and_context(_unused_ void **state)
{
        static const char *const allowed[] = { "name", "type", NULL };
        _cleanup_json_ json_t *obj = parse_or_fail("{\"name\": \"x\", \"foo\": 1, \"bar\": 2}");
        struct ferry_error err = {};

        assert_int_equal(json_check_known_fields(obj, allowed, "source", &err), -EINVAL);
        assert_string_equal(err.message, "Unknown field 'foo' in source");
        assert_int_equal(json_check_known_fields(obj, allowed, NULL, &err), -EINVAL);
        assert_string_equal(err.message, "Unknown field 'foo'");
}

static void test_json_check_known_fields_with_empty_list_refuses_any_field(_unused_ void **state)
{
        static const char *const none[] = { NULL };
        _cleanup_json_ json_t *empty = parse_or_fail("{}");
        _cleanup_json_ json_t *obj = parse_or_fail("{\"x\": 1}");
        struct ferry_error err = {};

        assert_int_equal(json_check_known_fields(empty, none, "overrides", &err), 0);
        assert_int_equal(json_check_known_fields(obj, none, "overrides", &err), -EINVAL);
        assert_string_equal(err.message, "Unknown field 'x' in overrides");
}

static void test_json_check_known_fields_refuses_non_objects(_unused_ void **state)
{
        static const char *const allowed[] = { "name", NULL };
        _cleanup_json_ json_t *arr = parse_or_fail("[]");
        struct ferry_error err = {};

        assert_int_equal(json_check_known_fields(arr, allowed, "source", &err), -EINVAL);
        assert_string_equal(err.message, "Expected an object for source");
}

static void test_json_dump_compact_writes_without_spaces(_unused_ void **state)
{
        _cleanup_json_ json_t *obj = parse_or_fail("{ \"b\" : [1, 2], \"a\" : {\"c\": null} }");
        _cleanup_free_ char *s = NULL;

        s = json_dump_compact(obj);
        assert_non_null(s);
        assert_string_equal(s, "{\"b\":[1,2],\"a\":{\"c\":null}}");
}

static void test_json_dump_compact_accepts_scalars(_unused_ void **state)
{
        _cleanup_json_ json_t *v = json_string("x\"y");
        _cleanup_free_ char *s = NULL;

        s = json_dump_compact(v);
        assert_string_equal(s, "\"x\\\"y\"");
        assert_null(json_dump_compact(NULL));
        assert_int_equal(errno, EINVAL);
}

static void test_json_cleanup_drops_one_reference(_unused_ void **state)
{
        json_t *v = json_object();

        {
                _cleanup_json_ json_t *ref = json_incref(v);

                assert_ptr_equal(ref, v);
                assert_int_equal(v->refcount, 2);
        }
        assert_int_equal(v->refcount, 1);
        json_decref(v);

        {
                _cleanup_json_ json_t *none = NULL;

                (void) none;
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_parse_strict_accepts_an_object),
                cmocka_unit_test(test_json_parse_strict_accepts_an_array),
                cmocka_unit_test(test_json_parse_strict_reads_only_len_bytes),
                cmocka_unit_test(test_json_parse_strict_rejects_invalid_input_with_position),
                cmocka_unit_test(test_json_parse_strict_rejects_null_buffer),
                cmocka_unit_test(test_json_get_string_returns_present_field),
                cmocka_unit_test(test_json_get_reports_missing_required_field),
                cmocka_unit_test(test_json_get_treats_null_as_missing),
                cmocka_unit_test(test_json_get_optional_missing_field_keeps_the_default),
                cmocka_unit_test(test_json_getters_name_the_field_of_the_wrong_type),
                cmocka_unit_test(test_json_get_int_returns_the_integer),
                cmocka_unit_test(test_json_get_int_rejects_reals_and_other_types),
                cmocka_unit_test(test_json_get_int_enforces_bounds),
                cmocka_unit_test(test_json_get_bool_returns_the_boolean),
                cmocka_unit_test(test_json_get_object_and_array_borrow_the_child),
                cmocka_unit_test(test_json_getters_refuse_a_container_that_is_not_an_object),
                cmocka_unit_test(test_json_check_known_fields_accepts_known_fields),
                cmocka_unit_test(test_json_check_known_fields_names_the_unknown_field_and_context),
                cmocka_unit_test(test_json_check_known_fields_with_empty_list_refuses_any_field),
                cmocka_unit_test(test_json_check_known_fields_refuses_non_objects),
                cmocka_unit_test(test_json_dump_compact_writes_without_spaces),
                cmocka_unit_test(test_json_dump_compact_accepts_scalars),
                cmocka_unit_test(test_json_cleanup_drops_one_reference),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
