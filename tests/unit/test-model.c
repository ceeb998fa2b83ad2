/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/model: the schema engine and the entity tables.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/json.h"
#include "model/model.h"

static json_t *parse(const char *text)
{
        json_error_t e;
        json_t *v = json_loads(text, 0, &e);

        if (!v)
                fail_msg("Bad test JSON: %s: %s", e.text, text);
        return v;
}

/* Validate text as a create body; return the object or fail the test. */
static json_t *valid(const struct model_schema *s, const char *text, const json_t *current)
{
        _cleanup_json_ json_t *body = parse(text);
        struct ferry_error err = {};
        json_t *out = NULL;

        if (model_validate(s, body, current, &out, &err) < 0)
                fail_msg("Unexpected error: %s", ferry_error_message(&err));
        return out;
}

static void assert_invalid(const struct model_schema *s, const char *text, const json_t *current,
                           const char *message)
{
        _cleanup_json_ json_t *body = parse(text), *out = NULL;
        struct ferry_error err = {};

        assert_int_equal(model_validate(s, body, current, &out, &err), -EINVAL);
        assert_null(out);
        assert_string_equal(ferry_error_message(&err), message);
}

#define SOURCE "{\"name\": \"vc01\", \"type\": \"vmware\", \"properties\": {\"endpoint\": \"https://vc/sdk\", " \
               "\"username\": \"admin\", \"password\": \"s3cret\"}}"

static void test_source_gets_its_defaults(_unused_ void **state)
{
        _cleanup_json_ json_t *s = valid(&model_source_schema, SOURCE, NULL);
        json_t *p = json_object_get(s, "properties");

        assert_int_equal(json_integer_value(json_object_get(p, "import_limit")), 50);
        assert_string_equal(json_string_value(json_object_get(p, "connectivity_status")), "Unknown");
        assert_string_equal(json_string_value(json_object_get(p, "trusted_server_certificate_fingerprint")), "");
        assert_string_equal(json_string_value(json_object_get(json_object_get(p, "disk_access"), "mode")), "vddk");
        assert_int_equal(json_array_size(json_object_get(p, "datacenters")), 0);
        assert_string_equal(json_string_value(json_object_get(p, "password")), "s3cret");
}

static void test_unknown_field_is_named_with_its_path(_unused_ void **state)
{
        assert_invalid(&model_source_schema,
                       "{\"name\": \"vc01\", \"type\": \"vmware\", \"properties\": {\"endpoint\": \"https://vc\", "
                       "\"username\": \"a\", \"colour\": \"red\"}}",
                       NULL, "Unknown field 'properties.colour'");
        assert_invalid(&model_source_schema, "{\"nmae\": \"x\"}", NULL, "Unknown field 'nmae'");
}

static void test_missing_required_field_is_named(_unused_ void **state)
{
        assert_invalid(&model_source_schema, "{\"name\": \"vc01\", \"type\": \"vmware\", \"properties\": {}}", NULL,
                       "Missing required field 'properties.endpoint'");
        assert_invalid(&model_source_schema, "{\"type\": \"vmware\"}", NULL, "Missing required field 'name'");
}

static void test_wrong_type_is_named(_unused_ void **state)
{
        assert_invalid(&model_source_schema,
                       "{\"name\": \"vc01\", \"type\": \"vmware\", \"properties\": {\"endpoint\": \"https://vc\", "
                       "\"username\": \"a\", \"import_limit\": \"10\"}}",
                       NULL, "Field 'properties.import_limit' must be an integer");
        assert_invalid(&model_source_schema, "{\"name\": 5}", NULL, "Field 'name' must be a string");
        assert_invalid(&model_source_schema,
                       "{\"name\": \"vc01\", \"type\": \"vmware\", \"properties\": {\"endpoint\": \"https://vc\", "
                       "\"username\": \"a\", \"import_limit\": 1.5}}",
                       NULL, "Field 'properties.import_limit' must be an integer");
}

static void test_limits_must_be_at_least_one(_unused_ void **state)
{
        assert_invalid(&model_source_schema,
                       "{\"name\": \"vc01\", \"type\": \"vmware\", \"properties\": {\"endpoint\": \"https://vc\", "
                       "\"username\": \"a\", \"import_limit\": 0}}",
                       NULL, "Field 'properties.import_limit' must be between 1 and 1000000");
}

