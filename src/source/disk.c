/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Disk access shared by the source drivers: datastore paths, NBD URI
 * templates, and NBD servers on unix sockets.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/strbuf.h"
#include "source/disk.h"

int source_datastore_path_split(const char *backing, char **ret_datastore, char **ret_path,
                                struct ferry_error *err)
{
        const char *close_br, *path;
        _cleanup_free_ char *ds = NULL, *p = NULL;

        if (!backing || backing[0] != '[' || !(close_br = strchr(backing, ']')) || close_br == backing + 1)
                return ferry_error_set(err, -EINVAL, "Invalid datastore path '%s': expected '[datastore] path'",
                                       backing ? backing : "");
        path = close_br + 1;
        while (*path == ' ')
                path++;
        if (!*path)
                return ferry_error_set(err, -EINVAL, "Invalid datastore path '%s': expected '[datastore] path'",
                                       backing);
        ds = strndup(backing + 1, (size_t) (close_br - backing - 1));
        p = strdup(path);
        if (!ds || !p)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        *ret_datastore = TAKE_PTR(ds);
        *ret_path = TAKE_PTR(p);
        return 0;
}

/* Whether a relative path has a ".." component. */
static bool climbs(const char *path)
{
        for (const char *p = path; p; p = strchr(p, '/'), p = p ? p + 1 : NULL)
                if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
                        return true;
        return false;
}

int source_datastore_map(const json_t *mounts, const char *backing, char **ret_path, struct ferry_error *err)
{
        _cleanup_free_ char *ds = NULL, *path = NULL;
        const char *mount;
        char *full;
        int r;

        r = source_datastore_path_split(backing, &ds, &path, err);
        if (r < 0)
                return r;
        mount = json_string_value(json_object_get(mounts, ds));
        if (!mount || !*mount)
                return ferry_error_set(err, -ENOENT, "Datastore '%s' has no mount in disk_access.datastore_mounts", ds);
        if (path[0] == '/' || climbs(path))
                return ferry_error_set(err, -EINVAL, "Datastore path '%s' leaves its datastore", backing);
        full = strjoin(mount, endswith(mount, "/") ? "" : "/", path, NULL);
        if (!full)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        *ret_path = full;
        return 0;
}

static int append_encoded(struct strbuf *sb, const char *value)
{
        for (const unsigned char *p = (const unsigned char *) value; *p; p++) {
                int r;

                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                    strchr("-._~/", *p))
                        r = strbuf_append_len(sb, (const char *) p, 1);
                else
                        r = strbuf_appendf(sb, "%%%02X", *p);
                if (r < 0)
                        return r;
        }
        return 0;
}

int source_uri_template_expand(const char *tmpl, const struct source_uri_var *vars, size_t n_vars, char **ret,
                               struct ferry_error *err)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        const char *p = tmpl;
        int r = 0;

        if (!tmpl)
                return ferry_error_set(err, -EINVAL, "No NBD URI template");
        while (*p && r >= 0) {
                const char *end;
                size_t i;

                if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
                        r = strbuf_append_len(&sb, p, 1);
                        p += 2;
                        continue;
                }
                if (*p != '{') {
                        r = strbuf_append_len(&sb, p++, 1);
                        continue;
                }
                end = strchr(p, '}');
                if (!end)
                        return ferry_error_set(err, -EINVAL, "Unterminated placeholder in the NBD URI template");
                for (i = 0; i < n_vars; i++)
                        if (strlen(vars[i].name) == (size_t) (end - p - 1) &&
                            !strncmp(vars[i].name, p + 1, (size_t) (end - p - 1)))
                                break;
                if (i == n_vars)
                        return ferry_error_set(err, -EINVAL, "Unknown placeholder '%.*s' in the NBD URI template",
                                               (int) (end - p + 1), p);
                r = append_encoded(&sb, vars[i].value ? vars[i].value : "");
                p = end + 1;
        }
        if (r < 0 || !(*ret = strbuf_steal(&sb)))
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return 0;
}

void source_argv_free(char **argv)
{
        if (!argv)
                return;
        for (char **a = argv; *a; a++)
                free(*a);
        free(argv);
}

int source_qemu_nbd_argv(const char *vmdk, const char *socket_path, char ***ret_argv, struct ferry_error *err)
{
        char **argv;
        size_t n = 0;

        if (!vmdk || !*vmdk || !socket_path || !*socket_path)
                return ferry_error_set(err, -EINVAL, "qemu-nbd needs a VMDK and a socket");
        argv = calloc(10, sizeof(*argv));
        if (!argv)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        /* --persistent and --shared: the copy engine opens several connections, one after the other too. */
        argv[n++] = strdup("qemu-nbd");
        argv[n++] = strdup("--read-only");
        argv[n++] = strdup("--format=vmdk");
        argv[n++] = strdup("--persistent");
        argv[n++] = strdup("--shared=16");
        argv[n++] = strjoin("--socket=", socket_path, NULL);
        argv[n++] = strdup("--");
        argv[n++] = strdup(vmdk);
        for (size_t i = 0; i < n; i++)
                if (!argv[i]) {
                        source_argv_free(argv);
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                }
        *ret_argv = argv;
        return 0;
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool socket_accepts(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof(sa.sun_path))
                return false;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        return fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
}

