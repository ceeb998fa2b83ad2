/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A vSphere simulator of a test's own (the lab's build/lab/vcsim) on a
 * free loopback port, with a model the test chose and its own datastore
 * directory, so that the shared lab's simulator stays as the other tests
 * expect it.  Helpers fail the running test instead of returning errors.
 */
#ifndef FERRY_TESTS_VCSIM_PROC_H
#define FERRY_TESTS_VCSIM_PROC_H

#include <jansson.h>

#include "proc.h"

struct vcsim_proc {
        struct proc proc;
        char *dir;              /* temp dir: env file, datastores, changes */
        json_t *env;            /* VCSIM_* of its env file */
};

/* Start it on model_path with more flags (NULL-terminated, may be NULL) and
 * wait (60 s at most) until it serves. */
void vcsim_proc_start(struct vcsim_proc *v, const char *model_path, const char *const *extra);

/* A VCSIM_* variable of its env file ("VCSIM_URL"); fails if missing. */
const char *vcsim_proc_env(const struct vcsim_proc *v, const char *key);

/* Its disk list (VCSIM_DISKS parsed). */
json_t *vcsim_proc_disks(const struct vcsim_proc *v);

/* Stop it (SIGTERM), remove the directory. Safe on a zeroed struct. */
void vcsim_proc_stop(struct vcsim_proc *v);

#endif