static void test_choices_list_the_allowed_values(_unused_ void **state)
{
        assert_invalid(&model_source_schema,
                       "{\"name\": \"vc01\", \"type\": \"hyperv\", \"properties\": {\"endpoint\": \"https://vc\", "
                       "\"username\": \"a\"}}",
                       NULL, "Field 'type' must be one of 'vmware', not 'hyperv'");
}

static void test_names_follow_the_incus_rules(_unused_ void **state)
{
        assert_true(model_name_is_valid("vc01"));
        assert_true(model_name_is_valid("a.b-c_d"));
        assert_true(model_name_is_valid("9lives"));
        assert_false(model_name_is_valid(""));
        assert_false(model_name_is_valid("-x"));
        assert_false(model_name_is_valid("a/b"));
        assert_false(model_name_is_valid("a b"));
        assert_false(model_name_is_valid("0123456789012345678901234567890123456789012345678901234567890123"));
        assert_invalid(&model_batch_schema, "{\"name\": \"wave 1\", \"include_expression\": \"true\"}", NULL,
                       "Field 'name' must be 1 to 63 letters, digits, '-', '_' or '.', starting with a letter or "
                       "digit, not 'wave 1'");
}

static void test_urls_need_a_scheme_and_a_host(_unused_ void **state)
{
        assert_invalid(&model_source_schema,
                       "{\"name\": \"vc01\", \"type\": \"vmware\", \"properties\": {\"endpoint\": \"vc.example.org\", "
                       "\"username\": \"a\"}}",
                       NULL, "Field 'properties.endpoint' must be an https:// or http:// URL, not 'vc.example.org'");
        assert_invalid(&model_source_schema,
                       "{\"name\": \"vc01\", \"type\": \"vmware\", \"properties\": {\"endpoint\": \"https:///sdk\", "
                       "\"username\": \"a\"}}",
                       NULL, "Field 'properties.endpoint' has no host name: 'https:///sdk'");
}

static void test_target_endpoint_may_be_a_unix_socket(_unused_ void **state)
{
        _cleanup_json_ json_t *t = valid(&model_target_schema,
                                         "{\"name\": \"local\", \"type\": \"incus\", \"properties\": {\"endpoint\": "
                                         "\"unix:///var/lib/incus/unix.socket\"}}",
                                         NULL);

        assert_string_equal(json_string_value(json_object_get(json_object_get(t, "properties"), "connection_timeout")),
                            "30s");
        assert_invalid(&model_target_schema,
                       "{\"name\": \"x\", \"type\": \"incus\", \"properties\": {\"endpoint\": \"http://incus:8443\"}}",
                       NULL, "Field 'properties.endpoint' must be an https:// URL or a unix:// socket, not 'http://incus:8443'");
        assert_invalid(&model_target_schema,
                       "{\"name\": \"x\", \"type\": \"incus\", \"properties\": {\"endpoint\": \"https://i\", "
                       "\"connection_timeout\": \"soon\"}}",
                       NULL, "Field 'properties.connection_timeout' must be a duration like '30s', '10m' or '1h30m', not 'soon'");
}

static void test_fingerprints_are_stored_normalized(_unused_ void **state)
{
        _cleanup_json_ json_t *s = valid(
                &model_source_schema,
                "{\"name\": \"vc01\", \"type\": \"vmware\", \"properties\": {\"endpoint\": \"https://vc\", "
                "\"username\": \"a\", \"trusted_server_certificate_fingerprint\": "
                "\"AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\"}}",
                NULL);

        assert_string_equal(
                json_string_value(json_object_get(json_object_get(s, "properties"),
                                                  "trusted_server_certificate_fingerprint")),
                "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
        assert_invalid(&model_source_schema,
                       "{\"name\": \"vc01\", \"type\": \"vmware\", \"properties\": {\"endpoint\": \"https://vc\", "
                       "\"username\": \"a\", \"trusted_server_certificate_fingerprint\": \"abc\"}}",
                       NULL,
                       "Field 'properties.trusted_server_certificate_fingerprint' must be a SHA-256 fingerprint (64 hex "
                       "digits, colons allowed)");
}

static void test_read_only_fields_in_a_body_are_ignored(_unused_ void **state)
{
        _cleanup_json_ json_t *created = NULL, *updated = NULL;

        created = valid(&model_source_schema,
                        "{\"name\": \"vc01\", \"type\": \"vmware\", \"properties\": {\"endpoint\": \"https://vc\", "
                        "\"username\": \"a\", \"connectivity_status\": \"OK\"}, \"created_at\": \"yesterday\"}",
                        NULL);
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(created, "properties"), "connectivity_status")),
                "Unknown");
        assert_null(json_object_get(created, "created_at"));

        json_object_set_new(json_object_get(created, "properties"), "connectivity_status", json_string("OK"));
        updated = valid(&model_source_schema,
                        "{\"name\": \"vc01\", \"type\": \"vmware\", \"properties\": {\"endpoint\": \"https://vc2\", "
                        "\"username\": \"a\", \"connectivity_status\": \"TLS error\"}}",
                        created);
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(updated, "properties"), "connectivity_status")),
                "OK");
}

