/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nbdkit servers that a test starts itself, the way the lab does
 * (tests/lab/lab start_nbdkit): on a unix socket in the test's temporary
 * directory, daemonized with a PID file, stopped by that PID.  Helpers fail
 * the running test instead of returning errors.
 */
#ifndef FERRY_TESTS_NBDSERVER_H
#define FERRY_TESTS_NBDSERVER_H

#include <sys/types.h>

struct nbd_server {
        pid_t pid;              /* 0 once stopped */
        char *socket;           /* DIR/NAME.sock */
        char *uri;              /* nbd+unix:///?socket=... */
};

/*
 * Start "nbdkit ARGS..." (filters, plugin and its parameters, up to a
 * NULL) as NAME in dir and wait until it serves.
 */
void nbd_server_start(struct nbd_server *s, const char *dir, const char *name, ...) __attribute__((sentinel));

/* SIGTERM by PID and wait until it is gone (filters such as stats write
 * their files on the way out).  Safe on a stopped or zeroed server. */
void nbd_server_stop(struct nbd_server *s);

#endif
