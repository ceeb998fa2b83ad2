/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Disk access of the VMware source (ops->disk_open): the lab's VM disks
 * served by qemu-nbd from the datastore directories and read with libnbd
 * (checksums from the lab's disks.json), snapshot delta chains on a
 * simulator of the test's own (-snapshot-deltas), NBD URI templates, and
 * the errors of VDDK access on a machine without the vddk plugin.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <libnbd.h>
#include <openssl/evp.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "lab.h"
#include "proc.h"
#include "source/disk.h"
#include "source/source.h"
#include "source/vmware/vmware.h"
#include "vcsim-proc.h"

#define TIMEOUT_S 30

DEFINE_CLEANUP_FUNC(struct nbd_handle, nbd_close);
#define _cleanup_nbd_ _cleanup_(nbd_close_p)

static json_t *lab_disks(void)
{
        json_error_t jerr;
        json_t *disks = json_load_file(lab_env("LAB_VCSIM_DISKS"), 0, &jerr);

        if (!json_is_array(disks) || json_array_size(disks) == 0)
                fail_msg("Cannot read the lab's disk list: %s", jerr.text);
        return disks;
}

static const char *jstr(const json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));

        return s ? s : "";
}

/* A source object for the simulator at url with this disk_access. */
static json_t *source_json(const char *url, const char *user, const char *pass, const char *fp, json_t *access)
{
        return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:o}}", "name", "lab", "type", "vmware", "properties",
                         "endpoint", url, "username", user, "password", pass,
                         "trusted_server_certificate_fingerprint", fp, "disk_access", access);
}

static struct source *connect_with(json_t *src)
{
        struct source_connect_result res;
        struct ferry_error err = {};
        struct source *s = NULL;

        if (vmware_source_ops.connect(src, &s, &res, &err) < 0)
                fail_msg("connect: %s", err.message);
        return s;
}

static struct source *connect_lab(json_t *access)
{
        _cleanup_json_ json_t *src = source_json(lab_env("LAB_VCSIM_URL"), lab_env("LAB_VCSIM_USERNAME"),
                                                 lab_env("LAB_VCSIM_PASSWORD"), lab_env("LAB_VCSIM_FINGERPRINT"),
                                                 access);

        return connect_with(src);
}

static json_t *datastore_access(const char *mounts_json)
{
        json_t *mounts = json_loads(mounts_json, 0, NULL);

        assert_non_null(mounts);
        return json_pack("{s:s, s:o}", "mode", "datastore", "datastore_mounts", mounts);
}

/* The synced instance named name (a new reference). */
static json_t *instance(struct source *s, const char *name)
{
        struct source_inventory inv = {};
        struct ferry_error err = {};
        json_t *found = NULL, *vm;
        size_t i;

        if (vmware_source_ops.sync_inventory(s, &inv, &err) < 0)
                fail_msg("sync: %s", err.message);
        json_array_foreach(inv.instances, i, vm)
                if (streq(jstr(vm, "name"), name))
                        found = json_incref(vm);
        source_inventory_done(&inv);
        if (!found)
                fail_msg("No VM '%s' in the simulator", name);
        return found;
}

static const json_t *disk_by_backing(const json_t *vm, const char *backing)
{
        size_t i;
        json_t *d;

        json_array_foreach(json_object_get(vm, "disks"), i, d)
                if (streq(jstr(d, "backing"), backing))
                        return d;
        fail_msg("VM '%s' has no disk '%s'", jstr(vm, "name"), backing);
        return NULL;
}

