/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "disk/checkpoint.h"

#define CHECKPOINT_MAGIC "ferry_disk_checkpoint"

void disk_checkpoint_done(struct disk_checkpoint *c)
{
        free(c->sink);
        disk_ranges_done(&c->done);
        *c = (struct disk_checkpoint) DISK_CHECKPOINT_INIT;
}

static bool is_lower_hex(const char *s, size_t len)
{
        if (strlen(s) != len)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

static int done_parse(const json_t *list, uint64_t size, struct disk_ranges *ret, struct ferry_error *err)
{
        static const char *const fields[] = { "start", "length", NULL };
        _cleanup_disk_ranges_ struct disk_ranges set = DISK_RANGES_INIT;
        uint64_t prev_end = 0;
        size_t i;
        json_t *v;
        int r;

        json_array_foreach(list, i, v) {
                int64_t start, length;

                if (!json_is_object(v))
                        return ferry_error_set(err, -EINVAL, "Done range %zu is not an object with 'start' and 'length'",
                                               i);
                r = json_check_known_fields(v, fields, NULL, err);
                if (r >= 0)
                        r = json_get_int(v, "start", true, 0, INT64_MAX, &start, err);
                if (r >= 0)
                        r = json_get_int(v, "length", true, 1, INT64_MAX, &length, err);
                if (r < 0)
                        return ferry_error_prefix(err, "Done range %zu", i);
                /* Written sorted and merged: anything else is not ours. */
                if (i > 0 && (uint64_t) start <= prev_end)
                        return ferry_error_set(err, -EINVAL, "Done range %zu overlaps or touches done range %zu", i,
                                               i - 1);
                if ((uint64_t) length > size || (uint64_t) start > size - (uint64_t) length)
                        return ferry_error_set(err, -EINVAL, "Done range %zu ends beyond the source size", i);
                r = disk_ranges_add(&set, (uint64_t) start, (uint64_t) length);
                if (r < 0)
                        return ferry_error_set(err, r, "Out of memory");
                prev_end = (uint64_t) start + (uint64_t) length;
        }

        disk_ranges_done(ret);
        *ret = set;
        set = (struct disk_ranges) DISK_RANGES_INIT;
        return 0;
}

int disk_checkpoint_parse(const char *text, size_t len, struct disk_checkpoint *ret, struct ferry_error *err)
{
        static const char *const fields[] = { CHECKPOINT_MAGIC, "source_size", "changes_sha256", "sink", "done",
                                              NULL };
        _cleanup_disk_checkpoint_ struct disk_checkpoint c = DISK_CHECKPOINT_INIT;
        _cleanup_json_ json_t *root = NULL;
        const char *changes = NULL, *sink = NULL;
        int64_t version, size;
        json_t *done = NULL;
        int r;

        r = json_parse_strict(text, len, &root, err);
        if (r < 0)
                return r;
        if (!json_is_object(root) || !json_object_get(root, CHECKPOINT_MAGIC))
                return ferry_error_set(err, -EINVAL, "Not a ferry checkpoint (no '" CHECKPOINT_MAGIC "' field)");

        r = json_get_int(root, CHECKPOINT_MAGIC, true, INT64_MIN, INT64_MAX, &version, err);
        if (r < 0)
                return r;
        if (version != DISK_CHECKPOINT_VERSION)
                return ferry_error_set(err, -EPROTONOSUPPORT,
                                       "Unsupported checkpoint version %" PRIi64 " (this ferry reads version %d)",
                                       version, DISK_CHECKPOINT_VERSION);
        r = json_check_known_fields(root, fields, "a checkpoint", err);
        if (r >= 0)
                r = json_get_int(root, "source_size", true, 0, INT64_MAX, &size, err);
        if (r >= 0)
                r = json_get_string(root, "changes_sha256", false, &changes, err);
        if (r >= 0)
                r = json_get_string(root, "sink", false, &sink, err);
        if (r >= 0)
                r = json_get_array(root, "done", true, &done, err);
        if (r < 0)
                return r;

        if (changes && !is_lower_hex(changes, DISK_CHANGES_DIGEST_SIZE - 1))
                return ferry_error_set(err, -EINVAL, "Field 'changes_sha256' must be 64 lower-case hex digits");
        c.source_size = (uint64_t) size;
        if (changes)
                memcpy(c.changes_sha256, changes, DISK_CHANGES_DIGEST_SIZE);
        if (sink) {
                c.sink = strdup(sink);
                if (!c.sink)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        r = done_parse(done, c.source_size, &c.done, err);
        if (r < 0)
                return r;

        disk_checkpoint_done(ret);
        *ret = c;
        c = (struct disk_checkpoint) DISK_CHECKPOINT_INIT;
        return 0;
}

int disk_checkpoint_load(const char *path, struct disk_checkpoint *ret, struct ferry_error *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = fileio_read_checked(path, DISK_CHECKPOINT_FILE_MAX, &text, &len, err);
        if (r == -ENOENT)
                return ferry_error_set(err, r, "Checkpoint '%s' does not exist", path);
        if (r >= 0)
                r = disk_checkpoint_parse(text, len, ret, err);
        if (r < 0)
                return ferry_error_prefix(err, "Checkpoint '%s'", path);
        return 0;
}

char *disk_checkpoint_format(const struct disk_checkpoint *c)
{
        _cleanup_json_ json_t *root = NULL, *done = NULL;
        char *text;

        root = json_object();
        done = json_array();
        if (!root || !done)
                goto oom;
        if (json_object_set_new(root, CHECKPOINT_MAGIC, json_integer(DISK_CHECKPOINT_VERSION)) < 0 ||
            json_object_set_new(root, "source_size", json_integer((json_int_t) c->source_size)) < 0)
                goto oom;
        if (c->changes_sha256[0] && json_object_set_new(root, "changes_sha256", json_string(c->changes_sha256)) < 0)
                goto oom;
        if (c->sink && json_object_set_new(root, "sink", json_string(c->sink)) < 0)
                goto oom;
        for (size_t i = 0; i < c->done.n; i++)
                if (json_array_append_new(done, json_pack("{sIsI}", "start", (json_int_t) c->done.v[i].start, "length",
                                                          (json_int_t) c->done.v[i].length)) < 0)
                        goto oom;
        if (json_object_set(root, "done", done) < 0)
                goto oom;

        text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        if (!text)
                goto oom;
        return text;
oom:
        errno = ENOMEM;
        return NULL;
}

int disk_checkpoint_save(const char *path, const struct disk_checkpoint *c, struct ferry_error *err)
{
        _cleanup_free_ char *text = disk_checkpoint_format(c), *line = NULL;

        /* With a final newline, for cat. */
        if (!text || !(line = strjoin(text, "\n", NULL)))
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return fileio_write_atomic(path, line, strlen(line), 0600, err);
}

int disk_checkpoint_check(const struct disk_checkpoint *c, const char *path, uint64_t size,
                          const char *changes_sha256, const char *sink, struct ferry_error *err)
{
        if (c->source_size != size)
                return ferry_error_set(err, -ESTALE,
                                       "Checkpoint '%s' is for a %" PRIu64 "-byte source, not this %" PRIu64
                                       "-byte one",
                                       path, c->source_size, size);
        if (!c->changes_sha256[0] && changes_sha256[0])
                return ferry_error_set(err, -ESTALE,
                                       "Checkpoint '%s' is for a full copy, not for a delta with a change list", path);
        if (c->changes_sha256[0] && !changes_sha256[0])
                return ferry_error_set(err, -ESTALE, "Checkpoint '%s' is for a delta, not for a full copy", path);
        if (!streq(c->changes_sha256, changes_sha256))
                return ferry_error_set(err, -ESTALE, "Checkpoint '%s' is for a different change list", path);
        if (c->sink && sink && !streq(c->sink, sink))
                return ferry_error_set(err, -ESTALE, "Checkpoint '%s' is for the sink '%s', not '%s'", path, c->sink,
                                       sink);
        return 0;
}
