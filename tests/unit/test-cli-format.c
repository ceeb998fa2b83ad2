/* SPDX-License-Identifier: Apache-2.0 */
/* src/cli/format.c: what ferry prints. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/format.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/yaml.h"

static json_t *json_or_fail(const char *text)
{
        struct ferry_error err = {};
        json_t *v = NULL;

        if (json_parse_strict(text, strlen(text), &v, &err) < 0)
                fail_msg("Parsing '%s' failed: %s", text, err.message);
        return v;
}

static void assert_size(uint64_t bytes, const char *expected)
{
        char buf[FORMAT_SIZE_MAX];

        format_size(bytes, buf);
        assert_string_equal(buf, expected);
}

static void assert_cell(const char *object, const struct column *column, const char *expected)
{
        _cleanup_json_ json_t *obj = json_or_fail(object);
        _cleanup_free_ char *cell = NULL;

        assert_int_equal(format_cell(obj, column, &cell), 0);
        assert_string_equal(cell, expected);
}

static char *render(const struct table *t, enum output_format f)
{
        char *text = NULL;

        assert_int_equal(table_render(t, f, &text), 0);
        return text;
}

static struct table *table_of(size_t n_columns, const char *const *headers, size_t n_rows, const char *const *cells)
{
        struct table *t = table_new(n_columns, headers);

        assert_non_null(t);
        for (size_t i = 0; i < n_rows; i++)
                assert_int_equal(table_add_row(t, cells + i * n_columns), 0);
        return t;
}

static void test_output_formats_have_names(_unused_ void **state)
{
        for (enum output_format f = 0; f < _OUTPUT_FORMAT_MAX; f++)
                assert_int_equal(output_format_from_string(output_format_to_string(f)), f);
        assert_int_equal(output_format_from_string("csv"), OUTPUT_FORMAT_CSV);
        assert_int_equal(output_format_from_string("xml"), -EINVAL);
        assert_int_equal(output_format_from_string("Table"), -EINVAL);
        assert_int_equal(output_format_from_string(NULL), -EINVAL);
        assert_null(output_format_to_string(_OUTPUT_FORMAT_MAX));
}

static void test_sizes_below_a_kibibyte_are_bytes(_unused_ void **state)
{
        assert_size(0, "0B");
        assert_size(512, "512B");
        assert_size(1023, "1023B");
}

static void test_sizes_use_binary_units_with_two_decimals(_unused_ void **state)
{
        assert_size(1024, "1.00KiB");
        assert_size(1536, "1.50KiB");
        assert_size(UINT64_C(4) << 30, "4.00GiB");
        assert_size(UINT64_C(10737418240) + (UINT64_C(1) << 29), "10.50GiB");
        assert_size((UINT64_C(1) << 40) * 3, "3.00TiB");
        assert_size(UINT64_C(1) << 50, "1.00PiB");
        assert_size(UINT64_C(1) << 60, "1.00EiB");
        assert_size(UINT64_MAX, "16.00EiB");
}

static void test_text_width_counts_wide_and_combining_characters(_unused_ void **state)
{
        assert_int_equal(format_text_width(""), 0);
        assert_int_equal(format_text_width("web01"), 5);
        assert_int_equal(format_text_width("日本語"), 6);
        assert_int_equal(format_text_width("caf\xc3\xa9"), 4);          /* precomposed é */
        assert_int_equal(format_text_width("cafe\xcc\x81"), 4);         /* e + combining acute */
        assert_int_equal(format_text_width("\xf0\x9f\x9a\x80 go"), 5);  /* rocket, wide */
        assert_int_equal(format_text_width("a\xff" "b"), 3);           /* invalid byte counts 1 */
}