/* The last non-empty line of a small log file, into buf. */
static void last_line(const char *path, char *buf, size_t size)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        char *line;

        snprintf(buf, size, "no output");
        if (fileio_read(path, 1 << 20, &text, &len) < 0 || len == 0)
                return;
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
                text[--len] = '\0';
        line = strrchr(text, '\n');
        snprintf(buf, size, "%s", line ? line + 1 : text);
}

void source_disk_free(struct source_disk *d)
{
        if (!d)
                return;
        if (d->pid > 0) {
                int64_t deadline = now_ms() + 5000;
                int status;

                kill(d->pid, SIGTERM);
                while (waitpid(d->pid, &status, WNOHANG) == 0) {
                        if (now_ms() >= deadline) {
                                kill(d->pid, SIGKILL);
                                (void) waitpid(d->pid, &status, 0);
                                break;
                        }
                        usleep(10000);
                }
        }
        if (d->socket_path)
                (void) unlink(d->socket_path);
        if (d->log_path)
                (void) unlink(d->log_path);
        free(d->uri);
        free(d->socket_path);
        free(d->log_path);
        free(d);
}

int source_disk_new_uri(const char *uri, struct source_disk **ret, struct ferry_error *err)
{
        struct source_disk *d = calloc(1, sizeof(*d));

        if (!d || !(d->uri = strdup(uri))) {
                free(d);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        *ret = d;
        return 0;
}

int source_disk_serve(char *const argv[], const char *socket_path, const char *log_path, int timeout_ms,
                      struct source_disk **ret, struct ferry_error *err)
{
        _cleanup_source_disk_ struct source_disk *d = NULL;
        _cleanup_strbuf_ struct strbuf uri = STRBUF_INIT;
        _cleanup_close_ int null_fd = -1, log_fd = -1, exec_fd = -1;
        int exec_pipe[2], exec_errno = 0;
        pid_t parent = getpid();
        int64_t deadline;
        int status;
        ssize_t n;

        if (!argv || !argv[0] || !socket_path || !log_path)
                return ferry_error_set(err, -EINVAL, "No NBD server to start");
        d = calloc(1, sizeof(*d));
        if (!d || !(d->socket_path = strdup(socket_path)) || !(d->log_path = strdup(log_path)) ||
            strbuf_append(&uri, "nbd+unix:///?socket=") < 0 || append_encoded(&uri, socket_path) < 0 ||
            !(d->uri = strbuf_steal(&uri)))
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        (void) unlink(socket_path);

        null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (null_fd < 0 || log_fd < 0)
                return ferry_error_set(err, -errno, "Cannot open the log '%s' of '%s': %s", log_path, argv[0],
                                       strerror(errno));

        /* The child reports a failed exec() here; a successful one closes it. */
        if (pipe2(exec_pipe, O_CLOEXEC) < 0)
                return ferry_error_set(err, -errno, "Cannot start '%s': %s", argv[0], strerror(errno));
        exec_fd = exec_pipe[0];

        d->pid = fork();
        if (d->pid < 0) {
                d->pid = 0;
                close(exec_pipe[1]);
                return ferry_error_set(err, -errno, "Cannot start '%s': %s", argv[0], strerror(errno));
        }
        if (d->pid == 0) {
                /* Only async-signal-safe calls from here to exec. */
                if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
                        _exit(127);
                if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(log_fd, STDOUT_FILENO) < 0 ||
                    dup2(log_fd, STDERR_FILENO) < 0)
                        _exit(127);
                sigset_t all;
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                execvp(argv[0], argv);
                exec_errno = errno;
                (void) !write(exec_pipe[1], &exec_errno, sizeof(exec_errno));
                _exit(127);
        }

        close(exec_pipe[1]);
        do
                n = read(exec_fd, &exec_errno, sizeof(exec_errno));
        while (n < 0 && errno == EINTR);
        if (n == (ssize_t) sizeof(exec_errno)) {
                (void) waitpid(d->pid, &status, 0);
                d->pid = 0;
                return ferry_error_set(err, -exec_errno, "Cannot run '%s': %s", argv[0], strerror(exec_errno));
        }

        deadline = now_ms() + timeout_ms;
        for (;;) {
                pid_t w = waitpid(d->pid, &status, WNOHANG);

                if (w == d->pid) {
                        char line[512];

                        d->pid = 0;
                        last_line(log_path, line, sizeof(line));
                        return ferry_error_set(err, -EIO, "'%s' exited with status %d: %s", argv[0],
                                               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                                               line);
                }
                if (socket_accepts(socket_path))
                        break;
                if (now_ms() >= deadline)
                        return ferry_error_set(err, -ETIMEDOUT, "'%s' did not listen on '%s' within %d ms", argv[0],
                                               socket_path, timeout_ms);
                usleep(10000);
        }
        *ret = TAKE_PTR(d);
        return 0;
}
