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
#include "common/strbuf.h"
#include "common/yaml.h"

static json_t *yaml_or_fail(const char *text)
{
        struct ferry_error err = {};
        json_t *v = NULL;

        if (yaml_parse_to_json(text, strlen(text), &v, &err) < 0)
                fail_msg("Parsing '%s' failed: %s", text, err.message);
        return v;
}

static json_t *json_or_fail(const char *text)
{
        struct ferry_error err = {};
        json_t *v = NULL;

        if (json_parse_strict(text, strlen(text), &v, &err) < 0)
                fail_msg("Parsing '%s' failed: %s", text, err.message);
        return v;
}

/* Assert that yaml parses to the same value as the JSON text expected. */
static void assert_yaml_equals_json(const char *yaml, const char *expected)
{
        _cleanup_json_ json_t *got = yaml_or_fail(yaml);
        _cleanup_json_ json_t *want = json_or_fail(expected);
        _cleanup_free_ char *got_text = json_dump_compact(got);

        print_message("YAML '%s' -> %s\n", yaml, got_text);
        assert_true(json_equal(got, want));
}

static void assert_yaml_error(const char *yaml, const char *message)
{
        struct ferry_error err = {};
        json_t *v = (json_t *) 0x1;

        print_message("YAML '%s'\n", yaml);
        assert_int_equal(yaml_parse_to_json(yaml, strlen(yaml), &v, &err), -EINVAL);
        assert_string_equal(err.message, message);
        assert_ptr_equal(v, (json_t *) 0x1);
}

static void test_yaml_parse_converts_nested_mappings_and_sequences(_unused_ void **state)
{
        assert_yaml_equals_json("name: web01\n"
                                "disks:\n"
                                "  - name: disk0\n"
                                "    capacity: 10737418240\n"
                                "  - name: disk1\n"
                                "config:\n"
                                "  tags: [prod, web]\n"
                                "  empty: {}\n",
                                "{\"name\": \"web01\","
                                " \"disks\": [{\"name\": \"disk0\", \"capacity\": 10737418240}, {\"name\": \"disk1\"}],"
                                " \"config\": {\"tags\": [\"prod\", \"web\"], \"empty\": {}}}");
}

static void test_yaml_parse_resolves_plain_scalars(_unused_ void **state)
{
        static const struct {
                const char *yaml, *json;
        } cases[] = {
                { "v: true", "true" },
                { "v: True", "true" },
                { "v: FALSE", "false" },
                { "v: null", "null" },
                { "v: ~", "null" },
                { "v:", "null" },
                { "v: 42", "42" },
                { "v: -7", "-7" },
                { "v: +3", "3" },
                { "v: 007", "7" },
                { "v: -9223372036854775808", "-9223372036854775808" },
                { "v: 1.5", "1.5" },
                { "v: -0.5", "-0.5" },
                { "v: .5", "0.5" },
                { "v: 1.", "1.0" },
                { "v: 1e3", "1000.0" },
                { "v: 2.5E-1", "0.25" },
                { "v: yes", "\"yes\"" },                /* YAML 1.1 booleans are strings */
                { "v: off", "\"off\"" },
                { "v: 0x1F", "\"0x1F\"" },              /* only decimal integers */
                { "v: 1_000", "\"1_000\"" },
                { "v: 1h30m", "\"1h30m\"" },
                { "v: 10.0.0.1", "\"10.0.0.1\"" },
                { "v: nulls", "\"nulls\"" },
                { "v: hello world", "\"hello world\"" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *expected = strjoin("{\"v\": ", cases[i].json, "}", NULL);

                assert_yaml_equals_json(cases[i].yaml, expected);
        }
}

static void test_yaml_parse_keeps_quoted_scalars_as_strings(_unused_ void **state)
{
        assert_yaml_equals_json("a: \"true\"\nb: '42'\nc: \"null\"\nd: ''\ne: \"1.5\"\n",
                                "{\"a\": \"true\", \"b\": \"42\", \"c\": \"null\", \"d\": \"\", \"e\": \"1.5\"}");
}

static void test_yaml_parse_keeps_block_scalars_as_strings(_unused_ void **state)
{
        assert_yaml_equals_json("literal: |\n  line1\n  line2\nfolded: >\n  one\n  two\nnumber: |\n  42\n",
                                "{\"literal\": \"line1\\nline2\\n\", \"folded\": \"one two\\n\", \"number\": \"42\\n\"}");
}

static void test_yaml_parse_keeps_keys_as_strings(_unused_ void **state)
{
        assert_yaml_equals_json("1: a\ntrue: b\nnull: c\n", "{\"1\": \"a\", \"true\": \"b\", \"null\": \"c\"}");
}

static void test_yaml_parse_honours_core_tags(_unused_ void **state)
{
        assert_yaml_equals_json("a: !!str 42\nb: !!float 3\nc: ! true\nd: !!int 5\ne: !!map {x: 1}\nf: !!seq [1]\n",
                                "{\"a\": \"42\", \"b\": 3.0, \"c\": \"true\", \"d\": 5, \"e\": {\"x\": 1}, \"f\": [1]}");
}

static void test_yaml_parse_of_empty_input_gives_null(_unused_ void **state)
{
        static const char *const cases[] = { "", "# only a comment\n", "---\n", "\n\n" };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ json_t *v = yaml_or_fail(cases[i]);

                assert_true(json_is_null(v));
        }
}

