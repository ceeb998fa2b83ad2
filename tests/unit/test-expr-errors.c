/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every error a user can meet in an expression, with its exact message:
 * the position (line, column in characters) and the caret line under the
 * text.  Compile errors first, then errors only evaluation can find (a
 * field missing from the instance is nil).
 */
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
#include "expr-sample.h"
#include "expr/expr.h"

struct error_case {
        const char *text;
        const char *message;
};

static void assert_compile_errors(enum expr_schema schema, const struct error_case *cases, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                _cleanup_expr_ struct expr *e = NULL;
                struct ferry_error err = {};
                int r;

                r = expr_compile(cases[i].text, schema, &e, &err);
                if (r >= 0)
                        fail_msg("%s\n  compiles, expected: %s", cases[i].text, cases[i].message);
                assert_int_equal(r, -EINVAL);
                assert_int_equal(err.code, -EINVAL);
                assert_null(e);
                if (!streq(err.message, cases[i].message))
                        fail_msg("%s\n  fails with:\n%s\n  expected:\n%s", cases[i].text, err.message,
                                 cases[i].message);
        }
}

static void assert_runtime_errors(const struct error_case *cases, size_t n)
{
        _cleanup_json_ json_t *o = NULL;
        struct ferry_error err = {};

        assert_int_equal(json_parse_strict(EXPR_SAMPLE_INSTANCE, strlen(EXPR_SAMPLE_INSTANCE), &o, &err), 0);
        for (size_t i = 0; i < n; i++) {
                _cleanup_expr_ struct expr *e = NULL;
                bool match = true;
                int r;

                if (expr_compile(cases[i].text, EXPR_SCHEMA_INSTANCE, &e, &err) < 0)
                        fail_msg("%s\n  does not compile: %s", cases[i].text, err.message);
                r = expr_match(e, o, &match, &err);
                if (r >= 0)
                        fail_msg("%s\n  evaluates to %s, expected: %s", cases[i].text, match ? "true" : "false",
                                 cases[i].message);
                assert_int_equal(r, -EINVAL);
                assert_true(match); /* untouched */
                if (!streq(err.message, cases[i].message))
                        fail_msg("%s\n  fails with:\n%s\n  expected:\n%s", cases[i].text, err.message,
                                 cases[i].message);
        }
}

#define ASSERT_COMPILE_ERRORS(cases) assert_compile_errors(EXPR_SCHEMA_INSTANCE, cases, ELEMENTSOF(cases))

static const struct error_case syntax_cases[] = {
        { "cpus >", "Unexpected end of expression at line 1, column 7\n | cpus >\n |       ^" },
        { "not", "Unexpected end of expression at line 1, column 4\n | not\n |    ^" },
        { "name matches", "Unexpected end of expression at line 1, column 13\n | name matches\n |             ^" },
        { "(cpus > 1", "Expected ')' but found end of expression at line 1, column 10\n | (cpus > 1\n |          ^" },
        { "cpus > 1)", "Unexpected ')' at line 1, column 9\n | cpus > 1)\n |         ^" },
        { "running ? true", "Expected ':' but found end of expression at line 1, column 15\n | running ? true\n |               ^" },
        { "disks[0] == disks[0",
          "Expected ']' but found end of expression at line 1, column 20\n | disks[0] == disks[0\n |                    ^" },
        { "[1, 2", "Expected ',' or ']' but found end of expression at line 1, column 6\n | [1, 2\n |      ^" },
        { "len(disks", "Expected ',' or ')' but found end of expression at line 1, column 10\n | len(disks\n |          ^" },
        { "hasPrefix(name 'x')", "Expected ',' or ')' but found string 'x' at line 1, column 16\n | hasPrefix(name 'x')\n |                ^" },
        { "any(disks, {.shared)", "Expected '}' but found ')' at line 1, column 20\n | any(disks, {.shared)\n |                    ^" },
        { "name == 'x' name == 'y'", "Unexpected name 'name' at line 1, column 13\n | name == 'x' name == 'y'\n |             ^" },
        { "cpus == 4 4", "Unexpected number 4 at line 1, column 11\n | cpus == 4 4\n |           ^" },
        { "cpus not > 2", "Unexpected 'not' at line 1, column 6\n | cpus not > 2\n |      ^" },
        { "name = 'x'", "Unexpected '=' (compare with '==') at line 1, column 6\n | name = 'x'\n |      ^" },
        { "cpus > 1 & cpus < 8", "Unexpected '&' (use 'and' or '&&') at line 1, column 10\n | cpus > 1 & cpus < 8\n |          ^" },
        { "cpus > 1 | cpus < 8", "Unexpected '|' (use 'or' or '||') at line 1, column 10\n | cpus > 1 | cpus < 8\n |          ^" },
        { ".capacity > 0", "Unexpected '.' outside of a predicate at line 1, column 1\n | .capacity > 0\n | ^" },
        { "# > 0", "Unexpected '#' outside of a predicate at line 1, column 1\n | # > 0\n | ^" },
        { "any(disks, #index > 0)", "Unknown variable '#index' at line 1, column 12\n | any(disks, #index > 0)\n |            ^" },
        { "any(disks, .)", "Expected a field name after '.' but found ')' at line 1, column 13\n | any(disks, .)\n |             ^" },
        { "nil ?? 3 == 3",
          "Operator '==' and '?" "?' cannot be mixed: wrap either in parentheses at line 1, column 10\n | nil ?? 3 == 3\n |          ^" },
        { "cpus >\t)", "Unexpected ')' at line 1, column 8\n | cpus > )\n |        ^" },
};

