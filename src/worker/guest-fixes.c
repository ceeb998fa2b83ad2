/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/yaml.h"
#include "worker/guest-fixes.h"
#include "worker/guest-fs.h"

static const char *const guest_fix_status_table[_GUEST_FIX_STATUS_MAX] = {
        [GUEST_FIX_APPLIED] = "applied",
        [GUEST_FIX_SKIPPED] = "skipped",
        [GUEST_FIX_FAILED] = "failed",
};

const char *guest_fix_status_to_string(enum guest_fix_status s)
{
        return (int) s >= 0 && s < _GUEST_FIX_STATUS_MAX ? guest_fix_status_table[s] : NULL;
}

const struct guest_fix guest_fixes[] = {
        { "incus-agent", guest_fix_incus_agent },
        { "vmware-tools", guest_fix_vmware_tools },
        { "initramfs", guest_fix_initramfs },
        { "network-names", guest_fix_network_names },
};
const size_t guest_fixes_count = ELEMENTSOF(guest_fixes);

static void set_result(struct guest_fix_result *ret, enum guest_fix_status status, const char *fmt, ...)
        _printf_(3, 4);
static void set_result(struct guest_fix_result *ret, enum guest_fix_status status, const char *fmt, ...)
{
        struct ferry_error e = {};
        va_list ap;

        /* ferry_error_setv cuts long messages at a character boundary. */
        va_start(ap, fmt);
        (void) ferry_error_setv(&e, -EIO, fmt, ap);
        va_end(ap);
        ret->status = status;
        snprintf(ret->message, sizeof(ret->message), "%s", e.message);
}

static void set_failed(struct guest_fix_result *ret, const struct ferry_error *err)
{
        set_result(ret, GUEST_FIX_FAILED, "%s", ferry_error_message(err));
}

static const char *first_existing(int root_fd, const char *const *paths)
{
        for (; *paths; paths++)
                if (guest_fs_exists(root_fd, *paths))
                        return *paths;
        return NULL;
}

static bool guest_has_systemd(int root_fd)
{
        static const char *const paths[] = { "/usr/lib/systemd/systemd", "/lib/systemd/systemd", NULL };

        return first_existing(root_fd, paths) != NULL;
}

/* ---- incus-agent --------------------------------------------------------- */

static const char agent_unit[] =
        "# Written by ferry when this VM was migrated to Incus.\n"
        "# Starts the Incus agent from the instance's agent config drive.\n"
        "[Unit]\n"
        "Description=Incus agent (installed by ferry)\n"
        "Documentation=https://linuxcontainers.org/incus/docs/main/\n"
        "ConditionPathExists=/dev/virtio-ports/org.linuxcontainers.incus\n"
        "Before=multi-user.target cloud-init.target cloud-init.service cloud-init-local.service\n"
        "DefaultDependencies=no\n"
        "\n"
        "[Service]\n"
        "Type=notify\n"
        "WorkingDirectory=-/run/incus_agent\n"
        "ExecStartPre=" GUEST_AGENT_SETUP "\n"
        "ExecStart=/run/incus_agent/incus-agent\n"
        "Restart=on-failure\n"
        "RestartSec=5s\n"
        "StartLimitInterval=60\n"
        "StartLimitBurst=10\n"
        "\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n";

static const char agent_rule[] =
        "# Written by ferry: start the Incus agent when Incus's virtio-serial port appears.\n"
        "SYMLINK==\"virtio-ports/org.linuxcontainers.incus\", TAG+=\"systemd\", "
        "ENV{SYSTEMD_WANTS}+=\"incus-agent.service\"\n";

/* Mount the config share (virtiofs or 9p, tag "config"; or the agent
 * CD-ROM), copy it to a private tmpfs, unmount it. */
