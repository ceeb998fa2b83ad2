/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/macros.h"
#include "common/strbuf.h"
#include "worker/guest-fs.h"

/* Guest paths are relative to the root: "/etc/x" and "etc/x" alike. */
static const char *relative(const char *path)
{
        while (*path == '/')
                path++;
        return *path ? path : ".";
}

/* As many symbolic links as the kernel follows in one lookup. */
#define GUEST_FS_SYMLINKS_MAX 40

static bool same_dir(int a, int b)
{
        struct stat sa, sb;

        return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int open_here(int dir_fd, int flags, mode_t mode)
{
        int fd = openat(dir_fd, ".", flags | O_CLOEXEC, mode);

        return fd < 0 ? -errno : fd;
}

/* Replace *fd with next (closing the old one); next < 0 is returned as -errno. */
static int walk_step(int *fd, int next)
{
        if (next < 0)
                return -errno;
        close(*fd);
        *fd = next;
        return 0;
}

/*
 * What openat2(RESOLVE_IN_ROOT) does, for kernels (and valgrind) without
 * it: one component at a time without following anything, a symbolic
 * link read and resolved against the root (absolute) or its directory,
 * ".." never above the root.  The guest is not running, so nothing moves
 * between the checks and the opens.
 */
static int walk_open(int root_fd, const char *path, int flags, mode_t mode)
{
        _cleanup_free_ char *todo = strdup(relative(path));
        _cleanup_close_ int cur = -EBADF;
        unsigned links = 0;
        int r;

        if (!todo)
                return -ENOMEM;
        cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        for (;;) {
                char *comp = todo, *rest = strchr(todo, '/'), target[PATH_MAX];
                struct stat st;
                ssize_t n;
                char *next;

                if (rest)
                        *rest++ = '\0';
                else
                        rest = comp + strlen(comp);
                while (*rest == '/')
                        rest++;

                if (streq(comp, "") || streq(comp, ".")) {
                        if (!*rest)
                                return open_here(cur, flags, mode);
                } else if (streq(comp, "..")) {
                        if (!same_dir(cur, root_fd)) {
                                r = walk_step(&cur, openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
                                if (r < 0)
                                        return r;
                        }
                        if (!*rest)
                                return open_here(cur, flags, mode);
                } else if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) &&
                           !(!*rest && (flags & O_NOFOLLOW))) {
                        if (++links > GUEST_FS_SYMLINKS_MAX)
                                return -ELOOP;
                        n = readlinkat(cur, comp, target, sizeof(target) - 1);
                        if (n < 0)
                                return -errno;
                        target[n] = '\0';
                        if (target[0] == '/') {
                                r = walk_step(&cur, fcntl(root_fd, F_DUPFD_CLOEXEC, 3));
                                if (r < 0)
                                        return r;
                        }
                        next = strjoin(relative(target), *rest ? "/" : "", rest, NULL);
                        if (!next)
                                return -ENOMEM;
                        free(todo);
                        todo = next;
                        continue;
                } else if (!*rest) {
                        int fd = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);

                        return fd < 0 ? -errno : fd;
                } else {
                        r = walk_step(&cur, openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
                        if (r < 0)
                                return r;
                }
                memmove(todo, rest, strlen(rest) + 1);
        }
}

int guest_fs_open(int root_fd, const char *path, int flags, mode_t mode)
{
        struct open_how how = {
                /* openat2() refuses O_NOCTTY with O_PATH. */
                .flags = (uint64_t) (flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY)),
                .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, root_fd, relative(path), &how, sizeof(how));

        if (fd < 0 && errno == ENOSYS)
                return walk_open(root_fd, path, flags | ((flags & O_PATH) ? 0 : O_NOCTTY),
                                 (flags & (O_CREAT | O_TMPFILE)) ? mode : 0);
        return fd < 0 ? -errno : (int) fd;
}

bool guest_fs_exists(int root_fd, const char *path)
{
        _cleanup_close_ int fd = guest_fs_open(root_fd, path, O_PATH, 0);

        return fd >= 0;
}

