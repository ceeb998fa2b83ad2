/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry-worker agent's post-import against the built ferryd over HTTPS:
 * the test builds a guest disk image (a GPT by sfdisk, an ext4 root by
 * mkfs.ext4 -d at the partition's offset, no root needed), queues the
 * command for a seeded queue entry, runs the agent with the image as the
 * disk's sink, and reads the result back from the image with debugfs,
 * never from what ferry says it did.
 *
 * The agent loop-mounts the image: that needs root and /dev/loop-control.
 * Without them the test exits 77 (skipped) and says why.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "api-client.h"
#include "common/fileio.h"
#include "common/fingerprint.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "ferryd-fixture.h"
#include "proc.h"
#include "seed.h"

#ifndef FERRY_WORKER_PATH
#error "FERRY_WORKER_PATH must name the ferry-worker binary under test"
#endif

#define AGENT_TIMEOUT_MS 120000
#define SECTOR 512
#define ROOT_START 18432                /* sectors */
#define ROOT_OFFSET "9437184"           /* bytes */
#define IMAGE_SIZE "64M"
#define MAC "00:50:56:01:00:01"

struct fixture {
        struct ferryd_fixture *d;
        int port;
        char *url;
        char *state_dir;
        char fp[FINGERPRINT_HEX_SIZE];
        char *token;
};

static int free_port(void)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        close(fd);
        return ntohs(sa.sin_port);
}

static void wait_for_port(struct proc *p, int port)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                  .sin_port = htons((uint16_t) port) };

        for (int i = 0; i < 2000; i++) {
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

                assert_true(fd >= 0);
                r = connect(fd, (struct sockaddr *) &sa, sizeof(sa));
                close(fd);
                if (r == 0)
                        return;
                if (!proc_running(p))
                        fail_msg("ferryd exited before listening on port %d", port);
                usleep(10 * 1000);
        }
        fail_msg("Nothing listens on port %d after 20 s", port);
}

static void write_text(const char *path, const char *text)
{
        struct ferry_error err = {};

        if (fileio_write_atomic(path, text, strlen(text), 0644, &err) < 0)
                fail_msg("%s", ferry_error_message(&err));
}

static char *path_in(const struct fixture *f, const char *name)
{
        char *p = strjoin(f->d->dir, "/", name, NULL);

        assert_non_null(p);
        return p;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        _cleanup_free_ char *config = NULL, *cert = NULL, *config_path = NULL;
        struct ferry_error err = {};
        struct api_answer a = {};
        json_t *m;

        assert_non_null(f);
        f->d = ferryd_fixture_new(FERRYD_PATH);
        f->port = free_port();
        assert_true(asprintf(&f->url, "https://127.0.0.1:%d", f->port) > 0);
        config_path = path_in(f, "ferryd.yaml");
        f->state_dir = path_in(f, "worker-state");
        assert_true(asprintf(&config, "core.https_address: \"127.0.0.1:%d\"\n", f->port) > 0);
        write_text(config_path, config);
        seed_lab_inventory(f->d->data_dir);
        ferryd_fixture_start_with(f->d, (const char *const[]) { "--config", config_path, NULL });
        wait_for_port(&f->d->ferryd, f->port);
        assert_non_null(cert = strjoin(f->d->data_dir, "/server.crt", NULL));
        if (fingerprint_from_pem_file(cert, f->fp, &err) < 0)
                fail_msg("%s", ferry_error_message(&err));
        m = api_expect(f->d->socket_path, "POST", "/1.0/queue/" SEED_WEB01 "/worker-token", NULL, 200, &a);
        assert_non_null(f->token = strdup(json_string_value(json_object_get(m, "token"))));
        api_answer_done(&a);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        int r = ferryd_fixture_stop(f->d);

        ferryd_fixture_free(f->d);
        free(f->url);
        free(f->state_dir);
        free(f->token);
        free(f);
        return r;
}

static void run_ok(char *const argv[])
{
        free(proc_run_stdout(0, argv));
}

static void shell_ok(const char *command)
{
        run_ok((char *const[]) { "/bin/sh", "-c", (char *) command, NULL });
}

