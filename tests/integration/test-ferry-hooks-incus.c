/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Automation across the two daemons: an instance created with the incus
 * CLI on the lab's incusd reaches ferryd through the target's event
 * stream, runs a hook, and what the hook does shows in ferry's API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "ferryd-fixture.h"
#include "lab.h"
#include "proc.h"

#define INSTANCE "ferry-hook-test"

static char *ferry_ok(struct ferryd_fixture *f, char *const *args)
{
        char *argv[32] = { (char *) FERRY_PATH, (char *) "--socket", f->socket_path };
        size_t n = 3;

        for (; *args; args++) {
                assert_true(n < ELEMENTSOF(argv) - 1);
                argv[n++] = *args;
        }
        return proc_run_stdout(0, argv);
}

static void incus_cli(int status, char *const *args)
{
        _cleanup_free_ char *env = strjoin("INCUS_DIR=", lab_env("LAB_INCUS_DIR"), NULL);
        char *argv[16] = { (char *) "/usr/bin/env", env, (char *) "incus" };
        _cleanup_free_ char *out = NULL;
        size_t n = 3;

        for (size_t i = 0; args[i]; i++)
                argv[n++] = args[i];
        argv[n] = NULL;
        out = proc_run_stdout(status, argv);
}

/* The first warning message that contains needle, or NULL. */
static char *find_warning(struct ferryd_fixture *f, const char *needle)
{
        _cleanup_free_ char *out = ferry_ok(f, (char *const[]) { (char *) "warning", (char *) "list", (char *) "-f",
                                                                 (char *) "json", NULL });
        _cleanup_json_ json_t *list = json_loads(out, 0, NULL);
        const json_t *w, *m;
        size_t i, j;

        json_array_foreach(list, i, w)
                json_array_foreach(json_object_get(w, "messages"), j, m)
                        if (strstr(json_string_value(m), needle))
                                return strdup(json_string_value(m));
        return NULL;
}

static void test_an_incus_instance_created_with_the_cli_runs_a_hook(void **state)
{
        struct ferryd_fixture *f = *state;
        _cleanup_free_ char *hook = NULL, *out = NULL, *socket = NULL, *found = NULL;
        FILE *fp;

        ferryd_fixture_start(f);
        assert_non_null(socket = strjoin("unix://", lab_env("LAB_INCUS_SOCKET"), NULL));
        out = ferry_ok(f, (char *const[]) { (char *) "target", (char *) "add", (char *) "lab", socket,
                                            (char *) "--wait", NULL });

        assert_non_null(hook = strjoin(f->dir, "/announce.lua", NULL));
        assert_non_null(fp = fopen(hook, "w"));
        fputs("function on_event(event)\n"
              "  if event.target == 'lab' then\n"
              "    ferry.warn('Incus ' .. event.action .. ' ' .. event.source .. ' in project ' .. event.project)\n"
              "  end\n"
              "end\n",
              fp);
        assert_int_equal(fclose(fp), 0);
        free(out);
        out = ferry_ok(f, (char *const[]) { (char *) "hook", (char *) "add", (char *) "announce", hook,
                                            (char *) "--events", (char *) "instance-created", NULL });

        incus_cli(0, (char *const[]) { (char *) "create", (char *) "--empty", (char *) INSTANCE, NULL });

        for (int waited = 0; !(found = find_warning(f, INSTANCE)) && waited < 5000; waited += 100)
                usleep(100 * 1000);
        incus_cli(0, (char *const[]) { (char *) "delete", (char *) INSTANCE, NULL });

        if (!found)
                fail_msg("No hook warning about '%s' within 5 s", INSTANCE);
        print_message("hook: %s\n", found);
        assert_true(startswith(found, "Incus instance-created /1.0/instances/" INSTANCE));
        assert_non_null(strstr(found, "in project default"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_an_incus_instance_created_with_the_cli_runs_a_hook,
                                                ferryd_fixture_setup, ferryd_fixture_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