static void test_syntax_errors_point_at_the_token(_unused_ void **state)
{
        ASSERT_COMPILE_ERRORS(syntax_cases);
}

static const struct error_case unsupported_cases[] = {
        { "{a: 1}", "Map literals are not supported at line 1, column 1\n | {a: 1}\n | ^" },
        { "cpus ** 2 > 1", "'**' is not supported at line 1, column 6\n | cpus ** 2 > 1\n |      ^" },
        { "cpus ^ 2 > 1", "'^' is not supported at line 1, column 6\n | cpus ^ 2 > 1\n |      ^" },
        { "1..3 == [1, 2, 3]", "'..' is not supported at line 1, column 2\n | 1..3 == [1, 2, 3]\n |  ^" },
        { "disks[0:1] == []", "Slices are not supported at line 1, column 8\n | disks[0:1] == []\n |        ^" },
        { "disks[:1] == []", "Slices are not supported at line 1, column 7\n | disks[:1] == []\n |       ^" },
        { "name.startsWith('x')", "Method calls are not supported at line 1, column 6\n | name.startsWith('x')\n |      ^" },
        { "name?.x == 1", "'?.' is not supported at line 1, column 5\n | name?.x == 1\n |     ^" },
        { "let x = 1; x", "'let' is not supported at line 1, column 1\n | let x = 1; x\n | ^" },
        { "if cpus > 1 { true } else { false }", "'if' is not supported at line 1, column 1\n | if cpus > 1 { true } else { false }\n | ^" },
        { "true; false", "';' is not supported at line 1, column 5\n | true; false\n |     ^" },
};

static void test_expr_lang_features_outside_the_subset_are_named(_unused_ void **state)
{
        ASSERT_COMPILE_ERRORS(unsupported_cases);
}

