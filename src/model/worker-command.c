/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "model/worker-command.h"

static const char *const worker_command_type_table[_WORKER_COMMAND_TYPE_MAX] = {
        [WORKER_COMMAND_IMPORT] = "import",
        [WORKER_COMMAND_FINALIZE] = "finalize",
        [WORKER_COMMAND_POST_IMPORT] = "post-import",
};

static const char *const worker_os_type_table[_WORKER_OS_TYPE_MAX] = {
        [WORKER_OS_LINUX] = "linux",
        [WORKER_OS_WINDOWS] = "windows",
};

static const char *const worker_import_mode_table[_WORKER_IMPORT_MODE_MAX] = {
        [WORKER_IMPORT_FULL] = "full",
        [WORKER_IMPORT_DELTA] = "delta",
};

static const char *const worker_update_status_table[_WORKER_UPDATE_STATUS_MAX] = {
        [WORKER_UPDATE_RUNNING] = "running",
        [WORKER_UPDATE_DONE] = "done",
        [WORKER_UPDATE_FAILED] = "failed",
};

#define DEFINE_STRING_TABLE(prefix, type, table, max)                                   \
        const char *prefix##_to_string(type v)                                          \
        {                                                                               \
                return (int) v >= 0 && (int) v < (max) ? table[v] : NULL;               \
        }                                                                               \
        type prefix##_from_string(const char *s)                                        \
        {                                                                               \
                return s ? (type) string_table_lookup(table, ELEMENTSOF(table), s) : (type) -EINVAL; \
        }

DEFINE_STRING_TABLE(worker_command_type, enum worker_command_type, worker_command_type_table,
                    _WORKER_COMMAND_TYPE_MAX)
DEFINE_STRING_TABLE(worker_import_mode, enum worker_import_mode, worker_import_mode_table, _WORKER_IMPORT_MODE_MAX)
DEFINE_STRING_TABLE(worker_os_type, enum worker_os_type, worker_os_type_table, _WORKER_OS_TYPE_MAX)
DEFINE_STRING_TABLE(worker_update_status, enum worker_update_status, worker_update_status_table,
                    _WORKER_UPDATE_STATUS_MAX)

void worker_command_free(struct worker_command *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_disks; i++) {
                free(c->disks[i].name);
                free(c->disks[i].source);
                for (char **a = c->disks[i].source_argv; a && *a; a++)
                        free(*a);
                free(c->disks[i].source_argv);
                free(c->disks[i].sink);
                free(c->disks[i].changes);
                free(c->disks[i].checkpoint);
        }
        free(c->disks);
        for (size_t i = 0; i < c->n_nics; i++)
                free(c->nics[i].hardware_address);
        free(c->nics);
        free(c);
}

static bool disk_name_valid(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > WORKER_DISK_NAME_MAX)
                return false;
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

/* NBD URIs as libnbd takes them: nbd://, nbds://, nbd+unix://, nbds+unix://, nbd+vsock://... */
static bool nbd_uri_valid(const char *s)
{
        return (startswith(s, "nbd://") || startswith(s, "nbds://") || startswith(s, "nbd+") ||
                startswith(s, "nbds+")) &&
               strstr(s, "://") != NULL;
}

/* A change list's shape: [{"start": N >= 0, "length": N >= 1}, ...].
 * Overlaps are the copy engine's to find (disk/changes.h). */
static int check_changes(const json_t *changes, struct ferry_error *err)
{
        static const char *const fields[] = { "start", "length", NULL };
        const json_t *area;
        size_t i;

        if (!json_is_array(changes))
                return ferry_error_set(err, -EINVAL, "Field 'changes' must be an array of areas");
        json_array_foreach(changes, i, area) {
                int64_t v;
                int r;

                if (!json_is_object(area))
                        return ferry_error_set(err, -EINVAL, "Area %zu of 'changes' must be an object", i);
                r = json_check_known_fields(area, fields, NULL, err);
                if (r >= 0)
                        r = json_get_int(area, "start", true, 0, INT64_MAX, &v, err);
                if (r >= 0)
                        r = json_get_int(area, "length", true, 1, INT64_MAX, &v, err);
                if (r < 0)
                        return ferry_error_prefix(err, "Area %zu of 'changes'", i);
        }
        return 0;
}

static int dup_field(const char *value, char **ret, struct ferry_error *err)
{
        if (!value)
                return 0;
        *ret = strdup(value);
        return *ret ? 0 : ferry_error_set(err, -ENOMEM, "Out of memory");
}