static void test_write_only_fields_are_kept_when_absent_and_never_shown(_unused_ void **state)
{
        _cleanup_json_ json_t *created = valid(&model_source_schema, SOURCE, NULL), *updated = NULL, *shown = NULL,
                              *cleared = NULL;
        _cleanup_free_ char *text = NULL;

        updated = valid(&model_source_schema,
                        "{\"name\": \"vc01\", \"type\": \"vmware\", \"properties\": {\"endpoint\": \"https://vc\", "
                        "\"username\": \"b\"}}",
                        created);
        assert_string_equal(json_string_value(json_object_get(json_object_get(updated, "properties"), "password")),
                            "s3cret");

        shown = model_public(&model_source_schema, updated);
        text = json_dumps(shown, 0);
        assert_null(strstr(text, "s3cret"));
        assert_null(json_object_get(json_object_get(shown, "properties"), "password"));

        cleared = valid(&model_source_schema,
                        "{\"name\": \"vc01\", \"type\": \"vmware\", \"properties\": {\"endpoint\": \"https://vc\", "
                        "\"username\": \"b\", \"password\": \"\"}}",
                        created);
        assert_string_equal(json_string_value(json_object_get(json_object_get(cleared, "properties"), "password")), "");
}

static void test_immutable_fields_cannot_change(_unused_ void **state)
{
        _cleanup_json_ json_t *created = valid(&model_source_schema, SOURCE, NULL), *same = NULL;

        assert_invalid(&model_source_schema,
                       "{\"name\": \"vc02\", \"type\": \"vmware\", \"properties\": {\"endpoint\": \"https://vc\", "
                       "\"username\": \"a\"}}",
                       created, "Field 'name' cannot be changed");
        same = valid(&model_source_schema,
                     "{\"type\": \"vmware\", \"properties\": {\"endpoint\": \"https://vc\", \"username\": \"a\"}}",
                     created);
        assert_string_equal(json_string_value(json_object_get(same, "name")), "vc01");
}

static void test_datastore_access_needs_mounts(_unused_ void **state)
{
        assert_invalid(&model_source_schema,
                       "{\"name\": \"vc01\", \"type\": \"vmware\", \"properties\": {\"endpoint\": \"https://vc\", "
                       "\"username\": \"a\", \"disk_access\": {\"mode\": \"datastore\"}}}",
                       NULL,
                       "Field 'properties.disk_access.datastore_mounts' must map at least one datastore to a mount "
                       "point when the mode is 'datastore'");
        assert_invalid(&model_source_schema,
                       "{\"name\": \"vc01\", \"type\": \"vmware\", \"properties\": {\"endpoint\": \"https://vc\", "
                       "\"username\": \"a\", \"disk_access\": {\"mode\": \"datastore\", \"datastore_mounts\": "
                       "{\"ds1\": \"mnt\"}}}}",
                       NULL, "Field 'properties.disk_access.datastore_mounts.ds1' must be an absolute path, not 'mnt'");
}

#define WINDOW(start, end, extra) \
        "{\"name\": \"b1\", \"include_expression\": \"true\", \"migration_windows\": [{\"name\": \"w1\", " \
        "\"start\": \"" start "\", \"end\": \"" end "\"" extra "}]}"

