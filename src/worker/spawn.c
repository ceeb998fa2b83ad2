/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macros.h"
#include "common/strbuf.h"
#include "worker/spawn.h"

#define OUTPUT_KEEP 4096

/* The last non-empty line of the output, trimmed, in place. */
static const char *last_line(char *out)
{
        char *end = out + strlen(out), *start;

        while (end > out && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
                *--end = '\0';
        start = strrchr(out, '\n');
        return start ? start + 1 : out;
}

int spawn_run(const char *const argv[], const struct spawn_options *o, struct ferry_error *err)
{
        static char *const env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C",
                                     "LC_ALL=C", NULL };
        const char *name = o && o->name ? o->name : strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
        const char *root = o ? o->root : NULL;
        char out[OUTPUT_KEEP + 1] = "";
        size_t len = 0;
        int pipefd[2], exec_pipe[2], status, exec_errno = 0;
        ssize_t n;
        pid_t pid;

        if (argv[0][0] != '/')
                return ferry_error_set(err, -EINVAL, "Cannot run '%s': not an absolute path", argv[0]);
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return ferry_error_set(err, -errno, "Cannot run '%s': %m", argv[0]);
        if (pipe2(exec_pipe, O_CLOEXEC) < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return ferry_error_set(err, -errno, "Cannot run '%s': %m", argv[0]);
        }
        log_debug("Running %s%s%s", root ? "in the chroot '" : "", root ?: "", root ? "': " : "");
        for (size_t i = 0; argv[i]; i++)
                log_debug("  argv[%zu] = '%s'", i, argv[i]);

        pid = fork();
        if (pid < 0) {
                int r = -errno;

                close(pipefd[0]);
                close(pipefd[1]);
                close(exec_pipe[0]);
                close(exec_pipe[1]);
                return ferry_error_set(err, r, "Cannot run '%s': %m", argv[0]);
        }
        if (pid == 0) {
                int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                sigset_t all;

                if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(pipefd[1], STDOUT_FILENO) < 0 ||
                    dup2(pipefd[1], STDERR_FILENO) < 0)
                        goto child_fail;
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                signal(SIGPIPE, SIG_DFL);
                if (root && (chroot(root) < 0 || chdir("/") < 0))
                        goto child_fail;
                execve(argv[0], (char *const *) argv, env);
        child_fail:
                exec_errno = errno;
                (void) !write(exec_pipe[1], &exec_errno, sizeof(exec_errno));
                _exit(127);
        }

        close(pipefd[1]);
        close(exec_pipe[1]);
        do
                n = read(exec_pipe[0], &exec_errno, sizeof(exec_errno));
        while (n < 0 && errno == EINTR);
        close(exec_pipe[0]);

        /* Keep the end of the output: shift when the buffer is full. */
        for (;;) {
                char chunk[1024];

                n = read(pipefd[0], chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (len + (size_t) n > OUTPUT_KEEP) {
                        size_t drop = len + (size_t) n - OUTPUT_KEEP;

                        if (drop > len)
                                drop = len;
                        memmove(out, out + drop, len - drop);
                        len -= drop;
                }
                memcpy(out + len, chunk, (size_t) n > OUTPUT_KEEP - len ? OUTPUT_KEEP - len : (size_t) n);
                len += (size_t) n > OUTPUT_KEEP - len ? OUTPUT_KEEP - len : (size_t) n;
                out[len] = '\0';
        }
        close(pipefd[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return ferry_error_set(err, -errno, "Cannot wait for '%s': %m", argv[0]);

        if (exec_errno != 0)
                return ferry_error_set(err, -exec_errno, "Cannot run '%s'%s%s%s: %m", argv[0], root ? " in '" : "",
                                       root ?: "", root ? "'" : "");
        if (WIFSIGNALED(status))
                return ferry_error_set(err, -EIO, "%s was killed by signal %d", name, WTERMSIG(status));
        if (WEXITSTATUS(status) != 0) {
                const char *line = last_line(out);

                return ferry_error_set(err, -EIO, "%s exited with status %d%s%s", name, WEXITSTATUS(status),
                                       *line ? ": " : "", line);
        }
        log_debug("%s: done", name);
        return 0;
}