static void sha256_hex(const unsigned char md[32], char hex[65])
{
        for (int i = 0; i < 32; i++)
                snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* The SHA-256 and size of everything an NBD export serves. */
static void export_sha256(const char *uri, char hex[65], uint64_t *ret_size)
{
        _cleanup_nbd_ struct nbd_handle *nbd = nbd_create();
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        static char buf[4 << 20];
        unsigned char md[32];
        int64_t size;

        assert_non_null(nbd);
        if (nbd_connect_uri(nbd, uri) == -1)
                fail_msg("Cannot connect to '%s': %s", uri, nbd_get_error());
        size = nbd_get_size(nbd);
        assert_true(size > 0);
        assert_int_equal(nbd_is_read_only(nbd), 1);
        EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
        for (int64_t off = 0; off < size; off += (int64_t) sizeof(buf)) {
                size_t n = (size_t) (size - off < (int64_t) sizeof(buf) ? size - off : (int64_t) sizeof(buf));

                if (nbd_pread(nbd, buf, n, (uint64_t) off, 0) == -1)
                        fail_msg("Read at %" PRIi64 " failed: %s", off, nbd_get_error());
                EVP_DigestUpdate(ctx, buf, n);
        }
        EVP_DigestFinal_ex(ctx, md, NULL);
        EVP_MD_CTX_free(ctx);
        sha256_hex(md, hex);
        *ret_size = (uint64_t) size;
}

static int setup_runtime(void **state)
{
        *state = tmpdir_new();
        return 0;
}

static int teardown_runtime(void **state)
{
        tmpdir_remove(*state);
        free(*state);
        return 0;
}

static void assert_dir_empty(const char *dir)
{
        _cleanup_free_ char *out = NULL;
        char *const argv[] = { (char *) "/usr/bin/find", (char *) dir, (char *) "-mindepth", (char *) "1", NULL };

        out = proc_run_stdout(0, argv);
        assert_string_equal(out, "");
}

/* Open disk (of the lab's disk list) through the datastore and compare the checksum. */
static void assert_lab_disk_reads_as_recorded(const char *runtime, const json_t *entry)
{
        struct source *s = connect_lab(datastore_access(lab_env("LAB_VCSIM_DATASTORE_MOUNTS")));
        _cleanup_json_ json_t *vm = instance(s, jstr(entry, "vm"));
        const json_t *disk = disk_by_backing(vm, jstr(entry, "backing"));
        struct source_disk *d = NULL;
        struct ferry_error err = {};
        char hex[65];
        uint64_t size;

        if (vmware_source_ops.disk_open(s,
                                        &(struct source_disk_spec) {
                                                .instance = vm,
                                                .device_key = json_integer_value(json_object_get(disk, "device_key")),
                                                .runtime_dir = runtime,
                                        },
                                        &d, &err) < 0)
                fail_msg("disk_open: %s", err.message);
        assert_true(startswith(d->uri, "nbd+unix:///?socket="));
        assert_true(d->pid > 0);
        export_sha256(d->uri, hex, &size);
        assert_int_equal(size, json_integer_value(json_object_get(entry, "capacity_bytes")));
        assert_string_equal(hex, jstr(entry, "sha256"));
        vmware_source_ops.disk_close(d);
        assert_dir_empty(runtime);
        vmware_source_ops.disconnect(s);
}

static void test_a_lab_disk_read_through_its_datastore_has_the_recorded_checksum(void **state)
{
        _cleanup_json_ json_t *disks = lab_disks();

        assert_lab_disk_reads_as_recorded(*state, json_array_get(disks, 0));
}

static void test_the_last_lab_disk_on_another_datastore_reads_as_recorded_too(void **state)
{
        _cleanup_json_ json_t *disks = lab_disks();
        const json_t *first = json_array_get(disks, 0), *other = NULL, *d;
        size_t i;

        json_array_foreach(disks, i, d)
                if (!streq(jstr(d, "datastore"), jstr(first, "datastore")))
                        other = d;
        if (!other)
                fail_msg("The lab has one datastore only");
        assert_lab_disk_reads_as_recorded(*state, other);
}

static void test_an_unmapped_datastore_is_named(void **state)
{
        _cleanup_json_ json_t *disks = lab_disks();
        const json_t *entry = json_array_get(disks, 0);
        struct source *s = connect_lab(datastore_access("{\"elsewhere\": \"/mnt/elsewhere\"}"));
        _cleanup_json_ json_t *vm = instance(s, jstr(entry, "vm"));
        struct source_disk *d = NULL;
        struct ferry_error err = {};
        _cleanup_free_ char *expected = NULL;
        char key[32];

        snprintf(key, sizeof(key), "%" PRId64, (int64_t) json_integer_value(json_object_get(entry, "device_key")));
        assert_int_equal(vmware_source_ops.disk_open(s,
                                                     &(struct source_disk_spec) {
                                                             .instance = vm,
                                                             .device_key = json_integer_value(
                                                                     json_object_get(entry, "device_key")),
                                                             .runtime_dir = *state,
                                                     },
                                                     &d, &err),
                         -ENOENT);
        expected = strjoin("Disk ", key, " of '", jstr(entry, "vm"), "': Datastore '", jstr(entry, "datastore"),
                           "' has no mount in disk_access.datastore_mounts", NULL);
        assert_string_equal(err.message, expected);
        assert_null(d);
        vmware_source_ops.disconnect(s);
}

static void test_an_nbd_template_is_expanded_with_the_disks_names(void **state)
{
        _cleanup_json_ json_t *disks = lab_disks();
        const json_t *entry = json_array_get(disks, 0);
        struct source *s = connect_lab(json_pack(
                "{s:s, s:s}", "mode", "nbd", "uri_template",
                "nbd://nas.example.org/{datastore}/{path}?vm={vm}&uuid={uuid}&key={device_key}&moref={moref}"));
        _cleanup_json_ json_t *vm = instance(s, jstr(entry, "vm"));
        struct source_disk *d = NULL;
        struct ferry_error err = {};
        _cleanup_free_ char *ds = NULL, *path = NULL, *expected = NULL;
        char key[32];

        (void) state;
        snprintf(key, sizeof(key), "%" PRId64, (int64_t) json_integer_value(json_object_get(entry, "device_key")));
        if (vmware_source_ops.disk_open(s,
                                        &(struct source_disk_spec) {
                                                .instance = vm,
                                                .device_key = json_integer_value(json_object_get(entry, "device_key")),
                                        },
                                        &d, &err) < 0)
                fail_msg("disk_open: %s", err.message);
        assert_int_equal(source_datastore_path_split(jstr(entry, "backing"), &ds, &path, &err), 0);
        expected = strjoin("nbd://nas.example.org/", ds, "/", path, "?vm=", jstr(entry, "vm"), "&uuid=",
                           jstr(entry, "instance_uuid"), "&key=", key, "&moref=", jstr(entry, "moref"), NULL);
        assert_string_equal(d->uri, expected);
        assert_int_equal(d->pid, 0);
        vmware_source_ops.disk_close(d);
        vmware_source_ops.disconnect(s);
}

static void test_vddk_without_the_vddk_artifact_asks_for_it(void **state)
{
        _cleanup_json_ json_t *disks = lab_disks();
        const json_t *entry = json_array_get(disks, 0);
        struct source *s = connect_lab(json_pack("{s:s}", "mode", "vddk"));
        _cleanup_json_ json_t *vm = instance(s, jstr(entry, "vm"));
        struct source_disk *d = NULL;
        struct ferry_error err = {};

        assert_int_equal(vmware_source_ops.disk_open(s,
                                                     &(struct source_disk_spec) {
                                                             .instance = vm,
                                                             .device_key = json_integer_value(
                                                                     json_object_get(entry, "device_key")),
                                                             .runtime_dir = *state,
                                                     },
                                                     &d, &err),
                         -EINVAL);
        assert_non_null(strstr(err.message, "VDDK access needs the VDDK library directory: upload the VDDK as an "
                                            "artifact of type 'vddk'"));
        assert_dir_empty(*state);
        vmware_source_ops.disconnect(s);
}

static void test_vddk_failing_to_start_leaves_no_password_file(void **state)
{
        _cleanup_json_ json_t *disks = lab_disks();
        const json_t *entry = json_array_get(disks, 0);
        struct source *s = connect_lab(json_pack("{s:s}", "mode", "vddk"));
        _cleanup_json_ json_t *vm = instance(s, jstr(entry, "vm"));
        _cleanup_free_ char *libdir = tmpdir_new();
        struct source_disk *d = NULL;
        struct ferry_error err = {};

        /* nbdkit is here, its vddk plugin (or VDDK itself) is not: nbdkit exits. */
        assert_true(vmware_source_ops.disk_open(s,
                                                &(struct source_disk_spec) {
                                                        .instance = vm,
                                                        .device_key = json_integer_value(
                                                                json_object_get(entry, "device_key")),
                                                        .runtime_dir = *state,
                                                        .vddk_libdir = libdir,
                                                },
                                                &d, &err) < 0);
        assert_non_null(strstr(err.message, "'nbdkit' exited with status"));
        assert_null(d);
        assert_dir_empty(*state);
        tmpdir_remove(libdir);
        vmware_source_ops.disconnect(s);
}

/* --- delta chains, on a simulator of our own -------------------------------------------- */

#define CHAIN_DISK_SIZE (16u << 20)

static const char chain_model[] =
        "{\"datacenters\": [{\"name\": \"dc-chain\","
        " \"clusters\": [{\"name\": \"c1\", \"hosts\": [\"esx-c01.lab.local\"]}],"
        " \"datastores\": [\"ds-chain\"],"
        " \"vms\": [{\"name\": \"chain01\", \"power_state\": \"poweredOn\", \"change_tracking\": true,"
        "           \"disks\": [{\"capacity_mib\": 16}]}]}]}";

/* The lab's kind of content: a pattern at the start and the end, holes between. */
static void fill(unsigned char *buf, size_t size)
{
        memset(buf, 0, size);
        for (size_t i = 0; i < (1u << 20); i++)
                buf[i] = (unsigned char) (i * 7 % 251);
        for (size_t i = size - 65536; i < size; i++)
                buf[i] = (unsigned char) (i * 13 % 253);
}

static void sha256_of(const unsigned char *buf, size_t len, char hex[65])
{
        unsigned char md[32];
        unsigned int n = 0;

        EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
        sha256_hex(md, hex);
}

/* Run argv; it must exit 0 (its output does not matter). */
static void run_ok(char *const argv[])
{
        free(proc_run_stdout(0, argv));
}

static struct source_disk *open_disk(struct source *s, const json_t *vm, const char *snapshot, const char *runtime)
{
        const json_t *disk = json_array_get(json_object_get(vm, "disks"), 0);
        struct source_disk *d = NULL;
        struct ferry_error err = {};

        if (vmware_source_ops.disk_open(s,
                                        &(struct source_disk_spec) {
                                                .instance = vm,
                                                .device_key = json_integer_value(json_object_get(disk, "device_key")),
                                                .snapshot = snapshot,
                                                .runtime_dir = runtime,
                                        },
                                        &d, &err) < 0)
                fail_msg("disk_open: %s", err.message);
        return d;
}

static void test_snapshots_read_through_their_delta_chains(void **state)
{
        const char *runtime = *state;
        const char *const extra[] = { "-snapshot-deltas", NULL };
        struct vcsim_proc sim;
        _cleanup_free_ char *model_path = strjoin(runtime, "/chain-model.json", NULL);
        _cleanup_free_ unsigned char *base = malloc(CHAIN_DISK_SIZE), *changed = NULL;
        _cleanup_free_ char *snap1 = NULL, *snap2 = NULL, *delta1 = NULL;
        _cleanup_json_ json_t *disks = NULL, *vm = NULL, *after1 = NULL, *src = NULL, *mounts = NULL;
        struct source *s;
        struct source_disk *d;
        struct ferry_error err = {};
        char want_base[65], want_changed[65], hex[65], size_arg[32];
        uint64_t size;
        FILE *f;

        /* A model of one VM with one disk, written next to the runtime dir. */
        f = fopen(model_path, "w");
        assert_non_null(f);
        fputs(chain_model, f);
        fclose(f);
        vcsim_proc_start(&sim, model_path, extra);
        disks = vcsim_proc_disks(&sim);
        const json_t *entry = json_array_get(disks, 0);

        /* Real content: a monolithicFlat descriptor and its data. */
        snprintf(size_arg, sizeof(size_arg), "%u", CHAIN_DISK_SIZE);
        unlink(jstr(entry, "descriptor_path"));
        unlink(jstr(entry, "flat_path"));
        char *const mk[] = { (char *) "/usr/bin/qemu-img", (char *) "create", (char *) "-q", (char *) "-f",
                             (char *) "vmdk", (char *) "-o", (char *) "subformat=monolithicFlat",
                             (char *) jstr(entry, "descriptor_path"), size_arg, NULL };
        run_ok(mk);
        fill(base, CHAIN_DISK_SIZE);
        {
                int fd = open(jstr(entry, "flat_path"), O_WRONLY);

                assert_true(fd >= 0);
                assert_int_equal(pwrite(fd, base, CHAIN_DISK_SIZE, 0), CHAIN_DISK_SIZE);
                close(fd);
        }
        sha256_of(base, CHAIN_DISK_SIZE, want_base);
        changed = malloc(CHAIN_DISK_SIZE);
        memcpy(changed, base, CHAIN_DISK_SIZE);
        memset(changed + (1u << 20), 0xab, 65536);
        sha256_of(changed, CHAIN_DISK_SIZE, want_changed);

        src = source_json(vcsim_proc_env(&sim, "VCSIM_URL"), vcsim_proc_env(&sim, "VCSIM_USERNAME"),
                          vcsim_proc_env(&sim, "VCSIM_PASSWORD"), vcsim_proc_env(&sim, "VCSIM_FINGERPRINT"),
                          datastore_access(vcsim_proc_env(&sim, "VCSIM_DATASTORE_MOUNTS")));
        s = connect_with(src);
        mounts = json_loads(vcsim_proc_env(&sim, "VCSIM_DATASTORE_MOUNTS"), 0, NULL);
        vm = instance(s, "chain01");

        /* Snapshot 1: the VM moves to a delta; the guest writes into it. */
        if (vmware_source_ops.snapshot_create(s, jstr(vm, "uuid"), "one", false, TIMEOUT_S, &snap1, &err) < 0)
                fail_msg("%s", err.message);
        after1 = instance(s, "chain01");
        const char *backing1 = jstr(json_array_get(json_object_get(after1, "disks"), 0), "backing");
        assert_true(endswith(backing1, "-000001.vmdk"));
        assert_int_equal(source_datastore_map(mounts, backing1, &delta1, &err),
                         0);
        char *const write_cmd[] = { (char *) "/usr/bin/qemu-io", (char *) "-f", (char *) "vmdk", (char *) "-c",
                                    (char *) "write -P 0xab 1M 64k", delta1, NULL };
        run_ok(write_cmd);

        /* Snapshot 2 keeps delta 1, whose parent is the base disk. */
        if (vmware_source_ops.snapshot_create(s, jstr(vm, "uuid"), "two", false, TIMEOUT_S, &snap2, &err) < 0)
                fail_msg("%s", err.message);

        d = open_disk(s, vm, snap1, runtime);
        export_sha256(d->uri, hex, &size);
        assert_int_equal(size, CHAIN_DISK_SIZE);
        assert_string_equal(hex, want_base);
        vmware_source_ops.disk_close(d);

        d = open_disk(s, vm, snap2, runtime);
        export_sha256(d->uri, hex, &size);
        assert_string_equal(hex, want_changed);
        vmware_source_ops.disk_close(d);

        /* The VM's current disk (delta 2 → delta 1 → base) reads the same. */
        d = open_disk(s, vm, NULL, runtime);
        export_sha256(d->uri, hex, &size);
        assert_string_equal(hex, want_changed);
        vmware_source_ops.disk_close(d);

        vmware_source_ops.disconnect(s);
        vcsim_proc_stop(&sim);
        unlink(model_path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_a_lab_disk_read_through_its_datastore_has_the_recorded_checksum,
                                                setup_runtime, teardown_runtime),
                cmocka_unit_test_setup_teardown(test_the_last_lab_disk_on_another_datastore_reads_as_recorded_too,
                                                setup_runtime, teardown_runtime),
                cmocka_unit_test_setup_teardown(test_an_unmapped_datastore_is_named, setup_runtime, teardown_runtime),
                cmocka_unit_test_setup_teardown(test_an_nbd_template_is_expanded_with_the_disks_names, setup_runtime,
                                                teardown_runtime),
                cmocka_unit_test_setup_teardown(test_vddk_without_the_vddk_artifact_asks_for_it, setup_runtime,
                                                teardown_runtime),
                cmocka_unit_test_setup_teardown(test_vddk_failing_to_start_leaves_no_password_file, setup_runtime,
                                                teardown_runtime),
                cmocka_unit_test_setup_teardown(test_snapshots_read_through_their_delta_chains, setup_runtime,
                                                teardown_runtime),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
