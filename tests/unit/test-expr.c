/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The expression language evaluated on one instance (expr-sample.h): every
 * table row is an expression and the answer expr-lang gives for it.  The
 * answers follow expr-lang's documented semantics (expr-lang.org,
 * docs/language-definition.md); rows were also run through expr-lang itself
 * with config typed as a map of strings, as migration tools declare it.
 */
#include <errno.h>
#include <pthread.h>
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
#include "expr-sample.h"
#include "expr/expr.h"

struct eval_case {
        const char *text;
        bool expected;
};

static json_t *sample(const char *text)
{
        struct ferry_error err = {};
        json_t *v = NULL;

        if (json_parse_strict(text, strlen(text), &v, &err) < 0)
                fail_msg("Sample does not parse: %s", err.message);
        return v;
}

static void assert_cases(enum expr_schema schema, const char *object, const struct eval_case *cases, size_t n)
{
        _cleanup_json_ json_t *o = sample(object);

        for (size_t i = 0; i < n; i++) {
                _cleanup_expr_ struct expr *e = NULL;
                struct ferry_error err = {};
                bool match = !cases[i].expected;

                if (expr_compile(cases[i].text, schema, &e, &err) < 0)
                        fail_msg("%s\n  does not compile: %s", cases[i].text, err.message);
                if (expr_match(e, o, &match, &err) < 0)
                        fail_msg("%s\n  fails: %s", cases[i].text, err.message);
                if (match != cases[i].expected)
                        fail_msg("%s\n  is %s, expected %s", cases[i].text, match ? "true" : "false",
                                 cases[i].expected ? "true" : "false");
        }
}

#define ASSERT_INSTANCE_CASES(cases) assert_cases(EXPR_SCHEMA_INSTANCE, EXPR_SAMPLE_INSTANCE, cases, ELEMENTSOF(cases))

/* ---- literals ------------------------------------------------------------------ */

static const struct eval_case literal_cases[] = {
        { "true", true },
        { "false", false },
        { "42 == 42", true },
        { "0x2A == 42", true },
        { "0X2a == 42", true },
        { "0o52 == 42", true },
        { "0b101010 == 42", true },
        { "1_000_000 == 1000000", true },
        { "0.5 == .5", true },
        { "1e3 == 1000", true },
        { "1.5e-1 == 0.15", true },
        { "2.5E+1 == 25", true },
        { "5. == 5", true },
        { "'abc' == \"abc\"", true },
        { "'it\\'s' == \"it's\"", true },
        { "\"say \\\"hi\\\"\" == 'say \"hi\"'", true },
        { "'\\x41\\x42' == 'AB'", true },
        { "'\\101' == 'A'", true },
        { "'\\u00e9' == '\xc3\xa9'", true },
        { "'\\U0001F600' == '\xf0\x9f\x98\x80'", true },
        { "'\\u{1F600}' == '\\U0001F600'", true },
        { "'a\\tb' != 'a b'", true },
        { "len('\\n\\r\\t\\v\\f\\b\\a\\\\') == 8", true },
        { "`raw\\n` == 'raw\\\\n'", true },
        { "`it``s` == 'it`s'", true },
        { "len('\xc3\xa9') == 1", true },
        { "nil == nil", true },
        { "[1, 2, 3] == [1, 2, 3]", true },
        { "[] == []", true },
        { "[1, 2,] == [1, 2]", true },
        { "cpus == 4 // a comment", true },
        { "cpus /* inline */ == 4", true },
        { "cpus\n==\n4", true },
        { "\tcpus\xc2\xa0== 4", true },
};

static void test_literals_have_expr_lang_syntax(_unused_ void **state)
{
        ASSERT_INSTANCE_CASES(literal_cases);
}

/* ---- precedence ---------------------------------------------------------------- */

static const struct eval_case precedence_cases[] = {
        { "1 + 2 * 3 == 7", true },
        { "(1 + 2) * 3 == 9", true },
        { "10 - 4 - 3 == 3", true },
        { "2 * 3 % 4 == 2", true },
        { "100 / 10 / 5 == 2", true },
        { "-2 * 3 == -6", true },
        { "- -2 == 2", true },
        { "+3 == 3", true },
        { "2 - -1 == 3", true },
        { "1 + 2 == 3 and 2 * 2 == 4", true },
        { "true or false and false", true },
        { "(true or false) and false", false },
        { "false and true or true", true },
        { "false and (true or true)", false },
        { "true || false && false", true },
        { "not true == false", true },
        { "!true == false", true },
        { "not (1 == 2)", true },
        { "not false and false", false },
        { "not (false and false)", true },
        { "!!true", true },
        { "not not true", true },
        { "1 < 2 == true", true },
        { "1 < 2 < 3", true },
        { "3 > 2 > 1", true },
        { "1 < 3 < 2", false },
        { "1 <= 1 < 2", true },
        { "1 < cpus <= 4", true },
        { "0 < cpus < 4", false },
        { "true ? true : false", true },
        { "false ? false : true", true },
        { "(false ? 1 : 2) == 2", true },
        { "false ? false : true ? true : false", true },
        { "true ? false : true ? true : true", false },
        { "cpus > 2 ? running : false", true },
        { "running ?: false", true },
        { "false ?: true", true },
        { "false ?: false", false },
        { "1 + 2 in [3]", true },
        { "'a' + 'b' in ['ab']", true },
        { "(nil ?? 5) == 5", true },
        { "(cpus ?? 5) == 4", true },
        { "1 + (nil ?? 2) == 3", true },
};