static void test_windows_must_end_after_they_start(_unused_ void **state)
{
        _cleanup_json_ json_t *b = valid(&model_batch_schema, WINDOW("2026-11-28T22:00:00Z", "2026-11-29T04:00:00Z", ""),
                                         NULL);

        assert_string_equal(json_string_value(json_object_get(b, "status")), "Defined");
        assert_invalid(&model_batch_schema, WINDOW("2026-11-28T22:00:00Z", "2026-11-28T22:00:00Z", ""), NULL,
                       "Field 'migration_windows[0].end' must be after its start");
        assert_invalid(&model_batch_schema, WINDOW("2026-11-28T22:00:00Z", "tomorrow", ""), NULL,
                       "Field 'migration_windows[0].end' must be an RFC 3339 time like '2026-11-28T22:00:00Z', not "
                       "'tomorrow'");
        assert_invalid(&model_batch_schema,
                       WINDOW("2026-11-28T22:00:00Z", "2026-11-29T04:00:00Z", ", \"lockout\": \"2026-11-29T05:00:00Z\""),
                       NULL, "Field 'migration_windows[0].lockout' must be between the window's start and end");
        assert_invalid(&model_batch_schema,
                       WINDOW("2026-11-28T22:00:00Z", "2026-11-29T04:00:00Z", ", \"capacity\": 0"), NULL,
                       "Field 'migration_windows[0].capacity' must be between 1 and 1000000");
}

static void test_window_and_constraint_names_are_unique(_unused_ void **state)
{
        assert_invalid(&model_batch_schema,
                       "{\"name\": \"b1\", \"include_expression\": \"true\", \"constraints\": ["
                       "{\"name\": \"c\", \"include_expression\": \"true\"},"
                       "{\"name\": \"c\", \"include_expression\": \"cpus > 2\"}]}",
                       NULL, "Field 'constraints[1].name' repeats the name 'c'");
        assert_invalid(&model_batch_schema,
                       "{\"name\": \"b1\", \"include_expression\": \"true\", \"constraints\": ["
                       "{\"name\": \"c\", \"include_expression\": \"true\", \"max_concurrent_instances\": 0}]}",
                       NULL, "Field 'constraints[0].max_concurrent_instances' must be between 1 and 1000000");
}

static void test_batch_status_is_read_only(_unused_ void **state)
{
        _cleanup_json_ json_t *b = valid(&model_batch_schema,
                                         "{\"name\": \"b1\", \"include_expression\": \"true\", \"status\": \"Running\"}",
                                         NULL);

        assert_string_equal(json_string_value(json_object_get(b, "status")), "Defined");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "config"), "post_migration_retries")), 3);
        assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(b, "defaults"),
                                                                              "placement"),
                                                              "target_project")),
                            "default");
}

static void test_empty_expression_is_refused(_unused_ void **state)
{
        assert_invalid(&model_batch_schema, "{\"name\": \"b1\", \"include_expression\": \"\"}", NULL,
                       "Field 'include_expression' must not be empty");
}

static void test_network_mappings_check_vlans_and_keys(_unused_ void **state)
{
        _cleanup_json_ json_t *n = valid(&model_network_schema,
                                         "{\"uuid\": \"ignored\", \"mappings\": {\"*\": {\"network\": \"br0\"}, "
                                         "\"incus1\": {\"network\": \"uplink\", \"nictype\": \"physical\", "
                                         "\"vlan\": \"10,20\"}}}",
                                         NULL);

        assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(n, "mappings"), "*"),
                                                              "nictype")),
                            "managed");
        assert_invalid(&model_network_schema, "{\"mappings\": {\"*\": {\"network\": \"br0\", \"vlan\": \"4095\"}}}",
                       NULL,
                       "Field 'mappings.*.vlan' must be a VLAN id from 1 to 4094 or a comma-separated list of them, "
                       "not '4095'");
        assert_invalid(&model_network_schema, "{\"mappings\": {\"*\": {\"network\": \"br0\", \"vlan\": \"10,\"}}}",
                       NULL,
                       "Field 'mappings.*.vlan' must be a VLAN id from 1 to 4094 or a comma-separated list of them, "
                       "not '10,'");
        assert_invalid(&model_network_schema, "{\"mappings\": {\"a b\": {\"network\": \"br0\"}}}", NULL,
                       "Field 'mappings' has a key 'a b' that is neither a target name nor '*'");
        assert_invalid(&model_network_schema, "{\"mappings\": {\"*\": {\"network\": \"br0\", \"nictype\": \"sriov\"}}}",
                       NULL,
                       "Field 'mappings.*.nictype' must be one of 'managed', 'bridged', 'macvlan', 'physical', not "
                       "'sriov'");
}

