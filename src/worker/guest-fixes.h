/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The changes post-import makes to a Linux guest so that it boots and
 * behaves in Incus, each on a root directory (a mounted guest, or a tree a
 * test builds).  Each fix is independent and idempotent: running it again
 * gives the same guest.  docs/guest-fixes.md describes what each changes.
 *
 *   incus-agent    a systemd unit, its setup script and a udev rule that
 *                  start Incus's agent from the instance's config drive
 *   vmware-tools   open-vm-tools/vmtoolsd disabled (their wants links removed)
 *   initramfs      virtio_scsi, virtio_pci, virtio_blk, virtio_net in the
 *                  initramfs (dracut or initramfs-tools), regenerated
 *   network-names  systemd .link files that keep the configured interface
 *                  names on the NICs' MACs
 */
#ifndef FERRY_WORKER_GUEST_FIXES_H
#define FERRY_WORKER_GUEST_FIXES_H

#include <errno.h>
#include <stddef.h>

#include "common/error.h"

enum guest_fix_status {
        GUEST_FIX_APPLIED,
        GUEST_FIX_SKIPPED,
        GUEST_FIX_FAILED,
        _GUEST_FIX_STATUS_MAX,
        _GUEST_FIX_STATUS_INVALID = -EINVAL,
};

/* "applied", "skipped", "failed" */
const char *guest_fix_status_to_string(enum guest_fix_status s);

/* Run argv inside the guest (chrooted at root, with /proc, /sys and /dev):
 * 0, or a negative errno with err saying what failed. */
typedef int (*guest_run_fn)(const char *root, const char *const argv[], void *userdata, struct ferry_error *err);

struct guest_fix_context {
        const char *root;               /* the guest's root directory */
        int root_fd;                    /* open on root (O_DIRECTORY) */
        const char *const *macs;        /* the VM's NICs, "00:50:56:01:00:01" (lower case), in order */
        size_t n_macs;
        guest_run_fn run;               /* how to run the guest's own tools; NULL: never run them */
        void *userdata;
        const char *fstab;              /* the guest's /etc/fstab, or NULL */
};

struct guest_fix_result {
        enum guest_fix_status status;
        char message[FERRY_ERROR_MESSAGE_MAX];
};

struct guest_fix {
        const char *name;               /* "incus-agent", ... */
        void (*apply)(const struct guest_fix_context *ctx, struct guest_fix_result *ret);
};

/* The fixes, in the order post-import applies them. */
extern const struct guest_fix guest_fixes[];
extern const size_t guest_fixes_count;

void guest_fix_incus_agent(const struct guest_fix_context *ctx, struct guest_fix_result *ret);
void guest_fix_vmware_tools(const struct guest_fix_context *ctx, struct guest_fix_result *ret);
void guest_fix_initramfs(const struct guest_fix_context *ctx, struct guest_fix_result *ret);
void guest_fix_network_names(const struct guest_fix_context *ctx, struct guest_fix_result *ret);

/* The files incus-agent installs (guest paths). */
#define GUEST_AGENT_UNIT "/etc/systemd/system/incus-agent.service"
#define GUEST_AGENT_SETUP "/etc/ferry/incus-agent-setup"
#define GUEST_AGENT_RULE "/etc/udev/rules.d/99-ferry-incus-agent.rules"
#define GUEST_AGENT_WANTS "/etc/systemd/system/multi-user.target.wants/incus-agent.service"
#define GUEST_DRACUT_CONF "/etc/dracut.conf.d/ferry-virtio.conf"
#define GUEST_INITRAMFS_TOOLS_MODULES "/etc/initramfs-tools/modules"

#endif