static void test_operators_bind_with_expr_lang_precedence(_unused_ void **state)
{
        ASSERT_INSTANCE_CASES(precedence_cases);
}

/* ---- numbers ------------------------------------------------------------------- */

static const struct eval_case number_cases[] = {
        { "1 == 1.0", true },
        { "cpus == 4.0", true },
        { "1 + 2.5 == 3.5", true },
        { "2.5 > 2", true },
        { "2 < 2.5", true },
        { "7 / 2 == 3.5", true },
        { "6 / 3 == 2", true },
        { "7 % 3 == 1", true },
        { "-7 % 3 == -1", true },
        { "7 % -3 == 1", true },
        { "-9223372036854775807 % -1 == 0", true },
        { "0.1 + 0.2 != 0.3", true },
        { "0.1 + 0.2 > 0.3", true },
        { "9223372036854775807 + 1 < 0", true },
        { "-9223372036854775807 - 2 == 9223372036854775807", true },
        { "4611686018427387904 * 2 < 0", true },
        { "1 / 0 > 1000000", true },
        { "-1 / 0 < -1000000", true },
        { "0 / 0 == 0 / 0", false },
        { "0 / 0 < 1", false },
        { "memory == 8 * 1024 * 1024 * 1024", true },
        { "memory / 1024 / 1024 / 1024 == 8", true },
        { "memory >= 8589934592.0", true },
        { "cpus * 2 == 8", true },
        { "cpus - 5 == -1", true },
        { "-cpus == -4", true },
        { "-1.5 < -1", true },
        { "3 >= 3 and 3 <= 3", true },
};

static void test_integers_and_floats_mix(_unused_ void **state)
{
        ASSERT_INSTANCE_CASES(number_cases);
}

/* ---- equality and comparison --------------------------------------------------- */

static const struct eval_case equality_cases[] = {
        { "1 == '1'", false },
        { "1 != '1'", true },
        { "'true' == true", false },
        { "nil == 0", false },
        { "nil == ''", false },
        { "nil != false", true },
        { "name == 4", false },
        { "cpus != 'four'", true },
        { "[1, 2] == [2, 1]", false },
        { "[1, 'a'] == [1.0, 'a']", true },
        { "[1, [2, 3]] == [1, [2, 3]]", true },
        { "[1] == [1, 1]", false },
        { "disks[0] == disks[0]", true },
        { "disks[0] == disks[1]", false },
        { "disks == disks", true },
        { "config == config", true },
        { "nics[0] == nics[0]", true },
        { "disks[0] == 'disk0'", false },
        { "'a' < 'b'", true },
        { "'abc' < 'abd'", true },
        { "'ab' < 'abc'", true },
        { "'B' < 'a'", true },
        { "'' < 'a'", true },
        { "name > 'w'", true },
        { "name >= name", true },
        { "name <= 'win'", false },
        { "os_version > '2012'", true },
        { "true == true", true },
        { "false != true", true },
};

static void test_equality_across_types_is_false(_unused_ void **state)
{
        ASSERT_INSTANCE_CASES(equality_cases);
}

/* ---- fields ---------------------------------------------------------------------- */

