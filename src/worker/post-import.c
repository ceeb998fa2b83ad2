/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "worker/fsprobe.h"
#include "worker/guest-fixes.h"
#include "worker/guest-fs.h"
#include "worker/partitions.h"
#include "worker/post-import.h"
#include "worker/spawn.h"

#define MOUNT_PATH "/usr/bin/mount"
#define UMOUNT_PATH "/usr/bin/umount"

struct root_candidate {
        const struct worker_disk *disk;
        unsigned partition;
        uint64_t offset, length;
        enum fs_type fs;
};

static void report(const struct post_import_options *o, const char *fmt, ...) _printf_(2, 3);
static void report(const struct post_import_options *o, const char *fmt, ...)
{
        _cleanup_free_ char *m = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        log_info("%s", m);
        if (o && o->progress)
                o->progress(m, o->userdata);
}

static int mount_candidate(const struct root_candidate *c, const char *dir, bool rw, struct ferry_error *err)
{
        char opts[128];

        snprintf(opts, sizeof(opts), "%s,loop,offset=%" PRIu64 ",sizelimit=%" PRIu64, rw ? "rw" : "ro", c->offset,
                 c->length);
        return spawn_run((const char *const[]) { MOUNT_PATH, "-t", fs_type_to_string(c->fs), "-o", opts, c->disk->sink,
                                                 dir, NULL },
                         NULL, err);
}

/* Unmount (detaching the loop device); a busy mount is detached lazily. */
static int unmount_dir(const char *dir, struct ferry_error *err)
{
        int r = spawn_run((const char *const[]) { UMOUNT_PATH, "-d", dir, NULL }, NULL, err);

        if (r < 0) {
                struct ferry_error lazy = {};

                log_warning("%s; detaching it lazily", ferry_error_message(err));
                if (spawn_run((const char *const[]) { UMOUNT_PATH, "-l", "-d", dir, NULL }, NULL, &lazy) < 0)
                        return ferry_error_prefix(err, "Cannot unmount '%s'", dir);
        }
        return 0;
}

/* PRETTY_NAME (else NAME) of os-release, unquoted; "Linux" when it has neither. */
static char *os_release_name(const char *text)
{
        _cleanup_free_ char *copy = strdup(text), *name = NULL;
        char *save = NULL;

        if (!copy)
                return NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                bool pretty = startswith(line, "PRETTY_NAME=");
                char *v;
                size_t len;

                if (!pretty && (!startswith(line, "NAME=") || name))
                        continue;
                v = strchr(line, '=') + 1;
                len = strlen(v);
                if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
                        v[len - 1] = '\0';
                        v++;
                }
                free(name);
                name = strdup(v);
                if (!name || pretty)
                        break;
        }
        return name ? TAKE_PTR(name) : strdup("Linux");
}

