/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker's post-import command: find the guest's root file system
 * on the imported disks (partitions.h, fsprobe.h), mount it, apply the
 * guest fixes (guest-fixes.h), unmount it.  Mounts are loop mounts at the
 * partition's offset (/usr/bin/mount -o loop,offset=N,sizelimit=M) on a
 * private temporary directory, and are undone on every path.  Needs
 * root and /dev/loop-control.
 */
#ifndef FERRY_WORKER_POST_IMPORT_H
#define FERRY_WORKER_POST_IMPORT_H

#include <jansson.h>

#include "common/error.h"
#include "model/worker-command.h"

struct post_import_options {
        const char *tmp_dir;            /* where the private mount directory goes (default $TMPDIR or /tmp) */
        /* Called before each step with a message ("Applying fix 'initramfs'"), may be NULL. */
        void (*progress)(const char *message, void *userdata);
        void *userdata;
};

/*
 * Run the post-import command c.  On success *ret_result is
 * {"root": {"disk", "partition", "filesystem", "os"}, "fixes": [{"name",
 * "status", "message"}]} ("root" is null for Windows, whose fixes are all
 * skipped).  When a fix fails, the others still run, the file system is
 * unmounted, and the error is "Fix 'initramfs': <why>", with
 * *ret_result set all the same (the caller owns it on both paths).  No
 * root: "No Linux root filesystem found on disks disk0, disk1: looked at
 * 3 partitions (ext4, xfs, vfat)".
 */
int post_import_run(const struct worker_command *c, const struct post_import_options *o, json_t **ret_result,
                    struct ferry_error *err);

#endif