static const struct eval_case field_cases[] = {
        { "uuid == '4216a1b2-0004-4c1d-9e00-000000000004'", true },
        { "source == 'vc01'", true },
        { "location == '/dc-east/vm/Windows/Win2016/win2016-sql'", true },
        { "name == 'win2016-sql'", true },
        { "cpus == 4", true },
        { "memory == 8589934592", true },
        { "architecture == 'x86_64'", true },
        { "os == 'Windows Server 2016'", true },
        { "os_version == '2016'", true },
        { "os_type == 'windows'", true },
        { "secure_boot", true },
        { "legacy_boot", false },
        { "!legacy_boot", true },
        { "tpm == false", true },
        { "running == true", true },
        { "background_import", true },
        { "len(config) == 4", true },
        { "len(disks) == 3", true },
        { "len(nics) == 1", true },
        { "len(snapshots) == 1", true },
        { "disks[0].name == 'disk0'", true },
        { "disks[1].capacity == 200 * 1024 * 1024 * 1024", true },
        { "disks[2].supported", false },
        { "disks[0].supported and not disks[2].supported", true },
        { "disks[0].shared == false", true },
        { "disks[0].change_tracking", true },
        { "disks[-1].name == 'log'", true },
        { "disks[-3].name == 'disk0'", true },
        { "disks[1 + 1].name == 'log'", true },
        { "disks[1]['capacity'] > disks[0]['capacity']", true },
        { "snapshots[0].nosuchkey == nil", true },
        { "snapshots[0]['nosuchkey'] == nil", true },
        { "nics[0].hardware_address == '00:50:56:01:00:04'", true },
        { "nics[0].network == 'dvportgroup-12'", true },
        { "nics[0].ipv4_address == '10.0.30.14'", true },
        { "nics[0].ipv6_address == ''", true },
        { "snapshots[0].name == 'before-patch'", true },
        { "snapshots[0].description == 'monthly patches'", true },
        { "snapshots[0].created == nil", true },
        { "config['tag.env'] == 'prod'", true },
        { "config['owner'] == 'team-data'", true },
        { "config.owner == 'team-data'", true },
        { "config[\"vmware.resource_pool\"] endsWith '/Resources'", true },
        { "config['missing'] == ''", true },
        { "config.missing == nil", false },
        { "[10, 20, 30][1] == 20", true },
        { "[10, 20, 30][-1] == 30", true },
        { "[[1, 2], [3]][0][1] == 2", true },
        { "'abc' + 'def' == 'abcdef'", true },
        { "name + '.lab' == 'win2016-sql.lab'", true },
};

static void test_fields_read_the_instance_json(_unused_ void **state)
{
        ASSERT_INSTANCE_CASES(field_cases);
}

/* ---- nil ------------------------------------------------------------------------- */

static const struct eval_case nil_cases[] = {
        { "description == nil", true },
        { "description != nil", false },
        { "description == ''", false },
        { "!(description == 'x')", true },
        { "description in ['x']", false },
        { "nil in [1, nil]", true },
        { "'x' in snapshots[0].missing", false },
        { "'x' not in snapshots[0].missing", true },
        { "description matches 'x'", false },
        { "description not matches 'x'", true },
        { "name matches description", false },
        { "description contains 'x'", false },
        { "description startsWith 'x'", false },
        { "description endsWith 'x'", false },
        { "description not contains 'x'", true },
        { "(description ?? 'none') == 'none'", true },
        { "(name ?? 'none') == 'win2016-sql'", true },
        { "(nil ?? nil) == nil", true },
        { "false and description > 'a'", false },
        { "true or len(description) > 0", true },
        { "cpus > 100 and lower(description) == 'x'", false },
        { "running or description matches (name + '(')", true },
        { "true ? true : description > 'a'", true },
        { "(false ? description : 'x') == 'x'", true },
        { "snapshots[0].missing == nil", true },
};

static void test_nil_behaves_like_expr_lang(_unused_ void **state)
{
        ASSERT_INSTANCE_CASES(nil_cases);
}

/* ---- membership ------------------------------------------------------------------ */

static const struct eval_case in_cases[] = {
        { "'owner' in config", true },
        { "'nope' in config", false },
        { "'owner' not in config", false },
        { "'tag.env' in config", true },
        { "4 in [1, 2, 4]", true },
        { "4.0 in [4]", true },
        { "4 in [4.0]", true },
        { "'4' in [4]", false },
        { "cpus in [2, 4, 8]", true },
        { "cpus not in [2, 4, 8]", false },
        { "name in ['a', 'win2016-sql']", true },
        { "name in []", false },
        { "name not in []", true },
        { "[1] in [[1], [2]]", true },
        { "'disk0' in map(disks, .name)", true },
        { "'name' in disks[0]", true },
        { "'x' in disks[0]", false },
        { "disks[2] in disks", true },
};

static void test_in_looks_into_arrays_and_map_keys(_unused_ void **state)
{
        ASSERT_INSTANCE_CASES(in_cases);
}

/* ---- strings and regular expressions --------------------------------------------- */