static void test_sanitize_replaces_control_characters(_unused_ void **state)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "plain text", "plain text" },
                { "two\nlines\tand\rreturn", "two lines and return" },
                { "\x1b[31mred\x1b[0m", "?[31mred?[0m" },
                { "del\x7f", "del?" },
                { "c1 \xc2\x85 next line", "c1 ? next line" },
                { "cut \xc3", "cut ?" },
                { "overlong \xc0\xaf", "overlong ??" },
                { "surrogate \xed\xa0\x80", "surrogate ???" },
                { "日本 caf\xc3\xa9", "日本 caf\xc3\xa9" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = format_sanitize(cases[i].in);

                assert_non_null(s);
                assert_string_equal(s, cases[i].out);
        }
}

static void test_table_has_borders_and_a_centred_header(_unused_ void **state)
{
        static const char *const headers[] = { "NAME", "TYPE", "IMPORT LIMIT" };
        static const char *const cells[] = { "vc01", "vmware", "50", "vcenter-two", "vmware", "5" };
        _cleanup_table_ struct table *t = table_of(3, headers, 2, cells);
        _cleanup_free_ char *text = render(t, OUTPUT_FORMAT_TABLE);

        assert_string_equal(text,
                            "+-------------+--------+--------------+\n"
                            "|    NAME     |  TYPE  | IMPORT LIMIT |\n"
                            "+-------------+--------+--------------+\n"
                            "| vc01        | vmware | 50           |\n"
                            "+-------------+--------+--------------+\n"
                            "| vcenter-two | vmware | 5            |\n"
                            "+-------------+--------+--------------+\n");
}

static void test_table_aligns_wide_characters_by_terminal_columns(_unused_ void **state)
{
        static const char *const headers[] = { "NAME", "OS" };
        static const char *const cells[] = { "日本語", "linux", "cafe\xcc\x81", "windows" };
        _cleanup_table_ struct table *t = table_of(2, headers, 2, cells);
        _cleanup_free_ char *text = render(t, OUTPUT_FORMAT_TABLE);

        assert_string_equal(text,
                            "+--------+---------+\n"
                            "|  NAME  |   OS    |\n"
                            "+--------+---------+\n"
                            "| 日本語 | linux   |\n"
                            "+--------+---------+\n"
                            "| cafe\xcc\x81   | windows |\n"
                            "+--------+---------+\n");
}

static void test_table_of_no_rows_is_its_header(_unused_ void **state)
{
        static const char *const headers[] = { "NAME", "STATUS" };
        _cleanup_table_ struct table *t = table_of(2, headers, 0, NULL);
        _cleanup_free_ char *table = render(t, OUTPUT_FORMAT_TABLE);
        _cleanup_free_ char *compact = render(t, OUTPUT_FORMAT_COMPACT);
        _cleanup_free_ char *csv = render(t, OUTPUT_FORMAT_CSV);

        assert_string_equal(table,
                            "+------+--------+\n"
                            "| NAME | STATUS |\n"
                            "+------+--------+\n");
        assert_string_equal(compact, "NAME  STATUS\n");
        assert_string_equal(csv, "");
}

static void test_table_cells_cannot_inject_control_sequences(_unused_ void **state)
{
        static const char *const headers[] = { "NAME", "DESCRIPTION" };
        static const char *const cells[] = { "a", "two\nlines\x1b[2J" };
        _cleanup_table_ struct table *t = table_of(2, headers, 1, cells);
        _cleanup_free_ char *text = render(t, OUTPUT_FORMAT_TABLE);

        assert_string_equal(text,
                            "+------+---------------+\n"
                            "| NAME |  DESCRIPTION  |\n"
                            "+------+---------------+\n"
                            "| a    | two lines?[2J |\n"
                            "+------+---------------+\n");
}

static void test_compact_table_has_no_borders_or_trailing_spaces(_unused_ void **state)
{
        static const char *const headers[] = { "NAME", "TYPE", "ENDPOINT" };
        static const char *const cells[] = { "vc01", "vmware", "https://vc01/sdk", "日本", "vmware", "" };
        _cleanup_table_ struct table *t = table_of(3, headers, 2, cells);
        _cleanup_free_ char *text = render(t, OUTPUT_FORMAT_COMPACT);

        assert_string_equal(text,
                            "NAME  TYPE    ENDPOINT\n"
                            "vc01  vmware  https://vc01/sdk\n"
                            "日本  vmware\n");
}

