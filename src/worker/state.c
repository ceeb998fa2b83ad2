/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "worker/state.h"

int worker_state_prepare(const char *dir, struct ferry_error *err)
{
        struct stat st;

        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return ferry_error_set(err, -errno, "Cannot create the state directory '%s': %m", dir);
        if (stat(dir, &st) < 0)
                return ferry_error_set(err, -errno, "Cannot use the state directory '%s': %m", dir);
        if (!S_ISDIR(st.st_mode))
                return ferry_error_set(err, -ENOTDIR, "The state directory '%s' is not a directory", dir);
        return 0;
}

int worker_state_load(const char *dir, struct worker_command **ret_command, json_t **ret_json,
                      struct ferry_error *err)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_json_ json_t *v = NULL;
        struct worker_command *c = NULL;
        size_t len;
        int r;

        path = strjoin(dir, "/" WORKER_STATE_COMMAND, NULL);
        if (!path)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = fileio_read(path, WORKER_STATE_COMMAND_MAX, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return ferry_error_set(err, r, "Cannot read the state file '%s': %m", path);
        r = json_parse_strict(text, len, &v, err);
        if (r >= 0)
                r = worker_command_parse(v, true, &c, err);
        if (r < 0) {
                ferry_error_prefix(err, "State file '%s' is damaged", path);
                err->code = -EINVAL;
                return -EINVAL;
        }
        *ret_command = c;
        *ret_json = TAKE_PTR(v);
        return 1;
}

int worker_state_save(const char *dir, const json_t *command, struct ferry_error *err)
{
        _cleanup_free_ char *path = NULL, *text = NULL;

        path = strjoin(dir, "/" WORKER_STATE_COMMAND, NULL);
        text = json_dump_compact(command);
        if (!path || !text)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return fileio_write_atomic(path, text, strlen(text), 0600, err);
}

int worker_state_clear(const char *dir, struct ferry_error *err)
{
        _cleanup_free_ char *path = strjoin(dir, "/" WORKER_STATE_COMMAND, NULL);

        if (!path)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (unlink(path) < 0 && errno != ENOENT)
                return ferry_error_set(err, -errno, "Cannot remove the state file '%s': %m", path);
        return 0;
}

char *worker_state_checkpoint_path(const char *dir, const struct worker_disk *d, const char *changes_digest)
{
        char *p;

        if (d->checkpoint)
                return strdup(d->checkpoint);
        if (!changes_digest)
                return strjoin(dir, "/", d->name, ".full.ckpt", NULL);
        if (asprintf(&p, "%s/%s.delta-%.16s.ckpt", dir, d->name, changes_digest) < 0)
                return NULL;
        return p;
}

int worker_state_remove_checkpoints(const char *dir, struct ferry_error *err)
{
        DIR *dp;
        struct dirent *de;
        int n = 0, r = 0;

        dp = opendir(dir);
        if (!dp)
                return ferry_error_set(err, -errno, "Cannot read the state directory '%s': %m", dir);
        while ((errno = 0, de = readdir(dp))) {
                if (de->d_name[0] == '.' || !endswith(de->d_name, ".ckpt"))
                        continue;
                if (unlinkat(dirfd(dp), de->d_name, 0) < 0 && errno != ENOENT) {
                        r = ferry_error_set(err, -errno, "Cannot remove the checkpoint '%s/%s': %m", dir, de->d_name);
                        break;
                }
                n++;
        }
        if (r == 0 && errno != 0)
                r = ferry_error_set(err, -errno, "Cannot read the state directory '%s': %m", dir);
        closedir(dp);
        return r < 0 ? r : n;
}