static const struct eval_case string_cases[] = {
        { "name matches '^win'", true },
        { "name matches 'WIN'", false },
        { "name matches '(?i)WIN'", true },
        { "name matches 'sql$'", true },
        { "name matches '^win2016-sql$'", true },
        { "name matches '[0-9]{4}'", true },
        { "name matches '\\\\d+'", true },
        { "name matches `\\d{5}`", false },
        { "name matches ''", true },
        { "name not matches 'linux'", true },
        { "location matches 'Win2016'", true },
        { "location matches 'CentOS'", false },
        { "location matches '^/dc-east/'", true },
        { "'a.b' matches 'a\\\\.b'", true },
        { "'axb' matches 'a\\\\.b'", false },
        { "'axb' matches 'a.b'", true },
        { "'line\\n' matches 'line$'", false },
        { "'a\\nb' matches 'a.b'", false },
        { "'a\\nb' matches '(?s)a.b'", true },
        { "'\xc3\xa9' matches '^.$'", true },
        { "'ab' matches 'a|x'", true },
        { "'team-data' matches config['owner']", true },
        { "name matches config.owner", false },
        { "name matches ('^' + 'win')", true },
        { "name matches lower('^WIN')", true },
        { "all(['a1', 'a2'], # matches '^a' + 'x' or # matches '^a[0-9]')", true },
        { "name contains '2016'", true },
        { "name contains 'SQL'", false },
        { "name not contains 'linux'", true },
        { "'' contains ''", true },
        { "name contains ''", true },
        { "name startsWith 'win'", true },
        { "name startsWith 'Win'", false },
        { "name startsWith ''", true },
        { "name endsWith 'sql'", true },
        { "name endsWith '-sq'", false },
        { "name not endsWith 'db'", true },
        { "name not startsWith 'win'", false },
        { "'ab' startsWith 'abc'", false },
};

static void test_strings_match_and_compare(_unused_ void **state)
{
        ASSERT_INSTANCE_CASES(string_cases);
}

/* ---- predicates ------------------------------------------------------------------ */

static const struct eval_case predicate_cases[] = {
        { "all(disks, .capacity > 0)", true },
        { "all(disks, .supported)", false },
        { "any(disks, .name == 'log')", true },
        { "any(disks, !.supported)", true },
        { "any(disks, .shared)", false },
        { "none(disks, .shared)", true },
        { "none(disks, .supported)", false },
        { "one(disks, .name == 'log')", true },
        { "one(disks, .supported)", false },
        { "one(disks, .shared)", false },
        { "all([], false)", true },
        { "any([], true)", false },
        { "none([], true)", true },
        { "one([], true)", false },
        { "all([1, 2, 3], # > 0)", true },
        { "any([1, 2, 3], # == 2)", true },
        { "all(disks, #.capacity > 0)", true },
        { "all(disks, {.capacity > 0})", true },
        { "filter([1, 2, 3, 4], # % 2 == 0) == [2, 4]", true },
        { "map([1, 2, 3], # * 2) == [2, 4, 6]", true },
        { "map(disks, #.name) == ['disk0', 'disk1', 'log']", true },
        { "map(disks, .capacity > 100 * 1024 * 1024 * 1024) == [false, true, false]", true },
        { "map([], #) == []", true },
        { "filter(nics, .ipv4_address != '') == nics", true },
        { "count([1, 2, 3], # > 1) == 2", true },
        { "count([true, false, true]) == 2", true },
        { "count([]) == 0", true },
        { "count(disks, .supported) == 2", true },
        { "count([1, 2,], # > 0,) == 2", true },
        { "len(filter(disks, .capacity > 100 * 1024 * 1024 * 1024)) > 0", true },
        { "len(filter(disks, .capacity > 100 * 1024 * 1024 * 1024)) == 1", true },
        { "len(filter(disks, .name matches 'disk')) == 2", true },
        { "filter(disks, .supported)[1].name == 'disk1'", true },
        { "any(disks, any(nics, .network == 'dvportgroup-12'))", true },
        { "all([[1, 2], [3]], all(#, # > 0))", true },
        { "any([[1, 2], [3]], any(#, # == 3))", true },
        { "any(map(disks, .name), # startsWith 'disk')", true },
        { "all(disks, .capacity < memory * 100)", true },
        { "any(disks, .name == name)", false },
        { "any(snapshots, .name matches 'patch')", true },
        { "count(disks, .change_tracking) == count(disks, .supported)", true },
};

static void test_predicates_see_each_element(_unused_ void **state)
{
        ASSERT_INSTANCE_CASES(predicate_cases);
}

/* ---- functions ------------------------------------------------------------------- */

