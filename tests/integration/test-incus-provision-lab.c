/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry's profiles, and the projects and bridges network mappings ask
 * for, set up in the lab's incusd and kept current.
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
#include "lab.h"
#include "proc.h"
#include "target/incus/provision.h"

#ifndef FERRY_PROFILES_DIR
#error "FERRY_PROFILES_DIR must name incus-profiles/ of the source tree"
#endif

static struct incus_client *unix_client(void)
{
        _cleanup_free_ char *endpoint = strjoin("unix://", lab_env("LAB_INCUS_SOCKET"), NULL);
        struct ferry_error err = {};
        struct incus_client *c;

        assert_non_null(endpoint);
        c = incus_client_new(&(struct incus_client_config) { .endpoint = endpoint }, &err);
        if (!c)
                fail_msg("%s", err.message);
        return c;
}

static int setup(void **state)
{
        *state = unix_client();
        return 0;
}

static int teardown(void **state)
{
        incus_client_free(*state);
        return 0;
}

/* `incus ARGS...` in the lab, status as expected. */
static void incus_v(int status, const char *const *args)
{
        _cleanup_free_ char *env = strjoin("INCUS_DIR=", lab_env("LAB_INCUS_DIR"), NULL);
        char *argv[16] = { (char *) "/usr/bin/env", env, (char *) "incus" };
        size_t n = 3;

        assert_non_null(env);
        for (; *args; args++) {
                assert_true(n < ELEMENTSOF(argv) - 1);
                argv[n++] = (char *) *args;
        }
        free(proc_run_stdout(status, argv));
}

#define ARGS(...) ((const char *const[]) { __VA_ARGS__, NULL })
#define incus(...) incus_v(0, ARGS(__VA_ARGS__))

static json_t *get(struct incus_client *c, const char *path, const char *project)
{
        struct ferry_error err = {};
        json_t *v = NULL;

        if (incus_get(c, path, project, &v, &err) < 0)
                fail_msg("GET %s: %s", path, err.message);
        return v;
}

static const char *config_of(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(json_object_get(obj, "config"), key));
}

static json_t *shipped_profiles(void)
{
        struct ferry_error err = {};
        json_t *profiles = NULL;

        if (incus_profiles_load(FERRY_PROFILES_DIR, &profiles, &err) < 0)
                fail_msg("%s", err.message);
        return profiles;
}

static void test_profiles_are_created_then_left_alone_then_put_back(void **state)
{
        struct incus_client *c = *state;
        _cleanup_json_ json_t *profiles = shipped_profiles(), *vm = NULL, *worker = NULL, *again = NULL;
        const char *project = lab_env("LAB_INCUS_PROJECT");
        struct ferry_error err = {};
        int r;

        r = incus_profiles_ensure(c, project, profiles, &err);
        if (r < 0)
                fail_msg("%s", err.message);
        assert_int_equal(r, INCUS_ENSURE_UPDATED);
        vm = get(c, "/1.0/profiles/ferry-vm", project);
        worker = get(c, "/1.0/profiles/ferry-worker", project);
        assert_string_equal(config_of(vm, "boot.autostart"), "false");
        assert_string_equal(json_string_value(json_object_get(vm, "description")),
                            "ferry: defaults for virtual machines migrated by ferry");
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(json_object_get(vm, "devices"), "agent"), "source")),
                "agent:config");
        assert_string_equal(config_of(worker, "security.secureboot"), "false");

        /* Current: nothing to do. */
        assert_int_equal(incus_profiles_ensure(c, project, profiles, &err), INCUS_ENSURE_UNCHANGED);
        assert_int_equal(incus_profile_ensure(c, project, "ferry-vm", json_object_get(profiles, "ferry-vm"), &err),
                         INCUS_ENSURE_UNCHANGED);

        /* Changed behind ferry's back: put back as the file says. */
        incus("profile", "set", "ferry-vm", "boot.autostart=true", "--project", project);
        incus("profile", "device", "remove", "ferry-vm", "agent", "--project", project);
        r = incus_profile_ensure(c, project, "ferry-vm", json_object_get(profiles, "ferry-vm"), &err);
        if (r < 0)
                fail_msg("%s", err.message);
        assert_int_equal(r, INCUS_ENSURE_UPDATED);
        again = get(c, "/1.0/profiles/ferry-vm", project);
        assert_string_equal(config_of(again, "boot.autostart"), "false");
        assert_non_null(json_object_get(json_object_get(again, "devices"), "agent"));

        incus("profile", "delete", "ferry-vm", "--project", project);
        incus("profile", "delete", "ferry-worker", "--project", project);
}

