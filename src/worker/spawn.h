/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Run a program to its end: mount, umount, and a guest's own initramfs
 * tool inside a chroot.  argv[0] is an absolute path (no PATH lookup);
 * the environment is a fixed minimal one; standard input is /dev/null,
 * and standard output and error are kept (the last 4 KiB) for the error
 * message.
 */
#ifndef FERRY_WORKER_SPAWN_H
#define FERRY_WORKER_SPAWN_H

#include "common/error.h"

struct spawn_options {
        const char *root;       /* chroot() here before exec, or NULL */
        const char *name;       /* how errors name the program (default: argv[0]'s base name) */
};

/*
 * 0 when the program exits with status 0.  Errors: "Cannot run
 * '/usr/bin/mount': <why>", "mount exited with status 32: <its last
 * output line>", "dracut was killed by signal 9".
 */
int spawn_run(const char *const argv[], const struct spawn_options *o, struct ferry_error *err);

#endif