static const struct eval_case function_cases[] = {
        { "len('abc') == 3", true },
        { "len('') == 0", true },
        { "len('h\xc3\xa9llo') == 5", true },
        { "len([]) == 0", true },
        { "len([1, [2, 3]]) == 2", true },
        { "len(disks[0]) == 5", true },
        { "lower('ABC') == 'abc'", true },
        { "upper(name) == 'WIN2016-SQL'", true },
        { "lower(os) == 'windows server 2016'", true },
        { "lower('\xc3\x80\xc3\x89\xc3\x8e') == '\xc3\xa0\xc3\xa9\xc3\xae'", true },
        { "upper('stra\xc3\x9f" "e') == 'STRA\xc3\x9f" "E'", true },
        { "upper('\xd0\xbf\xd1\x80\xd0\xb8') == '\xd0\x9f\xd0\xa0\xd0\x98'", true },
        { "trim('  x  ') == 'x'", true },
        { "trim('\\t x \\n') == 'x'", true },
        { "trim('--x--', '-') == 'x'", true },
        { "trim('xyxhixyx', 'xy') == 'hi'", true },
        { "trim('', 'x') == ''", true },
        { "trim('abc', '') == 'abc'", true },
        { "trim('   ') == ''", true },
        { "hasPrefix(os, 'Windows')", true },
        { "hasPrefix(os, 'windows')", false },
        { "hasSuffix(name, '-sql')", true },
        { "hasSuffix(name, 'win')", false },
        { "hasPrefix('', '')", true },
        { "path_base(location) == 'win2016-sql'", true },
        { "path_base('/a/b/') == 'b'", true },
        { "path_base('') == '.'", true },
        { "path_base('///') == '/'", true },
        { "path_base('name') == 'name'", true },
        { "path_dir(location) == '/dc-east/vm/Windows/Win2016'", true },
        { "path_dir('/a') == '/'", true },
        { "path_dir('a') == '.'", true },
        { "path_dir('') == '.'", true },
        { "path_dir('/') == '/'", true },
        { "path_dir('/a//b/../c/d') == '/a/c'", true },
        { "path_dir('../../x') == '../..'", true },
        { "path_dir('a/./b/') == 'a/b'", true },
        { "path_base(path_dir(location)) == 'Win2016'", true },
        { "has_tag('env', 'prod')", true },
        { "has_tag('env', 'dev')", false },
        { "has_tag('team', 'dba')", true },
        { "has_tag('team', 'data')", true },
        { "has_tag('team', 'dat')", false },
        { "has_tag('*', 'dba')", true },
        { "has_tag('*', 'nope')", false },
        { "has_tag('nope', 'prod')", false },
        { "has_tag('env', '')", false },
        { "has_tag('owner', 'team-data')", false },
        { "matches_tag('team', '^db')", true },
        { "matches_tag('team', 'x')", false },
        { "matches_tag('*', 'pro')", true },
        { "matches_tag('env', '^prod$')", true },
        { "matches_tag('env', '^PROD$')", false },
        { "matches_tag('team', '^data, dba$')", false },
        { "matches_tag('*', config['owner'] + '|dba')", true },
};

static void test_functions_behave_like_go_and_migration_tools(_unused_ void **state)
{
        ASSERT_INSTANCE_CASES(function_cases);
}

/* ---- rewrites expr-lang's optimizer makes too ------------------------------------------ */

static const struct eval_case optimizer_cases[] = {
        { "100 * 1024 * 1024 * 1024 == 107374182400", true },
        { "-(2 + 3) == -5", true },
        { "7 / 2 * 2 == 7", true },
        { "'a' + 'b' + 'c' == 'abc'", true },
        { "9223372036854775807 + 1 == -9223372036854775807 - 1", true },
        { "1 < 2 + 3 < 10", true },
        { "len(filter(disks, .supported)) == 2", true },
        { "len(filter([], true)) == 0", true },
        /* any() stops at the first match: 'a' > 0 is never evaluated, in expr-lang neither. */
        { "count([1, 'a'], # > 0) > 0", true },
        { "count([1, 'a'], # > 0) >= 1", true },
        { "len(filter([1, 'a'], # > 0)) > 0", true },
        { "count(disks, .shared) > 0", false },
        { "count(disks, .supported) >= 1", true },
        { "count(disks, .supported) > 1", true },
};

static void test_rewrites_keep_the_answers(_unused_ void **state)
{
        ASSERT_INSTANCE_CASES(optimizer_cases);
}

/* ---- the examples ------------------------------------------------------------ */

static const struct eval_case example_cases[] = {
        { "(location matches 'Win2016' or location matches 'CentOS') and len(disks) == 3", true },
        { "(location matches 'Win2016' or location matches 'CentOS') and len(disks) == 1", false },
        { "hasPrefix(os, 'Windows') and cpus >= 4", true },
        { "len(filter(disks, .capacity > 100 * 1024 * 1024 * 1024)) > 0", true },
        { "config['tag.env'] == 'prod'", true },
        { "path_base(location) == 'win2016-sql' and source == 'vc01'", true },
        { "path_base(location) == 'ubuntu2404' and source == 'esxi01'", false },
        { "location matches 'foo' or location == '/dc-east/vm/Windows/Win2016/win2016-sql'", true },
        { "len(disks) > 2", true },
        { "len(disks) > 0 and disks[0].supported == true", true },
        { "len(disks) > 1 and disks[1].supported == false", false },
        { "hasSuffix(location, 'sql') and background_import and secure_boot", true },
        { "config['vmware.resource_pool'] == '/dc-east/host/prod-east/Resources'", true },
};

static void test_documented_examples_evaluate(_unused_ void **state)
{
        ASSERT_INSTANCE_CASES(example_cases);
}

/* ---- networks -------------------------------------------------------------------- */

