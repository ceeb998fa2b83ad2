/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /1.0/warnings: what sync and migrations noticed.  An admin acknowledges
 * (status "acknowledged") or deletes them; a warning raised again after
 * being acknowledged counts up without becoming new.
 */
#include "common/json.h"
#include "daemon/api-resource.h"
#include "daemon/api-util.h"
#include "daemon/daemon.h"
#include "db/warning.h"
#include "model/model.h"

int api_warnings_list(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *warnings = NULL;
        struct ferry_error err = {};
        int r;

        r = db_warning_list(d->db, &warnings, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        return api_response_collection(ret, req, "/1.0/warnings", "uuid", warnings, NULL);
}

static int api_warning_store(struct db *db, const char *uuid, const json_t *warning, struct ferry_error *err)
{
        return db_warning_set_status(db, uuid, json_string_value(json_object_get(warning, "status")), err);
}

const struct api_resource api_warnings = {
        .base = "/1.0/warnings",
        .entity = "warning",
        .schema = &model_warning_schema,
        .get = db_warning_get,
        .store = api_warning_store,
};

int api_warning_delete(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        struct ferry_error err = {};
        int r;

        r = db_warning_delete(d->db, req->params[0], &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        r = api_resource_emit(d, req, &api_warnings, req->params[0], "deleted");
        if (r < 0)
                return r;
        return api_response_sync(ret, NULL);
}