static const char agent_setup[] =
        "#!/bin/sh\n"
        "# Written by ferry: copies the Incus agent from the instance's config drive\n"
        "# to /run/incus_agent, for incus-agent.service.\n"
        "set -eu\n"
        "dir=/run/incus_agent\n"
        "share=/run/incus_agent.config\n"
        "\n"
        "give_up() {\n"
        "    if [ -x \"$dir/incus-agent\" ]; then\n"
        "        echo \"$1; using the agent copied before\"\n"
        "        exit 0\n"
        "    fi\n"
        "    echo \"$1\" >&2\n"
        "    exit 1\n"
        "}\n"
        "\n"
        "mkdir -p \"$share\"\n"
        "if ! mount -t virtiofs config \"$share\" 2>/dev/null; then\n"
        "    modprobe 9pnet_virtio 2>/dev/null || true\n"
        "    if ! mount -t 9p config \"$share\" -o access=0,trans=virtio,size=1048576 2>/dev/null; then\n"
        "        mount -o ro /dev/disk/by-label/incus-agent \"$share\" 2>/dev/null ||\n"
        "            give_up \"Cannot mount the Incus config drive (virtiofs or 9p 'config', or the agent CD-ROM)\"\n"
        "    fi\n"
        "fi\n"
        "\n"
        "umount -l \"$dir\" 2>/dev/null || true\n"
        "mkdir -p \"$dir\"\n"
        "mount -t tmpfs tmpfs \"$dir\" -o mode=0700,size=50M\n"
        "cp -Ra \"$share\"/. \"$dir\"/\n"
        "umount \"$share\"\n"
        "rmdir \"$share\"\n"
        "chown -R root:root \"$dir\"\n"
        "restorecon -R \"$dir\" 2>/dev/null || true\n"
        "[ -x \"$dir/incus-agent\" ] || give_up \"The Incus config drive has no incus-agent\"\n";

void guest_fix_incus_agent(const struct guest_fix_context *ctx, struct guest_fix_result *ret)
{
        static const char *const packaged[] = { "/usr/lib/systemd/system/incus-agent.service",
                                                "/lib/systemd/system/incus-agent.service", NULL };
        struct ferry_error err = {};
        const char *own;
        int r;

        if (!guest_has_systemd(ctx->root_fd))
                return set_result(ret, GUEST_FIX_SKIPPED,
                                  "The guest has no systemd (/usr/lib/systemd/systemd): install incus-agent by hand");
        own = first_existing(ctx->root_fd, packaged);
        if (own)
                return set_result(ret, GUEST_FIX_SKIPPED, "The guest has its own incus-agent unit '%s'", own);

        r = guest_fs_write_atomic(ctx->root_fd, GUEST_AGENT_SETUP, agent_setup, 0755, &err);
        if (r >= 0)
                r = guest_fs_write_atomic(ctx->root_fd, GUEST_AGENT_UNIT, agent_unit, 0644, &err);
        if (r >= 0)
                r = guest_fs_write_atomic(ctx->root_fd, GUEST_AGENT_RULE, agent_rule, 0644, &err);
        if (r >= 0)
                r = guest_fs_symlink(ctx->root_fd, GUEST_AGENT_UNIT, GUEST_AGENT_WANTS, &err);
        if (r < 0)
                return set_failed(ret, &err);
        set_result(ret, GUEST_FIX_APPLIED,
                   "Installed " GUEST_AGENT_UNIT " (enabled for multi-user.target), " GUEST_AGENT_SETUP
                   " and " GUEST_AGENT_RULE);
}

/* ---- vmware-tools -------------------------------------------------------- */

static bool is_vmware_tools_unit(const char *name)
{
        static const char *const units[] = { "open-vm-tools.service", "vmtoolsd.service", "vgauth.service",
                                             "vgauthd.service", "vmware-tools.service", "vmware-vmblock-fuse.service",
                                             "run-vmblock\\x2dfuse.mount", NULL };

        for (size_t i = 0; units[i]; i++)
                if (streq(name, units[i]))
                        return true;
        return false;
}

