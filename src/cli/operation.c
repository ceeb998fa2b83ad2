/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Long work in ferryd is an operation (/1.0/operations/ID): start one,
 * wait for it, and report it the way the resource's command wants.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"

int cli_operation_wait(struct client *c, const char *id, json_t **ret_op, struct ferry_error *err)
{
        _cleanup_free_ char *base = cli_path("/1.0/operations", id, NULL), *path = NULL;

        if (!base || !(path = strjoin(base, "/wait?timeout=30", NULL)))
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        /* Rounds of 30 s, so that no client timeout cuts a long one short. */
        for (;;) {
                json_t *op = NULL;
                int r;

                r = client_request(c, "GET", path, NULL, &op, err);
                if (r < 0)
                        return r;
                if (!streq_ptr(json_string_value(json_object_get(op, "status")), "Running")) {
                        *ret_op = op;
                        return 0;
                }
                json_decref(op);
        }
}

/*
 * POST path with {} and return the id (free() it) of the operation ferryd
 * started, in *ret_id; what (e.g. "sync") names it in errors.  Errors are logged.
 */
static int cli_operation_start(struct client *c, const char *path, const char *what, char **ret_id)
{
        _cleanup_json_ json_t *envelope = NULL;
        struct ferry_error err = {};
        const char *id;
        int r;

        r = client_request_envelope(c, "POST", path, "{}", 2, &envelope, &err);
        if (r < 0)
                return cli_log_error(&err);
        if (!streq_ptr(json_string_value(json_object_get(envelope, "type")), "async")) {
                json_t *md = NULL;

                r = client_envelope_metadata(envelope, "POST", path, &md, &err);
                json_decref(md);
                return r < 0 ? cli_log_error(&err) : log_error_errno(EBADMSG, "ferryd started no %s", what);
        }
        id = json_string_value(json_object_get(json_object_get(envelope, "metadata"), "id"));
        if (!id)
                return log_error_errno(EBADMSG, "ferryd started a %s without an operation id", what);
        *ret_id = strdup(id);
        return *ret_id ? 0 : log_error_errno(ENOMEM, "Out of memory");
}

int cli_run_operation(struct cli *cli, const char *path, json_t **ret_metadata)
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *op = NULL;
        _cleanup_free_ char *id = NULL;
        struct ferry_error err = {};
        int r;

        r = cli_connect(cli, &c);
        if (r < 0)
                return r;
        r = cli_operation_start(c, path, "operation", &id);
        if (r < 0)
                return r;
        r = cli_operation_wait(c, id, &op, &err);
        if (r < 0)
                return cli_log_error(&err);
        if (!streq_ptr(json_string_value(json_object_get(op, "status")), "Success"))
                return log_error_errno(EIO, "%s", json_string_value(json_object_get(op, "err")) ?: "The operation failed");
        *ret_metadata = json_incref(json_object_get(op, "metadata"));
        return 0;
}

/* The newest operation on resource url (listed under resources.<type>), or NULL. */
static const char *cli_operation_find(const json_t *ops, const char *type, const char *url)
{
        const char *found = NULL;
        size_t i;
        json_t *op;

        json_array_foreach(ops, i, op) {
                const json_t *resources = json_object_get(json_object_get(op, "resources"), type);

                if (streq_ptr(json_string_value(json_array_get(resources, 0)), url))
                        found = json_string_value(json_object_get(op, "id"));
        }
        return found;
}

/* How a finished sync went: the kind's summary, or why it failed with the resource's connectivity status. */
static int cli_sync_report(struct client *c, const struct cli_sync_kind *kind, const char *name, const json_t *op)
{
        _cleanup_free_ char *path = cli_path(kind->collection, name, NULL);
        _cleanup_json_ json_t *obj = NULL;
        struct ferry_error err = {};

        if (streq_ptr(json_string_value(json_object_get(op, "status")), "Success")) {
                kind->report(name, json_object_get(op, "metadata"));
                return 0;
        }
        if (path && client_request(c, "GET", path, NULL, &obj, &err) >= 0)
                log_error("%s %s: %s", kind->title, name,
                          json_string_value(json_object_get(json_object_get(obj, "properties"),
                                                            "connectivity_status")) ?: "sync failed");
        return log_error_errno(EIO, "%s", json_string_value(json_object_get(op, "err")) ?: "Sync failed");
}

int cli_sync(struct cli *cli, const struct cli_sync_kind *kind, const char *name)
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *op = NULL;
        _cleanup_free_ char *path = cli_path(kind->collection, name, "/sync"), *id = NULL;
        struct ferry_error err = {};
        int r;

        if (!path)
                return log_error_errno(ENOMEM, "Out of memory");
        r = cli_connect(cli, &c);
        if (r < 0)
                return r;
        /* A sync takes no parameters. */
        r = cli_operation_start(c, path, "sync", &id);
        if (r < 0)
                return r;
        if (cli_args_has(cli->args, "no-wait")) {
                printf("Sync of %s %s started: /1.0/operations/%s\n", kind->what, name, id);
                return 0;
        }
        r = cli_operation_wait(c, id, &op, &err);
        if (r < 0)
                return cli_log_error(&err);
        return cli_sync_report(c, kind, name, op);
}

int cli_wait_first_sync(struct cli *cli, const struct cli_sync_kind *kind, const char *name)
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *ops = NULL, *op = NULL;
        _cleanup_free_ char *url = cli_path(kind->collection, name, NULL);
        struct ferry_error err = {};
        const char *id;
        int r;

        if (!url)
                return log_error_errno(ENOMEM, "Out of memory");
        r = cli_connect(cli, &c);
        if (r < 0)
                return r;
        r = client_request(c, "GET", "/1.0/operations?recursion=1", NULL, &ops, &err);
        if (r < 0)
                return cli_log_error(&err);
        id = cli_operation_find(ops, kind->resource_type, url);
        if (!id)
                return 0;
        r = cli_operation_wait(c, id, &op, &err);
        if (r < 0)
                return cli_log_error(&err);
        return cli_sync_report(c, kind, name, op);
}
