/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running ferry's own programs from a test: start them with their output
 * captured, wait for them with a deadline, and always reap them.  Every
 * helper fails the running test (cmocka fail_msg) instead of returning an
 * error.
 */
#ifndef FERRY_TESTS_PROC_H
#define FERRY_TESTS_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct proc {
        pid_t pid;              /* 0 once reaped */
        int status;             /* exit status once reaped: 128 + signal if killed */
        int out_fd;             /* memfd: everything written to stdout */
        int err_fd;             /* memfd: everything written to stderr */
};

/* Start argv[0] (a path) with stdin from /dev/null. */
void proc_start(struct proc *p, char *const argv[]);

/* Wait up to timeout_ms for the exit and return the exit status; on
 * timeout kill it and fail the test. */
int proc_wait(struct proc *p, int timeout_ms);

/* Still running (not exited, or exited but not reaped)? */
bool proc_running(struct proc *p);

/* What it wrote so far; free() the result. */
char *proc_stdout(const struct proc *p);
char *proc_stderr(const struct proc *p);

/* Send SIGTERM if it still runs, wait up to timeout_ms and return the exit
 * status: that of its earlier exit if it is gone, 0 if it never ran.  A
 * non-zero status is printed with its stderr. */
int proc_terminate(struct proc *p, int timeout_ms);

/* Kill (SIGKILL) and reap it if it still runs, close the captures.  Safe
 * to call twice, and on a zeroed struct. */
void proc_cleanup(struct proc *p);

/* Start, wait (10 s at most), return the exit status and the output. */
int proc_run(char *const argv[], char **ret_stdout, char **ret_stderr);

/* Run argv like proc_run(), fail the test (showing its stderr) unless it
 * exits with status, and return what it wrote to stdout or stderr; free()
 * the result. */
char *proc_run_stdout(int status, char *const argv[]);
char *proc_run_stderr(int status, char *const argv[]);

/* Run path --version and fail the test unless it exits with 0 and prints
 * "<name> <FERRY_VERSION>" and a newline. */
void assert_version_output(const char *path, const char *name);

/* Run path --help and fail the test unless it exits with 0 and each of the
 * strings after path (up to a NULL) occurs in its stdout. */
void assert_help_mentions(const char *path, ...) __attribute__((sentinel));

/* Run argv and fail the test unless it is a usage error: exit status 2,
 * nothing on stdout, a stderr that starts with message and contains each
 * of the strings after message (up to a NULL). */
void assert_usage_error(char *const argv[], const char *message, ...) __attribute__((sentinel));

/* Wait until the unix socket at path accepts a connection.  Fails the
 * test with p's stderr if p exits first or timeout_ms passes. */
void proc_wait_for_socket(struct proc *p, const char *path, int timeout_ms);

/* Fail the test unless needle occurs in haystack (a program's output). */
void assert_contains(const char *haystack, const char *needle);

/* A new empty directory /tmp/ferry-test-XXXXXX (short: socket paths live
 * in it), symlinks resolved; free() the result after tmpdir_remove(). */
char *tmpdir_new(void);
void tmpdir_remove(const char *dir);

#endif
