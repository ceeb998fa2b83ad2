/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/client.h"
#include "common/http.h"
#include "common/json.h"
#include "common/strbuf.h"

struct client {
        char *socket_path;      /* absolute */
        struct http_client *http;
};

int client_new(const char *socket_path, struct client **ret, struct ferry_error *err)
{
        _cleanup_free_ char *cwd = NULL, *endpoint = NULL;
        _cleanup_client_ struct client *c = NULL;

        c = calloc(1, sizeof(*c));
        if (!c)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        if (socket_path[0] == '/')
                c->socket_path = strdup(socket_path);
        else {
                cwd = get_current_dir_name();
                if (!cwd)
                        return ferry_error_set(err, -errno, "Cannot get the current directory: %m");
                c->socket_path = strjoin(cwd, "/", socket_path, NULL);
        }
        if (!c->socket_path)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        endpoint = strjoin("unix://", c->socket_path, NULL);
        if (!endpoint)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        c->http = http_client_new(&(struct http_client_config) { .endpoint = endpoint }, err);
        if (!c->http)
                return err ? err->code : -errno;

        *ret = TAKE_PTR(c);
        return 0;
}

void client_free(struct client *c)
{
        if (!c)
                return;
        http_client_free(c->http);
        free(c->socket_path);
        free(c);
}

/*
 * libcurl only says that it "couldn't connect"; a connect() of our own
 * tells why: no socket file, nobody listening, no permission.
 */
static int client_connect_errno(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path));

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        return 0;
}

/*
 * Replace libcurl's message with why connect() fails.  The code stays
 * -ECONNREFUSED whatever the reason, so that -ENOENT keeps meaning 404.
 */
static int client_connect_error(struct client *c, struct ferry_error *err)
{
        int e = client_connect_errno(c->socket_path);

        if (e == 0)     /* it works now: keep what libcurl said */
                return ferry_error_prefix(err, "Cannot connect to ferryd at '%s'", c->socket_path);

        if (e == -ENOENT || e == -ECONNREFUSED)
                return ferry_error_set(err, -ECONNREFUSED, "Cannot connect to ferryd at '%s': %s. Is ferryd running?",
                                       c->socket_path, strerrordesc_np(-e));
        return ferry_error_set(err, -ECONNREFUSED, "Cannot connect to ferryd at '%s': %s", c->socket_path,
                               strerrordesc_np(-e));
}

static int client_error_code(long http_status)
{
        switch (http_status) {
        case 400:
                return -EINVAL;
        case 403:
                return -EPERM;
        case 404:
                return -ENOENT;
        case 409:
                return -EEXIST;
        case 412:
                return -ESTALE;
        case 413:
                return -EFBIG;
        default:
                return -EREMOTEIO;
        }
}

static int client_perform(struct client *c, const char *method, const char *path, const char *content_type,
                          const char *body, size_t body_len, const struct http_transfer *transfer,
                          const char *const *headers, struct http_response *ret, struct ferry_error *err)
{
        int r;

        if (transfer)
                r = http_request_transfer(c->http, method, path, content_type, transfer, headers, ret, err);
        else
                r = http_request(c->http, method, path, content_type, body, body_len, headers, ret, err);
        if (r == -ECONNREFUSED)
                return client_connect_error(c, err);
        if (r < 0 && (r == -ENOMEM || !transfer))
                return ferry_error_prefix(err, "Cannot talk to ferryd at '%s'", c->socket_path);
        return r;       /* a transfer's own read/write error reads well as it is */
}

static int client_parse_envelope(const struct http_response *resp, const char *method, const char *path,
                                 json_t **ret_envelope, struct ferry_error *err)
{
        json_t *envelope;
        json_error_t jerr;

        envelope = json_loadb(resp->body, resp->body_len, 0, &jerr);
        if (!envelope || !json_is_object(envelope)) {
                json_decref(envelope);
                return ferry_error_set(err, -EBADMSG,
                                       "The answer of ferryd to %s %s (HTTP %ld) is not a ferryd envelope", method,
                                       path, resp->status);
        }
        *ret_envelope = envelope;
        return 0;
}