static void test_a_profile_incus_refuses_carries_its_message(void **state)
{
        struct incus_client *c = *state;
        _cleanup_json_ json_t *bad = json_pack("{s:s, s:{s:s}, s:{}}", "description", "", "config", "limits.cpu",
                                               "many", "devices");
        struct ferry_error err = {};

        assert_non_null(bad);
        assert_true(incus_profile_ensure(c, lab_env("LAB_INCUS_PROJECT"), "ferry-bad", bad, &err) < 0);
        assert_string_equal(err.message, "Cannot create profile 'ferry-bad': Invalid CPU limit syntax");
}

static void test_mapping_creates_its_project_and_bridge_once(void **state)
{
        struct incus_client *c = *state;
        _cleanup_json_ json_t *mapping = json_pack("{s:s, s:s, s:s, s:s, s:b}", "network", "ferrypb0", "nictype",
                                                   "managed", "vlan", "", "project", "ferry-prov", "create", 1);
        _cleanup_json_ json_t *config = json_pack("{s:s, s:s}", "ipv4.address", "none", "ipv6.address", "none");
        _cleanup_json_ json_t *project = NULL, *network = NULL;
        struct ferry_error err = {};
        int r;

        assert_non_null(mapping);
        assert_non_null(config);
        r = incus_network_mapping_ensure(c, mapping, config, &err);
        if (r < 0)
                fail_msg("%s", err.message);
        assert_int_equal(r, INCUS_ENSURE_CREATED);
        project = get(c, "/1.0/projects/ferry-prov", NULL);
        assert_string_equal(json_string_value(json_object_get(project, "description")),
                            "Created by ferry for a network mapping");
        network = get(c, "/1.0/networks/ferrypb0", "ferry-prov");
        assert_string_equal(json_string_value(json_object_get(network, "type")), "bridge");
        assert_string_equal(config_of(network, "ipv4.address"), "none");
        assert_string_equal(config_of(network, "ipv6.address"), "none");

        assert_int_equal(incus_network_mapping_ensure(c, mapping, config, &err), INCUS_ENSURE_UNCHANGED);

        incus("network", "delete", "ferrypb0", "--project", "ferry-prov");
        incus("project", "delete", "ferry-prov");
}

static void test_mapping_without_create_changes_nothing(void **state)
{
        struct incus_client *c = *state;
        _cleanup_json_ json_t *mapping = json_pack("{s:s, s:s, s:s}", "network", "ferrypb1", "nictype", "managed",
                                                   "project", "ferry-prov-none");
        struct ferry_error err = {};
        json_t *v = NULL;

        assert_int_equal(incus_network_mapping_ensure(c, mapping, NULL, &err), INCUS_ENSURE_UNCHANGED);
        assert_int_equal(incus_get(c, "/1.0/projects/ferry-prov-none", NULL, &v, &err), -ENOENT);
}

static void test_a_network_that_is_no_bridge_is_not_taken_for_one(void **state)
{
        struct incus_client *c = *state;
        struct ferry_error err = {};

        assert_int_equal(incus_bridge_ensure(c, NULL, "lo", NULL, &err), -EEXIST);
        assert_string_equal(err.message, "Network 'lo' exists and is a 'loopback' network, not a bridge");
}

static void test_existing_project_and_bridge_are_left_alone(void **state)
{
        struct incus_client *c = *state;
        struct ferry_error err = {};

        assert_int_equal(incus_project_ensure(c, lab_env("LAB_INCUS_PROJECT"), NULL, &err), INCUS_ENSURE_UNCHANGED);
        assert_int_equal(incus_bridge_ensure(c, NULL, lab_env("LAB_INCUS_BRIDGE"), NULL, &err), INCUS_ENSURE_UNCHANGED);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(test_profiles_are_created_then_left_alone_then_put_back),
                T(test_a_profile_incus_refuses_carries_its_message),
                T(test_mapping_creates_its_project_and_bridge_once),
                T(test_mapping_without_create_changes_nothing),
                T(test_a_network_that_is_no_bridge_is_not_taken_for_one),
                T(test_existing_project_and_bridge_are_left_alone),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