/* "source_command": ["nbdkit", "vddk", ...]: non-empty strings, at most WORKER_SOURCE_ARGV_MAX. */
static int parse_source_command(const json_t *v, char ***ret, struct ferry_error *err)
{
        size_t n = json_array_size(v);
        char **argv;
        json_t *item;
        size_t i;

        if (!json_is_array(v) || n == 0 || n > WORKER_SOURCE_ARGV_MAX)
                return ferry_error_set(err, -EINVAL, "source_command must be an array of 1 to %d strings",
                                       WORKER_SOURCE_ARGV_MAX);
        json_array_foreach(v, i, item)
                if (!json_is_string(item) || json_string_length(item) == 0)
                        return ferry_error_set(err, -EINVAL, "source_command[%zu] must be a non-empty string", i);

        argv = calloc(n + 1, sizeof(*argv));
        if (!argv)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        json_array_foreach(v, i, item) {
                argv[i] = strdup(json_string_value(item));
                if (!argv[i]) {
                        for (size_t j = 0; j < i; j++)
                                free(argv[j]);
                        free(argv);
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                }
        }
        *ret = argv;
        return 0;
}

/* Six pairs of hex digits separated by ':' (either case), written in lower case to ret. */
static bool mac_address_normalize(const char *s, char ret[static 18])
{
        static const char hex[] = "0123456789abcdefABCDEF";

        if (strlen(s) != 17)
                return false;
        for (size_t i = 0; i < 17; i++) {
                if (i % 3 == 2 ? s[i] != ':' : !strchr(hex, s[i]))
                        return false;
                ret[i] = (char) (s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
        }
        ret[17] = '\0';
        return true;
}

/* "nics": [{"hardware_address": "00:50:56:01:00:01"}], unique addresses. */
static int parse_nics(struct worker_command *c, const json_t *nics, struct ferry_error *err)
{
        static const char *const fields[] = { "hardware_address", NULL };
        const json_t *nic;
        size_t i;

        if (!json_is_array(nics))
                return ferry_error_set(err, -EINVAL, "Field 'nics' must be an array");
        if (json_array_size(nics) > WORKER_MAX_NICS)
                return ferry_error_set(err, -ERANGE, "Field 'nics' lists more than %d NICs", WORKER_MAX_NICS);
        c->nics = calloc(json_array_size(nics) ?: 1, sizeof(*c->nics));
        if (!c->nics)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        json_array_foreach(nics, i, nic) {
                const char *mac;
                char normal[18];
                int r;

                if (!json_is_object(nic))
                        return ferry_error_set(err, -EINVAL, "NIC %zu must be an object", i);
                r = json_check_known_fields(nic, fields, NULL, err);
                if (r >= 0)
                        r = json_get_string(nic, "hardware_address", true, &mac, err);
                if (r >= 0 && !mac_address_normalize(mac, normal))
                        r = ferry_error_set(err, -EINVAL, "'hardware_address' '%s' is not a MAC address (00:50:56:01:00:01)",
                                            mac);
                if (r < 0)
                        return ferry_error_prefix(err, "NIC %zu", i);
                for (size_t j = 0; j < c->n_nics; j++)
                        if (streq(c->nics[j].hardware_address, normal))
                                return ferry_error_set(err, -EINVAL, "NICs %zu and %zu have the same address '%s'", j, i,
                                                       normal);
                c->nics[i].hardware_address = strdup(normal);
                if (!c->nics[i].hardware_address)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                c->n_nics++;
        }
        return 0;
}

static int parse_disk(const struct worker_command *c, const json_t *obj, struct worker_disk *d,
                      struct ferry_error *err)
{
        static const char *const import_fields[] = { "name", "source", "source_command", "sink", "changes",
                                                     "checkpoint", NULL };
        /* finalize and post-import */
        static const char *const finalize_fields[] = { "name", "sink", NULL };
        bool import = c->type == WORKER_COMMAND_IMPORT;
        const char *name, *source = NULL, *sink, *checkpoint = NULL;
        json_t *changes = NULL;
        int r;

        if (!json_is_object(obj))
                return ferry_error_set(err, -EINVAL, "must be an object");
        r = json_check_known_fields(obj, import ? import_fields : finalize_fields, NULL, err);
        if (r < 0)
                return r;
        r = json_get_string(obj, "name", true, &name, err);
        if (r < 0)
                return r;
        if (!disk_name_valid(name))
                return ferry_error_set(err, -EINVAL,
                                       "name '%s' must be 1 to %d letters, digits, '.', '_' or '-', starting with a "
                                       "letter or digit",
                                       name, WORKER_DISK_NAME_MAX);
        r = dup_field(name, &d->name, err);
        if (r < 0)
                return r;

        /* From here on, errors name the disk. */
        r = json_get_string(obj, "sink", true, &sink, err);
        if (r >= 0 && sink[0] != '/')
                r = ferry_error_set(err, -EINVAL, "sink '%s' must be an absolute path", sink);
        if (r >= 0 && import) {
                const json_t *command = json_object_get(obj, "source_command");

                r = json_get_string(obj, "source", false, &source, err);
                if (r >= 0 && !source == !command)
                        r = ferry_error_set(err, -EINVAL,
                                            "give either 'source' (an NBD URI) or 'source_command' (an NBD "
                                            "server to start), not %s",
                                            source ? "both" : "neither");
                if (r >= 0 && command)
                        r = parse_source_command(command, &d->source_argv, err);
        }
        if (r >= 0 && source && !nbd_uri_valid(source))
                r = ferry_error_set(err, -EINVAL, "source '%s' is not an NBD URI (nbd://, nbds://, nbd+unix://...)",
                                    source);
        if (r >= 0 && import)
                r = json_get_string(obj, "checkpoint", false, &checkpoint, err);
        if (r >= 0 && checkpoint && checkpoint[0] != '/')
                r = ferry_error_set(err, -EINVAL, "checkpoint '%s' must be an absolute path", checkpoint);
        if (r >= 0 && import) {
                changes = json_object_get(obj, "changes");
                if (changes && json_is_null(changes))
                        changes = NULL;
                if (c->mode == WORKER_IMPORT_FULL && changes)
                        r = ferry_error_set(err, -EINVAL, "a full import takes no 'changes'");
                else if (c->mode == WORKER_IMPORT_DELTA && !changes)
                        r = ferry_error_set(err, -EINVAL, "a delta import needs 'changes'");
                else if (changes)
                        r = check_changes(changes, err);
        }
        if (r >= 0)
                r = dup_field(sink, &d->sink, err);
        if (r >= 0)
                r = dup_field(source, &d->source, err);
        if (r >= 0)
                r = dup_field(checkpoint, &d->checkpoint, err);
        if (r >= 0 && changes) {
                d->changes = json_dump_compact(changes);
                if (!d->changes)
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        if (r < 0)
                return ferry_error_prefix(err, "Disk '%s'", name);
        return 0;
}

int worker_command_parse(const json_t *obj, bool need_id, struct worker_command **ret, struct ferry_error *err)
{
        static const char *const fields[] = { "id", "command", "mode", "sha256", "os_type", "disks", "nics", NULL };
        _cleanup_worker_command_ struct worker_command *c = NULL;
        const char *type, *mode = NULL, *os_type = NULL;
        json_t *disks, *nics;
        int64_t id = 0;
        size_t i;
        int r;

        if (!json_is_object(obj))
                return ferry_error_set(err, -EINVAL, "A worker command must be a JSON object");
        r = json_check_known_fields(obj, fields, "a worker command", err);
        if (r < 0)
                return r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        if (need_id) {
                r = json_get_int(obj, "id", true, 1, INT64_MAX, &id, err);
                if (r < 0)
                        return r;
        } else if (json_object_get(obj, "id"))
                return ferry_error_set(err, -EINVAL, "Field 'id' is read-only: ferryd numbers the commands");
        c->id = id;

        r = json_get_string(obj, "command", true, &type, err);
        if (r < 0)
                return r;
        c->type = worker_command_type_from_string(type);
        if ((int) c->type < 0)
                return ferry_error_set(err, -EINVAL, "Unknown command '%s' (import, finalize, post-import)", type);

        r = json_get_string(obj, "mode", c->type == WORKER_COMMAND_IMPORT, &mode, err);
        if (r < 0)
                return r;
        if (c->type == WORKER_COMMAND_IMPORT) {
                c->mode = worker_import_mode_from_string(mode);
                if ((int) c->mode < 0)
                        return ferry_error_set(err, -EINVAL, "Field 'mode' must be 'full' or 'delta', not '%s'", mode);
        } else if (mode)
                return ferry_error_set(err, -EINVAL, "Field 'mode' is only for import");

        r = json_get_bool(obj, "sha256", false, &c->sha256, err);
        if (r < 0)
                return r;
        if (r > 0 && c->type != WORKER_COMMAND_FINALIZE)
                return ferry_error_set(err, -EINVAL, "Field 'sha256' is only for finalize");

        r = json_get_string(obj, "os_type", c->type == WORKER_COMMAND_POST_IMPORT, &os_type, err);
        if (r < 0)
                return r;
        if (c->type == WORKER_COMMAND_POST_IMPORT) {
                c->os_type = worker_os_type_from_string(os_type);
                if ((int) c->os_type < 0)
                        return ferry_error_set(err, -EINVAL, "Field 'os_type' must be 'linux' or 'windows', not '%s'",
                                               os_type);
        } else if (os_type)
                return ferry_error_set(err, -EINVAL, "Field 'os_type' is only for post-import");

        nics = json_object_get(obj, "nics");
        if (nics && c->type != WORKER_COMMAND_POST_IMPORT)
                return ferry_error_set(err, -EINVAL, "Field 'nics' is only for post-import");
        if (nics) {
                r = parse_nics(c, nics, err);
                if (r < 0)
                        return r;
        }

        r = json_get_array(obj, "disks", true, &disks, err);
        if (r < 0)
                return r;
        if (json_array_size(disks) == 0)
                return ferry_error_set(err, -EINVAL, "Field 'disks' must list at least one disk");
        if (json_array_size(disks) > WORKER_MAX_DISKS)
                return ferry_error_set(err, -ERANGE, "Field 'disks' lists more than %d disks", WORKER_MAX_DISKS);

        c->disks = calloc(json_array_size(disks), sizeof(*c->disks));
        if (!c->disks)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        for (i = 0; i < json_array_size(disks); i++) {
                struct worker_disk *d = &c->disks[i];

                c->n_disks++;
                r = parse_disk(c, json_array_get(disks, i), d, err);
                if (r < 0)
                        return d->name ? r : ferry_error_prefix(err, "Disk %zu", i);
                for (size_t j = 0; j < i; j++) {
                        if (streq(c->disks[j].name, d->name))
                                return ferry_error_set(err, -EINVAL, "Disk name '%s' appears twice", d->name);
                        if (streq(c->disks[j].sink, d->sink))
                                return ferry_error_set(err, -EINVAL, "Disks '%s' and '%s' have the same sink '%s'",
                                                       c->disks[j].name, d->name, d->sink);
                }
        }

        *ret = TAKE_PTR(c);
        return 0;
}

static int parse_progress(json_t *progress, struct ferry_error *err)
{
        static const char *const fields[] = { "disk", "done", "total", "rate", NULL };
        json_t *p;
        size_t i;

        if (!json_is_array(progress))
                return ferry_error_set(err, -EINVAL, "Field 'progress' must be an array");
        if (json_array_size(progress) > WORKER_MAX_DISKS)
                return ferry_error_set(err, -ERANGE, "Field 'progress' lists more than %d disks", WORKER_MAX_DISKS);
        json_array_foreach(progress, i, p) {
                const char *disk;
                int64_t done, total;
                json_t *rate;
                int r;

                if (!json_is_object(p))
                        return ferry_error_set(err, -EINVAL, "Progress %zu must be an object", i);
                r = json_check_known_fields(p, fields, NULL, err);
                if (r >= 0)
                        r = json_get_string(p, "disk", true, &disk, err);
                if (r >= 0 && !disk_name_valid(disk))
                        r = ferry_error_set(err, -EINVAL, "'%s' is not a disk name", disk);
                if (r >= 0)
                        r = json_get_int(p, "done", true, 0, INT64_MAX, &done, err);
                if (r >= 0)
                        r = json_get_int(p, "total", true, 0, INT64_MAX, &total, err);
                if (r >= 0 && done > total)
                        r = ferry_error_set(err, -ERANGE, "'done' is larger than 'total'");
                rate = json_object_get(p, "rate");
                if (r >= 0 && rate && (!json_is_number(rate) || json_number_value(rate) < 0))
                        r = ferry_error_set(err, -EINVAL, "'rate' must be a number of bytes per second, at least 0");
                if (r < 0)
                        return ferry_error_prefix(err, "Progress %zu", i);
        }
        return 0;
}

int worker_update_parse(const json_t *obj, struct worker_update *ret, struct ferry_error *err)
{
        static const char *const fields[] = { "id", "status", "message", "progress", "result", NULL };
        struct worker_update u = {};
        const char *status;
        int r;

        if (!json_is_object(obj))
                return ferry_error_set(err, -EINVAL, "A worker update must be a JSON object");
        r = json_check_known_fields(obj, fields, "a worker update", err);
        if (r < 0)
                return r;
        r = json_get_int(obj, "id", true, 1, INT64_MAX, &u.id, err);
        if (r < 0)
                return r;
        r = json_get_string(obj, "status", true, &status, err);
        if (r < 0)
                return r;
        u.status = worker_update_status_from_string(status);
        if ((int) u.status < 0)
                return ferry_error_set(err, -EINVAL, "Field 'status' must be one of running, done, failed");
        r = json_get_string(obj, "message", false, &u.message, err);
        if (r < 0)
                return r;
        if (u.message && strlen(u.message) > WORKER_MESSAGE_MAX)
                return ferry_error_set(err, -EINVAL, "Field 'message' is longer than %d bytes", WORKER_MESSAGE_MAX);
        r = json_get_array(obj, "progress", false, &u.progress, err);
        if (r < 0)
                return r;
        if (u.progress) {
                r = parse_progress(u.progress, err);
                if (r < 0)
                        return r;
        }
        r = json_get_object(obj, "result", false, &u.result, err);
        if (r < 0)
                return r;

        *ret = u;
        return 0;
}