static void test_csv_quotes_as_rfc_4180_says(_unused_ void **state)
{
        static const char *const headers[] = { "A", "B", "C", "D" };
        static const char *const cells[] = {
                "plain", "with,comma", "say \"hi\"", "two\nlines",
                " leading space", "", "crlf\r\n", "日本",
        };
        _cleanup_table_ struct table *t = table_of(4, headers, 2, cells);
        _cleanup_free_ char *text = render(t, OUTPUT_FORMAT_CSV);

        assert_string_equal(text,
                            "plain,\"with,comma\",\"say \"\"hi\"\"\",\"two\nlines\"\n"
                            "\" leading space\",,\"crlf\r\n\",日本\n");
}

static void test_tables_do_not_render_json_or_yaml(_unused_ void **state)
{
        static const char *const headers[] = { "A" };
        _cleanup_table_ struct table *t = table_of(1, headers, 0, NULL);
        char *text = NULL;

        assert_int_equal(table_render(t, OUTPUT_FORMAT_JSON, &text), -EINVAL);
        assert_int_equal(table_render(t, OUTPUT_FORMAT_YAML, &text), -EINVAL);
        assert_null(text);
}

static void test_cell_follows_a_dotted_path(_unused_ void **state)
{
        const struct column c = COLUMN("ENDPOINT", "properties.endpoint");

        assert_cell("{\"properties\": {\"endpoint\": \"https://vc01/sdk\"}}", &c, "https://vc01/sdk");
        assert_cell("{\"properties\": {}}", &c, "");
        assert_cell("{\"properties\": null}", &c, "");
        assert_cell("{}", &c, "");
}

static void test_cell_writes_scalars_as_text(_unused_ void **state)
{
        const struct column c = COLUMN("V", "v");

        assert_cell("{\"v\": 50}", &c, "50");
        assert_cell("{\"v\": -3}", &c, "-3");
        assert_cell("{\"v\": 1.5}", &c, "1.5");
        assert_cell("{\"v\": true}", &c, "true");
        assert_cell("{\"v\": false}", &c, "false");
        assert_cell("{\"v\": null}", &c, "");
}

static void test_cell_joins_arrays_and_sorts_object_keys(_unused_ void **state)
{
        const struct column c = COLUMN("V", "v");

        assert_cell("{\"v\": [\"dc1\", \"dc2\", null, 3]}", &c, "dc1, dc2, 3");
        assert_cell("{\"v\": []}", &c, "");
        assert_cell("{\"v\": {\"ds2\": \"/mnt/b\", \"ds1\": \"/mnt/a\"}}", &c, "ds1=/mnt/a, ds2=/mnt/b");
}

static void test_cell_collects_every_element_of_an_array_path(_unused_ void **state)
{
        const struct column names = COLUMN("DISKS", "disks[].name");
        const struct column total = COLUMN_AS("SIZE", "disks[].capacity", COLUMN_SIZE_SUM);
        const char *vm = "{\"disks\": [{\"name\": \"d0\", \"capacity\": 10737418240},"
                         " {\"name\": \"d1\", \"capacity\": 1073741824}, {\"capacity\": null}]}";

        assert_cell(vm, &names, "d0, d1");
        assert_cell(vm, &total, "11.00GiB");
        assert_cell("{\"disks\": []}", &total, "");
        assert_cell("{}", &total, "");
}

