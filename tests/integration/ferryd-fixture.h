/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A ferryd for one test: a temporary directory, the data directory and
 * socket path inside it, and the built ferryd started on them.  Like
 * proc.h, every helper fails the running test instead of returning an
 * error.
 */
#ifndef FERRY_TESTS_FERRYD_FIXTURE_H
#define FERRY_TESTS_FERRYD_FIXTURE_H

#include "proc.h"

#define FERRYD_START_TIMEOUT_MS 20000
#define FERRYD_STOP_TIMEOUT_MS 20000

struct ferryd_fixture {
        const char *ferryd_path;        /* the binary under test, borrowed */
        char *dir;                      /* temporary, removed by ferryd_fixture_free() */
        char *data_dir;                 /* <dir>/data: ferryd creates it */
        char *socket_path;              /* <data_dir>/unix.socket */
        struct proc ferryd;
};

/* A new fixture in a new temporary directory; nothing is started yet.
 * ferryd_path must outlive the fixture (a string literal does). */
struct ferryd_fixture *ferryd_fixture_new(const char *ferryd_path);

/* Use <dir>/<relative> as the data directory instead of <dir>/data. */
void ferryd_fixture_set_data_dir(struct ferryd_fixture *f, const char *relative);

/* Start ferryd on the data directory and wait until its socket accepts. */
void ferryd_fixture_start(struct ferryd_fixture *f);
/* The same with more ferryd arguments (NULL-terminated list, may be NULL). */
void ferryd_fixture_start_with(struct ferryd_fixture *f, const char *const *extra);

/* Create the data directory and bind (not listen on) a unix socket at the
 * socket path, as if a ferryd had been there; returns the socket. */
int ferryd_fixture_bind_socket(struct ferryd_fixture *f);

/* Stop ferryd the way systemd does it (SIGTERM) if it was started: 0 if it
 * exits cleanly, -1 if not, so that a leak found by the sanitizers or a
 * crash on the way out fails the test. */
int ferryd_fixture_stop(struct ferryd_fixture *f);

/* Reap ferryd if still needed, remove the directory and free.  Accepts NULL. */
void ferryd_fixture_free(struct ferryd_fixture *f);

/* cmocka setup and teardown: a fixture for FERRYD_PATH in *state, stopped
 * and removed afterwards (teardown fails if ferryd did not stop cleanly). */
int ferryd_fixture_setup(void **state);
int ferryd_fixture_teardown(void **state);

#endif