static const struct error_case lexical_cases[] = {
        { "name == 'x", "Unterminated string at line 1, column 9\n | name == 'x\n |         ^" },
        { "'abc", "Unterminated string at line 1, column 1\n | 'abc\n | ^" },
        { "'a\nb' == 'x'", "Unterminated string at line 1, column 1\n | 'a\n | ^" },
        { "`raw", "Unterminated string at line 1, column 1\n | `raw\n | ^" },
        { "'a\\qb' == 'x'", "Invalid escape sequence '\\q' at line 1, column 3\n | 'a\\qb' == 'x'\n |   ^" },
        { "'\\x4g' == 'x'", "Invalid escape sequence '\\x4g' at line 1, column 2\n | '\\x4g' == 'x'\n |  ^" },
        { "'\\777' == 'x'", "Invalid escape sequence '\\777' at line 1, column 2\n | '\\777' == 'x'\n |  ^" },
        { "'\\uD800' == 'x'", "Invalid escape sequence '\\uD800' at line 1, column 2\n | '\\uD800' == 'x'\n |  ^" },
        { "'\\u{110000}' == 'x'",
          "Invalid escape sequence '\\u{110000}' at line 1, column 2\n | '\\u{110000}' == 'x'\n |  ^" },
        { "'\\u{}' == 'x'", "Invalid escape sequence '\\u{}' at line 1, column 2\n | '\\u{}' == 'x'\n |  ^" },
        { "\"it\\'s\" == 'x'", "Invalid escape sequence '\\'' at line 1, column 4\n | \"it\\'s\" == 'x'\n |    ^" },
        { "'x\\", "Invalid escape sequence '\\' at line 1, column 3\n | 'x\\\n |   ^" },
        { "cpus @ 4", "Unrecognized character '@' at line 1, column 6\n | cpus @ 4\n |      ^" },
        { "cpus > 4 \\", "Unrecognized character '\\' at line 1, column 10\n | cpus > 4 \\\n |          ^" },
        { "cpus > 4 ~ 2", "Unrecognized character '~' at line 1, column 10\n | cpus > 4 ~ 2\n |          ^" },
        { "name == '\xff'", "Expression is not valid UTF-8 at line 1, column 10\n | name == '?'\n |          ^" },
        { "12ab > 1", "Bad number syntax '12ab' at line 1, column 1\n | 12ab > 1\n | ^" },
        { "0x > 1", "Bad number syntax '0x' at line 1, column 1\n | 0x > 1\n | ^" },
        { "cpus > 0x1.5", "Bad number syntax '0x1.5' at line 1, column 8\n | cpus > 0x1.5\n |        ^" },
        { "cpus > 1e", "Bad number syntax '1e' at line 1, column 8\n | cpus > 1e\n |        ^" },
        { "99999999999999999999 > 1", "Integer literal is too large at line 1, column 1\n | 99999999999999999999 > 1\n | ^" },
        { "cpus > 0x8000000000000000", "Integer literal is too large at line 1, column 8\n | cpus > 0x8000000000000000\n |        ^" },
        { "cpus > 1e400", "Float literal is too large at line 1, column 8\n | cpus > 1e400\n |        ^" },
        { "true /* unterminated", "Unterminated comment at line 1, column 6\n | true /* unterminated\n |      ^" },
};

static void test_lexical_errors_point_at_the_character(_unused_ void **state)
{
        ASSERT_COMPILE_ERRORS(lexical_cases);
}

static const struct error_case name_cases[] = {
        { "cpu > 3",
          "Unknown field 'cpu' at line 1, column 1 (valid fields: uuid, source, location, name, description, cpus, "
          "memory, architecture, os, os_version, os_type, secure_boot, legacy_boot, tpm, running, background_import, "
          "config, disks, nics, snapshots)\n | cpu > 3\n | ^" },
        { "any(disks, .capacityy > 0)",
          "Unknown field 'capacityy' of disk at line 1, column 13 (valid fields: name, capacity, shared, supported, "
          "change_tracking)\n | any(disks, .capacityy > 0)\n |             ^" },
        { "disks[0].size > 0",
          "Unknown field 'size' of disk at line 1, column 10 (valid fields: name, capacity, shared, supported, "
          "change_tracking)\n | disks[0].size > 0\n |          ^" },
        { "nics[0]['mac'] == ''",
          "Unknown field 'mac' of nic at line 1, column 9 (valid fields: hardware_address, network, ipv4_address, "
          "ipv6_address)\n | nics[0]['mac'] == ''\n |         ^" },
        { "foo(1)",
          "Unknown function 'foo' at line 1, column 1 (functions: len, all, any, none, one, filter, map, count, lower, "
          "upper, trim, hasPrefix, hasSuffix, path_base, path_dir, has_tag, matches_tag)\n | foo(1)\n | ^" },
        { "len(disks, 1) > 0", "Function 'len' takes 1 argument, not 2 at line 1, column 1\n | len(disks, 1) > 0\n | ^" },
        { "trim() == ''", "Function 'trim' takes 1 or 2 arguments, not 0 at line 1, column 1\n | trim() == ''\n | ^" },
        { "any(disks)", "Function 'any' takes 2 arguments, not 1 at line 1, column 1\n | any(disks)\n | ^" },
        { "count(disks, .shared, 1) > 0",
          "Function 'count' takes 1 or 2 arguments, not 3 at line 1, column 1\n | count(disks, .shared, 1) > 0\n | ^" },
        { "has_tag('env')", "Function 'has_tag' takes 2 arguments, not 1 at line 1, column 1\n | has_tag('env')\n | ^" },
};

