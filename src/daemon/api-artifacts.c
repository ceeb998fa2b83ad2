/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /1.0/artifacts: files migrations need.  The record is an ordinary
 * collection object; its file streams to <data dir>/tmp while it arrives
 * (server.c), is checked against X-Ferry-SHA256 when the client sent one,
 * and is renamed to <data dir>/artifacts/NAME.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "daemon/api-collection.h"
#include "daemon/api-util.h"
#include "daemon/daemon.h"
#include "db/artifact.h"
#include "model/model.h"

static char *api_artifact_path(struct daemon *d, const char *name)
{
        return strjoin(d->data_dir, "/" DAEMON_ARTIFACTS_NAME "/", name, NULL);
}

static void api_artifact_removed(struct daemon *d, const char *name)
{
        _cleanup_free_ char *path = api_artifact_path(d, name);

        if (path && unlink(path) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Failed to remove the file of artifact '%s': %m", name);
}

const struct api_collection api_artifacts = {
        .resource = {
                .base = "/1.0/artifacts",
                .entity = "artifact",
                .schema = &model_artifact_schema,
                .get = db_artifact_get,
                .store = db_artifact_update,
        },
        .create = db_artifact_create,
        .list = db_artifact_list,
        .remove = db_artifact_delete,
        .removed = api_artifact_removed,
};

int api_artifact_file_get(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *artifact = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct ferry_error err = {};
        struct stat st;
        int r;

        r = db_artifact_get(d->db, req->params[0], &artifact, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        if (!json_is_object(json_object_get(artifact, "file")))
                return api_response_error(ret, 404, "Artifact '%s' has no file yet: upload one with "
                                                    "'ferry artifact upload %s FILE'",
                                          req->params[0], req->params[0]);

        path = api_artifact_path(d, req->params[0]);
        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;

        *ret = (struct api_response) {
                .status = 200,
                .send_file = true,
                .file_fd = TAKE_FD(fd),
                .file_size = (uint64_t) st.st_size,
                .content_type = "application/octet-stream",
        };
        return 0;
}

int api_artifact_file_put(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *artifact = NULL;
        _cleanup_free_ char *path = NULL;
        struct ferry_error err = {};
        int r;

        r = db_artifact_get(d->db, req->params[0], &artifact, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        if (!req->upload)
                return api_response_error(ret, 400, "The request needs the file as its body");

        if (req->header_sha256 && strcasecmp(req->header_sha256, req->upload->sha256) != 0)
                return api_response_error(ret, 400,
                                          "The upload's SHA-256 is %s, not %s as X-Ferry-SHA256 says: the file "
                                          "was damaged on the way, nothing was stored",
                                          req->upload->sha256, req->header_sha256);

        path = api_artifact_path(d, req->params[0]);
        if (!path)
                return -ENOMEM;
        if (rename(req->upload->path, path) < 0)
                return -errno;

        r = db_artifact_set_file(d->db, req->params[0], (int64_t) req->upload->size, req->upload->sha256, &err);
        if (r < 0) {
                (void) unlink(path);
                return api_response_from_error(ret, &err);
        }

        r = api_resource_emit(d, req, &api_artifacts.resource, req->params[0], "updated");
        if (r < 0)
                return r;
        return api_resource_respond(d, &api_artifacts.resource, req->params[0], ret);
}