/* Remove one link, adding it to the list of removed ones. */
static int remove_link(int root_fd, const char *path, struct strbuf *removed, struct ferry_error *err)
{
        int r = guest_fs_unlink(root_fd, path, err);

        if (r > 0 && strbuf_appendf(removed, "%s%s", removed->len ? ", " : "", path) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return r;
}

void guest_fix_vmware_tools(const struct guest_fix_context *ctx, struct guest_fix_result *ret)
{
        static const char *const sysv_patterns[] = { "S*open-vm-tools", "S*vmware-tools", "S*vmtoolsd", NULL };
        _cleanup_(strbuf_done) struct strbuf removed = STRBUF_INIT;
        struct ferry_error err = {};
        char **wants = NULL;
        int r;

        /* systemd: every .wants directory of /etc/systemd/system. */
        r = guest_fs_list(ctx->root_fd, "/etc/systemd/system", "*.wants", &wants, &err);
        if (r < 0)
                return set_failed(ret, &err);
        for (size_t i = 0; wants[i] && r >= 0; i++) {
                _cleanup_free_ char *dir = strjoin("/etc/systemd/system/", wants[i], NULL);
                char **units = NULL;

                if (!dir) {
                        r = ferry_error_set(&err, -ENOMEM, "Out of memory");
                        break;
                }
                r = guest_fs_list(ctx->root_fd, dir, "*", &units, &err);
                for (size_t j = 0; r >= 0 && units[j]; j++) {
                        _cleanup_free_ char *path = NULL;

                        if (!is_vmware_tools_unit(units[j]))
                                continue;
                        path = strjoin(dir, "/", units[j], NULL);
                        r = path ? remove_link(ctx->root_fd, path, &removed, &err)
                                 : ferry_error_set(&err, -ENOMEM, "Out of memory");
                }
                guest_fs_list_free(units);
        }
        guest_fs_list_free(wants);

        /* SysV init: the start links of the rc directories. */
        for (const char *rc = "0123456S"; r >= 0 && *rc; rc++) {
                char dir[16];

                snprintf(dir, sizeof(dir), "/etc/rc%c.d", *rc);
                for (size_t p = 0; r >= 0 && sysv_patterns[p]; p++) {
                        char **links = NULL;

                        r = guest_fs_list(ctx->root_fd, dir, sysv_patterns[p], &links, &err);
                        for (size_t j = 0; r >= 0 && links[j]; j++) {
                                _cleanup_free_ char *path = strjoin(dir, "/", links[j], NULL);

                                r = path ? remove_link(ctx->root_fd, path, &removed, &err)
                                         : ferry_error_set(&err, -ENOMEM, "Out of memory");
                        }
                        guest_fs_list_free(links);
                }
        }
        if (r < 0)
                return set_failed(ret, &err);
        if (removed.len == 0)
                return set_result(ret, GUEST_FIX_SKIPPED, "open-vm-tools is not enabled");
        set_result(ret, GUEST_FIX_APPLIED, "Disabled VMware tools: removed %s", strbuf_str(&removed));
}

/* ---- initramfs ----------------------------------------------------------- */

static const char *const virtio_modules[] = { "virtio_scsi", "virtio_pci", "virtio_blk", "virtio_net", NULL };

static const char dracut_conf[] = "# Written by ferry: the virtio drivers a VM needs to boot in Incus.\n"
                                  "add_drivers+=\" virtio_scsi virtio_pci virtio_blk virtio_net \"\n";

/* Does /etc/fstab mount something on /boot?  Then /boot is not on the root. */
static bool fstab_has_boot(const char *fstab)
{
        _cleanup_free_ char *copy = fstab ? strdup(fstab) : NULL;
        char *save = NULL;

        if (!copy)
                return false;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char spec[256], file[256];

                if (line[strspn(line, " \t")] == '#')
                        continue;
                if (sscanf(line, "%255s %255s", spec, file) == 2 && streq(file, "/boot"))
                        return true;
        }
        return false;
}