static void test_unknown_names_list_the_valid_ones(_unused_ void **state)
{
        ASSERT_COMPILE_ERRORS(name_cases);
}

static const struct error_case type_cases[] = {
        { "cpus + 'a' == 'x'", "Operator '+' cannot be applied to int and string at line 1, column 6\n | cpus + 'a' == 'x'\n |      ^" },
        { "name > 4", "Operator '>' cannot be applied to string and int at line 1, column 6\n | name > 4\n |      ^" },
        { "name - 'a' == ''", "Operator '-' cannot be applied to string and string at line 1, column 6\n | name - 'a' == ''\n |      ^" },
        { "cpus % 1.5 == 0", "Operator '%' cannot be applied to int and float at line 1, column 6\n | cpus % 1.5 == 0\n |      ^" },
        { "cpus matches 'x'", "Operator 'matches' cannot be applied to int and string at line 1, column 6\n | cpus matches 'x'\n |      ^" },
        { "name contains 1", "Operator 'contains' cannot be applied to string and int at line 1, column 6\n | name contains 1\n |      ^" },
        { "nil matches 'x'", "Operator 'matches' cannot be applied to nil and string at line 1, column 5\n | nil matches 'x'\n |     ^" },
        { "cpus < nil", "Operator '<' cannot be applied to int and nil at line 1, column 6\n | cpus < nil\n |      ^" },
        { "1 in 'abc'", "Operator 'in' cannot be applied to int and string at line 1, column 3\n | 1 in 'abc'\n |   ^" },
        { "cpus in config", "Operator 'in' cannot be applied to int and map at line 1, column 6\n | cpus in config\n |      ^" },
        { "cpus not in config", "Operator 'not in' cannot be applied to int and map at line 1, column 10\n | cpus not in config\n |          ^" },
        { "not cpus", "Operator 'not' cannot be applied to int at line 1, column 1\n | not cpus\n | ^" },
        { "!name", "Operator '!' cannot be applied to string at line 1, column 1\n | !name\n | ^" },
        { "-name == 1", "Operator '-' cannot be applied to string at line 1, column 1\n | -name == 1\n | ^" },
        { "cpus and true", "Operator 'and' cannot be applied to int at line 1, column 1\n | cpus and true\n | ^" },
        { "running && name", "Operator '&&' cannot be applied to string at line 1, column 12\n | running && name\n |            ^" },
        { "false or disks", "Operator 'or' cannot be applied to array at line 1, column 10\n | false or disks\n |          ^" },
        { "cpus ? 1 : 2", "Condition of '?:' must be a boolean, not int at line 1, column 6\n | cpus ? 1 : 2\n |      ^" },
        { "cpus ?: false", "Condition of '?:' must be a boolean, not int at line 1, column 6\n | cpus ?: false\n |      ^" },
        { "len(cpus) > 0",
          "Argument 1 of 'len' must be a string, an array or a map, not int at line 1, column 5\n | len(cpus) > 0\n |     ^" },
        { "lower(cpus) == 'x'", "Argument 1 of 'lower' must be a string, not int at line 1, column 7\n | lower(cpus) == 'x'\n |       ^" },
        { "trim(name, 1) == ''", "Argument 2 of 'trim' must be a string, not int at line 1, column 12\n | trim(name, 1) == ''\n |            ^" },
        { "hasPrefix(name, 1)", "Argument 2 of 'hasPrefix' must be a string, not int at line 1, column 17\n | hasPrefix(name, 1)\n |                 ^" },
        { "path_base(disks) == ''", "Argument 1 of 'path_base' must be a string, not array at line 1, column 11\n | path_base(disks) == ''\n |           ^" },
        { "has_tag(1, 'x')", "Argument 1 of 'has_tag' must be a string, not int at line 1, column 9\n | has_tag(1, 'x')\n |         ^" },
        { "all(cpus, # > 0)", "Argument 1 of 'all' must be an array, not int at line 1, column 5\n | all(cpus, # > 0)\n |     ^" },
        { "filter(config, true) == []", "Argument 1 of 'filter' must be an array, not map at line 1, column 8\n | filter(config, true) == []\n |        ^" },
        { "all(disks, .capacity)", "Predicate of 'all' must return a boolean, not int at line 1, column 13\n | all(disks, .capacity)\n |             ^" },
        { "count(disks) > 0",
          "Argument 1 of 'count' must be an array of booleans when there is no predicate, not an array of disk at line 1, "
          "column 7\n | count(disks) > 0\n |       ^" },
        { "disks.name == 'x'", "Cannot get field 'name' of array at line 1, column 7\n | disks.name == 'x'\n |       ^" },
        { "cpus.x == 1", "Cannot get field 'x' of int at line 1, column 6\n | cpus.x == 1\n |      ^" },
        { "nil.x == 1", "Unexpected '.' at line 1, column 4\n | nil.x == 1\n |    ^" },
        { "(nil).x == 1", "Cannot get field 'x' of nil at line 1, column 7\n | (nil).x == 1\n |       ^" },
        { "disks[name].capacity > 1", "Array index must be an integer, not string at line 1, column 7\n | disks[name].capacity > 1\n |       ^" },
        { "disks[0.5].capacity > 1", "Array index must be an integer, not float at line 1, column 7\n | disks[0.5].capacity > 1\n |       ^" },
        { "config[1] == 'x'", "Map key must be a string, not int at line 1, column 8\n | config[1] == 'x'\n |        ^" },
        { "snapshots[0][1] == 1", "Field name must be a string, not int at line 1, column 14\n | snapshots[0][1] == 1\n |              ^" },
        { "disks[0][cpus] == 1", "Field name must be a string, not int at line 1, column 10\n | disks[0][cpus] == 1\n |          ^" },
        { "name[0] == 'w'", "Cannot index string at line 1, column 5\n | name[0] == 'w'\n |     ^" },
        { "name matches '(ab'",
          "Invalid regular expression '(ab': missing closing parenthesis at line 1, column 14\n | name matches '(ab'\n |              ^" },
        { "matches_tag('env', '[')",
          "Invalid regular expression '[': missing terminating ] for character class at line 1, column 20\n | "
          "matches_tag('env', '[')\n |                    ^" },
};