/* Queue the command, run the agent until idle, return the command as ferryd has it. */
static json_t *run_command(struct fixture *f, const char *body)
{
        struct api_answer a = {};
        struct proc p;
        json_t *m, *c, *found = NULL;
        int64_t id;
        size_t i;
        char *const argv[] = { FERRY_WORKER_PATH, "agent", "--endpoint", f->url, "--fingerprint", f->fp, "--token",
                               f->token, "--uuid", SEED_WEB01, "--state-dir", f->state_dir, "--poll-interval", "100ms",
                               "--exit-when-idle", NULL };
        int r;

        m = api_expect(f->d->socket_path, "POST", "/1.0/queue/" SEED_WEB01 "/worker-commands", body, 200, &a);
        id = json_integer_value(json_object_get(m, "id"));
        api_answer_done(&a);

        proc_start(&p, argv);
        r = proc_wait(&p, AGENT_TIMEOUT_MS);
        if (r != 0) {
                _cleanup_free_ char *err = proc_stderr(&p);

                fail_msg("ferry-worker agent exited with %d: %s", r, err);
        }
        proc_cleanup(&p);

        m = api_expect(f->d->socket_path, "GET", "/1.0/queue/" SEED_WEB01 "/worker-commands", NULL, 200, &a);
        json_array_foreach(m, i, c)
                if (json_integer_value(json_object_get(c, "id")) == id)
                        found = json_incref(c);
        api_answer_done(&a);
        assert_non_null(found);
        return found;
}

/* A guest file in the image's root partition, read by debugfs (free() it); NULL when absent. */
static char *guest_file(const char *image, const char *path)
{
        _cleanup_free_ char *request = NULL, *device = NULL, *err = NULL;
        char *out = NULL;
        int r;

        assert_non_null(request = strjoin("cat ", path, NULL));
        assert_non_null(device = strjoin(image, "?offset=" ROOT_OFFSET, NULL));
        r = proc_run((char *const[]) { "/usr/sbin/debugfs", "-R", request, device, NULL }, &out, &err);
        assert_int_equal(r, 0);
        if (strstr(err, "File not found")) {
                free(out);
                return NULL;
        }
        return out;
}

/* debugfs's "stat" of a guest path (free() it). */
static char *guest_stat(const char *image, const char *path)
{
        _cleanup_free_ char *request = NULL, *device = NULL;

        assert_non_null(request = strjoin("stat ", path, NULL));
        assert_non_null(device = strjoin(image, "?offset=" ROOT_OFFSET, NULL));
        return proc_run_stdout(0, (char *const[]) { "/usr/sbin/debugfs", "-R", request, device, NULL });
}

/* A 64 MiB GPT image: an empty EFI partition, then an ext4 root made from tree. */
static void make_guest_image(struct fixture *f, const char *image, const char *tree)
{
        _cleanup_free_ char *script = path_in(f, "sfdisk.txt"), *cmd = NULL;

        write_text(script, "label: gpt\nstart=2048, size=16384, type=uefi\nstart=18432, size=100000, type=linux\n");
        run_ok((char *const[]) { "/usr/bin/truncate", "-s", IMAGE_SIZE, (char *) image, NULL });
        assert_non_null(cmd = strjoin("sfdisk -q '", image, "' < '", script, "'", NULL));
        shell_ok(cmd);
        run_ok((char *const[]) { "/usr/sbin/mkfs.ext4", "-q", "-F", "-E", "offset=" ROOT_OFFSET, "-d", (char *) tree,
                                 (char *) image, "48M", NULL });
}

static void make_debian_tree(const char *tree)
{
        _cleanup_free_ char *cmd = NULL;

        assert_non_null(cmd = strjoin(
                "set -e; cd '", tree, "'; mkdir -p etc/netplan etc/systemd/system/multi-user.target.wants "
                "usr/lib/systemd/system etc/initramfs-tools proc sys dev; "
                "printf 'PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\\nNAME=\"Debian GNU/Linux\"\\n' "
                "> usr/lib/os-release; ln -s ../usr/lib/os-release etc/os-release; "
                "printf 'UUID=1234 / ext4 errors=remount-ro 0 1\\n' > etc/fstab; "
                "printf 'network:\\n  version: 2\\n  ethernets:\\n    ens192:\\n      dhcp4: true\\n' "
                "> etc/netplan/50-cloud-init.yaml; "
                ": > usr/lib/systemd/systemd; : > usr/lib/systemd/system/open-vm-tools.service; "
                "ln -s /usr/lib/systemd/system/open-vm-tools.service "
                "etc/systemd/system/multi-user.target.wants/open-vm-tools.service",
                NULL));
        shell_ok(cmd);
}