static void test_cell_kinds_render_sizes_counts_keys_and_yes_no(_unused_ void **state)
{
        const struct column size = COLUMN_AS("MEMORY", "memory", COLUMN_SIZE);
        const struct column count = COLUMN_AS("WINDOWS", "w", COLUMN_COUNT);
        const struct column keys = COLUMN_AS("MAPPED FOR", "m", COLUMN_KEYS);
        const struct column yes_no = COLUMN_AS("RUNNING", "running", COLUMN_YES_NO);

        assert_cell("{\"memory\": 4294967296}", &size, "4.00GiB");
        assert_cell("{\"memory\": \"lots\"}", &size, "lots");
        assert_cell("{\"w\": [{}, {}, {}]}", &count, "3");
        assert_cell("{\"w\": {\"a\": 1}}", &count, "1");
        assert_cell("{}", &count, "0");
        assert_cell("{\"m\": {\"incus2\": {}, \"*\": {}, \"incus1\": {}}}", &keys, "*, incus1, incus2");
        assert_cell("{\"m\": {}}", &keys, "");
        assert_cell("{\"running\": true}", &yes_no, "YES");
        assert_cell("{\"running\": false}", &yes_no, "NO");
        assert_cell("{}", &yes_no, "");
}

static int render_upper_name(const json_t *obj, char **ret)
{
        const char *name = json_string_value(json_object_get(obj, "name"));
        char *s = strdup(name ?: "");

        for (char *p = s; p && *p; p++)
                *p = (char) (*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        *ret = s;
        return s ? 0 : -ENOMEM;
}

static void test_cell_with_a_render_function_uses_it(_unused_ void **state)
{
        const struct column c = { .header = "NAME", .render = render_upper_name };

        assert_cell("{\"name\": \"web01\"}", &c, "WEB01");
}

static void test_cell_refuses_a_malformed_path(_unused_ void **state)
{
        _cleanup_json_ json_t *obj = json_or_fail("{\"a\": {\"b\": 1}}");
        const struct column empty_key = COLUMN("X", "a..b");
        const struct column bad_kind = COLUMN_AS("X", "a", _COLUMN_KIND_MAX);
        char *cell = NULL;

        assert_int_equal(format_cell(obj, &empty_key, &cell), -EINVAL);
        assert_int_equal(format_cell(obj, &bad_kind, &cell), -EINVAL);
        assert_null(cell);
}

static const struct column source_columns[] = {
        COLUMN("NAME", "name"),
        COLUMN("ENDPOINT", "properties.endpoint"),
        COLUMN("LIMIT", "properties.import_limit"),
};

static const char sources_json[] =
        "[{\"name\": \"vc01\", \"properties\": {\"endpoint\": \"https://vc01/sdk\", \"import_limit\": 50,"
        " \"datacenters\": [\"dc1\"]}},"
        " {\"name\": \"vc02\", \"properties\": {\"endpoint\": \"https://vc02/sdk\", \"import_limit\": 5}}]";

static void test_list_as_a_table_shows_the_columns(_unused_ void **state)
{
        _cleanup_json_ json_t *list = json_or_fail(sources_json);
        _cleanup_free_ char *text = NULL;

        assert_int_equal(format_list(list, source_columns, ELEMENTSOF(source_columns), OUTPUT_FORMAT_TABLE, &text),
                         0);
        assert_string_equal(text,
                            "+------+------------------+-------+\n"
                            "| NAME |     ENDPOINT     | LIMIT |\n"
                            "+------+------------------+-------+\n"
                            "| vc01 | https://vc01/sdk | 50    |\n"
                            "+------+------------------+-------+\n"
                            "| vc02 | https://vc02/sdk | 5     |\n"
                            "+------+------------------+-------+\n");
}

static void test_list_as_csv_has_one_line_per_object(_unused_ void **state)
{
        _cleanup_json_ json_t *list = json_or_fail(sources_json);
        _cleanup_free_ char *text = NULL;

        assert_int_equal(format_list(list, source_columns, ELEMENTSOF(source_columns), OUTPUT_FORMAT_CSV, &text), 0);
        assert_string_equal(text, "vc01,https://vc01/sdk,50\nvc02,https://vc02/sdk,5\n");
}

static void test_list_as_json_is_the_whole_objects(_unused_ void **state)
{
        _cleanup_json_ json_t *list = json_or_fail(sources_json), *back = NULL;
        _cleanup_free_ char *text = NULL;

        assert_int_equal(format_list(list, source_columns, ELEMENTSOF(source_columns), OUTPUT_FORMAT_JSON, &text), 0);
        assert_true(endswith(text, "]\n"));
        assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);        /* one line */
        back = json_or_fail(text);
        assert_true(json_equal(back, list));
}