static const struct eval_case network_cases[] = {
        { "uuid == 'dvportgroup-12'", true },
        { "source == 'vc01'", true },
        { "location matches 'app'", true },
        { "type == 'distributed'", true },
        { "type == 'standard'", false },
        { "vlan == 200", true },
        { "vlan > 100 and vlan < 300", true },
        { "vlan in [100, 200]", true },
        { "name startsWith 'dvpg'", true },
        { "path_base(location) == name", true },
};

static void test_network_expressions_see_network_fields(_unused_ void **state)
{
        assert_cases(EXPR_SCHEMA_NETWORK, EXPR_SAMPLE_NETWORK, network_cases, ELEMENTSOF(network_cases));
}

static void test_network_expressions_refuse_instance_fields(_unused_ void **state)
{
        _cleanup_expr_ struct expr *e = NULL;
        struct ferry_error err = {};

        assert_int_equal(expr_compile("cpus > 1", EXPR_SCHEMA_NETWORK, &e, &err), -EINVAL);
        assert_string_equal(err.message,
                            "Unknown field 'cpus' at line 1, column 1 (valid fields: uuid, source, location, type, "
                            "vlan, name)\n | cpus > 1\n | ^");
        assert_int_equal(expr_compile("has_tag('env', 'prod')", EXPR_SCHEMA_NETWORK, &e, &err), -EINVAL);
        assert_string_equal(err.message,
                            "Function 'has_tag' needs the 'config' field, which a network does not have at line 1, "
                            "column 1\n | has_tag('env', 'prod')\n | ^");
        assert_null(e);
}

/* vlan is a number or a string: a trunk's ranges. */
static void test_network_vlan_may_be_a_string(_unused_ void **state)
{
        static const struct eval_case cases[] = {
                { "vlan == '300-399,500-510'", true },
                { "vlan matches '^300-'", true },
                { "vlan == 300", false },
        };

        assert_cases(EXPR_SCHEMA_NETWORK,
                     "{\"uuid\": \"dvportgroup-14\", \"source\": \"vc01\", \"location\": \"/dc-east/network/trunk\","
                     " \"type\": \"distributed\", \"vlan\": \"300-399,500-510\", \"name\": \"trunk\"}",
                     cases, ELEMENTSOF(cases));
}

/* ---- the bare-word shorthand ------------------------------------------------------ */

static void test_a_bare_word_means_location_matches(_unused_ void **state)
{
        static const struct {
                const char *arg, *expected;
        } cases[] = {
                { "ubuntu", "location matches 'ubuntu'" },
                { "Win2016", "location matches 'Win2016'" },
                { "web-01", "location matches 'web-01'" },
                { "/dc1/vm/web", "location matches '/dc1/vm/web'" },
                { "  db  ", "location matches 'db'" },
                { "2016", "location matches '2016'" },
                { "user@example", "location matches 'user@example'" },
                { "caf\xc3\xa9", "location matches 'caf\xc3\xa9'" },
                { "running", "running" },
                { "secure_boot", "secure_boot" },
                { "vlan", "vlan" },
                { "true", "true" },
                { "lower", "lower" },
                { "cpus >= 4", "cpus >= 4" },
                { "not running", "not running" },
                { "a b", "a b" },
                { "web*", "web*" },
                { "'quoted'", "'quoted'" },
                { "has_tag('env','prod')", "has_tag('env','prod')" },
                { "", "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *out = NULL;

                assert_int_equal(expr_from_filter_argument(cases[i].arg, &out), 0);
                assert_string_equal(out, cases[i].expected);
        }
}

static void test_a_bare_word_compiles_and_selects_by_location(_unused_ void **state)
{
        _cleanup_json_ json_t *o = sample(EXPR_SAMPLE_INSTANCE);
        _cleanup_free_ char *text = NULL;
        _cleanup_expr_ struct expr *e = NULL;
        struct ferry_error err = {};
        bool match = false;

        assert_int_equal(expr_from_filter_argument("Win2016", &text), 0);
        assert_int_equal(expr_compile(text, EXPR_SCHEMA_INSTANCE, &e, &err), 0);
        assert_int_equal(expr_match(e, o, &match, &err), 0);
        assert_true(match);
}

/* ---- limits -------------------------------------------------------------------- */

static char *repeat_around(const char *prefix, size_t n, const char *middle, const char *suffix)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

        for (size_t i = 0; i < n; i++)
                assert_int_equal(strbuf_append(&sb, prefix), 0);
        assert_int_equal(strbuf_append(&sb, middle), 0);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(strbuf_append(&sb, suffix), 0);
        return strbuf_steal(&sb);
}

static void test_nesting_up_to_the_limit_is_accepted(_unused_ void **state)
{
        _cleanup_free_ char *text = repeat_around("(", EXPR_DEPTH_MAX - 1, "true", ")");
        _cleanup_expr_ struct expr *e = NULL;
        struct ferry_error err = {};

        assert_int_equal(expr_compile(text, EXPR_SCHEMA_INSTANCE, &e, &err), 0);
}

