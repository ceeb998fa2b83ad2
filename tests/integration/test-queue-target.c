/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/daemon/queue-target.c against the lab's incusd: the "Creating" step
 * of a queue entry reaches Incus, whose refusal of VMs on this machine
 * comes back with nothing left behind; names taken by someone else are
 * refused; removal deletes only what carries ferry's mark, and again is
 * fine; missing and unreachable targets say so.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "daemon/queue-control.h"
#include "daemon/queue-target.h"
#include "db/batch.h"
#include "db/queue.h"
#include "daemon/targets.h"
#include "db/instance.h"
#include "db/network.h"
#include "db/source.h"
#include "db/target.h"
#include "lab.h"
#include "proc.h"
#include "seed.h"
#include "target/incus/instance.h"
#include "target/incus/volume.h"

#ifndef FERRY_PROFILES_DIR
#error "FERRY_PROFILES_DIR must name incus-profiles/ of the source tree"
#endif

#define UUID "4a3c5e0e-0000-4000-8000-0000000000c1"
#define VM_NAME "qt-web01"
#define VOLUME VM_NAME "-disk1"
#define MAPPED_PROJECT "qt-mapped"

struct fixture {
        char dir[64];
        struct db *db;
        struct incus_client *incus;
        struct target_identity id;
        json_t *entry;
};

static json_t *from(const char *text)
{
        json_error_t e;
        json_t *v = json_loads(text, 0, &e);

        if (!v)
                fail_msg("Bad JSON in test: %s", e.text);
        return v;
}