static void test_type_errors_name_the_operator(_unused_ void **state)
{
        ASSERT_COMPILE_ERRORS(type_cases);
}

static void test_the_result_must_be_a_boolean(_unused_ void **state)
{
        static const struct error_case cases[] = {
                { "cpus + 1", "Expression must return a boolean, not int" },
                { "name", "Expression must return a boolean, not string" },
                { "memory / 2", "Expression must return a boolean, not float" },
                { "disks", "Expression must return a boolean, not array" },
                { "config", "Expression must return a boolean, not map" },
                { "nil", "Expression must return a boolean, not nil" },
                { "filter(disks, .shared)", "Expression must return a boolean, not array" },
                { "running ? 1 : 2", "Expression must return a boolean, not int" },
        };

        ASSERT_COMPILE_ERRORS(cases);
}

static void test_an_empty_expression_is_refused(_unused_ void **state)
{
        static const struct error_case cases[] = {
                { "", "Expression is empty" },
                { "   \n\t", "Expression is empty" },
                { "// only a comment", "Expression is empty" },
        };

        ASSERT_COMPILE_ERRORS(cases);
}

static void test_errors_on_later_lines_count_lines_and_characters(_unused_ void **state)
{
        static const struct error_case cases[] = {
                { "cpus > 1 and\n  name matches '(ab'",
                  "Invalid regular expression '(ab': missing closing parenthesis at line 2, column 16\n |   name matches "
                  "'(ab'\n |                ^" },
                { "name == 'caf\xc3\xa9' and\n\n'\xc3\xa9t\xc3\xa9' + 1 == 2",
                  "Operator '+' cannot be applied to string and int at line 3, column 7\n | '\xc3\xa9t\xc3\xa9' + 1 == "
                  "2\n |       ^" },
                { "cpus > 1 and caf\xc3\xa9 == 'x'",
                  "Unknown field 'caf\xc3\xa9' at line 1, column 14 (valid fields: uuid, source, location, name, "
                  "description, cpus, memory, architecture, os, os_version, os_type, secure_boot, legacy_boot, tpm, "
                  "running, background_import, config, disks, nics, snapshots)\n | cpus > 1 and caf\xc3\xa9 == 'x'\n |"
                  "              ^" },
                { "cpus > 1 and\r\n cpu < 8",
                  "Unknown field 'cpu' at line 2, column 2 (valid fields: uuid, source, location, name, description, "
                  "cpus, memory, architecture, os, os_version, os_type, secure_boot, legacy_boot, tpm, running, "
                  "background_import, config, disks, nics, snapshots)\n |  cpu < 8\n |  ^" },
        };

        ASSERT_COMPILE_ERRORS(cases);
}

