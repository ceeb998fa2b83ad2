/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/daemon/queue-target.c without a target: the Incus name of a source
 * VM, and the VM spec built from an instance and its placement, one rule
 * per test and every refusal's message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "daemon/queue-target.h"

#define UUID "4a3c5e0e-0000-4000-8000-000000000001"

static json_t *from(const char *text)
{
        json_error_t e;
        json_t *v = json_loads(text, 0, &e);

        if (!v)
                fail_msg("Bad JSON in test: %s: %s", e.text, text);
        return v;
}

/* --- names ------------------------------------------------------------------------------ */

static void test_names_are_made_valid_for_incus(void **state)
{
        static const struct {
                const char *vm, *want;
        } rows[] = {
                { "web01", "web01" },
                { "Web 01_prod", "Web-01-prod" },
                { "db.example.com", "db-example-com" },
                { "a  --  b", "a-b" },
                { "  leading spaces", "leading-spaces" },
                { "trailing!!", "trailing" },
                { "01-web", "web" },
                { "-_-x", "x" },
                { "Serveur-é", "Serveur" },
                { "Zürich 2", "Z-rich-2" },
                { "web(1)", "web-1" },
                { "A", "A" },
                /* 70 characters are cut to 63. */
                { "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqr",
                  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk" },
                /* A cut that ends on a separator drops it. */
                { "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghij klmno",
                  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghij" },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_json_ json_t *inst = json_pack("{s:s, s:s, s:{}}", "uuid", UUID, "name", rows[i].vm,
                                                        "overrides");
                char name[QUEUE_TARGET_NAME_MAX + 1];
                struct ferry_error err = {};

                if (queue_target_instance_name(inst, name, &err) < 0)
                        fail_msg("'%s': %s", rows[i].vm, err.message);
                if (!streq(name, rows[i].want))
                        fail_msg("'%s' became '%s', not '%s'", rows[i].vm, name, rows[i].want);
                assert_true(queue_target_name_is_valid(name));
        }
}

static void test_names_with_nothing_valid_left_are_refused(void **state)
{
        static const char *const rows[] = { "", "123", "___", "éàü", "42-17", "-" };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_json_ json_t *inst = json_pack("{s:s, s:s}", "uuid", UUID, "name", rows[i]);
                _cleanup_free_ char *want = NULL;
                char name[QUEUE_TARGET_NAME_MAX + 1];
                struct ferry_error err = {};

                assert_int_equal(queue_target_instance_name(inst, name, &err), -EINVAL);
                want = strjoin("Instance '", *rows[i] ? rows[i] : UUID,
                               "' has no name Incus can take: set overrides.name", NULL);
                assert_string_equal(err.message, want);
        }
}

static void test_overrides_name_wins_as_given(void **state)
{
        _cleanup_json_ json_t *inst = json_pack("{s:s, s:s, s:{s:s}}", "uuid", UUID, "name", "Web 01",
                                                "overrides", "name", "web-new");
        char name[QUEUE_TARGET_NAME_MAX + 1];
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(queue_target_instance_name(inst, name, &err), 0);
        assert_string_equal(name, "web-new");
}

static void test_overrides_name_incus_refuses_is_refused(void **state)
{
        static const char *const rows[] = { "web_01", "01web", "web-", "web.example" };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_json_ json_t *inst = json_pack("{s:s, s:s, s:{s:s}}", "uuid", UUID, "name", "web01",
                                                        "overrides", "name", rows[i]);
                _cleanup_free_ char *want = NULL;
                char name[QUEUE_TARGET_NAME_MAX + 1];
                struct ferry_error err = {};

                assert_int_equal(queue_target_instance_name(inst, name, &err), -EINVAL);
                want = strjoin("Instance '" UUID "': overrides.name '", rows[i],
                               "' is not a name Incus can take (1 to 63 letters, digits and '-', starting with a "
                               "letter, not ending with '-')",
                               NULL);
                assert_string_equal(err.message, want);
        }
}

static void test_name_validity_follows_incus_rules(void **state)
{
        static const struct {
                const char *name;
                bool valid;
        } rows[] = {
                { "web01", true },     { "a", true },       { "a-b-c", true }, { "A1", true },
                { "", false },         { "1a", false },     { "-a", false },   { "a-", false },
                { "a_b", false },      { "a.b", false },    { "a b", false },  { "é", false },
                { "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk", true },
                { "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl", false },
        };

        (void) state;
        assert_false(queue_target_name_is_valid(NULL));
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                if (queue_target_name_is_valid(rows[i].name) != rows[i].valid)
                        fail_msg("'%s' should be %s", rows[i].name, rows[i].valid ? "valid" : "invalid");
}