#define OK(call)                                                  \
        do {                                                      \
                struct ferry_error err_ = {};                     \
                if ((call) < 0)                                   \
                        fail_msg("%s: %s", #call, err_.message);  \
        } while (0)

static void seed(struct fixture *f)
{
        _cleanup_free_ char *target_text = NULL, *path = NULL;
        _cleanup_json_ json_t *source = from(SEED_SOURCE_BODY), *target = NULL, *instance = NULL, *network = NULL,
                              *mappings = NULL, *dead = NULL;

        assert_non_null(path = strjoin(f->dir, "/ferry.db", NULL));
        OK(db_open(path, &f->db, &err_));
        OK(db_source_create(f->db, source, &err_));

        target_text = strjoin("{\"name\": \"lab\", \"type\": \"incus\", \"properties\": {\"endpoint\": \"unix://",
                              lab_env("LAB_INCUS_SOCKET"), "\"}}", NULL);
        target = from(target_text);
        OK(db_target_create(f->db, target, &err_));
        dead = from("{\"name\": \"dead\", \"type\": \"incus\", \"properties\": "
                    "{\"endpoint\": \"unix:///nonexistent/incus/unix.socket\"}}");
        OK(db_target_create(f->db, dead, &err_));

        network = from("{\"uuid\": \"net-1\", \"source\": \"vc01\", \"location\": \"/dc1/network/lan-100\", "
                       "\"name\": \"lan-100\", \"type\": \"standard\", \"vlan\": \"\"}");
        OK(db_network_put(f->db, network, &err_));
        mappings = json_pack("{s:{s:s, s:s, s:s, s:s, s:b}}", "lab", "network", lab_env("LAB_INCUS_BRIDGE"), "nictype",
                             "managed", "vlan", "", "project", MAPPED_PROJECT, "create", 1);
        OK(db_network_set_mappings(f->db, "net-1", mappings, &err_));

        instance = from("{\"uuid\": \"" UUID "\", \"source\": \"vc01\", \"location\": \"/dc1/vm/web/web01\", "
                        "\"name\": \"qt web01\", \"cpus\": 1, \"memory\": 536870912, \"architecture\": \"x86_64\", "
                        "\"os\": \"ubuntu\", \"os_version\": \"22.04\", \"secure_boot\": false, "
                        "\"legacy_boot\": false, \"tpm\": false, \"config\": {}, "
                        "\"disks\": [{\"name\": \"disk0\", \"capacity\": 1073741824, \"shared\": false, "
                        "             \"supported\": true},"
                        "            {\"name\": \"disk1\", \"capacity\": 67108864, \"shared\": false, "
                        "             \"supported\": true}], "
                        "\"nics\": [{\"hardware_address\": \"00:50:56:01:00:01\", \"network\": \"net-1\"}]}");
        OK(db_instance_put(f->db, instance, &err_));
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        _cleanup_free_ char *endpoint = strjoin("unix://", lab_env("LAB_INCUS_SOCKET"), NULL);
        _cleanup_free_ char *entry = NULL;
        struct ferry_error err = {};

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/ferry-qtarget-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        seed(f);
        f->incus = incus_client_new(&(struct incus_client_config) { .endpoint = endpoint }, &err);
        if (!f->incus)
                fail_msg("%s", err.message);
        entry = strjoin("{\"instance_uuid\": \"" UUID "\", \"batch\": \"wave1\", \"status\": \"Creating\", "
                        "\"placement\": {\"target\": \"lab\", \"target_project\": \"",
                        lab_env("LAB_INCUS_PROJECT"), "\", \"member\": \"\", \"storage_pool\": \"",
                        lab_env("LAB_INCUS_POOL"), "\", \"profiles\": [\"default\"], \"disks\": [], "
                        "\"nics\": [{\"hardware_address\": \"00:50:56:01:00:01\", \"source_network\": \"lan-100\", "
                        "\"network\": \"", lab_env("LAB_INCUS_BRIDGE"), "\", \"nictype\": \"managed\", "
                        "\"vlan\": \"\"}], \"config\": {\"user.owner\": \"team-web\"}}}",
                        NULL);
        f->entry = from(entry);
        *state = f;
        return 0;
}

static void delete_quietly(struct fixture *f)
{
        const char *project = lab_env("LAB_INCUS_PROJECT");
        struct ferry_error ignored = {};

        (void) incus_instance_delete(f->incus, project, VM_NAME, &ignored);
        (void) incus_volume_delete(f->incus, project, lab_env("LAB_INCUS_POOL"), VOLUME, &ignored);
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char *rm[] = { (char *) "/bin/rm", (char *) "-rf", f->dir, NULL };

        delete_quietly(f);
        incus_client_free(f->incus);
        db_close(f->db);
        json_decref(f->entry);
        free(proc_run_stdout(0, rm));
        free(f);
        return 0;
}

static bool instance_exists(struct fixture *f)
{
        _cleanup_json_ json_t *v = NULL;
        struct ferry_error err = {};
        int r = incus_instance_get(f->incus, lab_env("LAB_INCUS_PROJECT"), VM_NAME, &v, NULL, &err);

        if (r < 0 && r != -ENOENT)
                fail_msg("%s", err.message);
        return r >= 0;
}

static bool volume_exists(struct fixture *f)
{
        _cleanup_json_ json_t *v = NULL;
        struct ferry_error err = {};
        int r = incus_volume_get(f->incus, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"), VOLUME, &v, &err);

        if (r < 0 && r != -ENOENT)
                fail_msg("%s", err.message);
        return r >= 0;
}

/* An empty container under the VM's name, marked as ferry's for UUID or not. */
static void make_container(struct fixture *f, bool marked)
{
        _cleanup_json_ json_t *body = json_pack("{s:s, s:s, s:{s:s}, s:{}}", "name", VM_NAME, "type", "container",
                                                "source", "type", "none", "config");

        if (marked)
                json_object_set_new(json_object_get(body, "config"), QUEUE_TARGET_MARK_KEY, json_string(UUID));
        OK(incus_call_wait(f->incus,
                           &(struct incus_request) { .method = "POST", .path = "/1.0/instances",
                                                     .project = lab_env("LAB_INCUS_PROJECT"), .body = body },
                           60, NULL, NULL, &err_));
}

static void make_volume(struct fixture *f, bool marked)
{
        _cleanup_json_ json_t *config = json_pack("{s:s}", QUEUE_TARGET_MARK_KEY, UUID);

        OK(incus_volume_create_block_config(f->incus, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"), VOLUME,
                                            1 << 20, marked ? config : NULL, &err_));
}

static json_t *record(void)
{
        _cleanup_free_ char *text = strjoin("{\"target\": \"lab\", \"project\": \"", lab_env("LAB_INCUS_PROJECT"),
                                            "\", \"instance\": \"" VM_NAME "\", \"volumes\": [{\"pool\": \"",
                                            lab_env("LAB_INCUS_POOL"), "\", \"name\": \"" VOLUME "\"}]}", NULL);

        return from(text);
}

static void test_vm_refusal_comes_back_and_nothing_is_left(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *created = NULL, *profile = NULL, *project = NULL;
        struct ferry_error err = {};
        int r;

        r = queue_target_create(f->db, &f->id, FERRY_PROFILES_DIR, f->entry, NULL, &created, &err);
        assert_true(r < 0);
        assert_null(created);
        assert_true(startswith(err.message, "Target 'lab': Cannot create instance '" VM_NAME "': "));
        assert_non_null(strstr(err.message, "Instance type \"virtual-machine\" is not supported"));
        /* The second disk's volume was made first, and is gone again. */
        assert_false(instance_exists(f));
        assert_false(volume_exists(f));

        /* What is shared stays: ferry's profiles, the mapping's project. */
        OK(incus_get(f->incus, "/1.0/profiles/ferry-vm", lab_env("LAB_INCUS_PROJECT"), &profile, &err_));
        OK(incus_get(f->incus, "/1.0/projects/" MAPPED_PROJECT, NULL, &project, &err_));
        OK(incus_call_wait(f->incus, &(struct incus_request) { .method = "DELETE", .path = "/1.0/projects/" MAPPED_PROJECT },
                           60, NULL, NULL, &err_));
}

static void test_vm_refusal_with_a_worker_leaves_nothing_either(void **state)
{
        struct fixture *f = *state;
        const struct queue_worker_settings worker = { .endpoint = "https://127.0.0.1:8443", .fingerprint = "ab12",
                                                      .token = "s3cret" };
        _cleanup_json_ json_t *created = NULL;
        struct ferry_error err = {};

        assert_true(queue_target_create(f->db, &f->id, NULL, f->entry, &worker, &created, &err) < 0);
        assert_non_null(strstr(err.message, "Instance type \"virtual-machine\" is not supported"));
        assert_false(instance_exists(f));
        assert_false(volume_exists(f));
}

static void test_an_instance_that_is_not_ferrys_is_refused(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *created = NULL;
        struct ferry_error err = {};

        make_container(f, false);
        assert_int_equal(queue_target_create(f->db, &f->id, NULL, f->entry, NULL, &created, &err), -EEXIST);
        assert_string_equal(err.message,
                            "Instance '" VM_NAME "' already exists in project 'lab' of target 'lab' and ferry did not "
                            "make it for instance '" UUID "': delete or rename it in Incus, or set overrides.name of "
                            "instance '" UUID "'");
        /* Left alone, and nothing made for the entry. */
        assert_true(instance_exists(f));
        assert_false(volume_exists(f));
}

static void test_a_volume_that_is_not_ferrys_is_refused(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *created = NULL;
        struct ferry_error err = {};

        make_volume(f, false);
        assert_int_equal(queue_target_create(f->db, &f->id, NULL, f->entry, NULL, &created, &err), -EEXIST);
        assert_string_equal(err.message,
                            "Volume '" VOLUME "' already exists in pool 'default' of project 'lab' on target 'lab' and "
                            "ferry did not make it for instance '" UUID "': delete or rename it in Incus, or set "
                            "overrides.name of instance '" UUID "'");
        assert_true(volume_exists(f));
        assert_false(instance_exists(f));
}

static void test_what_an_earlier_attempt_left_is_replaced(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *created = NULL;
        struct ferry_error err = {};

        make_container(f, true);
        make_volume(f, true);
        assert_true(queue_target_create(f->db, &f->id, NULL, f->entry, NULL, &created, &err) < 0);
        assert_non_null(strstr(err.message, "Instance type \"virtual-machine\" is not supported"));
        assert_false(instance_exists(f));
        assert_false(volume_exists(f));
}

static void test_remove_deletes_what_is_recorded_and_again_is_fine(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *created = record();
        struct ferry_error err = {};

        make_container(f, true);
        make_volume(f, true);
        assert_int_equal(queue_target_remove(f->db, &f->id, f->entry, created, &err), 2);
        assert_false(instance_exists(f));
        assert_false(volume_exists(f));
        assert_int_equal(queue_target_remove(f->db, &f->id, f->entry, created, &err), 0);
}

static void test_remove_without_a_record_removes_what_create_makes(void **state)
{
        struct fixture *f = *state;
        struct ferry_error err = {};

        make_volume(f, true);
        assert_int_equal(queue_target_remove(f->db, &f->id, f->entry, NULL, &err), 1);
        assert_false(volume_exists(f));
}

static void test_remove_leaves_what_is_not_ferrys(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *created = record();
        struct ferry_error err = {};

        make_container(f, false);
        make_volume(f, false);
        assert_int_equal(queue_target_remove(f->db, &f->id, f->entry, created, &err), 0);
        assert_true(instance_exists(f));
        assert_true(volume_exists(f));
}

static void test_a_missing_target_is_named(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *created = NULL;
        struct ferry_error err = {};

        json_object_set_new(json_object_get(f->entry, "placement"), "target", json_string("nowhere"));
        assert_int_equal(queue_target_create(f->db, &f->id, NULL, f->entry, NULL, &created, &err), -ENOENT);
        assert_string_equal(err.message, "Target 'nowhere' not found");
        assert_int_equal(queue_target_remove(f->db, &f->id, f->entry, NULL, &err), -ENOENT);
        assert_string_equal(err.message, "Target 'nowhere' not found");
}

static void test_an_unreachable_target_says_so(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *created = NULL;
        struct ferry_error err = {};

        json_object_set_new(json_object_get(f->entry, "placement"), "target", json_string("dead"));
        assert_true(queue_target_create(f->db, &f->id, NULL, f->entry, NULL, &created, &err) < 0);
        if (!startswith(err.message, "Cannot reach target 'dead' (unix:///nonexistent/incus/unix.socket): "))
                fail_msg("%s", err.message);
        assert_true(queue_target_remove(f->db, &f->id, f->entry, NULL, &err) < 0);
        if (!startswith(err.message, "Cannot reach target 'dead' (unix:///nonexistent/incus/unix.socket): "))
                fail_msg("%s", err.message);
}

/* Store the entry, with what it created, as an Error entry of a Stopped batch wave1. */
static void store_failed_entry(struct fixture *f)
{
        _cleanup_json_ json_t *batch = from("{\"name\": \"wave1\", \"include_expression\": \"true\", "
                                            "\"status\": \"Stopped\"}");

        OK(db_batch_create(f->db, batch, &err_));
        json_object_set_new(f->entry, "status", json_string("Error"));
        json_object_set_new(f->entry, "name", json_string("qt web01"));
        json_object_set_new(f->entry, "created", record());
        OK(db_queue_create(f->db, f->entry, &err_));
}

static void test_cancel_removes_what_the_entry_created(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *events = json_array(), *entry = NULL, *stored = NULL;
        struct queue_control qc = { .db = f->db, .identity = &f->id, .events = events };
        struct ferry_error err = {};

        make_container(f, true);
        make_volume(f, true);
        store_failed_entry(f);
        if (queue_control_cancel(&qc, UUID, &entry, &err) < 0)
                fail_msg("%s", err.message);
        assert_false(instance_exists(f));
        assert_false(volume_exists(f));
        OK(db_queue_get(f->db, UUID, &stored, &err_));
        assert_string_equal(json_string_value(json_object_get(stored, "status")), "Canceled");
        assert_null(json_object_get(stored, "created"));
        assert_string_equal(json_string_value(json_object_get(json_array_get(events, 0), "action")), "queue-canceled");
}

static void test_reset_removes_what_entries_created_and_keeps_what_is_not_ferrys(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *events = json_array(), *result = NULL, *entries = NULL;
        struct queue_control qc = { .db = f->db, .identity = &f->id, .events = events };
        struct ferry_error err = {};

        make_container(f, false);
        make_volume(f, true);
        store_failed_entry(f);
        if (queue_control_batch_reset(&qc, "wave1", &result, &err) < 0)
                fail_msg("%s", err.message);
        assert_int_equal(json_integer_value(json_object_get(result, "removed")), 1);
        assert_true(instance_exists(f));
        assert_false(volume_exists(f));
        OK(db_queue_list(f->db, "wave1", &entries, &err_));
        assert_int_equal(json_array_size(entries), 0);
}

static void test_cancel_keeps_the_entry_when_the_target_cannot_be_reached(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *events = json_array(), *entry = NULL, *stored = NULL;
        struct queue_control qc = { .db = f->db, .identity = &f->id, .events = events };
        struct ferry_error err = {};

        json_object_set_new(json_object_get(f->entry, "placement"), "target", json_string("dead"));
        store_failed_entry(f);
        json_object_set_new(json_object_get(f->entry, "created"), "target", json_string("dead"));
        OK(db_queue_update(f->db, UUID, f->entry, &err_));
        assert_true(queue_control_cancel(&qc, UUID, &entry, &err) < 0);
        if (!startswith(err.message, "Cannot remove what ferry created for 'qt web01': Cannot reach target 'dead'"))
                fail_msg("%s", err.message);
        OK(db_queue_get(f->db, UUID, &stored, &err_));
        assert_string_equal(json_string_value(json_object_get(stored, "status")), "Error");
        assert_non_null(json_object_get(stored, "created"));
        assert_int_equal(json_array_size(events), 0);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                TEST(test_vm_refusal_comes_back_and_nothing_is_left),
                TEST(test_vm_refusal_with_a_worker_leaves_nothing_either),
                TEST(test_an_instance_that_is_not_ferrys_is_refused),
                TEST(test_a_volume_that_is_not_ferrys_is_refused),
                TEST(test_what_an_earlier_attempt_left_is_replaced),
                TEST(test_remove_deletes_what_is_recorded_and_again_is_fine),
                TEST(test_remove_without_a_record_removes_what_create_makes),
                TEST(test_remove_leaves_what_is_not_ferrys),
                TEST(test_a_missing_target_is_named),
                TEST(test_an_unreachable_target_says_so),
                TEST(test_cancel_removes_what_the_entry_created),
                TEST(test_reset_removes_what_entries_created_and_keeps_what_is_not_ferrys),
                TEST(test_cancel_keeps_the_entry_when_the_target_cannot_be_reached),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
