/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker endpoints (docs/rest-api.md, "Worker endpoints"):
 *
 *   POST /internal/worker/{uuid}/:command   the next command for the worker
 *   POST /internal/worker/{uuid}/:update    progress and results
 *
 * reachable by untrusted TLS clients (a worker in a VM has no trusted
 * client certificate) and authenticated instead by the queue entry's
 * worker secret, sent as "Authorization: Bearer <secret>", on every
 * listener.  An unknown entry, a missing secret and a wrong one all get
 * the same 403, so that the endpoints do not tell which entries exist.
 *
 * And the admin side, trusted clients only:
 *
 *   POST /1.0/queue/{uuid}/worker-token      a new worker secret, shown once
 *   GET, POST /1.0/queue/{uuid}/worker-commands   the entry's commands; queue one
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "daemon/api-util.h"
#include "daemon/api.h"
#include "daemon/daemon.h"
#include "daemon/worker-queue.h"
#include "db/worker.h"

#define WORKER_NOT_AUTHORIZED "Not authorized: unknown queue entry or wrong worker token"

/* The token of "Authorization: Bearer <token>", or NULL. */
static const char *bearer_token(const char *authorization)
{
        const char *p;

        if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
                return NULL;
        p = authorization + 7;
        while (*p == ' ')
                p++;
        return *p ? p : NULL;
}

/* 1: the worker of req->params[0]; 0: ret holds the 403; negative: failure. */
static int worker_authenticate(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        struct ferry_error err = {};
        int r;

        r = worker_queue_check_token(d->db, req->params[0], bearer_token(req->authorization), &err);
        if (r < 0)
                return api_response_from_error(ret, &err) < 0 ? -ENOMEM : 0;
        if (r == 0) {
                log_debug("Refused a worker request for queue entry '%s' from %s", req->params[0],
                          req->requestor.protocol ?: "unix");
                r = api_response_error(ret, 403, WORKER_NOT_AUTHORIZED);
                return r < 0 ? r : 0;
        }
        return 1;
}

static char *queue_entry_url(const char *uuid)
{
        return strjoin("/1.0/queue/", uuid, NULL);
}

int api_worker_command(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *command = NULL;
        struct ferry_error err = {};
        int r;

        r = worker_authenticate(d, req, ret);
        if (r <= 0)
                return r;
        r = db_worker_command_next(d->db, req->params[0], &command, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        return api_response_sync(ret, TAKE_PTR(command));
}

int api_worker_update(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *body = NULL, *context = NULL;
        _cleanup_free_ char *url = NULL;
        struct ferry_error err = {};
        int r;

        r = worker_authenticate(d, req, ret);
        if (r <= 0)
                return r;
        r = api_request_json(req, ret, &body);
        if (r < 0 || !body)
                return r;

        r = worker_queue_apply_update(d->db, req->params[0], body, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        url = queue_entry_url(req->params[0]);
        context = json_pack("{s:O, s:O}", "worker_command", json_object_get(body, "id"), "status",
                            json_object_get(body, "status"));
        if (!url || !context)
                return -ENOMEM;
        api_emit_lifecycle(d, req, "queue-entry-updated", url, TAKE_PTR(context));
        return api_response_sync(ret, NULL);
}

int api_queue_worker_token_post(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        char secret[TRUST_TOKEN_SECRET_HEX_SIZE];
        _cleanup_free_ char *url = NULL;
        struct ferry_error err = {};
        json_t *metadata;
        int r;

        r = worker_queue_new_token(d->db, req->params[0], secret, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        url = queue_entry_url(req->params[0]);
        if (!url)
                return -ENOMEM;
        api_emit_lifecycle(d, req, "queue-entry-worker-token-created", url, NULL);

        metadata = json_pack("{s:s}", "token", secret);
        explicit_bzero(secret, sizeof(secret));
        if (!metadata)
                return -ENOMEM;
        return api_response_sync(ret, metadata);
}

int api_queue_worker_commands_list(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *list = NULL;
        struct ferry_error err = {};
        int r;

        r = db_worker_command_list(d->db, req->params[0], &list, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        return api_response_sync(ret, TAKE_PTR(list));
}

int api_queue_worker_commands_post(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *body = NULL;
        _cleanup_free_ char *url = NULL;
        struct ferry_error err = {};
        int64_t id;
        int r;

        r = api_request_json(req, ret, &body);
        if (r < 0 || !body)
                return r;
        r = worker_queue_add(d->db, req->params[0], body, &id, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        url = queue_entry_url(req->params[0]);
        if (!url)
                return -ENOMEM;
        api_emit_lifecycle(d, req, "queue-entry-worker-command-created", url,
                           json_pack("{s:I}", "worker_command", (json_int_t) id));
        return api_response_sync(ret, json_pack("{s:I}", "id", (json_int_t) id));
}