/* --- the spec --------------------------------------------------------------------------- */

#define INSTANCE                                                                                                  \
        "{\"uuid\": \"" UUID "\", \"name\": \"web01\", \"description\": \"The web server\", \"cpus\": 2, "       \
        "\"memory\": 4294967296, \"architecture\": \"x86_64\", \"os\": \"ubuntu\", \"os_version\": \"22.04\", " \
        "\"secure_boot\": true, \"legacy_boot\": false, \"tpm\": true, "                                          \
        "\"disks\": [{\"name\": \"Hard disk 1\", \"capacity\": 17179869184, \"shared\": false, \"supported\": true}," \
        "            {\"name\": \"Hard disk 2\", \"capacity\": 1073741824, \"shared\": false, \"supported\": true}], " \
        "\"nics\": [{\"hardware_address\": \"00:50:56:01:00:01\", \"network\": \"net-1\"}], \"overrides\": {}}"

#define PLACEMENT                                                                                               \
        "{\"target\": \"incus1\", \"target_project\": \"lab\", \"member\": \"\", \"storage_pool\": \"default\", " \
        "\"profiles\": [\"default\", \"web\"], "                                                                \
        "\"disks\": [{\"name\": \"Hard disk 1\", \"pool\": \"default\"}, {\"name\": \"Hard disk 2\", \"pool\": \"fast\"}], " \
        "\"nics\": [{\"hardware_address\": \"00:50:56:01:00:01\", \"source_network\": \"lan-100\", "             \
        "\"network\": \"labbr0\", \"nictype\": \"managed\", \"vlan\": \"\"}], "                                  \
        "\"config\": {\"user.owner\": \"team-web\"}}"

struct spec_test {
        json_t *instance, *placement;
        struct queue_vm_spec spec;
};

static int spec_setup(void **state)
{
        struct spec_test *t = calloc(1, sizeof(*t));

        assert_non_null(t);
        t->instance = from(INSTANCE);
        t->placement = from(PLACEMENT);
        *state = t;
        return 0;
}

static int spec_teardown(void **state)
{
        struct spec_test *t = *state;

        queue_vm_spec_done(&t->spec);
        json_decref(t->instance);
        json_decref(t->placement);
        free(t);
        return 0;
}

static const struct queue_vm_spec *build_ok(struct spec_test *t, const struct queue_worker_settings *worker)
{
        struct ferry_error err = {};

        queue_vm_spec_done(&t->spec);
        if (queue_vm_spec_build(t->instance, t->placement, worker, &t->spec, &err) < 0)
                fail_msg("%s", err.message);
        return &t->spec;
}

static void assert_build_refused(struct spec_test *t, const char *message)
{
        struct queue_vm_spec spec = { .name = "untouched" };
        struct ferry_error err = {};

        assert_int_equal(queue_vm_spec_build(t->instance, t->placement, NULL, &spec, &err), -EINVAL);
        assert_string_equal(err.message, message);
        /* ret is written only on success. */
        assert_string_equal(spec.name, "untouched");
}

static json_t *disk_at(struct spec_test *t, size_t i)
{
        return json_array_get(json_object_get(t->instance, "disks"), i);
}

static json_t *payload_of(const struct queue_vm_spec *spec)
{
        struct ferry_error err = {};
        json_t *v = NULL;

        if (incus_vm_payload(&spec->vm, &v, &err) < 0)
                fail_msg("%s", err.message);
        return v;
}

static void test_spec_name_and_place_come_from_instance_and_placement(void **state)
{
        struct spec_test *t = *state;
        const struct queue_vm_spec *s = build_ok(t, NULL);

        assert_string_equal(s->vm.name, "web01");
        assert_string_equal(s->project, "lab");
        assert_null(s->member);
        json_object_set_new(t->placement, "member", json_string("node2"));
        s = build_ok(t, NULL);
        assert_string_equal(s->member, "node2");
}