static void test_a_long_line_is_shown_around_the_column(_unused_ void **state)
{
        static const struct error_case cases[] = {
                { "cpus == 1 or cpus == 2 or cpus == 3 or cpus == 4 or name > 5 or cpus == 6 or cpus == 7 or cpus == 8 "
                  "or cpus == 9",
                  "Operator '>' cannot be applied to string and int at line 1, column 58\n | ... 3 or cpus == 4 or name > "
                  "5 or cpus == 6 or cpus == 7 or cpus ==...\n |                            ^" },
        };

        ASSERT_COMPILE_ERRORS(cases);
}

static const struct error_case runtime_cases[] = {
        { "description + 'x' == 'x'",
          "Operator '+' cannot be applied to nil and string at line 1, column 13\n | description + 'x' == 'x'\n |             ^" },
        { "description > 'a'", "Operator '>' cannot be applied to nil and string at line 1, column 13\n | description > 'a'\n |             ^" },
        { "snapshots[0].description > 1",
          "Operator '>' cannot be applied to string and int at line 1, column 26\n | snapshots[0].description > 1\n |"
          "                          ^" },
        { "'x' in snapshots[0].description",
          "Operator 'in' cannot be applied to string and string at line 1, column 5\n | 'x' in snapshots[0].description\n |"
          "     ^" },
        { "any(snapshots, not .description)",
          "Operator 'not' cannot be applied to string at line 1, column 16\n | any(snapshots, not .description)\n |"
          "                ^" },
        { "-snapshots[0].description == 1",
          "Operator '-' cannot be applied to string at line 1, column 1\n | -snapshots[0].description == 1\n | ^" },
        { "running and snapshots[0].missing",
          "Operator 'and' cannot be applied to nil at line 1, column 26\n | running and snapshots[0].missing\n |"
          "                          ^" },
        { "snapshots[0].description ? true : false",
          "Condition of '?:' must be a boolean, not string at line 1, column 26\n | snapshots[0].description ? true : "
          "false\n |                          ^" },
        { "len(description) > 0",
          "Argument 1 of 'len' must be a string, an array or a map, not nil at line 1, column 5\n | len(description) > 0\n"
          " |     ^" },
        { "lower(description) == ''",
          "Argument 1 of 'lower' must be a string, not nil at line 1, column 7\n | lower(description) == ''\n |       ^" },
        { "hasPrefix(description, 'x')",
          "Argument 1 of 'hasPrefix' must be a string, not nil at line 1, column 11\n | hasPrefix(description, 'x')\n |"
          "           ^" },
        { "has_tag(snapshots[0].missing, 'x')",
          "Argument 1 of 'has_tag' must be a string, not nil at line 1, column 22\n | has_tag(snapshots[0].missing, 'x')\n"
          " |                      ^" },
        { "all(snapshots[0].missing, # > 0)",
          "Argument 1 of 'all' must be an array, not nil at line 1, column 18\n | all(snapshots[0].missing, # > 0)\n |"
          "                  ^" },
        { "any(snapshots, .description)",
          "Predicate of 'any' must return a boolean, not string at line 1, column 17\n | any(snapshots, .description)\n |"
          "                 ^" },
        { "count(map(snapshots, .missing)) == 0",
          "Argument 1 of 'count' must be an array of booleans when there is no predicate, not an array of nil at line 1, "
          "column 7\n | count(map(snapshots, .missing)) == 0\n |       ^" },
        { "disks[5].name == 'x'", "Index 5 out of range (array length is 3) at line 1, column 6\n | disks[5].name == 'x'\n |      ^" },
        { "disks[-4].name == 'x'", "Index -4 out of range (array length is 3) at line 1, column 6\n | disks[-4].name == 'x'\n |      ^" },
        { "snapshots[0].missing.x == 1",
          "Cannot get field 'x' of nil at line 1, column 22\n | snapshots[0].missing.x == 1\n |                      ^" },
        { "snapshots[0].description[0] == 'm'",
          "Cannot index string at line 1, column 25\n | snapshots[0].description[0] == 'm'\n |                         ^" },
        { "[config, 1][0][1] == 1", "Map key must be a string, not int at line 1, column 16\n | [config, 1][0][1] == 1\n |                ^" },
        { "cpus % 0 == 0", "Integer division by zero at line 1, column 6\n | cpus % 0 == 0\n |      ^" },
        { "7 % 0 == 0", "Integer division by zero at line 1, column 3\n | 7 % 0 == 0\n |   ^" },
        { "count([1, 'a'], # > 0) > 1",
          "Operator '>' cannot be applied to string and int at line 1, column 19\n | count([1, 'a'], # > 0) > 1\n |"
          "                   ^" },
        { "name matches ('(' + 'x')",
          "Invalid regular expression '(x': missing closing parenthesis at line 1, column 19\n | name matches ('(' + "
          "'x')\n |                   ^" },
        { "matches_tag('env', '(' + 'x')",
          "Invalid regular expression '(x': missing closing parenthesis at line 1, column 24\n | matches_tag('env', '(' + "
          "'x')\n |                        ^" },
        { "snapshots[0].description", "Expression must return a boolean, not string" },
        { "snapshots[0].missing ?? 1", "Expression must return a boolean, not int" },
};