static void test_yaml_parse_accepts_one_explicit_document(_unused_ void **state)
{
        assert_yaml_equals_json("---\na: 1\n...\n", "{\"a\": 1}");
}

static void test_yaml_parse_accepts_top_level_scalars(_unused_ void **state)
{
        assert_yaml_equals_json("[x]", "[\"x\"]");
        {
                _cleanup_json_ json_t *v = yaml_or_fail("hello");

                assert_string_equal(json_string_value(v), "hello");
        }
}

static void test_yaml_parse_reports_syntax_errors_with_position(_unused_ void **state)
{
        assert_yaml_error("a: b: c\n", "Invalid YAML at line 1, column 5: mapping values are not allowed in this context");
        assert_yaml_error("a: 1\nb: [x, y\n", "Invalid YAML at line 3, column 1: did not find expected ',' or ']'");
        assert_yaml_error("a:\n\t- b\n", "Invalid YAML at line 2, column 1: found character that cannot start any token");
        assert_yaml_error("a: \"open\n", "Invalid YAML at line 2, column 1: found unexpected end of stream");
}

static void test_yaml_parse_reports_invalid_utf8_with_position(_unused_ void **state)
{
        assert_yaml_error("a: ok\nb: \xff\n", "Invalid YAML at line 2, column 4: invalid leading UTF-8 octet");
}

static void test_yaml_parse_refuses_anchors(_unused_ void **state)
{
        assert_yaml_error("base: &b\n  x: 1\n", "Invalid YAML at line 1, column 7: anchors and aliases are not supported");
        assert_yaml_error("a: &x 1\n", "Invalid YAML at line 1, column 4: anchors and aliases are not supported");
        assert_yaml_error("&top [1]\n", "Invalid YAML at line 1, column 1: anchors and aliases are not supported");
}

static void test_yaml_parse_refuses_aliases(_unused_ void **state)
{
        assert_yaml_error("a: 1\nb: *x\n", "Invalid YAML at line 2, column 4: anchors and aliases are not supported");
}

static void test_yaml_parse_refuses_multiple_documents(_unused_ void **state)
{
        assert_yaml_error("a: 1\n---\nb: 2\n", "Invalid YAML at line 2, column 1: multiple documents are not supported");
}

static void test_yaml_parse_refuses_duplicate_keys(_unused_ void **state)
{
        assert_yaml_error("name: a\nname: b\n", "Invalid YAML at line 2, column 1: duplicate key 'name'");
        assert_yaml_error("{a: 1, a: 2}", "Invalid YAML at line 1, column 8: duplicate key 'a'");
}

static void test_yaml_parse_refuses_non_scalar_keys(_unused_ void **state)
{
        assert_yaml_error("? [a, b]\n: 1\n", "Invalid YAML at line 1, column 3: mapping keys must be scalars");
}