/* Mounted read-only: does it look like a root?  1 with *ret_os, 0 not, < 0 on errors. */
static int looks_like_root(const char *dir, char **ret_os, struct ferry_error *err)
{
        _cleanup_close_ int fd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *text = NULL;
        int r;

        if (fd < 0)
                return ferry_error_set(err, -errno, "Cannot open '%s': %m", dir);
        if (!guest_fs_exists(fd, "/etc/fstab"))
                return 0;
        r = guest_fs_read(fd, "/etc/os-release", &text, err);
        if (r == -ENOENT)
                r = guest_fs_read(fd, "/usr/lib/os-release", &text, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        *ret_os = os_release_name(text);
        return *ret_os ? 1 : ferry_error_set(err, -ENOMEM, "Out of memory");
}

static int disk_open(const struct worker_disk *d, int *ret_fd, uint64_t *ret_size, struct ferry_error *err)
{
        _cleanup_close_ int fd = open(d->sink, O_RDONLY | O_CLOEXEC);
        struct stat st;
        off_t end;

        if (fd < 0)
                return ferry_error_set(err, -errno, "Cannot open '%s': %m", d->sink);
        if (fstat(fd, &st) < 0)
                return ferry_error_set(err, -errno, "Cannot stat '%s': %m", d->sink);
        if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
                return ferry_error_set(err, -EINVAL, "'%s' is neither a block device nor a file", d->sink);
        end = lseek(fd, 0, SEEK_END);
        if (end < 0)
                return ferry_error_set(err, -errno, "Cannot find the size of '%s': %m", d->sink);
        *ret_size = (uint64_t) end;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Every partition of every disk, probed; the ones that may be a root go to cands. */
static int find_candidates(const struct worker_command *c, struct root_candidate **ret, size_t *ret_n,
                           struct strbuf *looked, size_t *n_looked, struct strbuf *problems)
{
        _cleanup_free_ struct root_candidate *cands = NULL;
        size_t n = 0;

        for (size_t i = 0; i < c->n_disks; i++) {
                const struct worker_disk *d = &c->disks[i];
                struct partition_table t = {};
                struct ferry_error err = {};
                _cleanup_close_ int fd = -EBADF;
                struct partition_reader rd = { .read = partition_read_fd, .userdata = &fd };
                int r;

                r = disk_open(d, &fd, &rd.size, &err);
                if (r >= 0)
                        r = partition_table_read(&rd, &t, &err);
                if (r < 0) {
                        if (strbuf_appendf(problems, "; disk '%s': %s", d->name, ferry_error_message(&err)) < 0)
                                return -ENOMEM;
                        continue;
                }
                log_info("Disk '%s': %s partition table, %zu partition%s", d->name, partition_scheme_to_string(t.scheme),
                         t.n, t.n == 1 ? "" : "s");
                for (size_t p = 0; p < t.n; p++) {
                        enum fs_type fs = FS_UNKNOWN;
                        const char *why;

                        r = fs_probe(&rd, t.v[p].offset, t.v[p].length, &fs);
                        if (r < 0) {
                                partition_table_done(&t);
                                return r;
                        }
                        why = fs_type_unsupported_reason(fs);
                        if (strbuf_appendf(looked, "%s%s%s%s", *n_looked ? ", " : "", fs_type_to_string(fs),
                                           why ? ": " : "", why ?: "") < 0) {
                                partition_table_done(&t);
                                return -ENOMEM;
                        }
                        (*n_looked)++;
                        if (!fs_type_may_be_root(fs))
                                continue;
                        struct root_candidate *v = realloc(cands, (n + 1) * sizeof(*v));

                        if (!v) {
                                partition_table_done(&t);
                                return -ENOMEM;
                        }
                        cands = v;
                        cands[n++] = (struct root_candidate) { .disk = d, .partition = t.v[p].number,
                                                               .offset = t.v[p].offset, .length = t.v[p].length,
                                                               .fs = fs };
                }
                partition_table_done(&t);
        }
        *ret = TAKE_PTR(cands);
        *ret_n = n;
        return 0;
}

/* ---- running tools inside the guest ------------------------------------ */

static const char *const guest_api_dirs[] = { "proc", "sys", "dev", NULL };

/* chroot with /proc, /sys and /dev bound in; all unbound after. */
static int run_in_guest(const char *root, const char *const argv[], _unused_ void *userdata, struct ferry_error *err)
{
        size_t bound = 0;
        int r = 0;

        for (; guest_api_dirs[bound]; bound++) {
                _cleanup_free_ char *target = strjoin(root, "/", guest_api_dirs[bound], NULL), *source = NULL;
                struct stat st;

                source = strjoin("/", guest_api_dirs[bound], NULL);
                if (!target || !source) {
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
                        break;
                }
                /* A guest's symlink must not send the bind mount into the worker's own tree. */
                if (lstat(target, &st) < 0 && errno == ENOENT && mkdir(target, 0555) < 0) {
                        r = ferry_error_set(err, -errno, "Cannot create '%s': %m", target);
                        break;
                }
                if (lstat(target, &st) < 0 || !S_ISDIR(st.st_mode)) {
                        r = ferry_error_set(err, -ENOTDIR, "'/%s' in the guest is not a directory", guest_api_dirs[bound]);
                        break;
                }
                r = spawn_run((const char *const[]) { MOUNT_PATH, "--bind", source, target, NULL }, NULL, err);
                if (r < 0)
                        break;
        }
        if (r >= 0)
                r = spawn_run(argv, &(struct spawn_options) { .root = root }, err);
        while (bound-- > 0) {
                _cleanup_free_ char *target = strjoin(root, "/", guest_api_dirs[bound], NULL);
                struct ferry_error uerr = {};

                if (target && unmount_dir(target, &uerr) < 0 && r >= 0)
                        r = ferry_error_set(err, uerr.code, "%s", ferry_error_message(&uerr));
        }
        return r;
}

/* ---- the command --------------------------------------------------------- */

static int fixes_json(json_t *fixes, const char *name, enum guest_fix_status status, const char *message)
{
        return json_array_append_new(fixes, json_pack("{s:s, s:s, s:s}", "name", name, "status",
                                                      guest_fix_status_to_string(status), "message", message));
}

static int post_import_windows(json_t **ret_result, struct ferry_error *err)
{
        _cleanup_json_ json_t *fixes = json_array();

        if (!fixes)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        for (size_t i = 0; i < guest_fixes_count; i++)
                if (fixes_json(fixes, guest_fixes[i].name, GUEST_FIX_SKIPPED,
                               "Windows guest fixes (virtio drivers) are not implemented yet") < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        *ret_result = json_pack("{s:n, s:O}", "root", "fixes", fixes);
        return *ret_result ? 0 : ferry_error_set(err, -ENOMEM, "Out of memory");
}

/* The root mounted read-write at dir: apply every fix. */
static int apply_fixes(const struct worker_command *c, const struct post_import_options *o, const char *dir,
                       json_t *fixes, struct ferry_error *err)
{
        _cleanup_free_ const char **macs = calloc(c->n_nics ?: 1, sizeof(*macs));
        _cleanup_free_ char *fstab = NULL;
        _cleanup_close_ int fd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        struct guest_fix_context ctx = { .root = dir, .root_fd = fd, .macs = macs, .n_macs = c->n_nics,
                                         .run = run_in_guest };
        int r = 0;

        if (fd < 0)
                return ferry_error_set(err, -errno, "Cannot open '%s': %m", dir);
        if (!macs)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        for (size_t i = 0; i < c->n_nics; i++)
                macs[i] = c->nics[i].hardware_address;
        if (guest_fs_read(fd, "/etc/fstab", &fstab, NULL) >= 0)
                ctx.fstab = fstab;

        for (size_t i = 0; i < guest_fixes_count; i++) {
                struct guest_fix_result res = {};

                report(o, "Post-import: applying fix '%s'", guest_fixes[i].name);
                guest_fixes[i].apply(&ctx, &res);
                log_info("Fix '%s': %s: %s", guest_fixes[i].name, guest_fix_status_to_string(res.status), res.message);
                if (fixes_json(fixes, guest_fixes[i].name, res.status, res.message) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                if (res.status == GUEST_FIX_FAILED && r >= 0)
                        r = ferry_error_set(err, -EIO, "Fix '%s': %s", guest_fixes[i].name, res.message);
        }
        if (syncfs(fd) < 0 && r >= 0)
                r = ferry_error_set(err, -errno, "Cannot flush the guest's file system: %m");
        return r;
}

int post_import_run(const struct worker_command *c, const struct post_import_options *o, json_t **ret_result,
                    struct ferry_error *err)
{
        _cleanup_(strbuf_done) struct strbuf looked = STRBUF_INIT, problems = STRBUF_INIT, names = STRBUF_INIT;
        _cleanup_free_ struct root_candidate *cands = NULL;
        _cleanup_free_ char *dir = NULL, *os = NULL;
        _cleanup_json_ json_t *fixes = NULL, *result = NULL;
        const struct root_candidate *root = NULL;
        const char *tmp = o && o->tmp_dir ? o->tmp_dir : getenv("TMPDIR") ?: "/tmp";
        size_t n_cands = 0, n_looked = 0;
        struct ferry_error uerr = {};
        int r;

        if (c->os_type == WORKER_OS_WINDOWS)
                return post_import_windows(ret_result, err);

        report(o, "Post-import: looking for the root file system on %zu disk%s", c->n_disks, c->n_disks == 1 ? "" : "s");
        r = find_candidates(c, &cands, &n_cands, &looked, &n_looked, &problems);
        if (r < 0)
                return ferry_error_set(err, r, "Cannot probe the disks: %m");

        dir = strjoin(tmp, "/ferry-post-import.XXXXXX", NULL);
        if (!dir)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (n_cands > 0 && !mkdtemp(dir))
                return ferry_error_set(err, -errno, "Cannot create a mount directory in '%s': %m", tmp);

        for (size_t i = 0; i < n_cands && !root; i++) {
                struct ferry_error merr = {};

                r = mount_candidate(&cands[i], dir, false, &merr);
                if (r < 0) {
                        if (strbuf_appendf(&problems, "; disk '%s' partition %u: %s", cands[i].disk->name,
                                           cands[i].partition, ferry_error_message(&merr)) < 0)
                                r = -ENOMEM;
                        continue;
                }
                r = looks_like_root(dir, &os, &merr);
                if (unmount_dir(dir, &uerr) < 0) {
                        (void) rmdir(dir);
                        return ferry_error_set(err, uerr.code, "%s", ferry_error_message(&uerr));
                }
                if (r > 0)
                        root = &cands[i];
                else if (r < 0 && strbuf_appendf(&problems, "; disk '%s' partition %u: %s", cands[i].disk->name,
                                                 cands[i].partition, ferry_error_message(&merr)) < 0)
                        r = -ENOMEM;
        }

        if (!root) {
                if (n_cands > 0)
                        (void) rmdir(dir);
                for (size_t i = 0; i < c->n_disks; i++)
                        if (strbuf_appendf(&names, "%s%s", i ? ", " : "", c->disks[i].name) < 0)
                                return ferry_error_set(err, -ENOMEM, "Out of memory");
                return ferry_error_set(err, -ENOENT,
                                       "No Linux root filesystem found on disk%s %s: looked at %zu partition%s%s%s%s%s",
                                       c->n_disks == 1 ? "" : "s", strbuf_str(&names), n_looked,
                                       n_looked == 1 ? "" : "s", n_looked ? " (" : "", strbuf_str(&looked),
                                       n_looked ? ")" : "", strbuf_str(&problems));
        }

        report(o, "Post-import: the root is partition %u of disk '%s' (%s, %s)", root->partition, root->disk->name,
               fs_type_to_string(root->fs), os);
        fixes = json_array();
        if (!fixes) {
                (void) rmdir(dir);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        r = mount_candidate(root, dir, true, err);
        if (r < 0) {
                (void) rmdir(dir);
                return ferry_error_prefix(err, "Cannot mount the root file system read-write");
        }
        r = apply_fixes(c, o, dir, fixes, err);
        if (unmount_dir(dir, &uerr) < 0) {
                /* Leave the directory: something is still mounted on it. */
                if (r >= 0)
                        r = ferry_error_set(err, uerr.code, "%s", ferry_error_message(&uerr));
                else
                        log_error("%s", ferry_error_message(&uerr));
        } else
                (void) rmdir(dir);

        result = json_pack("{s:{s:s, s:i, s:s, s:s}, s:O}", "root", "disk", root->disk->name, "partition",
                           (int) root->partition, "filesystem", fs_type_to_string(root->fs), "os", os, "fixes", fixes);
        if (!result)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        *ret_result = TAKE_PTR(result);
        return r;
}
