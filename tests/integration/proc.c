/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/macros.h"
#include "common/strbuf.h"
#include "proc.h"

extern char **environ;

#define PROC_POLL_MS 10

static void sleep_ms(int ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int capture_new(const char *name)
{
        int fd = memfd_create(name, MFD_CLOEXEC);

        if (fd < 0)
                fail_msg("memfd_create(): %s", strerror(errno));
        return fd;
}

void proc_start(struct proc *p, char *const argv[])
{
        posix_spawn_file_actions_t actions;
        int r;

        *p = (struct proc) { .out_fd = capture_new("stdout"), .err_fd = capture_new("stderr") };

        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&actions, p->out_fd, STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, p->err_fd, STDERR_FILENO);
        r = posix_spawn(&p->pid, argv[0], &actions, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&actions);
        if (r != 0) {
                p->pid = 0;
                fail_msg("Cannot start '%s': %s", argv[0], strerror(r));
        }
}

bool proc_running(struct proc *p)
{
        int status;
        pid_t r;

        if (p->pid <= 0)
                return false;

        r = waitpid(p->pid, &status, WNOHANG);
        if (r == 0)
                return true;
        if (r < 0)
                fail_msg("waitpid(%d): %s", (int) p->pid, strerror(errno));

        p->pid = 0;
        p->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return false;
}

int proc_wait(struct proc *p, int timeout_ms)
{
        for (int waited = 0; proc_running(p); waited += PROC_POLL_MS) {
                if (waited >= timeout_ms) {
                        pid_t pid = p->pid;

                        proc_cleanup(p);
                        fail_msg("Process %d did not exit within %d ms", (int) pid, timeout_ms);
                }
                sleep_ms(PROC_POLL_MS);
        }
        return p->status;
}

static char *capture_read(int fd);

int proc_terminate(struct proc *p, int timeout_ms)
{
        _cleanup_free_ char *err = NULL;
        int status;

        if (proc_running(p) && kill(p->pid, SIGTERM) < 0)
                fail_msg("kill(%d): %s", (int) p->pid, strerror(errno));
        status = proc_wait(p, timeout_ms);
        if (status != 0) {
                err = capture_read(p->err_fd);
                print_error("Process exited with status %d, its stderr:\n%s\n", status, err);
        }
        return status;
}

static char *capture_read(int fd)
{
        struct stat st;
        char *buf;
        size_t len = 0;
        ssize_t n;

        if (fd <= 0)
                return strdup("");
        if (fstat(fd, &st) < 0)
                fail_msg("fstat(): %s", strerror(errno));
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                fail_msg("Out of memory");
        while (len < (size_t) st.st_size) {
                n = pread(fd, buf + len, (size_t) st.st_size - len, (off_t) len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t) n;
        }
        buf[len] = '\0';
        return buf;
}

char *proc_stdout(const struct proc *p)
{
        return capture_read(p->out_fd);
}

char *proc_stderr(const struct proc *p)
{
        return capture_read(p->err_fd);
}

void proc_cleanup(struct proc *p)
{
        if (p->pid > 0) {
                kill(p->pid, SIGKILL);
                while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                p->pid = 0;
        }
        if (p->out_fd > 0)
                close(p->out_fd);
        if (p->err_fd > 0)
                close(p->err_fd);
        p->out_fd = p->err_fd = 0;
}

int proc_run(char *const argv[], char **ret_stdout, char **ret_stderr)
{
        struct proc p;
        int status;

        proc_start(&p, argv);
        status = proc_wait(&p, 10000);
        if (ret_stdout)
                *ret_stdout = proc_stdout(&p);
        if (ret_stderr)
                *ret_stderr = proc_stderr(&p);
        proc_cleanup(&p);
        return status;
}

static void proc_run_expect(int status, char *const argv[], char **ret_stdout, char **ret_stderr)
{
        _cleanup_free_ char *out = NULL, *err = NULL;
        int r;

        r = proc_run(argv, &out, &err);
        if (r != status)
                fail_msg("'%s' exited with status %d instead of %d, its stderr:\n%s", argv[0], r, status, err);
        if (ret_stdout)
                *ret_stdout = TAKE_PTR(out);
        if (ret_stderr)
                *ret_stderr = TAKE_PTR(err);
}

char *proc_run_stdout(int status, char *const argv[])
{
        char *out;

        proc_run_expect(status, argv, &out, NULL);
        return out;
}

char *proc_run_stderr(int status, char *const argv[])
{
        char *err;

        proc_run_expect(status, argv, NULL, &err);
        return err;
}

void assert_version_output(const char *path, const char *name)
{
        _cleanup_free_ char *out = proc_run_stdout(0, (char *const[]) { (char *) path, "--version", NULL });
        _cleanup_free_ char *expected = NULL;

        assert_non_null(expected = strjoin(name, " " FERRY_VERSION "\n", NULL));
        assert_string_equal(out, expected);
}

void assert_help_mentions(const char *path, ...)
{
        _cleanup_free_ char *out = proc_run_stdout(0, (char *const[]) { (char *) path, "--help", NULL });
        va_list ap;

        va_start(ap, path);
        for (const char *needle = va_arg(ap, const char *); needle; needle = va_arg(ap, const char *))
                assert_contains(out, needle);
        va_end(ap);
}

void assert_usage_error(char *const argv[], const char *message, ...)
{
        _cleanup_free_ char *out = NULL, *err = NULL;
        va_list ap;

        proc_run_expect(2, argv, &out, &err);
        assert_string_equal(out, "");
        assert_true(startswith(err, message));
        va_start(ap, message);
        for (const char *needle = va_arg(ap, const char *); needle; needle = va_arg(ap, const char *))
                assert_contains(err, needle);
        va_end(ap);
}

static bool socket_accepts(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;

        assert_true(strlen(path) < sizeof(sa.sun_path));
        memcpy(sa.sun_path, path, strlen(path));
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                fail_msg("socket(): %s", strerror(errno));
        return connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
}

void proc_wait_for_socket(struct proc *p, const char *path, int timeout_ms)
{
        for (int waited = 0; !socket_accepts(path); waited += PROC_POLL_MS) {
                if (!proc_running(p)) {
                        _cleanup_free_ char *err = proc_stderr(p);

                        fail_msg("Exited with status %d before listening on '%s': %s", p->status, path, err);
                }
                if (waited >= timeout_ms) {
                        _cleanup_free_ char *err = proc_stderr(p);

                        fail_msg("Nothing listens on '%s' after %d ms: %s", path, timeout_ms, err);
                }
                sleep_ms(PROC_POLL_MS);
        }
}

void assert_contains(const char *haystack, const char *needle)
{
        if (!strstr(haystack, needle))
                fail_msg("'%s' not found in:\n%s", needle, haystack);
}

char *tmpdir_new(void)
{
        _cleanup_free_ char *dir = strdup("/tmp/ferry-test-XXXXXX");
        char *real;

        if (!dir || !mkdtemp(dir))
                fail_msg("Cannot create a temporary directory: %s", strerror(errno));
        /* Resolved, so that it reads as ferryd prints it. */
        real = realpath(dir, NULL);
        if (!real)
                fail_msg("Cannot resolve '%s': %s", dir, strerror(errno));
        return real;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

void tmpdir_remove(const char *dir)
{
        if (dir && nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
                fail_msg("Cannot remove '%s': %s", dir, strerror(errno));
}