static void test_yaml_parse_refuses_unsupported_tags(_unused_ void **state)
{
        assert_yaml_error("a: !custom x\n", "Invalid YAML at line 1, column 4: unsupported tag '!custom'");
        assert_yaml_error("a: !!binary aGk=\n", "Invalid YAML at line 1, column 4: unsupported tag '!!binary'");
        assert_yaml_error("a: !!set {x}\n", "Invalid YAML at line 1, column 4: unsupported tag '!!set'");
        assert_yaml_error("a: !!int abc\n", "Invalid YAML at line 1, column 4: 'abc' does not match tag '!!int'");
        assert_yaml_error("a: !!bool yes\n", "Invalid YAML at line 1, column 4: 'yes' does not match tag '!!bool'");
}

static void test_yaml_parse_refuses_numbers_json_cannot_hold(_unused_ void **state)
{
        assert_yaml_error("a: 9223372036854775808\n",
                          "Invalid YAML at line 1, column 4: integer '9223372036854775808' is out of range");
        assert_yaml_error("a: 1e999\n", "Invalid YAML at line 1, column 4: number '1e999' is out of range");
        assert_yaml_error("a: .inf\n", "Invalid YAML at line 1, column 4: '.inf': infinity and NaN are not supported");
        assert_yaml_error("a: -.Inf\n", "Invalid YAML at line 1, column 4: '-.Inf': infinity and NaN are not supported");
        assert_yaml_error("a: .NaN\n", "Invalid YAML at line 1, column 4: '.NaN': infinity and NaN are not supported");
}

static void test_yaml_parse_refuses_nul_characters(_unused_ void **state)
{
        assert_yaml_error("a: \"x\\0y\"\n", "Invalid YAML at line 1, column 4: NUL characters are not supported");
        assert_yaml_error("\"k\\0\": 1\n", "Invalid YAML at line 1, column 1: NUL characters are not supported");
}

/* "[[[...]]]" nested depth times. */
static char *nested_sequences(size_t depth)
{
        char *s = malloc(2 * depth + 1);

        assert_non_null(s);
        memset(s, '[', depth);
        memset(s + depth, ']', depth);
        s[2 * depth] = '\0';
        return s;
}

static void test_yaml_parse_accepts_64_levels_of_nesting(_unused_ void **state)
{
        _cleanup_free_ char *text = nested_sequences(YAML_DEPTH_MAX);
        _cleanup_json_ json_t *v = yaml_or_fail(text);
        json_t *inner = v;
        size_t depth = 0;

        while (json_is_array(inner)) {
                depth++;
                inner = json_array_size(inner) > 0 ? json_array_get(inner, 0) : NULL;
        }
        assert_int_equal(depth, YAML_DEPTH_MAX);
}

static void test_yaml_parse_refuses_65_levels_of_nesting(_unused_ void **state)
{
        _cleanup_free_ char *text = nested_sequences(YAML_DEPTH_MAX + 1);

        assert_yaml_error(text, "Invalid YAML at line 1, column 65: nesting is deeper than 64 levels");
}

static void test_yaml_parse_rejects_null_buffer(_unused_ void **state)
{
        struct ferry_error err = {};
        json_t *v = NULL;

        assert_int_equal(yaml_parse_to_json(NULL, 0, &v, &err), -EINVAL);
        assert_string_equal(err.message, "Invalid YAML: no input");
}

static char *yaml_or_fail_from_json(const char *json)
{
        _cleanup_json_ json_t *v = json_or_fail(json);
        char *yaml = NULL;

        assert_int_equal(json_to_yaml(v, &yaml), 0);
        return yaml;
}

static void test_json_to_yaml_writes_block_style(_unused_ void **state)
{
        _cleanup_free_ char *yaml = yaml_or_fail_from_json(
                "{\"name\": \"web01\", \"cpus\": 4, \"memory\": 1.5, \"running\": true, \"description\": null,"
                " \"disks\": [{\"name\": \"disk0\", \"capacity\": 10}], \"config\": {\"limits.cpu\": \"4\"}}");

        assert_string_equal(yaml, "name: web01\n"
                                  "cpus: 4\n"
                                  "memory: 1.5\n"
                                  "running: true\n"
                                  "description: null\n"
                                  "disks:\n"
                                  "- name: disk0\n"
                                  "  capacity: 10\n"
                                  "config:\n"
                                  "  limits.cpu: '4'\n");
}