/* Add the modules initramfs-tools's list lacks: 1 when it changed. */
static int initramfs_tools_add_modules(int root_fd, struct ferry_error *err)
{
        _cleanup_(strbuf_done) struct strbuf text = STRBUF_INIT;
        _cleanup_free_ char *old = NULL;
        bool changed = false;
        int r;

        r = guest_fs_read(root_fd, GUEST_INITRAMFS_TOOLS_MODULES, &old, err);
        if (r < 0 && r != -ENOENT)
                return r;
        if (strbuf_append(&text, old ?: "# List of modules to include in the initramfs, one a line.\n") < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (text.len > 0 && strbuf_str(&text)[text.len - 1] != '\n' && strbuf_append(&text, "\n") < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        for (size_t i = 0; virtio_modules[i]; i++) {
                bool present = false;
                _cleanup_free_ char *copy = old ? strdup(old) : NULL;
                char *save = NULL;

                for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
                        char word[64];

                        if (sscanf(line, "%63s", word) == 1 && streq(word, virtio_modules[i]))
                                present = true;
                }
                if (present)
                        continue;
                if ((!changed && strbuf_append(&text, "# Added by ferry: virtio drivers for Incus\n") < 0) ||
                    strbuf_appendf(&text, "%s\n", virtio_modules[i]) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                changed = true;
        }
        if (!changed)
                return 0;
        r = guest_fs_write_atomic(root_fd, GUEST_INITRAMFS_TOOLS_MODULES, strbuf_str(&text), 0644, err);
        return r < 0 ? r : 1;
}

/* dracut: one run per installed kernel that has an initramfs in /boot. */
static int dracut_regenerate(const struct guest_fix_context *ctx, const char *tool, struct strbuf *done,
                             struct ferry_error *err)
{
        char **kernels = NULL;
        int r;

        r = guest_fs_list(ctx->root_fd, "/lib/modules", "*", &kernels, err);
        if (r < 0)
                return r;
        for (size_t i = 0; kernels[i] && r >= 0; i++) {
                _cleanup_free_ char *rhel = strjoin("/boot/initramfs-", kernels[i], ".img", NULL),
                                    *suse = strjoin("/boot/initrd-", kernels[i], NULL);
                const char *image;

                if (!rhel || !suse) {
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
                        break;
                }
                image = guest_fs_exists(ctx->root_fd, rhel) ? rhel : guest_fs_exists(ctx->root_fd, suse) ? suse : NULL;
                if (!image)
                        continue;
                r = ctx->run(ctx->root, (const char *const[]) { tool, "--force", image, kernels[i], NULL },
                             ctx->userdata, err);
                if (r >= 0 && strbuf_appendf(done, "%s%s", done->len ? ", " : "", image) < 0)
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        guest_fs_list_free(kernels);
        return r;
}

void guest_fix_initramfs(const struct guest_fix_context *ctx, struct guest_fix_result *ret)
{
        static const char *const dracut_tools[] = { "/usr/bin/dracut", "/usr/sbin/dracut", "/sbin/dracut",
                                                    "/bin/dracut", NULL };
        static const char *const update_tools[] = { "/usr/sbin/update-initramfs", "/sbin/update-initramfs", NULL };
        _cleanup_(strbuf_done) struct strbuf done = STRBUF_INIT;
        const char *dracut = first_existing(ctx->root_fd, dracut_tools);
        const char *update = first_existing(ctx->root_fd, update_tools);
        struct ferry_error err = {};
        const char *tool, *conf, *tool_name;
        int r;

        if (!dracut && !update && !guest_fs_exists(ctx->root_fd, "/etc/dracut.conf.d") &&
            !guest_fs_exists(ctx->root_fd, "/etc/initramfs-tools"))
                return set_result(ret, GUEST_FIX_SKIPPED,
                                  "The guest has neither dracut nor initramfs-tools: make sure its initramfs has "
                                  "virtio_scsi, virtio_pci, virtio_blk and virtio_net");

        if (dracut || (!update && guest_fs_exists(ctx->root_fd, "/etc/dracut.conf.d"))) {
                tool = dracut;
                tool_name = "dracut";
                conf = GUEST_DRACUT_CONF;
                r = guest_fs_write_atomic(ctx->root_fd, GUEST_DRACUT_CONF, dracut_conf, 0644, &err);
        } else {
                tool = update;
                tool_name = "update-initramfs";
                conf = GUEST_INITRAMFS_TOOLS_MODULES;
                r = initramfs_tools_add_modules(ctx->root_fd, &err);
        }
        if (r < 0)
                return set_failed(ret, &err);

        if (!tool)
                return set_result(ret, GUEST_FIX_APPLIED,
                                  "Listed the virtio drivers in %s; the guest has no %s, so the initramfs was not "
                                  "regenerated",
                                  conf, tool_name);
        if (fstab_has_boot(ctx->fstab))
                return set_result(ret, GUEST_FIX_FAILED,
                                  "Listed the virtio drivers in %s, but /boot is a separate file system, which "
                                  "post-import does not mount yet: regenerate the initramfs by hand",
                                  conf);
        if (!ctx->run)
                return set_result(ret, GUEST_FIX_APPLIED,
                                  "Listed the virtio drivers in %s; running guest tools is off, so the initramfs "
                                  "was not regenerated",
                                  conf);

        if (streq(tool_name, "dracut")) {
                r = dracut_regenerate(ctx, tool, &done, &err);
                if (r >= 0 && done.len == 0)
                        return set_result(ret, GUEST_FIX_FAILED,
                                          "Listed the virtio drivers in %s, but found no initramfs in /boot for the "
                                          "kernels in /lib/modules",
                                          conf);
        } else {
                r = ctx->run(ctx->root, (const char *const[]) { tool, "-u", "-k", "all", NULL }, ctx->userdata, &err);
                if (r >= 0 && strbuf_append(&done, "every kernel") < 0)
                        r = ferry_error_set(&err, -ENOMEM, "Out of memory");
        }
        if (r < 0)
                return set_failed(ret, &err);
        set_result(ret, GUEST_FIX_APPLIED, "Listed the virtio drivers in %s and regenerated the initramfs (%s)", conf,
                   strbuf_str(&done));
}

/* ---- network-names ------------------------------------------------------- */

struct net_name {
        char name[16];
        char mac[18];           /* "" when the config does not say */
        char *source;           /* the file that names it */
};

struct net_names {
        struct net_name *v;
        size_t n;
};

static void net_names_done(struct net_names *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i].source);
        free(l->v);
}

/* Names of NICs as configurations use them; virtual devices (bridges,
 * bonds, VLANs, aliases) and loopback are not NICs. */
static bool nic_name_valid(const char *s)
{
        static const char *const virtual_prefixes[] = { "lo", "br", "bond", "team", "vlan", "virbr", "docker", "veth",
                                                        "tun", "tap", "wg", "vmbr", "ovs", NULL };
        size_t len = strlen(s);

        if (len == 0 || len > 15 || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != len)
                return false;
        for (size_t i = 0; virtual_prefixes[i]; i++)
                if (startswith(s, virtual_prefixes[i]))
                        return false;
        return true;
}

/* "00:50:56:AB:CD:EF" in lower case, or "" when it is not a MAC. */
static void mac_normalize(const char *s, char out[static 18])
{
        out[0] = '\0';
        if (!s || strlen(s) != 17)
                return;
        for (size_t i = 0; i < 17; i++) {
                char c = s[i];

                if (i % 3 == 2 ? c != ':' : !strchr("0123456789abcdefABCDEF", c)) {
                        out[0] = '\0';
                        return;
                }
                out[i] = (char) (c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
        }
        out[17] = '\0';
}

static int net_names_add(struct net_names *l, const char *name, const char *mac, const char *source)
{
        struct net_name *v;

        if (!nic_name_valid(name))
                return 0;
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->v[i].name, name)) {
                        if (!l->v[i].mac[0] && mac)
                                mac_normalize(mac, l->v[i].mac);
                        return 0;
                }
        v = realloc(l->v, (l->n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        l->v = v;
        v[l->n] = (struct net_name) {};
        snprintf(v[l->n].name, sizeof(v[l->n].name), "%s", name);
        mac_normalize(mac, v[l->n].mac);
        v[l->n].source = strdup(source);
        if (!v[l->n].source)
                return -ENOMEM;
        l->n++;
        return 0;
}

/* Each file in dir matching pattern, read, handed to parse. */
static int for_each_config(int root_fd, const char *dir, const char *pattern, struct net_names *l,
                           int (*parse)(const char *text, const char *path, struct net_names *l),
                           struct ferry_error *err)
{
        char **files = NULL;
        int r;

        r = guest_fs_list(root_fd, dir, pattern, &files, err);
        if (r < 0)
                return r;
        for (size_t i = 0; files[i] && r >= 0; i++) {
                _cleanup_free_ char *path = strjoin(dir, "/", files[i], NULL), *text = NULL;

                if (!path) {
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
                        break;
                }
                r = guest_fs_read(root_fd, path, &text, err);
                if (r == -ENOENT || r == -EINVAL) {
                        r = 0;  /* a directory or a dangling link: not a config file */
                        continue;
                }
                if (r >= 0 && parse(text, path, l) < 0)
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        guest_fs_list_free(files);
        return r;
}

/* netplan: network.ethernets.<id>, named <id> or set-name, match.macaddress. */
static int parse_netplan(const char *text, const char *path, struct net_names *l)
{
        _cleanup_json_ json_t *doc = NULL;
        struct ferry_error err = {};
        const char *id;
        json_t *eth;

        if (yaml_parse_to_json(text, strlen(text), &doc, &err) < 0) {
                log_debug("Ignoring '%s': %s", path, ferry_error_message(&err));
                return 0;
        }
        json_object_foreach(json_object_get(json_object_get(doc, "network"), "ethernets"), id, eth) {
                json_t *match = json_object_get(eth, "match");
                const char *set_name = json_string_value(json_object_get(eth, "set-name"));
                const char *mac = json_string_value(json_object_get(match, "macaddress"));

                /* With a match, the id is only a label: the name is set-name's. */
                if (match && !set_name)
                        continue;
                if (net_names_add(l, set_name ?: id, mac, path) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* ifupdown: "iface NAME inet ..." */
static int parse_ifupdown(const char *text, const char *path, struct net_names *l)
{
        _cleanup_free_ char *copy = strdup(text);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char name[64];

                if (sscanf(line, " iface %63s", name) == 1 && net_names_add(l, name, NULL, path) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* A "key=value" or KEY="value" line's value, unquoted, into out. */
static bool line_value(const char *line, const char *key, char *out, size_t size)
{
        size_t klen = strlen(key), len;
        const char *v;

        line += strspn(line, " \t");
        if (strncmp(line, key, klen) != 0 || line[klen] != '=')
                return false;
        v = line + klen + 1;
        if (*v == '"' || *v == '\'')
                v++;
        len = strcspn(v, "\"' \t\r#");
        snprintf(out, size, "%.*s", (int) len, v);
        return true;
}

/* NetworkManager keyfile: [connection] interface-name=, type=; [ethernet] mac-address=. */
static int parse_nm_keyfile(const char *text, const char *path, struct net_names *l)
{
        _cleanup_free_ char *copy = strdup(text);
        char name[64] = "", mac[64] = "", type[64] = "", *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                (void) (line_value(line, "interface-name", name, sizeof(name)) ||
                        line_value(line, "mac-address", mac, sizeof(mac)) || line_value(line, "type", type, sizeof(type)));
        }
        if (!name[0] || (type[0] && !streq(type, "ethernet") && !streq(type, "802-3-ethernet")))
                return 0;
        return net_names_add(l, name, mac[0] ? mac : NULL, path);
}

/* RHEL/SUSE ifcfg-NAME: DEVICE= (else the file's name), HWADDR=, TYPE=. */
static int parse_ifcfg(const char *text, const char *path, struct net_names *l)
{
        _cleanup_free_ char *copy = strdup(text);
        char name[64] = "", mac[64] = "", type[64] = "", *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                (void) (line_value(line, "DEVICE", name, sizeof(name)) || line_value(line, "HWADDR", mac, sizeof(mac)) ||
                        line_value(line, "TYPE", type, sizeof(type)));
        }
        if (type[0] && !streq(type, "Ethernet"))
                return 0;
        if (!name[0])
                snprintf(name, sizeof(name), "%s", strrchr(path, '/') + strlen("/ifcfg-"));
        return net_names_add(l, name, mac[0] ? mac : NULL, path);
}

static int collect_net_names(int root_fd, struct net_names *l, struct ferry_error *err)
{
        int r;

        r = for_each_config(root_fd, "/etc/netplan", "*.yaml", l, parse_netplan, err);
        if (r >= 0 && guest_fs_exists(root_fd, "/etc/network/interfaces")) {
                _cleanup_free_ char *text = NULL;

                r = guest_fs_read(root_fd, "/etc/network/interfaces", &text, err);
                if (r >= 0 && parse_ifupdown(text, "/etc/network/interfaces", l) < 0)
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        if (r >= 0)
                r = for_each_config(root_fd, "/etc/network/interfaces.d", "*", l, parse_ifupdown, err);
        if (r >= 0)
                r = for_each_config(root_fd, "/etc/NetworkManager/system-connections", "*", l, parse_nm_keyfile, err);
        if (r >= 0)
                r = for_each_config(root_fd, "/etc/sysconfig/network-scripts", "ifcfg-*", l, parse_ifcfg, err);
        if (r >= 0)
                r = for_each_config(root_fd, "/etc/sysconfig/network", "ifcfg-*", l, parse_ifcfg, err);
        return r;
}

void guest_fix_network_names(const struct guest_fix_context *ctx, struct guest_fix_result *ret)
{
        _cleanup_(strbuf_done) struct strbuf pinned = STRBUF_INIT;
        _cleanup_free_ const char **name_of_mac = NULL;  /* per NIC: the name pinned to it */
        _cleanup_free_ bool *used = NULL;
        struct net_names names = {};
        struct ferry_error err = {};
        char **old = NULL;
        size_t next = 0, n_pinned = 0, n_unmatched = 0;
        int r;

        if (ctx->n_macs == 0)
                return set_result(ret, GUEST_FIX_SKIPPED, "The command lists no NICs");
        if (!guest_has_systemd(ctx->root_fd))
                return set_result(ret, GUEST_FIX_SKIPPED,
                                  "The guest has no systemd, whose udev reads the .link files that pin names");
        r = collect_net_names(ctx->root_fd, &names, &err);
        if (r < 0) {
                net_names_done(&names);
                return set_failed(ret, &err);
        }
        if (names.n == 0) {
                net_names_done(&names);
                return set_result(ret, GUEST_FIX_SKIPPED,
                                  "No interface names in the guest's network configuration (netplan, ifupdown, "
                                  "NetworkManager, ifcfg)");
        }

        name_of_mac = calloc(ctx->n_macs, sizeof(*name_of_mac));
        used = calloc(names.n, sizeof(*used));
        if (!name_of_mac || !used) {
                net_names_done(&names);
                return set_result(ret, GUEST_FIX_FAILED, "Out of memory");
        }
        /* First the names whose configuration has the NIC's MAC... */
        for (size_t m = 0; m < ctx->n_macs; m++)
                for (size_t i = 0; i < names.n && !name_of_mac[m]; i++)
                        if (!used[i] && streq(names.v[i].mac, ctx->macs[m])) {
                                name_of_mac[m] = names.v[i].name;
                                used[i] = true;
                        }
        /* ...then the others in order, to the NICs left in order; a name
         * configured for another MAC is not handed to a different NIC. */
        for (size_t m = 0; m < ctx->n_macs; m++) {
                if (name_of_mac[m])
                        continue;
                while (next < names.n && (used[next] || names.v[next].mac[0]))
                        next++;
                if (next == names.n)
                        break;
                name_of_mac[m] = names.v[next].name;
                used[next] = true;
        }

        for (size_t m = 0; m < ctx->n_macs && r >= 0; m++) {
                _cleanup_free_ char *path = NULL, *text = NULL;

                if (!name_of_mac[m])
                        continue;
                if (asprintf(&path, "/etc/systemd/network/10-ferry-%s.link", name_of_mac[m]) < 0 ||
                    asprintf(&text,
                             "# Written by ferry: keeps the name this NIC had before the migration to Incus.\n"
                             "[Match]\nMACAddress=%s\n\n[Link]\nName=%s\n",
                             ctx->macs[m], name_of_mac[m]) < 0) {
                        path = text = NULL;
                        r = ferry_error_set(&err, -ENOMEM, "Out of memory");
                        break;
                }
                r = guest_fs_write_atomic(ctx->root_fd, path, text, 0644, &err);
                if (r >= 0 && strbuf_appendf(&pinned, "%s%s to %s", pinned.len ? ", " : "", name_of_mac[m],
                                             ctx->macs[m]) < 0)
                        r = ferry_error_set(&err, -ENOMEM, "Out of memory");
                n_pinned++;
        }
        /* .link files of an earlier run that name interfaces no longer pinned. */
        if (r >= 0)
                r = guest_fs_list(ctx->root_fd, "/etc/systemd/network", "10-ferry-*.link", &old, &err);
        for (size_t i = 0; r >= 0 && old[i]; i++) {
                bool keep = false;

                for (size_t m = 0; m < ctx->n_macs; m++) {
                        _cleanup_free_ char *want = name_of_mac[m] ? strjoin("10-ferry-", name_of_mac[m], ".link", NULL)
                                                                   : NULL;

                        if (want && streq(want, old[i]))
                                keep = true;
                }
                if (!keep) {
                        _cleanup_free_ char *path = strjoin("/etc/systemd/network/", old[i], NULL);

                        r = path ? guest_fs_unlink(ctx->root_fd, path, &err) : ferry_error_set(&err, -ENOMEM, "Out of memory");
                }
        }
        guest_fs_list_free(old);
        for (size_t i = 0; i < names.n; i++)
                if (!used[i])
                        n_unmatched++;
        net_names_done(&names);
        if (r < 0)
                return set_failed(ret, &err);
        if (n_pinned == 0)
                return set_result(ret, GUEST_FIX_SKIPPED,
                                  "The configured interface names are all for other MACs than the NICs'");
        set_result(ret, GUEST_FIX_APPLIED, "Pinned %s%s", strbuf_str(&pinned),
                   n_unmatched ? " (configured names without a NIC are left alone)" : "");
}