static const json_t *fix(const json_t *result, const char *name)
{
        const json_t *fx;
        size_t i;

        json_array_foreach(json_object_get(result, "fixes"), i, fx)
                if (streq(json_string_value(json_object_get(fx, "name")), name))
                        return fx;
        fail_msg("No fix '%s' in the result", name);
        return NULL;
}

static const char *str(const json_t *v, const char *key)
{
        const char *s = json_string_value(json_object_get(v, key));

        if (!s)
                fail_msg("'%s' is not a string", key);
        return s;
}

static void test_post_import_fixes_a_debian_guest_on_a_gpt_disk(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *image = path_in(f, "guest.img"), *tree = path_in(f, "tree"), *body = NULL,
                            *unit = NULL, *rule = NULL, *setup_script = NULL, *link = NULL, *wants = NULL,
                            *vmtools = NULL, *modules = NULL, *st = NULL;
        _cleanup_json_ json_t *cmd = NULL;
        const json_t *result, *root;

        assert_int_equal(mkdir(tree, 0755), 0);
        make_debian_tree(tree);
        make_guest_image(f, image, tree);
        assert_true(asprintf(&body,
                             "{\"command\": \"post-import\", \"os_type\": \"linux\", \"disks\": [{\"name\": \"disk0\", "
                             "\"sink\": \"%s\"}], \"nics\": [{\"hardware_address\": \"" MAC "\"}]}",
                             image) > 0);
        cmd = run_command(f, body);
        if (!streq(str(cmd, "status"), "done"))
                fail_msg("post-import %s: %s", str(cmd, "status"), json_string_value(json_object_get(cmd, "message")));
        assert_string_equal(str(cmd, "message"), "Post-import of 1 disk done");

        result = json_object_get(cmd, "result");
        root = json_object_get(result, "root");
        assert_string_equal(str(root, "disk"), "disk0");
        assert_int_equal(json_integer_value(json_object_get(root, "partition")), 2);
        assert_string_equal(str(root, "filesystem"), "ext4");
        assert_string_equal(str(root, "os"), "Debian GNU/Linux 12 (bookworm)");
        assert_string_equal(str(fix(result, "incus-agent"), "status"), "applied");
        assert_string_equal(str(fix(result, "vmware-tools"), "status"), "applied");
        assert_string_equal(str(fix(result, "initramfs"), "status"), "applied");
        assert_string_equal(str(fix(result, "initramfs"), "message"),
                            "Listed the virtio drivers in /etc/initramfs-tools/modules; the guest has no "
                            "update-initramfs, so the initramfs was not regenerated");
        assert_string_equal(str(fix(result, "network-names"), "message"), "Pinned ens192 to " MAC);

        /* What is in the image now. */
        unit = guest_file(image, "/etc/systemd/system/incus-agent.service");
        assert_non_null(unit);
        assert_contains(unit, "ExecStart=/run/incus_agent/incus-agent\n");
        rule = guest_file(image, "/etc/udev/rules.d/99-ferry-incus-agent.rules");
        assert_non_null(rule);
        assert_contains(rule, "virtio-ports/org.linuxcontainers.incus");
        setup_script = guest_file(image, "/etc/ferry/incus-agent-setup");
        assert_non_null(setup_script);
        st = guest_stat(image, "/etc/ferry/incus-agent-setup");
        assert_contains(st, "Mode:  0755");
        assert_contains(st, "User:     0   Group:     0");
        wants = guest_stat(image, "/etc/systemd/system/multi-user.target.wants/incus-agent.service");
        assert_contains(wants, "Fast link dest: \"/etc/systemd/system/incus-agent.service\"");
        vmtools = guest_file(image, "/etc/systemd/system/multi-user.target.wants/open-vm-tools.service");
        assert_null(vmtools);
        modules = guest_file(image, "/etc/initramfs-tools/modules");
        assert_non_null(modules);
        assert_contains(modules, "\nvirtio_scsi\nvirtio_pci\nvirtio_blk\nvirtio_net\n");
        link = guest_file(image, "/etc/systemd/network/10-ferry-ens192.link");
        assert_non_null(link);
        assert_contains(link, "[Match]\nMACAddress=" MAC "\n\n[Link]\nName=ens192\n");
}