int client_envelope_metadata(const json_t *envelope, const char *method, const char *path, json_t **ret_metadata,
                             struct ferry_error *err)
{
        const char *type, *message;
        json_t *metadata;

        type = json_string_value(json_object_get(envelope, "type"));
        if (streq_ptr(type, "error")) {
                long code = (long) json_integer_value(json_object_get(envelope, "error_code"));

                message = json_string_value(json_object_get(envelope, "error"));
                if (!message || !*message)
                        return ferry_error_set(err, client_error_code(code), "ferryd failed with HTTP status %ld",
                                               code);
                return ferry_error_set(err, client_error_code(code), "%s", message);
        }
        if (!streq_ptr(type, "sync"))
                return ferry_error_set(err, -EBADMSG, "Unexpected answer of type '%s' from ferryd to %s %s",
                                       type ?: "(none)", method, path);

        metadata = json_object_get(envelope, "metadata");
        *ret_metadata = metadata ? json_incref(metadata) : json_null();
        return 0;
}

int client_request_etag(struct client *c, const char *method, const char *path, const json_t *body,
                        const char *if_match, json_t **ret_metadata, char **ret_etag, struct ferry_error *err)
{
        _cleanup_free_ char *text = NULL, *if_match_header = NULL;
        _cleanup_json_ json_t *envelope = NULL, *metadata = NULL;
        struct http_response resp = {};
        int r;

        if (body) {
                text = json_dump_compact(body);
                if (!text)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        if (if_match) {
                if_match_header = strjoin("If-Match: ", if_match, NULL);
                if (!if_match_header)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }

        r = client_perform(c, method, path, text ? "application/json" : NULL, text, text ? strlen(text) : 0, NULL,
                           (const char *const[]) { if_match_header, NULL }, &resp, err);
        if (r < 0)
                return r;

        r = client_parse_envelope(&resp, method, path, &envelope, err);
        if (r >= 0)
                r = client_envelope_metadata(envelope, method, path, &metadata, err);
        if (r >= 0) {
                if (ret_etag)
                        *ret_etag = TAKE_PTR(resp.etag);
                *ret_metadata = TAKE_PTR(metadata);
        }
        http_response_done(&resp);
        return r;
}

int client_request(struct client *c, const char *method, const char *path, const json_t *body,
                   json_t **ret_metadata, struct ferry_error *err)
{
        return client_request_etag(c, method, path, body, NULL, ret_metadata, NULL, err);
}

int client_request_envelope(struct client *c, const char *method, const char *path, const char *body,
                            size_t body_len, json_t **ret_envelope, struct ferry_error *err)
{
        struct http_response resp = {};
        int r;

        r = client_perform(c, method, path, body ? "application/json" : NULL, body, body_len, NULL, NULL, &resp,
                           err);
        if (r < 0)
                return r;
        r = client_parse_envelope(&resp, method, path, ret_envelope, err);
        http_response_done(&resp);
        return r;
}

int client_transfer(struct client *c, const char *method, const char *path, const struct http_transfer *transfer,
                    const char *const *headers, json_t **ret_metadata, struct ferry_error *err)
{
        _cleanup_json_ json_t *envelope = NULL, *metadata = NULL;
        struct http_response resp = {};
        bool upload = transfer->upload_fd >= 0;
        int r;

        r = client_perform(c, method, path, upload ? "application/octet-stream" : NULL, NULL, 0, transfer, headers,
                           &resp, err);
        if (r < 0)
                return r;

        if (transfer->download_fd >= 0 && resp.status >= 200 && resp.status < 300)
                metadata = json_null();
        else {
                r = client_parse_envelope(&resp, method, path, &envelope, err);
                if (r >= 0)
                        r = client_envelope_metadata(envelope, method, path, &metadata, err);
        }
        if (r >= 0 && ret_metadata)
                *ret_metadata = TAKE_PTR(metadata);
        http_response_done(&resp);
        return r;
}