static void test_overrides_win_over_synced_values(_unused_ void **state)
{
        _cleanup_json_ json_t *instance = parse(
                "{\"uuid\": \"u1\", \"os\": \"\", \"cpus\": 2, \"config\": {\"tag.env\": \"dev\", \"a\": \"1\"}, "
                "\"overrides\": {\"os\": \"Windows Server 2019\", \"config\": {\"tag.env\": \"prod\"}, "
                "\"disable_migration\": true}}");
        _cleanup_json_ json_t *e = model_instance_effective(instance);

        assert_string_equal(json_string_value(json_object_get(e, "os")), "Windows Server 2019");
        assert_int_equal(json_integer_value(json_object_get(e, "cpus")), 2);
        assert_string_equal(json_string_value(json_object_get(json_object_get(e, "config"), "tag.env")), "prod");
        assert_string_equal(json_string_value(json_object_get(json_object_get(e, "config"), "a")), "1");
        assert_null(json_object_get(e, "disable_migration"));
}

static void test_override_schema_refuses_synced_only_fields(_unused_ void **state)
{
        assert_invalid(&model_instance_override_schema, "{\"uuid\": \"x\"}", NULL, "Unknown field 'uuid'");
        assert_invalid(&model_instance_override_schema, "{\"cpus\": 0}", NULL, "Field 'cpus' must be between 1 and 4096");
}

static void test_merge_patch_follows_rfc_7396(_unused_ void **state)
{
        _cleanup_json_ json_t *target = parse("{\"a\": \"b\", \"c\": {\"d\": \"e\", \"f\": \"g\"}}");
        _cleanup_json_ json_t *patch = parse("{\"a\": \"z\", \"c\": {\"f\": null}}");
        _cleanup_json_ json_t *expected = parse("{\"a\": \"z\", \"c\": {\"d\": \"e\"}}");
        _cleanup_json_ json_t *merged = model_merge_patch(target, patch);

        assert_true(json_equal(merged, expected));
}

static void test_etag_ignores_key_order_and_changes_with_values(_unused_ void **state)
{
        _cleanup_json_ json_t *a = parse("{\"x\": 1, \"y\": 2}"), *b = parse("{\"y\": 2, \"x\": 1}"),
                              *c = parse("{\"x\": 1, \"y\": 3}");
        char ea[MODEL_ETAG_SIZE], eb[MODEL_ETAG_SIZE], ec[MODEL_ETAG_SIZE];

        assert_int_equal(model_etag(a, ea), 0);
        assert_int_equal(model_etag(b, eb), 0);
        assert_int_equal(model_etag(c, ec), 0);
        assert_int_equal(strlen(ea), 64);
        assert_string_equal(ea, eb);
        assert_string_not_equal(ea, ec);
}

static void test_body_must_be_an_object(_unused_ void **state)
{
        _cleanup_json_ json_t *body = parse("[1]"), *out = NULL;
        struct ferry_error err = {};

        assert_int_equal(model_validate(&model_batch_schema, body, NULL, &out, &err), -EINVAL);
        assert_string_equal(ferry_error_message(&err), "The request body must be a JSON object");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_source_gets_its_defaults),
                cmocka_unit_test(test_unknown_field_is_named_with_its_path),
                cmocka_unit_test(test_missing_required_field_is_named),
                cmocka_unit_test(test_wrong_type_is_named),
                cmocka_unit_test(test_limits_must_be_at_least_one),
                cmocka_unit_test(test_choices_list_the_allowed_values),
                cmocka_unit_test(test_names_follow_the_incus_rules),
                cmocka_unit_test(test_urls_need_a_scheme_and_a_host),
                cmocka_unit_test(test_target_endpoint_may_be_a_unix_socket),
                cmocka_unit_test(test_fingerprints_are_stored_normalized),
                cmocka_unit_test(test_read_only_fields_in_a_body_are_ignored),
                cmocka_unit_test(test_write_only_fields_are_kept_when_absent_and_never_shown),
                cmocka_unit_test(test_immutable_fields_cannot_change),
                cmocka_unit_test(test_datastore_access_needs_mounts),
                cmocka_unit_test(test_windows_must_end_after_they_start),
                cmocka_unit_test(test_window_and_constraint_names_are_unique),
                cmocka_unit_test(test_batch_status_is_read_only),
                cmocka_unit_test(test_empty_expression_is_refused),
                cmocka_unit_test(test_network_mappings_check_vlans_and_keys),
                cmocka_unit_test(test_overrides_win_over_synced_values),
                cmocka_unit_test(test_override_schema_refuses_synced_only_fields),
                cmocka_unit_test(test_merge_patch_follows_rfc_7396),
                cmocka_unit_test(test_etag_ignores_key_order_and_changes_with_values),
                cmocka_unit_test(test_body_must_be_an_object),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
