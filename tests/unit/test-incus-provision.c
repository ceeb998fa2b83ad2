/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Profiles from YAML (src/target/incus/provision.c), without Incus: the
 * files ferry ships, and what a bad file is told.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "target/incus/provision.h"

#ifndef FERRY_PROFILES_DIR
#error "FERRY_PROFILES_DIR must name incus-profiles/ of the source tree"
#endif

static json_t *parse_ok(const char *name, const char *yaml)
{
        struct ferry_error err = {};
        json_t *p = NULL;

        if (incus_profile_parse(name, yaml, strlen(yaml), &p, &err) < 0)
                fail_msg("%s", err.message);
        return p;
}

static void assert_parse_error(const char *name, const char *yaml, const char *message)
{
        struct ferry_error err = {};
        json_t *p = NULL;

        assert_int_equal(incus_profile_parse(name, yaml, strlen(yaml), &p, &err), -EINVAL);
        assert_null(p);
        assert_string_equal(err.message, message);
}

static void test_shipped_profiles_load_by_file_name(void **state)
{
        _cleanup_json_ json_t *profiles = NULL;
        struct ferry_error err = {};
        const json_t *vm, *worker;

        (void) state;
        if (incus_profiles_load(FERRY_PROFILES_DIR, &profiles, &err) < 0)
                fail_msg("%s", err.message);
        assert_int_equal(json_object_size(profiles), 2);
        vm = json_object_get(profiles, "ferry-vm");
        worker = json_object_get(profiles, "ferry-worker");
        assert_non_null(vm);
        assert_non_null(worker);
        assert_string_equal(json_string_value(json_object_get(json_object_get(vm, "config"), "boot.autostart")), "false");
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(json_object_get(vm, "devices"), "agent"), "source")),
                "agent:config");
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(worker, "config"), "security.secureboot")), "false");
        assert_int_equal(json_object_size(json_object_get(worker, "devices")), 0);
}

static void test_plain_numbers_and_booleans_become_their_text(void **state)
{
        _cleanup_json_ json_t *p = parse_ok("p", "config:\n  limits.cpu: 2\n  boot.autostart: true\n"
                                                 "devices:\n  d:\n    type: disk\n    readonly: false\n");

        (void) state;
        assert_string_equal(json_string_value(json_object_get(json_object_get(p, "config"), "limits.cpu")), "2");
        assert_string_equal(json_string_value(json_object_get(json_object_get(p, "config"), "boot.autostart")), "true");
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(json_object_get(p, "devices"), "d"), "readonly")),
                "false");
        assert_string_equal(json_string_value(json_object_get(p, "description")), "");
}

static void test_empty_profile_is_empty_maps(void **state)
{
        _cleanup_json_ json_t *p = parse_ok("p", "");

        (void) state;
        assert_int_equal(json_object_size(json_object_get(p, "config")), 0);
        assert_int_equal(json_object_size(json_object_get(p, "devices")), 0);
}

static void test_bad_profiles_say_what_is_wrong(void **state)
{
        (void) state;
        assert_parse_error("p", "colour: red\n", "Profile 'p': unknown field 'colour'");
        assert_parse_error("p", "name: q\n", "Profile 'p': its name field says 'q'");
        assert_parse_error("p", "- a\n", "Profile 'p': not a map");
        assert_parse_error("p", "config:\n  limits.cpu: [1, 2]\n", "Profile 'p': config key 'limits.cpu' is not a string");
        assert_parse_error("p", "config: 3\n", "Profile 'p': config must be a map");
        assert_parse_error("p", "devices:\n  d:\n    path: /\n", "Profile 'p': device 'd' has no type");
        assert_parse_error("p", "devices:\n  d:\n    type: disk\n    x: {}\n",
                           "Profile 'p': device 'd' key 'x' is not a string");
        assert_parse_error("p", "description: [a]\n", "Profile 'p': description is not a string");
        assert_parse_error("p", "config: {\n", "Profile 'p': Invalid YAML at line 2, column 1: did not find expected node content");
}

static void test_a_bad_file_fails_the_load_and_is_named(void **state)
{
        char dir[] = "/tmp/ferry-profiles-XXXXXX", path[64];
        _cleanup_json_ json_t *profiles = NULL;
        struct ferry_error err = {};
        FILE *f;

        (void) state;
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/broken.yaml", dir);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs("colour: red\n", f);
        fclose(f);

        assert_int_equal(incus_profiles_load(dir, &profiles, &err), -EINVAL);
        assert_true(startswith(err.message, "'/tmp/ferry-profiles-"));
        assert_true(endswith(err.message, "/broken.yaml': Profile 'broken': unknown field 'colour'"));
        unlink(path);
        rmdir(dir);
}

static void test_a_missing_directory_is_an_error(void **state)
{
        _cleanup_json_ json_t *profiles = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(incus_profiles_load("/nonexistent/profiles", &profiles, &err), -ENOENT);
        assert_string_equal(err.message,
                            "Cannot open the profile directory '/nonexistent/profiles': No such file or directory");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shipped_profiles_load_by_file_name),
                cmocka_unit_test(test_plain_numbers_and_booleans_become_their_text),
                cmocka_unit_test(test_empty_profile_is_empty_maps),
                cmocka_unit_test(test_bad_profiles_say_what_is_wrong),
                cmocka_unit_test(test_a_bad_file_fails_the_load_and_is_named),
                cmocka_unit_test(test_a_missing_directory_is_an_error),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
