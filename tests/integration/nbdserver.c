/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fileio.h"
#include "common/macros.h"
#include "common/strbuf.h"
#include "nbdserver.h"
#include "proc.h"

#define MAX_ARGS 32

static void sleep_ms(int ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Alive and not a zombie (a daemon is reaped late by PID 1). */
static bool pid_alive(pid_t pid)
{
        char path[64], *p;
        _cleanup_free_ char *stat = NULL;
        struct ferry_error err = {};

        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        if (fileio_read_checked(path, 4096, &stat, NULL, &err) < 0)
                return false;
        p = strrchr(stat, ')');
        return p && p[1] == ' ' && p[2] != 'Z';
}

void nbd_server_start(struct nbd_server *s, const char *dir, const char *name, ...)
{
        _cleanup_free_ char *pidfile = NULL, *pidtext = NULL, *log = NULL;
        char *argv[MAX_ARGS + 8];
        struct ferry_error err = {};
        size_t n = 0;
        va_list ap;
        int status;

        *s = (struct nbd_server) {};
        assert_non_null(s->socket = strjoin(dir, "/", name, ".sock", NULL));
        assert_non_null(s->uri = strjoin("nbd+unix:///?socket=", s->socket, NULL));
        assert_non_null(pidfile = strjoin(dir, "/", name, ".pid", NULL));

        argv[n++] = "/usr/bin/nbdkit";
        argv[n++] = "--unix";
        argv[n++] = s->socket;
        argv[n++] = "--pidfile";
        argv[n++] = pidfile;
        va_start(ap, name);
        for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *)) {
                assert_true(n < MAX_ARGS);
                argv[n++] = (char *) a;
        }
        va_end(ap);
        argv[n] = NULL;

        /* nbdkit forks into the background once its socket is ready. */
        status = proc_run(argv, NULL, &log);
        if (status != 0)
                fail_msg("nbdkit '%s' exited with status %d: %s", name, status, log);
        for (int waited = 0; fileio_read_checked(pidfile, 64, &pidtext, NULL, &err) < 0 || !*pidtext; waited += 10) {
                if (waited > 10000)
                        fail_msg("nbdkit '%s' wrote no PID file", name);
                free(TAKE_PTR(pidtext));
                sleep_ms(10);
        }
        s->pid = (pid_t) atoi(pidtext);
        assert_true(s->pid > 0);
}

void nbd_server_stop(struct nbd_server *s)
{
        if (s->pid > 0 && pid_alive(s->pid)) {
                kill(s->pid, SIGTERM);
                for (int waited = 0; pid_alive(s->pid); waited += 10) {
                        if (waited == 10000)
                                kill(s->pid, SIGKILL);
                        sleep_ms(10);
                }
        }
        s->pid = 0;
        free(s->socket);
        free(s->uri);
        s->socket = s->uri = NULL;
}
