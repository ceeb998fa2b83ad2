/* SPDX-License-Identifier: Apache-2.0 */
/* src/worker/guest-fixes.c on guest trees the tests build in temporary
 * directories; the guest's own tools are replaced by a recorder. */
#include <errno.h>
#include <fcntl.h>
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

#include "common/fileio.h"
#include "common/strbuf.h"
#include "worker/guest-fixes.h"
#include "worker/guest-fs.h"

struct guest {
        char dir[64];
        int fd;
        struct strbuf runs;             /* each run: argv joined by spaces, then '\n' */
        const char *fail;               /* the run fails with this message */
        const char *macs[4];
        struct guest_fix_context ctx;
};

static int record_run(const char *root, const char *const argv[], void *userdata, struct ferry_error *err)
{
        struct guest *g = userdata;

        assert_string_equal(root, g->dir);
        for (size_t i = 0; argv[i]; i++)
                assert_int_equal(strbuf_appendf(&g->runs, "%s%s", i ? " " : "", argv[i]), 0);
        assert_int_equal(strbuf_append(&g->runs, "\n"), 0);
        return g->fail ? ferry_error_set(err, -EIO, "%s", g->fail) : 0;
}

static int setup(void **state)
{
        struct guest *g = calloc(1, sizeof(*g));

        assert_non_null(g);
        strcpy(g->dir, "/tmp/ferry-guest.XXXXXX");
        assert_non_null(mkdtemp(g->dir));
        g->fd = open(g->dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        assert_true(g->fd >= 0);
        g->macs[0] = "00:50:56:01:00:01";
        g->macs[1] = "00:50:56:01:00:02";
        g->ctx = (struct guest_fix_context) { .root = g->dir, .root_fd = g->fd, .macs = g->macs, .n_macs = 1,
                                              .run = record_run, .userdata = g };
        *state = g;
        return 0;
}

static int teardown(void **state)
{
        struct guest *g = *state;
        char cmd[128];

        close(g->fd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g->dir);
        assert_int_equal(system(cmd), 0);
        strbuf_done(&g->runs);
        free(g);
        return 0;
}

static void put(struct guest *g, const char *path, const char *text)
{
        struct ferry_error err = {};

        if (guest_fs_write_atomic(g->fd, path, text, 0644, &err) < 0)
                fail_msg("%s", ferry_error_message(&err));
}

static void link_to(struct guest *g, const char *target, const char *path)
{
        struct ferry_error err = {};

        if (guest_fs_symlink(g->fd, target, path, &err) < 0)
                fail_msg("%s", ferry_error_message(&err));
}

/* The guest file's content (free() it), or NULL when absent. */
static char *get(struct guest *g, const char *path)
{
        char *text = NULL;
        struct ferry_error err = {};
        int r = guest_fs_read(g->fd, path, &text, &err);

        if (r == -ENOENT)
                return NULL;
        if (r < 0)
                fail_msg("%s", ferry_error_message(&err));
        return text;
}

static mode_t mode_of(struct guest *g, const char *path)
{
        struct stat st;
        char full[256];

        snprintf(full, sizeof(full), "%s%s", g->dir, path);
        assert_int_equal(stat(full, &st), 0);
        return st.st_mode & 07777;
}

static void with_systemd(struct guest *g)
{
        put(g, "/usr/lib/systemd/systemd", "");
}

static void apply(struct guest *g, void (*fix)(const struct guest_fix_context *, struct guest_fix_result *),
                  enum guest_fix_status want, const char *message)
{
        struct guest_fix_result res = {};

        fix(&g->ctx, &res);
        if (res.status != want || !streq(res.message, message))
                fail_msg("Got %s '%s', want %s '%s'", guest_fix_status_to_string(res.status), res.message,
                         guest_fix_status_to_string(want), message);
}

/* ---- incus-agent --------------------------------------------------------- */

#define AGENT_APPLIED                                                                                           \
        "Installed /etc/systemd/system/incus-agent.service (enabled for multi-user.target), "                   \
        "/etc/ferry/incus-agent-setup and /etc/udev/rules.d/99-ferry-incus-agent.rules"

static void test_incus_agent_installs_the_unit_rule_and_setup_script_and_enables_the_unit(void **state)
{
        struct guest *g = *state;
        _cleanup_free_ char *unit = NULL, *rule = NULL, *setup_script = NULL;
        char target[256] = "", full[256];

        with_systemd(g);
        apply(g, guest_fix_incus_agent, GUEST_FIX_APPLIED, AGENT_APPLIED);
        unit = get(g, GUEST_AGENT_UNIT);
        rule = get(g, GUEST_AGENT_RULE);
        setup_script = get(g, GUEST_AGENT_SETUP);
        assert_non_null(strstr(unit, "ExecStartPre=/etc/ferry/incus-agent-setup\n"));
        assert_non_null(strstr(unit, "ExecStart=/run/incus_agent/incus-agent\n"));
        assert_non_null(strstr(unit, "WantedBy=multi-user.target\n"));
        assert_non_null(strstr(rule, "SYMLINK==\"virtio-ports/org.linuxcontainers.incus\""));
        assert_non_null(strstr(rule, "ENV{SYSTEMD_WANTS}+=\"incus-agent.service\""));
        assert_non_null(strstr(setup_script, "mount -t 9p config"));
        assert_non_null(strstr(setup_script, "mount -t virtiofs config"));
        assert_int_equal(mode_of(g, GUEST_AGENT_SETUP), 0755);
        assert_int_equal(mode_of(g, GUEST_AGENT_UNIT), 0644);
        snprintf(full, sizeof(full), "%s%s", g->dir, GUEST_AGENT_WANTS);
        assert_true(readlink(full, target, sizeof(target) - 1) > 0);
        assert_string_equal(target, GUEST_AGENT_UNIT);

        /* Again: the same files, no temporary leftovers. */
        apply(g, guest_fix_incus_agent, GUEST_FIX_APPLIED, AGENT_APPLIED);
        {
                char **left = NULL;
                struct ferry_error err = {};

                assert_int_equal(guest_fs_list(g->fd, "/etc/systemd/system", ".#*", &left, &err), 0);
                assert_null(left[0]);
                guest_fs_list_free(left);
        }
}

static void test_incus_agent_is_skipped_without_systemd(void **state)
{
        struct guest *g = *state;

        apply(g, guest_fix_incus_agent, GUEST_FIX_SKIPPED,
              "The guest has no systemd (/usr/lib/systemd/systemd): install incus-agent by hand");
        assert_null(get(g, GUEST_AGENT_UNIT));
}

static void test_incus_agent_leaves_a_packaged_agent_alone(void **state)
{
        struct guest *g = *state;

        with_systemd(g);
        put(g, "/usr/lib/systemd/system/incus-agent.service", "[Service]\n");
        apply(g, guest_fix_incus_agent, GUEST_FIX_SKIPPED,
              "The guest has its own incus-agent unit '/usr/lib/systemd/system/incus-agent.service'");
}

static void test_a_guest_symlink_cannot_send_writes_outside_the_guest(void **state)
{
        struct guest *g = *state;
        char full[256];

        with_systemd(g);
        /* /etc/ferry -> /tmp, absolute: resolved inside the guest, it is the guest's /tmp. */
        assert_int_equal(access("/tmp/incus-agent-setup", F_OK), -1);
        snprintf(full, sizeof(full), "%s/tmp", g->dir);
        assert_int_equal(mkdir(full, 0755), 0);
        snprintf(full, sizeof(full), "%s/etc", g->dir);
        assert_int_equal(mkdir(full, 0755), 0);
        snprintf(full, sizeof(full), "%s/etc/ferry", g->dir);
        assert_int_equal(symlink("/tmp", full), 0);
        apply(g, guest_fix_incus_agent, GUEST_FIX_APPLIED, AGENT_APPLIED);
        assert_int_equal(access("/tmp/incus-agent-setup", F_OK), -1);
        snprintf(full, sizeof(full), "%s/tmp/incus-agent-setup", g->dir);
        assert_int_equal(access(full, F_OK), 0);
}

/* ---- vmware-tools -------------------------------------------------------- */

static void test_vmware_tools_removes_their_wants_links(void **state)
{
        struct guest *g = *state;

        link_to(g, "/lib/systemd/system/open-vm-tools.service",
                "/etc/systemd/system/multi-user.target.wants/open-vm-tools.service");
        link_to(g, "/lib/systemd/system/vgauth.service", "/etc/systemd/system/open-vm-tools.service.requires/vgauth.service");
        link_to(g, "/lib/systemd/system/ssh.service", "/etc/systemd/system/multi-user.target.wants/ssh.service");
        link_to(g, "/lib/systemd/system/vmtoolsd.service", "/etc/systemd/system/graphical.target.wants/vmtoolsd.service");
        link_to(g, "../init.d/open-vm-tools", "/etc/rc2.d/S01open-vm-tools");
        apply(g, guest_fix_vmware_tools, GUEST_FIX_APPLIED,
              "Disabled VMware tools: removed /etc/systemd/system/graphical.target.wants/vmtoolsd.service, "
              "/etc/systemd/system/multi-user.target.wants/open-vm-tools.service, /etc/rc2.d/S01open-vm-tools");
        assert_true(guest_fs_is_symlink(g->fd, "/etc/systemd/system/multi-user.target.wants/ssh.service"));
        assert_false(guest_fs_is_symlink(g->fd, "/etc/systemd/system/multi-user.target.wants/open-vm-tools.service"));
        apply(g, guest_fix_vmware_tools, GUEST_FIX_SKIPPED, "open-vm-tools is not enabled");
}

/* ---- initramfs ----------------------------------------------------------- */

static void test_initramfs_adds_the_modules_for_initramfs_tools_and_runs_update_initramfs(void **state)
{
        struct guest *g = *state;
        _cleanup_free_ char *modules = NULL;

        put(g, "/usr/sbin/update-initramfs", "");
        put(g, "/etc/initramfs-tools/modules", "# modules\nvirtio_blk\n");
        apply(g, guest_fix_initramfs, GUEST_FIX_APPLIED,
              "Listed the virtio drivers in /etc/initramfs-tools/modules and regenerated the initramfs (every kernel)");
        modules = get(g, "/etc/initramfs-tools/modules");
        assert_string_equal(modules, "# modules\nvirtio_blk\n# Added by ferry: virtio drivers for Incus\n"
                                     "virtio_scsi\nvirtio_pci\nvirtio_net\n");
        assert_string_equal(strbuf_str(&g->runs), "/usr/sbin/update-initramfs -u -k all\n");

        /* Idempotent: the list stays as it is. */
        apply(g, guest_fix_initramfs, GUEST_FIX_APPLIED,
              "Listed the virtio drivers in /etc/initramfs-tools/modules and regenerated the initramfs (every kernel)");
        free(modules);
        modules = get(g, "/etc/initramfs-tools/modules");
        assert_string_equal(modules, "# modules\nvirtio_blk\n# Added by ferry: virtio drivers for Incus\n"
                                     "virtio_scsi\nvirtio_pci\nvirtio_net\n");
}

static void test_initramfs_writes_a_dracut_conf_and_runs_dracut_per_kernel(void **state)
{
        struct guest *g = *state;
        _cleanup_free_ char *conf = NULL;

        put(g, "/usr/bin/dracut", "");
        put(g, "/lib/modules/5.14.0-362.el9.x86_64/modules.dep", "");
        put(g, "/lib/modules/5.14.0-1.el9.x86_64/modules.dep", "");
        put(g, "/boot/initramfs-5.14.0-362.el9.x86_64.img", "");
        apply(g, guest_fix_initramfs, GUEST_FIX_APPLIED,
              "Listed the virtio drivers in /etc/dracut.conf.d/ferry-virtio.conf and regenerated the initramfs "
              "(/boot/initramfs-5.14.0-362.el9.x86_64.img)");
        conf = get(g, GUEST_DRACUT_CONF);
        assert_non_null(strstr(conf, "add_drivers+=\" virtio_scsi virtio_pci virtio_blk virtio_net \"\n"));
        assert_string_equal(strbuf_str(&g->runs), "/usr/bin/dracut --force /boot/initramfs-5.14.0-362.el9.x86_64.img "
                                                  "5.14.0-362.el9.x86_64\n");
}

static void test_a_failing_initramfs_tool_fails_the_fix_with_its_message(void **state)
{
        struct guest *g = *state;

        put(g, "/usr/sbin/update-initramfs", "");
        g->fail = "update-initramfs exited with status 1: E: /usr/share/initramfs-tools/hooks/x failed";
        apply(g, guest_fix_initramfs, GUEST_FIX_FAILED,
              "update-initramfs exited with status 1: E: /usr/share/initramfs-tools/hooks/x failed");
}

static void test_initramfs_is_skipped_without_dracut_or_initramfs_tools(void **state)
{
        struct guest *g = *state;

        apply(g, guest_fix_initramfs, GUEST_FIX_SKIPPED,
              "The guest has neither dracut nor initramfs-tools: make sure its initramfs has virtio_scsi, virtio_pci, "
              "virtio_blk and virtio_net");
        assert_string_equal(strbuf_str(&g->runs), "");
}

static void test_initramfs_fails_when_boot_is_a_separate_file_system(void **state)
{
        struct guest *g = *state;

        put(g, "/usr/bin/dracut", "");
        g->ctx.fstab = "UUID=1 / xfs defaults 0 0\nUUID=2 /boot xfs defaults 0 0\n";
        apply(g, guest_fix_initramfs, GUEST_FIX_FAILED,
              "Listed the virtio drivers in /etc/dracut.conf.d/ferry-virtio.conf, but /boot is a separate file "
              "system, which post-import does not mount yet: regenerate the initramfs by hand");
        assert_string_equal(strbuf_str(&g->runs), "");
}

/* ---- network-names ------------------------------------------------------- */

static char *link_file(struct guest *g, const char *name)
{
        char path[128];

        snprintf(path, sizeof(path), "/etc/systemd/network/10-ferry-%s.link", name);
        return get(g, path);
}

static void test_network_names_pins_a_netplan_name_to_the_nic(void **state)
{
        struct guest *g = *state;
        _cleanup_free_ char *link = NULL;

        with_systemd(g);
        put(g, "/etc/netplan/50-cloud-init.yaml",
            "network:\n  version: 2\n  ethernets:\n    ens192:\n      dhcp4: true\n");
        apply(g, guest_fix_network_names, GUEST_FIX_APPLIED, "Pinned ens192 to 00:50:56:01:00:01");
        link = link_file(g, "ens192");
        assert_non_null(strstr(link, "[Match]\nMACAddress=00:50:56:01:00:01\n\n[Link]\nName=ens192\n"));
}

static void test_network_names_prefers_the_name_configured_with_the_mac(void **state)
{
        struct guest *g = *state;
        _cleanup_free_ char *a = NULL, *b = NULL;

        with_systemd(g);
        g->ctx.n_macs = 2;
        put(g, "/etc/network/interfaces", "auto lo\niface lo inet loopback\n\nauto ens160\niface ens160 inet dhcp\n"
                                          "iface br0 inet dhcp\n");
        put(g, "/etc/sysconfig/network-scripts/ifcfg-ens192", "DEVICE=ens192\nHWADDR=\"00:50:56:01:00:01\"\n");
        apply(g, guest_fix_network_names, GUEST_FIX_APPLIED,
              "Pinned ens192 to 00:50:56:01:00:01, ens160 to 00:50:56:01:00:02");
        a = link_file(g, "ens192");
        b = link_file(g, "ens160");
        assert_non_null(strstr(a, "MACAddress=00:50:56:01:00:01\n"));
        assert_non_null(strstr(b, "MACAddress=00:50:56:01:00:02\n"));
        assert_null(link_file(g, "br0"));
}

static void test_network_names_reads_networkmanager_keyfiles_and_drops_stale_links(void **state)
{
        struct guest *g = *state;
        _cleanup_free_ char *link = NULL;

        with_systemd(g);
        put(g, "/etc/systemd/network/10-ferry-eth9.link", "[Link]\nName=eth9\n");
        put(g, "/etc/NetworkManager/system-connections/Wired.nmconnection",
            "[connection]\nid=Wired\ntype=ethernet\ninterface-name=eth0\n\n[ethernet]\nmac-address=00:50:56:01:00:01\n");
        apply(g, guest_fix_network_names, GUEST_FIX_APPLIED, "Pinned eth0 to 00:50:56:01:00:01");
        link = link_file(g, "eth0");
        assert_non_null(link);
        assert_null(link_file(g, "eth9"));
}

static void test_network_names_is_skipped_without_names_or_nics(void **state)
{
        struct guest *g = *state;

        with_systemd(g);
        apply(g, guest_fix_network_names, GUEST_FIX_SKIPPED,
              "No interface names in the guest's network configuration (netplan, ifupdown, NetworkManager, ifcfg)");
        g->ctx.n_macs = 0;
        apply(g, guest_fix_network_names, GUEST_FIX_SKIPPED, "The command lists no NICs");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(
                        test_incus_agent_installs_the_unit_rule_and_setup_script_and_enables_the_unit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_incus_agent_is_skipped_without_systemd, setup, teardown),
                cmocka_unit_test_setup_teardown(test_incus_agent_leaves_a_packaged_agent_alone, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_guest_symlink_cannot_send_writes_outside_the_guest, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_vmware_tools_removes_their_wants_links, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_initramfs_adds_the_modules_for_initramfs_tools_and_runs_update_initramfs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_initramfs_writes_a_dracut_conf_and_runs_dracut_per_kernel, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_a_failing_initramfs_tool_fails_the_fix_with_its_message, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_initramfs_is_skipped_without_dracut_or_initramfs_tools, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_initramfs_fails_when_boot_is_a_separate_file_system, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_network_names_pins_a_netplan_name_to_the_nic, setup, teardown),
                cmocka_unit_test_setup_teardown(test_network_names_prefers_the_name_configured_with_the_mac, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_network_names_reads_networkmanager_keyfiles_and_drops_stale_links,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_network_names_is_skipped_without_names_or_nics, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