static void test_spec_root_disk_is_the_first_disk_in_its_placed_pool(void **state)
{
        struct spec_test *t = *state;
        const struct queue_vm_spec *s = build_ok(t, NULL);

        assert_string_equal(s->vm.pool, "default");
        assert_int_equal(s->vm.root_size, UINT64_C(17179869184));
        /* A disk the placement does not list gets the placement's pool. */
        json_array_clear(json_object_get(t->placement, "disks"));
        json_object_set_new(t->placement, "storage_pool", json_string("slow"));
        s = build_ok(t, NULL);
        assert_string_equal(s->vm.pool, "slow");
        assert_string_equal(s->vm.disks[0].pool, "slow");
}

static void test_spec_other_disks_are_custom_volumes_named_after_the_instance(void **state)
{
        struct spec_test *t = *state;
        const struct queue_vm_spec *s = build_ok(t, NULL);

        assert_int_equal(s->vm.n_disks, 1);
        assert_string_equal(s->vm.disks[0].name, "hard-disk-2");
        assert_string_equal(s->vm.disks[0].volume, "web01-hard-disk-2");
        assert_string_equal(s->vm.disks[0].pool, "fast");
        assert_int_equal(s->vm.disks[0].size, UINT64_C(1073741824));
}

static void test_spec_disk_slugs_stay_unique_and_clear_of_ferry_devices(void **state)
{
        static const struct {
                const char *second, *third, *want2, *want3;
        } rows[] = {
                { "disk1", "disk2", "disk1", "disk2" },
                { "Disk 1", "disk-1", "disk-1", "disk-1-2" },
                { "root", "eth0", "root-1", "eth0-2" },
                { "agent", "ferry-worker", "agent-1", "ferry-worker-2" },
                { "___", "éé", "disk1", "disk2" },
        };
        struct spec_test *t = *state;

        json_array_append_new(json_object_get(t->instance, "disks"),
                              json_pack("{s:s, s:I, s:b, s:b}", "name", "third", "capacity", (json_int_t) 1 << 20,
                                        "shared", 0, "supported", 1));
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                const struct queue_vm_spec *s;

                json_object_set_new(disk_at(t, 1), "name", json_string(rows[i].second));
                json_object_set_new(disk_at(t, 2), "name", json_string(rows[i].third));
                s = build_ok(t, NULL);
                assert_int_equal(s->vm.n_disks, 2);
                assert_string_equal(s->vm.disks[0].name, rows[i].want2);
                assert_string_equal(s->vm.disks[1].name, rows[i].want3);
        }
}

static void test_spec_nics_keep_type_network_vlan_and_mac(void **state)
{
        static const struct {
                const char *nictype, *vlan;
                enum incus_nictype want;
        } rows[] = {
                { "managed", "", INCUS_NICTYPE_MANAGED },
                { "bridged", "10,20", INCUS_NICTYPE_BRIDGED },
                { "macvlan", "100", INCUS_NICTYPE_MACVLAN },
                { "physical", "", INCUS_NICTYPE_PHYSICAL },
                { "", "", INCUS_NICTYPE_MANAGED },
        };
        struct spec_test *t = *state;
        json_t *nic = json_array_get(json_object_get(t->placement, "nics"), 0);

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                const struct queue_vm_spec *s;

                json_object_set_new(nic, "nictype", json_string(rows[i].nictype));
                json_object_set_new(nic, "vlan", json_string(rows[i].vlan));
                json_object_set_new(nic, "network", json_string("br-lan"));
                s = build_ok(t, NULL);
                assert_int_equal(s->vm.n_nics, 1);
                assert_int_equal(s->vm.nics[0].nictype, rows[i].want);
                assert_string_equal(s->vm.nics[0].network, "br-lan");
                assert_string_equal(s->vm.nics[0].vlan, rows[i].vlan);
                assert_string_equal(s->vm.nics[0].hwaddr, "00:50:56:01:00:01");
        }
}

