/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The filter expressions of the documentation select exactly the right VMs
 * of the lab's vSphere inventory (tests/lab/vcsim/model.json), read from
 * the simulator over SOAP and vAPI into instance JSON (vcsim-inventory.h).
 * The expected sets come from the model file: which VMs sit in a Win2016 or
 * CentOS folder, have one disk, run Windows with 4 CPUs or more, carry
 * which tags.
 */
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
#include "expr/expr.h"
#include "lab.h"
#include "vcsim-inventory.h"

/* What the admin named the simulator when adding it as a source. */
#define SOURCE_NAME "esxi01"

static json_t *instances;

static int setup(void **state)
{
        (void) state;
        instances = vcsim_instances(SOURCE_NAME);
        return instances ? 0 : -1;
}

static int teardown(void **state)
{
        (void) state;
        json_decref(instances);
        instances = NULL;
        return 0;
}

static int compare_strings(const void *a, const void *b)
{
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The names of the instances text selects, sorted and comma-separated. */
static char *select_names(const char *text)
{
        _cleanup_expr_ struct expr *e = NULL;
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct ferry_error err = {};
        const char *names[64];
        size_t n = 0, i;
        json_t *instance;

        if (expr_compile(text, EXPR_SCHEMA_INSTANCE, &e, &err) < 0)
                fail_msg("%s: %s", text, err.message);
        json_array_foreach(instances, i, instance) {
                bool match;

                if (expr_match(e, instance, &match, &err) < 0)
                        fail_msg("%s on '%s': %s", text, json_string_value(json_object_get(instance, "name")),
                                 err.message);
                if (match) {
                        assert_true(n < ELEMENTSOF(names));
                        names[n++] = json_string_value(json_object_get(instance, "name"));
                }
        }
        qsort(names, n, sizeof(names[0]), compare_strings);
        for (i = 0; i < n; i++)
                assert_int_equal(strbuf_appendf(&sb, "%s%s", i ? "," : "", names[i]), 0);
        return strbuf_steal(&sb);
}

static void assert_selects(const char *text, const char *expected)
{
        _cleanup_free_ char *names = select_names(text);

        if (!streq(names, expected))
                fail_msg("%s\n  selects '%s'\n  expected '%s'", text, names, expected);
}

static void test_every_simulator_vm_becomes_an_instance(_unused_ void **state)
{
        assert_int_equal(json_array_size(instances), lab_env_u64("LAB_VCSIM_VM_COUNT"));
        assert_selects("true",
                       "appliance-blackbox,centos-stream9-db,centos7-web,centos8-app,debian12-db,legacy-unknown,"
                       "rhel9-api,ubuntu2204-cache,ubuntu2404,win2016-dc,win2016-sql,win2022-app");
}

static void test_location_and_disk_count_select_the_single_disk_vms_of_two_folders(_unused_ void **state)
{
        assert_selects("(location matches 'Win2016' or location matches 'CentOS') and len(disks) == 1",
                       "centos8-app,win2016-dc");
        assert_selects("location matches 'Win2016' or location matches 'CentOS'",
                       "centos-stream9-db,centos8-app,win2016-dc,win2016-sql");
}

static void test_os_prefix_and_cpus_select_the_big_windows_vms(_unused_ void **state)
{
        assert_selects("hasPrefix(os, 'Windows') and cpus >= 4", "win2016-sql,win2022-app");
        assert_selects("hasPrefix(os, 'Windows')", "win2016-dc,win2016-sql,win2022-app");
}

static void test_disk_capacity_predicates_see_every_disk(_unused_ void **state)
{
        /* The lab's disks hold real data, so they are 16-128 MiB: none reaches 100 GiB. */
        assert_selects("len(filter(disks, .capacity > 100 * 1024 * 1024 * 1024)) > 0", "");
        assert_selects("len(filter(disks, .capacity > 100 * 1024 * 1024)) > 0", "debian12-db");
        assert_selects("any(disks, not .supported)", "rhel9-api,win2016-sql");
        assert_selects("len(disks) > 2", "debian12-db,win2016-sql");
}

static void test_tags_are_config_keys(_unused_ void **state)
{
        assert_selects("config['tag.env'] == 'prod'", "debian12-db,ubuntu2404,win2016-dc,win2016-sql");
        assert_selects("config['tag.team'] == 'data,dba'", "debian12-db");
        assert_selects("has_tag('team', 'dba')", "centos-stream9-db,debian12-db,win2016-sql");
        assert_selects("has_tag('*', 'web')", "centos8-app,ubuntu2204-cache,ubuntu2404");
        assert_selects("matches_tag('env', '^(staging|dev)$')",
                       "centos-stream9-db,centos8-app,ubuntu2204-cache,win2022-app");
        assert_selects("'tag.env' not in config", "appliance-blackbox,centos7-web,legacy-unknown,rhel9-api");
}

static void test_path_base_and_source_select_one_vm(_unused_ void **state)
{
        assert_selects("path_base(location) == 'ubuntu2404' and source == 'esxi01'", "ubuntu2404");
        assert_selects("path_base(location) == 'ubuntu2404' and source == 'vc01'", "");
        assert_selects("path_dir(location) == '/dc-west/vm/Linux'", "rhel9-api,ubuntu2204-cache");
}

static void test_power_and_firmware_fields(_unused_ void **state)
{
        assert_selects("not running", "centos-stream9-db,legacy-unknown,ubuntu2204-cache,win2016-dc");
        assert_selects("tpm", "win2022-app");
        assert_selects("secure_boot and not legacy_boot", "ubuntu2404,win2016-sql,win2022-app");
        assert_selects("not background_import", "legacy-unknown,ubuntu2204-cache,win2016-dc");
        assert_selects("memory >= 8 * 1024 * 1024 * 1024", "debian12-db,win2016-sql,win2022-app");
}

static void test_a_bare_word_filters_by_location(_unused_ void **state)
{
        _cleanup_free_ char *text = NULL, *names = NULL;

        assert_int_equal(expr_from_filter_argument("Win2016", &text), 0);
        names = select_names(text);
        assert_string_equal(names, "win2016-dc,win2016-sql");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_simulator_vm_becomes_an_instance),
                cmocka_unit_test(test_location_and_disk_count_select_the_single_disk_vms_of_two_folders),
                cmocka_unit_test(test_os_prefix_and_cpus_select_the_big_windows_vms),
                cmocka_unit_test(test_disk_capacity_predicates_see_every_disk),
                cmocka_unit_test(test_tags_are_config_keys),
                cmocka_unit_test(test_path_base_and_source_select_one_vm),
                cmocka_unit_test(test_power_and_firmware_fields),
                cmocka_unit_test(test_a_bare_word_filters_by_location),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