static void test_post_import_fails_clearly_without_a_linux_root(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *image = path_in(f, "empty.img"), *data = path_in(f, "data.img"), *tree = path_in(f, "d"),
                            *body = NULL;
        _cleanup_json_ json_t *cmd = NULL;

        /* disk0: a GPT with an ext4 file system that is no root; disk1: nothing at all. */
        assert_int_equal(mkdir(tree, 0755), 0);
        shell_ok("true");
        make_guest_image(f, image, tree);
        run_ok((char *const[]) { "/usr/bin/truncate", "-s", "1M", (char *) data, NULL });
        assert_true(asprintf(&body,
                             "{\"command\": \"post-import\", \"os_type\": \"linux\", \"disks\": [{\"name\": \"disk0\", "
                             "\"sink\": \"%s\"}, {\"name\": \"disk1\", \"sink\": \"%s\"}]}",
                             image, data) > 0);
        cmd = run_command(f, body);
        assert_string_equal(str(cmd, "status"), "failed");
        assert_string_equal(str(cmd, "message"),
                            "No Linux root filesystem found on disks disk0, disk1: looked at 3 partitions (unknown, "
                            "ext4, unknown)");
}

static void test_post_import_of_a_windows_guest_skips_every_fix(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *image = path_in(f, "win.img"), *body = NULL;
        _cleanup_json_ json_t *cmd = NULL;
        const json_t *fx;
        size_t i;

        run_ok((char *const[]) { "/usr/bin/truncate", "-s", "1M", (char *) image, NULL });
        assert_true(asprintf(&body,
                             "{\"command\": \"post-import\", \"os_type\": \"windows\", \"disks\": [{\"name\": "
                             "\"disk0\", \"sink\": \"%s\"}]}",
                             image) > 0);
        cmd = run_command(f, body);
        assert_string_equal(str(cmd, "status"), "done");
        assert_true(json_is_null(json_object_get(json_object_get(cmd, "result"), "root")));
        assert_int_equal(json_array_size(json_object_get(json_object_get(cmd, "result"), "fixes")), 4);
        json_array_foreach(json_object_get(json_object_get(cmd, "result"), "fixes"), i, fx) {
                assert_string_equal(str(fx, "status"), "skipped");
                assert_string_equal(str(fx, "message"), "Windows guest fixes (virtio drivers) are not implemented yet");
        }
}

/* Why this machine cannot run the test, or NULL. */
static const char *cannot_run(void)
{
        static const char *const tools[] = { "/usr/sbin/sfdisk", "/usr/sbin/mkfs.ext4", "/usr/sbin/debugfs",
                                             "/usr/bin/mount", NULL };

        if (geteuid() != 0)
                return "post-import loop-mounts the guest's disk, which needs root";
        if (access("/dev/loop-control", W_OK) < 0)
                return "post-import loop-mounts the guest's disk, which needs /dev/loop-control";
        for (size_t i = 0; tools[i]; i++)
                if (access(tools[i], X_OK) < 0)
                        return tools[i];
        return NULL;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_post_import_fixes_a_debian_guest_on_a_gpt_disk, setup, teardown),
                cmocka_unit_test_setup_teardown(test_post_import_fails_clearly_without_a_linux_root, setup, teardown),
                cmocka_unit_test_setup_teardown(test_post_import_of_a_windows_guest_skips_every_fix, setup, teardown),
        };
        const char *why = cannot_run();

        if (why) {
                fprintf(stderr, "SKIP: %s%s\n", why, why[0] == '/' ? " is missing (apt-get install fdisk e2fsprogs)" : "");
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