static void test_evaluation_errors_name_the_operator_and_position(_unused_ void **state)
{
        assert_runtime_errors(runtime_cases, ELEMENTSOF(runtime_cases));
}

/* A pattern that backtracks exponentially stops at PCRE2's match limit. */
static void test_a_runaway_regular_expression_is_stopped(_unused_ void **state)
{
        static const struct error_case cases[] = {
                { "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!' matches '^(a|aa)+$'",
                  "Regular expression '^(a|aa)+$' exceeded its match limit at line 1, column 52\n | "
                  "...aaaaaaaaaaaaa!' matches '^(a|aa)+$'\n |                            ^" },
        };

        assert_runtime_errors(cases, ELEMENTSOF(cases));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_syntax_errors_point_at_the_token),
                cmocka_unit_test(test_expr_lang_features_outside_the_subset_are_named),
                cmocka_unit_test(test_lexical_errors_point_at_the_character),
                cmocka_unit_test(test_unknown_names_list_the_valid_ones),
                cmocka_unit_test(test_type_errors_name_the_operator),
                cmocka_unit_test(test_the_result_must_be_a_boolean),
                cmocka_unit_test(test_an_empty_expression_is_refused),
                cmocka_unit_test(test_errors_on_later_lines_count_lines_and_characters),
                cmocka_unit_test(test_a_long_line_is_shown_around_the_column),
                cmocka_unit_test(test_evaluation_errors_name_the_operator_and_position),
                cmocka_unit_test(test_a_runaway_regular_expression_is_stopped),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