/* The parent directory of a guest path, opened; *ret_name points into path. */
static int open_parent(int root_fd, const char *path, bool create, const char **ret_name, struct ferry_error *err)
{
        _cleanup_free_ char *dir = strdup(relative(path));
        char *slash;
        int r, fd;

        if (!dir)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        slash = strrchr(dir, '/');
        *ret_name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        if (!**ret_name || streq(*ret_name, ".") || streq(*ret_name, ".."))
                return ferry_error_set(err, -EINVAL, "'%s' is not a file name", path);
        if (!slash)
                strcpy(dir, ".");
        else
                *slash = '\0';
        if (create) {
                r = guest_fs_mkdir_p(root_fd, dir, err);
                if (r < 0)
                        return r;
        }
        fd = guest_fs_open(root_fd, dir, O_DIRECTORY | O_RDONLY, 0);
        if (fd < 0)
                return ferry_error_set(err, fd, "Cannot open the directory '/%s' in the guest: %m", dir);
        return fd;
}

bool guest_fs_is_symlink(int root_fd, const char *path)
{
        _cleanup_close_ int dfd = -EBADF;
        const char *name;
        struct stat st;

        dfd = open_parent(root_fd, path, false, &name, NULL);
        return dfd >= 0 && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

int guest_fs_read(int root_fd, const char *path, char **ret, struct ferry_error *err)
{
        _cleanup_close_ int fd = guest_fs_open(root_fd, path, O_RDONLY, 0);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, size = 4096;
        struct stat st;

        if (fd == -ENOENT)
                return -ENOENT;
        if (fd < 0)
                return ferry_error_set(err, fd, "Cannot read '%s' in the guest: %m", path);
        if (fstat(fd, &st) < 0)
                return ferry_error_set(err, -errno, "Cannot read '%s' in the guest: %m", path);
        if (!S_ISREG(st.st_mode))
                return ferry_error_set(err, -EINVAL, "Cannot read '%s' in the guest: not a regular file", path);
        buf = malloc(size);
        if (!buf)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        for (;;) {
                ssize_t n;

                if (len + 1 >= size) {
                        char *p;

                        if (size >= GUEST_FS_READ_MAX)
                                return ferry_error_set(err, -EFBIG, "Cannot read '%s' in the guest: larger than %zu bytes",
                                                       path, GUEST_FS_READ_MAX);
                        p = realloc(buf, size * 2);
                        if (!p)
                                return ferry_error_set(err, -ENOMEM, "Out of memory");
                        buf = p;
                        size *= 2;
                }
                n = read(fd, buf + len, size - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return ferry_error_set(err, -errno, "Cannot read '%s' in the guest: %m", path);
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

int guest_fs_mkdir_p(int root_fd, const char *path, struct ferry_error *err)
{
        _cleanup_free_ char *p = strdup(relative(path));

        if (!p)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        for (char *s = p;; s++) {
                if (*s == '/' || *s == '\0') {
                        char saved = *s;
                        _cleanup_close_ int fd = -EBADF;

                        *s = '\0';
                        fd = guest_fs_open(root_fd, p, O_DIRECTORY | O_RDONLY, 0);
                        if (fd == -ENOENT) {
                                _cleanup_close_ int dfd = -EBADF;
                                const char *name;

                                dfd = open_parent(root_fd, p, false, &name, err);
                                if (dfd < 0)
                                        return dfd;
                                if (mkdirat(dfd, name, 0755) < 0 && errno != EEXIST)
                                        return ferry_error_set(err, -errno, "Cannot create '/%s' in the guest: %m", p);
                                if (geteuid() == 0 && fchownat(dfd, name, 0, 0, AT_SYMLINK_NOFOLLOW) < 0)
                                        return ferry_error_set(err, -errno, "Cannot chown '/%s' in the guest: %m", p);
                        } else if (fd < 0)
                                return ferry_error_set(err, fd, "Cannot open '/%s' in the guest: %m", p);
                        *s = saved;
                        if (!saved)
                                return 0;
                }
        }
}

int guest_fs_write_atomic(int root_fd, const char *path, const char *data, mode_t mode, struct ferry_error *err)
{
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        _cleanup_free_ char *tmp = NULL;
        size_t len = strlen(data), done = 0;
        const char *name;
        int r;

        dfd = open_parent(root_fd, path, true, &name, err);
        if (dfd < 0)
                return dfd;
        if (asprintf(&tmp, ".#%s.ferry%ld", name, (long) getpid()) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        (void) unlinkat(dfd, tmp, 0);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return ferry_error_set(err, -errno, "Cannot write '%s' in the guest: %m", path);
        while (done < len) {
                ssize_t n = write(fd, data + done, len - done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = ferry_error_set(err, -errno, "Cannot write '%s' in the guest: %m", path);
                        goto fail;
                }
                done += (size_t) n;
        }
        if (fchmod(fd, mode) < 0 || (geteuid() == 0 && fchown(fd, 0, 0) < 0) || fsync(fd) < 0 ||
            renameat(dfd, tmp, dfd, name) < 0) {
                r = ferry_error_set(err, -errno, "Cannot write '%s' in the guest: %m", path);
                goto fail;
        }
        return 0;
fail:
        (void) unlinkat(dfd, tmp, 0);
        return r;
}

int guest_fs_symlink(int root_fd, const char *target, const char *path, struct ferry_error *err)
{
        _cleanup_close_ int dfd = -EBADF;
        _cleanup_free_ char *tmp = NULL;
        const char *name;

        dfd = open_parent(root_fd, path, true, &name, err);
        if (dfd < 0)
                return dfd;
        if (asprintf(&tmp, ".#%s.ferry%ld", name, (long) getpid()) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        (void) unlinkat(dfd, tmp, 0);
        if (symlinkat(target, dfd, tmp) < 0)
                return ferry_error_set(err, -errno, "Cannot create the symlink '%s' in the guest: %m", path);
        if ((geteuid() == 0 && fchownat(dfd, tmp, 0, 0, AT_SYMLINK_NOFOLLOW) < 0) || renameat(dfd, tmp, dfd, name) < 0) {
                int r = ferry_error_set(err, -errno, "Cannot create the symlink '%s' in the guest: %m", path);

                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        return 0;
}

int guest_fs_unlink(int root_fd, const char *path, struct ferry_error *err)
{
        _cleanup_close_ int dfd = -EBADF;
        struct ferry_error perr = {};
        const char *name;

        dfd = open_parent(root_fd, path, false, &name, &perr);
        if (dfd == -ENOENT)
                return 0;
        if (dfd < 0) {
                if (err)
                        *err = perr;
                return dfd;
        }
        if (unlinkat(dfd, name, 0) < 0) {
                if (errno == ENOENT)
                        return 0;
                return ferry_error_set(err, -errno, "Cannot remove '%s' in the guest: %m", path);
        }
        return 1;
}

void guest_fs_list_free(char **list)
{
        for (char **p = list; p && *p; p++)
                free(*p);
        free(list);
}

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int guest_fs_list(int root_fd, const char *dir, const char *pattern, char ***ret, struct ferry_error *err)
{
        int fd = guest_fs_open(root_fd, dir, O_DIRECTORY | O_RDONLY, 0);
        char **list = calloc(1, sizeof(*list));
        size_t n = 0;
        struct dirent *de;
        DIR *d;

        if (!list) {
                if (fd >= 0)
                        close(fd);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        if (fd == -ENOENT || fd == -ENOTDIR) {
                *ret = list;
                return 0;
        }
        if (fd < 0) {
                free(list);
                return ferry_error_set(err, fd, "Cannot list '%s' in the guest: %m", dir);
        }
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                free(list);
                return ferry_error_set(err, -errno, "Cannot list '%s' in the guest: %m", dir);
        }
        while ((de = readdir(d))) {
                char **p;

                if (de->d_name[0] == '.' || fnmatch(pattern, de->d_name, 0) != 0)
                        continue;
                p = realloc(list, (n + 2) * sizeof(*list));
                if (!p)
                        goto oom;
                list = p;
                list[n] = strdup(de->d_name);
                list[n + 1] = NULL;
                if (!list[n])
                        goto oom;
                n++;
        }
        closedir(d);
        qsort(list, n, sizeof(*list), compare_names);
        *ret = list;
        return 0;
oom:
        closedir(d);
        guest_fs_list_free(list);
        return ferry_error_set(err, -ENOMEM, "Out of memory");
}