static void test_spec_hardware_comes_from_the_effective_instance(void **state)
{
        struct spec_test *t = *state;
        const struct queue_vm_spec *s;

        json_object_set_new(t->instance, "overrides", json_pack("{s:i, s:I, s:s}", "cpus", 4, "memory",
                                                                (json_int_t) 2 << 30, "os_version", "24.04"));
        s = build_ok(t, NULL);
        assert_int_equal(s->vm.cpus, 4);
        assert_int_equal(s->vm.memory, UINT64_C(2) << 30);
        assert_string_equal(s->vm.os, "ubuntu");
        assert_string_equal(s->vm.os_release, "24.04");
        assert_string_equal(s->vm.architecture, "x86_64");
        assert_string_equal(s->vm.description, "The web server");
        assert_true(s->vm.secure_boot);
        assert_false(s->vm.legacy_boot);
        assert_true(s->vm.tpm);
        assert_string_equal(s->vm.uuid, UUID);

        json_object_set_new(t->instance, "overrides", json_pack("{s:b, s:b, s:b}", "secure_boot", 0, "legacy_boot",
                                                                1, "tpm", 0));
        s = build_ok(t, NULL);
        assert_false(s->vm.secure_boot);
        assert_true(s->vm.legacy_boot);
        assert_false(s->vm.tpm);
}

static void test_spec_profiles_come_from_the_placement(void **state)
{
        struct spec_test *t = *state;
        const struct queue_vm_spec *s = build_ok(t, NULL);

        assert_string_equal(s->vm.profiles[0], "default");
        assert_string_equal(s->vm.profiles[1], "web");
        assert_null(s->vm.profiles[2]);
}

static void test_spec_add_profile_appends_once(void **state)
{
        struct spec_test *t = *state;
        struct ferry_error err = {};

        build_ok(t, NULL);
        assert_int_equal(queue_vm_spec_add_profile(&t->spec, "ferry-vm", &err), 0);
        assert_int_equal(queue_vm_spec_add_profile(&t->spec, "ferry-vm", &err), 0);
        assert_string_equal(t->spec.vm.profiles[2], "ferry-vm");
        assert_null(t->spec.vm.profiles[3]);

        /* A placement without profiles keeps Incus's "default". */
        json_object_del(t->placement, "profiles");
        build_ok(t, NULL);
        assert_null(t->spec.vm.profiles);
        assert_int_equal(queue_vm_spec_add_profile(&t->spec, "ferry-vm", &err), 0);
        assert_string_equal(t->spec.vm.profiles[0], "default");
        assert_string_equal(t->spec.vm.profiles[1], "ferry-vm");
        assert_null(t->spec.vm.profiles[2]);
}

static void test_spec_marks_the_vm_and_its_volumes_and_merges_placement_config(void **state)
{
        struct spec_test *t = *state;
        const struct queue_vm_spec *s = build_ok(t, NULL);
        _cleanup_json_ json_t *v = payload_of(s);
        const json_t *config = json_object_get(v, "config");

        assert_string_equal(json_string_value(json_object_get(config, QUEUE_TARGET_MARK_KEY)), UUID);
        assert_string_equal(json_string_value(json_object_get(config, "user.owner")), "team-web");
        assert_string_equal(json_string_value(json_object_get(config, "volatile.uuid")), UUID);
        assert_string_equal(json_string_value(json_object_get(s->vm.volume_config, QUEUE_TARGET_MARK_KEY)), UUID);
        /* Cold: no worker keys, no worker device. */
        assert_null(json_object_get(config, "user.ferry.token"));
        assert_null(json_object_get(json_object_get(v, "devices"), "ferry-worker"));
}

static void test_spec_with_a_worker_carries_its_settings_and_volume(void **state)
{
        struct spec_test *t = *state;
        const struct queue_worker_settings worker = {
                .endpoint = "https://10.0.0.1:8443", .fingerprint = "ab12", .token = "s3cret",
                .volume = "ferry-worker-image", .pool = "default",
        };
        const struct queue_vm_spec *s = build_ok(t, &worker);
        _cleanup_json_ json_t *v = payload_of(s);
        const json_t *config = json_object_get(v, "config");

        assert_string_equal(json_string_value(json_object_get(config, "user.ferry.endpoint")), "https://10.0.0.1:8443");
        assert_string_equal(json_string_value(json_object_get(config, "user.ferry.fingerprint")), "ab12");
        assert_string_equal(json_string_value(json_object_get(config, "user.ferry.token")), "s3cret");
        assert_string_equal(json_string_value(json_object_get(config, "user.ferry.uuid")), UUID);
        assert_string_equal(json_string_value(json_object_get(config, QUEUE_TARGET_MARK_KEY)), UUID);
        assert_string_equal(s->vm.worker_volume, "ferry-worker-image");
        assert_non_null(json_object_get(json_object_get(v, "devices"), "ferry-worker"));
}