static void test_deeper_nesting_is_refused(_unused_ void **state)
{
        static const struct {
                const char *prefix, *middle, *suffix;
        } shapes[] = {
                { "(", "true", ")" },
                { "not ", "true", "" },
                { "[", "1", "] == [[1]]" },
                { "len(", "'x'", ") + " },
                { "all([1], ", "true", ")" },
                { "-", "1", " > 0 == true" },
        };

        for (size_t i = 0; i < ELEMENTSOF(shapes); i++) {
                _cleanup_free_ char *text = repeat_around(shapes[i].prefix, 150, shapes[i].middle, shapes[i].suffix);
                _cleanup_expr_ struct expr *e = NULL;
                struct ferry_error err = {};

                assert_int_equal(expr_compile(text, EXPR_SCHEMA_INSTANCE, &e, &err), -EINVAL);
                assert_non_null(strstr(err.message, "Expression is nested too deeply (more than 100 levels) at line 1"));
                assert_null(e);
        }
}

static void test_a_long_left_associative_chain_counts_as_nesting(_unused_ void **state)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        _cleanup_expr_ struct expr *e = NULL;
        struct ferry_error err = {};

        assert_int_equal(strbuf_append(&sb, "cpus"), 0);
        for (int i = 0; i < 200; i++)
                assert_int_equal(strbuf_append(&sb, " + 1"), 0);
        assert_int_equal(strbuf_append(&sb, " > 0"), 0);
        assert_int_equal(expr_compile(strbuf_str(&sb), EXPR_SCHEMA_INSTANCE, &e, &err), -EINVAL);
        assert_non_null(strstr(err.message, "Expression is nested too deeply (more than 100 levels)"));
}

/* Admins list VM names: thousands of alternatives are one 'or', not deep nesting. */
static void test_long_or_chains_are_not_nesting(_unused_ void **state)
{
        _cleanup_json_ json_t *o = sample(EXPR_SAMPLE_INSTANCE);
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        _cleanup_expr_ struct expr *e = NULL;
        struct ferry_error err = {};
        bool match = false;

        for (int i = 0; i < 2000; i++)
                assert_int_equal(strbuf_appendf(&sb, "name == 'vm%04d' or ", i), 0);
        assert_int_equal(strbuf_append(&sb, "name == 'win2016-sql' and cpus == 4"), 0);
        assert_int_equal(expr_compile(strbuf_str(&sb), EXPR_SCHEMA_INSTANCE, &e, &err), 0);
        assert_int_equal(expr_match(e, o, &match, &err), 0);
        assert_true(match);
}

static void test_an_expression_at_the_size_limit_compiles(_unused_ void **state)
{
        _cleanup_json_ json_t *o = sample(EXPR_SAMPLE_INSTANCE);
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        _cleanup_expr_ struct expr *e = NULL;
        struct ferry_error err = {};
        bool match = false;

        assert_int_equal(strbuf_append(&sb, "name in ['win2016-sql'"), 0);
        while (sb.len < EXPR_TEXT_MAX - 16)
                assert_int_equal(strbuf_append(&sb, ", 'vm'"), 0);
        assert_int_equal(strbuf_append(&sb, "]"), 0);
        while (sb.len < EXPR_TEXT_MAX)
                assert_int_equal(strbuf_append(&sb, " "), 0);
        assert_int_equal(sb.len, EXPR_TEXT_MAX);

        assert_int_equal(expr_compile(strbuf_str(&sb), EXPR_SCHEMA_INSTANCE, &e, &err), 0);
        assert_int_equal(expr_match(e, o, &match, &err), 0);
        assert_true(match);
}

static void test_a_longer_expression_is_refused(_unused_ void **state)
{
        _cleanup_free_ char *text = malloc(EXPR_TEXT_MAX + 2);
        _cleanup_expr_ struct expr *e = NULL;
        struct ferry_error err = {};

        assert_non_null(text);
        memset(text, ' ', EXPR_TEXT_MAX + 1);
        memcpy(text, "true", 4);
        text[EXPR_TEXT_MAX + 1] = '\0';
        assert_int_equal(expr_compile(text, EXPR_SCHEMA_INSTANCE, &e, &err), -E2BIG);
        assert_string_equal(err.message, "Expression is too long (more than 65536 bytes)");
        assert_null(e);
}

/* ---- API ------------------------------------------------------------------------- */

static void test_a_compiled_expression_keeps_its_text(_unused_ void **state)
{
        _cleanup_expr_ struct expr *e = NULL;
        struct ferry_error err = {};

        assert_int_equal(expr_compile("cpus >= 4", EXPR_SCHEMA_INSTANCE, &e, &err), 0);
        assert_string_equal(expr_text(e), "cpus >= 4");
        expr_free(NULL);
}