static void test_list_as_yaml_is_the_whole_objects(_unused_ void **state)
{
        _cleanup_json_ json_t *list = json_or_fail(sources_json), *back = NULL;
        _cleanup_free_ char *text = NULL;
        struct ferry_error err = {};

        assert_int_equal(format_list(list, source_columns, ELEMENTSOF(source_columns), OUTPUT_FORMAT_YAML, &text), 0);
        assert_true(startswith(text, "- name: vc01\n"));
        assert_int_equal(yaml_parse_to_json(text, strlen(text), &back, &err), 0);
        assert_true(json_equal(back, list));
}

static void test_list_must_be_an_array(_unused_ void **state)
{
        _cleanup_json_ json_t *obj = json_or_fail("{\"name\": \"vc01\"}");
        char *text = NULL;

        assert_int_equal(format_list(obj, source_columns, ELEMENTSOF(source_columns), OUTPUT_FORMAT_TABLE, &text),
                         -EINVAL);
        assert_null(text);
}

static void test_url_escape_keeps_only_unreserved_characters(_unused_ void **state)
{
        _cleanup_free_ char *plain = format_url_escape("wave-1_a.b~c");
        _cleanup_free_ char *odd = format_url_escape("a b/c?d=e&f#g%h");
        _cleanup_free_ char *utf8 = format_url_escape("caf\xc3\xa9");
        _cleanup_free_ char *expr = format_url_escape("cpus >= 2 and name matches 'web'");

        assert_string_equal(plain, "wave-1_a.b~c");
        assert_string_equal(odd, "a%20b%2Fc%3Fd%3De%26f%23g%25h");
        assert_string_equal(utf8, "caf%C3%A9");
        assert_string_equal(expr, "cpus%20%3E%3D%202%20and%20name%20matches%20%27web%27");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_output_formats_have_names),
                cmocka_unit_test(test_sizes_below_a_kibibyte_are_bytes),
                cmocka_unit_test(test_sizes_use_binary_units_with_two_decimals),
                cmocka_unit_test(test_text_width_counts_wide_and_combining_characters),
                cmocka_unit_test(test_sanitize_replaces_control_characters),
                cmocka_unit_test(test_table_has_borders_and_a_centred_header),
                cmocka_unit_test(test_table_aligns_wide_characters_by_terminal_columns),
                cmocka_unit_test(test_table_of_no_rows_is_its_header),
                cmocka_unit_test(test_table_cells_cannot_inject_control_sequences),
                cmocka_unit_test(test_compact_table_has_no_borders_or_trailing_spaces),
                cmocka_unit_test(test_csv_quotes_as_rfc_4180_says),
                cmocka_unit_test(test_tables_do_not_render_json_or_yaml),
                cmocka_unit_test(test_cell_follows_a_dotted_path),
                cmocka_unit_test(test_cell_writes_scalars_as_text),
                cmocka_unit_test(test_cell_joins_arrays_and_sorts_object_keys),
                cmocka_unit_test(test_cell_collects_every_element_of_an_array_path),
                cmocka_unit_test(test_cell_kinds_render_sizes_counts_keys_and_yes_no),
                cmocka_unit_test(test_cell_with_a_render_function_uses_it),
                cmocka_unit_test(test_cell_refuses_a_malformed_path),
                cmocka_unit_test(test_list_as_a_table_shows_the_columns),
                cmocka_unit_test(test_list_as_csv_has_one_line_per_object),
                cmocka_unit_test(test_list_as_json_is_the_whole_objects),
                cmocka_unit_test(test_list_as_yaml_is_the_whole_objects),
                cmocka_unit_test(test_list_must_be_an_array),
                cmocka_unit_test(test_url_escape_keeps_only_unreserved_characters),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
