/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /1.0/queue: one entry per instance of a started batch.  The queue
 * engine writes them; the API only shows them.
 */
#include "common/json.h"
#include "daemon/api-util.h"
#include "daemon/daemon.h"
#include "db/queue.h"

int api_queue_list(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *entries = NULL;
        struct ferry_error err = {};
        int r;

        r = db_queue_list(d->db, api_request_arg(req, "batch"), &entries, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        return api_response_collection(ret, req, "/1.0/queue", "instance_uuid", entries, NULL);
}

int api_queue_get(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *entry = NULL;
        struct ferry_error err = {};
        int r;

        r = db_queue_get(d->db, req->params[0], &entry, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        return api_response_object(ret, TAKE_PTR(entry));
}