static void test_schema_names_round_trip(_unused_ void **state)
{
        assert_string_equal(expr_schema_to_string(EXPR_SCHEMA_INSTANCE), "instance");
        assert_string_equal(expr_schema_to_string(EXPR_SCHEMA_NETWORK), "network");
        assert_null(expr_schema_to_string(_EXPR_SCHEMA_MAX));
        assert_int_equal(expr_schema_from_string("network"), EXPR_SCHEMA_NETWORK);
        assert_int_equal(expr_schema_from_string("batch"), -EINVAL);
}

static void test_match_refuses_what_is_not_an_object(_unused_ void **state)
{
        _cleanup_json_ json_t *array = json_array();
        _cleanup_expr_ struct expr *e = NULL;
        struct ferry_error err = {};
        bool match = true;

        assert_int_equal(expr_compile("true", EXPR_SCHEMA_INSTANCE, &e, &err), 0);
        assert_int_equal(expr_match(e, array, &match, &err), -EINVAL);
        assert_string_equal(err.message, "Expressions are evaluated on JSON objects");
        assert_true(match);
}

static void test_an_empty_object_has_only_nil_fields(_unused_ void **state)
{
        static const struct eval_case cases[] = {
                { "name == nil and cpus == nil and config == nil and disks == nil", true },
                { "has_tag('*', 'x')", false },
                { "location matches 'x'", false },
                { "'x' in disks", false },
        };

        assert_cases(EXPR_SCHEMA_INSTANCE, "{}", cases, ELEMENTSOF(cases));
}

/* Patterns computed while evaluating are cached; threads share one expression. */
struct thread_arg {
        const struct expr *e;
        const json_t *o;
        int failures;
};

static void *evaluate_many(void *p)
{
        struct thread_arg *a = p;

        for (int i = 0; i < 2000; i++) {
                struct ferry_error err = {};
                bool match = false;

                if (expr_match(a->e, a->o, &match, &err) < 0 || !match)
                        a->failures++;
        }
        return NULL;
}

static void test_one_expression_evaluates_in_several_threads(_unused_ void **state)
{
        _cleanup_json_ json_t *o = sample(EXPR_SAMPLE_INSTANCE);
        _cleanup_expr_ struct expr *e = NULL;
        struct ferry_error err = {};
        struct thread_arg args[4];
        pthread_t threads[4];

        assert_int_equal(expr_compile("name matches ('^' + lower('WIN')) and any(disks, .name matches 'log')",
                                      EXPR_SCHEMA_INSTANCE, &e, &err),
                         0);
        for (size_t i = 0; i < ELEMENTSOF(threads); i++) {
                args[i] = (struct thread_arg) { .e = e, .o = o };
                assert_int_equal(pthread_create(&threads[i], NULL, evaluate_many, &args[i]), 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(threads); i++) {
                assert_int_equal(pthread_join(threads[i], NULL), 0);
                assert_int_equal(args[i].failures, 0);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_literals_have_expr_lang_syntax),
                cmocka_unit_test(test_operators_bind_with_expr_lang_precedence),
                cmocka_unit_test(test_integers_and_floats_mix),
                cmocka_unit_test(test_equality_across_types_is_false),
                cmocka_unit_test(test_fields_read_the_instance_json),
                cmocka_unit_test(test_nil_behaves_like_expr_lang),
                cmocka_unit_test(test_in_looks_into_arrays_and_map_keys),
                cmocka_unit_test(test_strings_match_and_compare),
                cmocka_unit_test(test_predicates_see_each_element),
                cmocka_unit_test(test_functions_behave_like_go_and_migration_tools),
                cmocka_unit_test(test_rewrites_keep_the_answers),
                cmocka_unit_test(test_documented_examples_evaluate),
                cmocka_unit_test(test_network_expressions_see_network_fields),
                cmocka_unit_test(test_network_expressions_refuse_instance_fields),
                cmocka_unit_test(test_network_vlan_may_be_a_string),
                cmocka_unit_test(test_a_bare_word_means_location_matches),
                cmocka_unit_test(test_a_bare_word_compiles_and_selects_by_location),
                cmocka_unit_test(test_nesting_up_to_the_limit_is_accepted),
                cmocka_unit_test(test_deeper_nesting_is_refused),
                cmocka_unit_test(test_a_long_left_associative_chain_counts_as_nesting),
                cmocka_unit_test(test_long_or_chains_are_not_nesting),
                cmocka_unit_test(test_an_expression_at_the_size_limit_compiles),
                cmocka_unit_test(test_a_longer_expression_is_refused),
                cmocka_unit_test(test_a_compiled_expression_keeps_its_text),
                cmocka_unit_test(test_schema_names_round_trip),
                cmocka_unit_test(test_match_refuses_what_is_not_an_object),
                cmocka_unit_test(test_an_empty_object_has_only_nil_fields),
                cmocka_unit_test(test_one_expression_evaluates_in_several_threads),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