static void test_spec_refuses_worker_settings_with_a_part_missing(void **state)
{
        static const char *const parts[] = { "endpoint", "fingerprint", "token" };
        struct spec_test *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                struct queue_worker_settings worker = { .endpoint = "https://x", .fingerprint = "ab", .token = "t" };
                _cleanup_free_ char *want = strjoin("The worker settings for instance 'web01' lack its ", parts[i],
                                                    NULL);
                struct queue_vm_spec spec = {};
                struct ferry_error err = {};

                if (i == 0)
                        worker.endpoint = "";
                else if (i == 1)
                        worker.fingerprint = NULL;
                else
                        worker.token = NULL;
                assert_int_equal(queue_vm_spec_build(t->instance, t->placement, &worker, &spec, &err), -EINVAL);
                assert_string_equal(err.message, want);
        }
}

static void test_spec_copies_what_it_borrows(void **state)
{
        struct spec_test *t = *state;
        const struct queue_vm_spec *s = build_ok(t, NULL);

        /* The caller's JSON may go: the spec still holds everything. */
        json_decref(t->instance);
        json_decref(t->placement);
        t->instance = from("{}");
        t->placement = from("{}");
        assert_string_equal(s->vm.nics[0].network, "labbr0");
        assert_string_equal(s->vm.disks[0].pool, "fast");
        assert_string_equal(s->vm.profiles[1], "web");
        assert_string_equal(s->vm.uuid, UUID);
}

static void test_spec_created_record_lists_instance_and_volumes(void **state)
{
        struct spec_test *t = *state;
        const struct queue_vm_spec *s = build_ok(t, NULL);
        _cleanup_json_ json_t *created = queue_vm_spec_created(s, "incus1");
        _cleanup_json_ json_t *want = from("{\"target\": \"incus1\", \"project\": \"lab\", \"instance\": \"web01\", "
                                           "\"volumes\": [{\"pool\": \"fast\", \"name\": \"web01-hard-disk-2\"}]}");

        assert_true(json_equal(created, want));
}

static void test_spec_refuses_each_bad_input_naming_it(void **state)
{
        static const struct {
                const char *what, *path, *value, *message;
        } rows[] = {
                { "no disks", "instance.disks", "[]", "Instance 'web01' has no disks" },
                { "shared", "instance.disks.1.shared", "true",
                  "Disk 'Hard disk 2' of instance 'web01' is shared with other VMs: ferry cannot migrate shared disks" },
                { "unsupported", "instance.disks.1.supported", "false",
                  "Disk 'Hard disk 2' of instance 'web01' cannot be migrated: the source marks it unsupported" },
                { "no capacity", "instance.disks.1.capacity", "0",
                  "Disk 'Hard disk 2' of instance 'web01' has no capacity" },
                { "no root capacity", "instance.disks.0.capacity", "null",
                  "Disk 'Hard disk 1' of instance 'web01' has no capacity" },
                { "no project", "placement.target_project", "\"\"",
                  "Placement of instance 'web01' names no target project" },
                { "no network", "placement.nics.0.network", "\"\"",
                  "NIC 1 of the placement of instance 'web01' has no network" },
                { "bad nictype", "placement.nics.0.nictype", "\"vxlan\"",
                  "NIC 00:50:56:01:00:01 of instance 'web01' has an unknown NIC type 'vxlan'" },
                { "bad vlan", "placement.nics.0.vlan", "\"10,x\"",
                  "NIC 'eth0' of instance 'web01' has an invalid VLAN list '10,x'" },
                { "bad mac", "placement.nics.0.hardware_address", "\"zz\"",
                  "NIC 'eth0' of instance 'web01' has an invalid MAC address 'zz'" },
                { "config not string", "placement.config.limits.cpu", "4",
                  "Placement of instance 'web01': config key 'limits.cpu' is not a string" },
                { "ferry config key", "placement.config.user.ferry.token", "\"x\"",
                  "Instance 'web01': config key 'user.ferry.token' is ferry's own and cannot be set" },
                { "profile not string", "placement.profiles.1", "7",
                  "Placement of instance 'web01': profile 2 is not a string" },
                { "both boots", "instance.legacy_boot", "true",
                  "Instance 'web01' cannot have both secure boot and legacy BIOS boot" },
                { "bad uuid", "instance.uuid", "\"not-a-uuid\"", "Instance 'web01' has an invalid UUID 'not-a-uuid'" },
                { "no name", "instance.name", "\"___\"", "Instance '___' has no name Incus can take: set overrides.name" },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct spec_test t = { .instance = from(INSTANCE), .placement = from(PLACEMENT) };
                _cleanup_json_ json_t *value = json_loads(rows[i].value, JSON_DECODE_ANY, NULL);
                json_t *obj;
                const char *p = rows[i].path, *dot;
                const char *config_key = strstr(p, ".config.");

                assert_non_null(value);
                obj = startswith(p, "instance.") ? t.instance : t.placement;
                p = strchr(p, '.') + 1;
                if (config_key) {
                        /* Config keys have dots of their own. */
                        json_object_set(json_object_get(obj, "config"), config_key + strlen(".config."), value);
                } else {
                        while ((dot = strchr(p, '.'))) {
                                _cleanup_free_ char *seg = strndup(p, (size_t) (dot - p));

                                obj = json_is_array(obj) ? json_array_get(obj, strtoul(seg, NULL, 10))
                                                         : json_object_get(obj, seg);
                                p = dot + 1;
                        }
                        if (json_is_array(obj))
                                json_array_set(obj, strtoul(p, NULL, 10), value);
                        else
                                json_object_set(obj, p, value);
                }
                assert_build_refused(&t, rows[i].message);
                json_decref(t.instance);
                json_decref(t.placement);
        }
}