static void test_json_to_yaml_quotes_strings_that_read_as_other_types(_unused_ void **state)
{
        static const struct {
                const char *string, *yaml;
        } cases[] = {
                { "true", "'true'\n" },
                { "False", "'False'\n" },
                { "null", "'null'\n" },
                { "~", "'~'\n" },
                { "", "''\n" },
                { "42", "'42'\n" },
                { "-5", "'-5'\n" },
                { "1.5", "'1.5'\n" },
                { ".5", "'.5'\n" },
                { "1e3", "'1e3'\n" },
                { ".inf", "'.inf'\n" },
                { "yes", "'yes'\n" },           /* YAML 1.1 readers (Go's yaml.v2) take these as booleans */
                { "off", "'off'\n" },
                { "0x1F", "'0x1F'\n" },
                { "hello", "hello\n" },
                { "web-01", "web-01\n" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ json_t *v = json_string(cases[i].string);
                _cleanup_free_ char *yaml = NULL;

                print_message("'%s'\n", cases[i].string);
                assert_int_equal(json_to_yaml(v, &yaml), 0);
                assert_string_equal(yaml, cases[i].yaml);
        }
}

static void test_json_to_yaml_writes_multiline_strings_as_literal_blocks(_unused_ void **state)
{
        _cleanup_free_ char *yaml = yaml_or_fail_from_json(
                "{\"cloud-init.user-data\": \"#cloud-config\\npackages:\\n  - vim\\n\", \"no-newline\": \"a\\nb\"}");

        assert_string_equal(yaml, "cloud-init.user-data: |\n"
                                  "  #cloud-config\n"
                                  "  packages:\n"
                                  "    - vim\n"
                                  "no-newline: |-\n"
                                  "  a\n"
                                  "  b\n");
}

static void test_json_to_yaml_writes_empty_containers_in_flow_style(_unused_ void **state)
{
        _cleanup_free_ char *yaml = yaml_or_fail_from_json("{\"config\": {}, \"profiles\": []}");

        assert_string_equal(yaml, "config: {}\nprofiles: []\n");
}

static void test_json_to_yaml_writes_reals_that_read_back_as_reals(_unused_ void **state)
{
        _cleanup_free_ char *yaml = yaml_or_fail_from_json("[0.1, 1e20, 1.0, -2.5e-10]");

        assert_string_equal(yaml, "- 0.1\n- 1.0e+20\n- 1.0\n- -2.5e-10\n");
}

static void test_json_to_yaml_output_parses_back_to_an_equal_value(_unused_ void **state)
{
        static const char *const cases[] = {
                "{\"name\": \"web01\", \"nested\": {\"list\": [1, [2, [3]], {\"a\": []}]}}",
                ("[\"true\", \"42\", \"1.5\", \"null\", \"\", \"yes\", \"~\", \"a: b\", \"- x\", \"#c\", \" lead\","
                 " \"trail \", \"tab\\tin\", \"\\u00fcn\\u00efc\\u00f6d\\u00e9\", \"<<\", \"=\", \"!tag\", \"&a\", \"*a\","
                 " \"[x]\", \"{x}\", \"%x\", \"@x\", \"`x\", \"x #y\", \"'q'\", \"\\\"dq\\\"\", \"\\u0001\", \"a\\r\\nb\"]"),
                "{\"multi\": \"a\\n\\n\", \"lead\": \"  x\\ny\\n\", \"only\": \"\\n\", \"trailing\": \"x \\ny\"}",
                "{\"true\": 1, \"1\": 2, \"\": 3, \"a b\": 4, \"multi\\nkey\": 5, \"- k\": 6}",
                ("[0.1, 1e20, -0.0, 1.0, 123456.789, 5e-324, 1.7976931348623157e308, -9223372036854775808,"
                 " 9223372036854775807, true, false, null]"),
                "[]", "{}",
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ json_t *v = json_or_fail(cases[i]);
                _cleanup_json_ json_t *back = NULL;
                _cleanup_free_ char *yaml = NULL;

                assert_int_equal(json_to_yaml(v, &yaml), 0);
                print_message("%s\n", yaml);
                back = yaml_or_fail(yaml);
                assert_true(json_equal(v, back));
        }
}

static void test_json_to_yaml_writes_top_level_scalars(_unused_ void **state)
{
        _cleanup_json_ json_t *v = json_integer(42);
        _cleanup_free_ char *yaml = NULL;

        assert_int_equal(json_to_yaml(v, &yaml), 0);
        assert_string_equal(yaml, "42\n");
}

static void test_json_to_yaml_refuses_values_nested_too_deep(_unused_ void **state)
{
        _cleanup_free_ char *ok_text = nested_sequences(YAML_DEPTH_MAX);
        _cleanup_free_ char *deep_text = nested_sequences(YAML_DEPTH_MAX + 1);
        _cleanup_json_ json_t *ok = json_or_fail(ok_text);
        _cleanup_json_ json_t *deep = json_or_fail(deep_text);
        _cleanup_free_ char *yaml = NULL;
        char *untouched = (char *) 0x1;

        assert_int_equal(json_to_yaml(ok, &yaml), 0);
        assert_int_equal(json_to_yaml(deep, &untouched), -EINVAL);
        assert_ptr_equal(untouched, (char *) 0x1);
}

static void test_json_to_yaml_refuses_strings_with_nul(_unused_ void **state)
{
        _cleanup_json_ json_t *v = json_stringn("a\0b", 3);
        char *yaml = (char *) 0x1;

        assert_int_equal(json_to_yaml(v, &yaml), -EINVAL);
        assert_ptr_equal(yaml, (char *) 0x1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_yaml_parse_converts_nested_mappings_and_sequences),
                cmocka_unit_test(test_yaml_parse_resolves_plain_scalars),
                cmocka_unit_test(test_yaml_parse_keeps_quoted_scalars_as_strings),
                cmocka_unit_test(test_yaml_parse_keeps_block_scalars_as_strings),
                cmocka_unit_test(test_yaml_parse_keeps_keys_as_strings),
                cmocka_unit_test(test_yaml_parse_honours_core_tags),
                cmocka_unit_test(test_yaml_parse_of_empty_input_gives_null),
                cmocka_unit_test(test_yaml_parse_accepts_one_explicit_document),
                cmocka_unit_test(test_yaml_parse_accepts_top_level_scalars),
                cmocka_unit_test(test_yaml_parse_reports_syntax_errors_with_position),
                cmocka_unit_test(test_yaml_parse_reports_invalid_utf8_with_position),
                cmocka_unit_test(test_yaml_parse_refuses_anchors),
                cmocka_unit_test(test_yaml_parse_refuses_aliases),
                cmocka_unit_test(test_yaml_parse_refuses_multiple_documents),
                cmocka_unit_test(test_yaml_parse_refuses_duplicate_keys),
                cmocka_unit_test(test_yaml_parse_refuses_non_scalar_keys),
                cmocka_unit_test(test_yaml_parse_refuses_unsupported_tags),
                cmocka_unit_test(test_yaml_parse_refuses_numbers_json_cannot_hold),
                cmocka_unit_test(test_yaml_parse_refuses_nul_characters),
                cmocka_unit_test(test_yaml_parse_accepts_64_levels_of_nesting),
                cmocka_unit_test(test_yaml_parse_refuses_65_levels_of_nesting),
                cmocka_unit_test(test_yaml_parse_rejects_null_buffer),
                cmocka_unit_test(test_json_to_yaml_writes_block_style),
                cmocka_unit_test(test_json_to_yaml_quotes_strings_that_read_as_other_types),
                cmocka_unit_test(test_json_to_yaml_writes_multiline_strings_as_literal_blocks),
                cmocka_unit_test(test_json_to_yaml_writes_empty_containers_in_flow_style),
                cmocka_unit_test(test_json_to_yaml_writes_reals_that_read_back_as_reals),
                cmocka_unit_test(test_json_to_yaml_output_parses_back_to_an_equal_value),
                cmocka_unit_test(test_json_to_yaml_writes_top_level_scalars),
                cmocka_unit_test(test_json_to_yaml_refuses_values_nested_too_deep),
                cmocka_unit_test(test_json_to_yaml_refuses_strings_with_nul),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
