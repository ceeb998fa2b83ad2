/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Incus's event stream keeps an inventory current: objects made with the
 * incus CLI show up within 2 s, and the inventory is read only on
 * connection and on events that change it (no polling).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/strbuf.h"
#include "lab.h"
#include "proc.h"
#include "target/incus/events.h"
#include "target/incus/inventory.h"

struct keeper {
        char *endpoint;
        atomic_bool stop;
        pthread_mutex_t lock;
        json_t *inventory;              /* the latest */
        atomic_int reads;               /* inventory reads */
        atomic_int events;              /* events seen */
        atomic_int connections;
        pthread_t thread;
        int result;
};

static void keeper_read(struct keeper *k)
{
        _cleanup_incus_client_ struct incus_client *c = NULL;
        struct ferry_error err = {};
        json_t *inv = NULL;

        c = incus_client_new(&(struct incus_client_config) { .endpoint = k->endpoint }, &err);
        if (!c || incus_inventory_read(c, &inv, &err) < 0)
                return;
        pthread_mutex_lock(&k->lock);
        json_decref(k->inventory);
        k->inventory = inv;
        k->reads++;
        pthread_mutex_unlock(&k->lock);
}

static int on_connected(bool first, void *userdata)
{
        struct keeper *k = userdata;

        (void) first;
        k->connections++;
        keeper_read(k);
        return 0;
}

static int on_event(const json_t *event, void *userdata)
{
        struct keeper *k = userdata;

        k->events++;
        if (incus_event_affects_inventory(event))
                keeper_read(k);
        return 0;
}

static void *keeper_main(void *userdata)
{
        struct keeper *k = userdata;
        struct ferry_error err = {};

        k->result = incus_events_follow(&(struct incus_client_config) { .endpoint = k->endpoint },
                                        &(struct incus_events_callbacks) { .event = on_event,
                                                                           .connected = on_connected,
                                                                           .userdata = k },
                                        &k->stop, 5, &err);
        return NULL;
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool inventory_has(struct keeper *k, const char *list, const char *name)
{
        bool found = false;
        json_t *e;
        size_t i;

        pthread_mutex_lock(&k->lock);
        json_array_foreach(json_object_get(k->inventory, list), i, e)
                found = found || streq_ptr(json_string_value(json_object_get(e, "name")), name);
        pthread_mutex_unlock(&k->lock);
        return found;
}

/* Wait up to ms for name in list; the time it took, or -1. */
static int64_t wait_for(struct keeper *k, const char *list, const char *name, int ms)
{
        int64_t start = now_ms();

        while (now_ms() - start < ms) {
                struct timespec ts = { .tv_nsec = 20 * 1000000 };

                if (inventory_has(k, list, name))
                        return now_ms() - start;
                nanosleep(&ts, NULL);
        }
        return -1;
}

static void incus_cli(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5)
{
        _cleanup_free_ char *env = strjoin("INCUS_DIR=", lab_env("LAB_INCUS_DIR"), NULL);
        _cleanup_free_ char *out = NULL;

        assert_non_null(env);
        out = proc_run_stdout(0, (char *const[]) { "/usr/bin/env", env, "incus", (char *) a1, (char *) a2, (char *) a3,
                                                   (char *) a4, (char *) a5, NULL });
}

static void test_cli_changes_reach_the_inventory_within_two_seconds_without_polling(void **state)
{
        struct keeper k = { .lock = PTHREAD_MUTEX_INITIALIZER };
        int64_t t;
        int reads_before;

        (void) state;
        assert_non_null(k.endpoint = strjoin("unix://", lab_env("LAB_INCUS_SOCKET"), NULL));
        assert_int_equal(pthread_create(&k.thread, NULL, keeper_main, &k), 0);

        /* Connected and read once. */
        assert_true(wait_for(&k, "projects", "default", 5000) >= 0);

        /* Quiet for a while: no reads without events. */
        reads_before = k.reads;
        {
                struct timespec ts = { .tv_sec = 1, .tv_nsec = 500 * 1000000 };
                nanosleep(&ts, NULL);
        }
        assert_int_equal(k.reads, reads_before);

        incus_cli("project", "create", "ferry-ev", NULL, NULL);
        t = wait_for(&k, "projects", "ferry-ev", 2000);
        assert_true(t >= 0);

        incus_cli("profile", "create", "ferry-ev-profile", NULL, NULL);
        assert_true(wait_for(&k, "profiles", "ferry-ev-profile", 2000) >= 0);

        incus_cli("network", "create", "ferryev0", "ipv4.address=none", "ipv6.address=none");
        assert_true(wait_for(&k, "networks", "ferryev0", 2000) >= 0);

        incus_cli("network", "delete", "ferryev0", NULL, NULL);
        incus_cli("profile", "delete", "ferry-ev-profile", NULL, NULL);
        incus_cli("project", "delete", "ferry-ev", NULL, NULL);

        atomic_store(&k.stop, true);
        assert_int_equal(pthread_join(k.thread, NULL), 0);
        assert_int_equal(k.result, 0);
        assert_int_equal(k.connections, 1);
        /* One read on connection, then only on events. */
        assert_true(k.reads <= 1 + k.events);
        json_decref(k.inventory);
        free(k.endpoint);
}

static void test_lifecycle_events_are_sorted_by_what_they_touch(void **state)
{
        _cleanup_json_ json_t *project = NULL, *instance = NULL, *operation = NULL;

        (void) state;
        project = json_pack("{s:s, s:{s:s}}", "type", "lifecycle", "metadata", "action", "project-created");
        instance = json_pack("{s:s, s:{s:s}}", "type", "lifecycle", "metadata", "action", "instance-started");
        operation = json_pack("{s:s, s:{s:s}}", "type", "operation", "metadata", "action", "network-created");
        assert_true(incus_event_affects_inventory(project));
        assert_false(incus_event_affects_inventory(instance));
        assert_false(incus_event_affects_inventory(operation));
}

static void test_stop_ends_the_retries_against_a_missing_server(void **state)
{
        struct keeper k = { .lock = PTHREAD_MUTEX_INITIALIZER };
        int64_t start;

        (void) state;
        assert_non_null(k.endpoint = strdup("unix:///nonexistent/incus.socket"));
        assert_int_equal(pthread_create(&k.thread, NULL, keeper_main, &k), 0);
        {
                struct timespec ts = { .tv_nsec = 300 * 1000000 };
                nanosleep(&ts, NULL);
        }
        start = now_ms();
        atomic_store(&k.stop, true);
        assert_int_equal(pthread_join(k.thread, NULL), 0);
        assert_true(now_ms() - start < 1500);
        assert_int_equal(k.connections, 0);
        free(k.endpoint);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cli_changes_reach_the_inventory_within_two_seconds_without_polling),
                cmocka_unit_test(test_lifecycle_events_are_sorted_by_what_they_touch),
                cmocka_unit_test(test_stop_ends_the_retries_against_a_missing_server),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