static void test_spec_unsupported_disk_gives_the_source_reason(void **state)
{
        struct spec_test *t = *state;

        json_object_set_new(disk_at(t, 1), "supported", json_false());
        json_object_set_new(disk_at(t, 1), "unsupported_reason",
                            json_string("raw device mappings (RDM) cannot be migrated"));
        assert_build_refused(t,
                             "Disk 'Hard disk 2' of instance 'web01' cannot be migrated: raw device mappings (RDM) "
                             "cannot be migrated");
}

static void test_spec_refuses_a_disk_without_a_pool(void **state)
{
        struct spec_test *t = *state;

        json_object_set_new(t->placement, "storage_pool", json_string(""));
        json_array_remove(json_object_get(t->placement, "disks"), 1);
        json_object_set_new(json_array_get(json_object_get(t->placement, "disks"), 0), "pool", json_string(""));
        assert_build_refused(t, "Instance 'web01' has no storage pool for disk 'Hard disk 1' in its placement");
        json_object_set_new(json_array_get(json_object_get(t->placement, "disks"), 0), "pool", json_string("default"));
        assert_build_refused(t, "Instance 'web01' has no storage pool for disk 'Hard disk 2' in its placement");
}

#define SPEC_TEST(f) cmocka_unit_test_setup_teardown(f, spec_setup, spec_teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names_are_made_valid_for_incus),
                cmocka_unit_test(test_names_with_nothing_valid_left_are_refused),
                cmocka_unit_test(test_overrides_name_wins_as_given),
                cmocka_unit_test(test_overrides_name_incus_refuses_is_refused),
                cmocka_unit_test(test_name_validity_follows_incus_rules),
                SPEC_TEST(test_spec_name_and_place_come_from_instance_and_placement),
                SPEC_TEST(test_spec_root_disk_is_the_first_disk_in_its_placed_pool),
                SPEC_TEST(test_spec_other_disks_are_custom_volumes_named_after_the_instance),
                SPEC_TEST(test_spec_disk_slugs_stay_unique_and_clear_of_ferry_devices),
                SPEC_TEST(test_spec_nics_keep_type_network_vlan_and_mac),
                SPEC_TEST(test_spec_hardware_comes_from_the_effective_instance),
                SPEC_TEST(test_spec_profiles_come_from_the_placement),
                SPEC_TEST(test_spec_add_profile_appends_once),
                SPEC_TEST(test_spec_marks_the_vm_and_its_volumes_and_merges_placement_config),
                SPEC_TEST(test_spec_with_a_worker_carries_its_settings_and_volume),
                SPEC_TEST(test_spec_refuses_worker_settings_with_a_part_missing),
                SPEC_TEST(test_spec_copies_what_it_borrows),
                SPEC_TEST(test_spec_created_record_lists_instance_and_volumes),
                cmocka_unit_test(test_spec_refuses_each_bad_input_naming_it),
                SPEC_TEST(test_spec_unsupported_disk_gives_the_source_reason),
                SPEC_TEST(test_spec_refuses_a_disk_without_a_pool),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
