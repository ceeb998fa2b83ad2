/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/http.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "target/incus/client.h"

struct incus_client {
        struct http_client *http;
        struct incus_client_config config;      /* strings owned below */
        char *endpoint;
        char *client_cert;
        char *client_key;
        char *server_fingerprint;
};

void incus_response_done(struct incus_response *r)
{
        if (!r)
                return;
        json_decref(r->metadata);
        free(r->operation);
        free(r->etag);
        *r = (struct incus_response) {};
}

int incus_errno_from_http_status(long http_status)
{
        switch (http_status) {
        case 400:
                return -EINVAL;
        case 401:
        case 403:
                return -EACCES;
        case 404:
                return -ENOENT;
        case 409:
                return -EEXIST;
        case 412:
                return -ESTALE;
        case 501:
                return -EOPNOTSUPP;
        case 503:
                return -EAGAIN;
        default:
                return -EIO;
        }
}

static int unexpected(struct ferry_error *err, long http_status, const char *why)
{
        return ferry_error_set(err, -EBADMSG, "Unexpected answer from Incus (HTTP %ld): %s", http_status, why);
}

int incus_envelope_parse(long http_status, const char *body, size_t len, struct incus_response *ret,
                         struct ferry_error *err)
{
        _cleanup_free_ char *operation = NULL;
        _cleanup_json_ json_t *v = NULL;
        struct ferry_error parse_err = {};
        const char *type;
        json_t *metadata;
        long status_code;

        if (!body || len == 0)
                return unexpected(err, http_status, "empty body");
        if (json_parse_strict(body, len, &v, &parse_err) < 0)
                return unexpected(err, http_status, ferry_error_message(&parse_err));
        if (!json_is_object(v))
                return unexpected(err, http_status, "not a JSON object");

        type = json_string_value(json_object_get(v, "type"));
        if (!type)
                return unexpected(err, http_status, "no envelope type");

        if (streq(type, "error")) {
                const char *message = json_string_value(json_object_get(v, "error"));
                json_t *code = json_object_get(v, "error_code");
                long error_code = json_is_integer(code) ? (long) json_integer_value(code) : http_status;

                if (!message || !*message)
                        return ferry_error_set(err, incus_errno_from_http_status(error_code),
                                               "Incus failed the request with HTTP %ld", error_code);
                return ferry_error_set(err, incus_errno_from_http_status(error_code), "%s", message);
        }

        if (!streq(type, "sync") && !streq(type, "async"))
                return unexpected(err, http_status, "unknown envelope type");
        if (http_status < 200 || http_status >= 300)
                return unexpected(err, http_status, "a success envelope with an error status");

        status_code = (long) json_integer_value(json_object_get(v, "status_code"));
        if (streq(type, "async")) {
                const char *op = json_string_value(json_object_get(v, "operation"));

                if (!op || !startswith(op, "/1.0/operations/") || !op[strlen("/1.0/operations/")])
                        return unexpected(err, http_status, "an async answer without an operation");
                operation = strdup(op);
                if (!operation)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }

        metadata = json_object_get(v, "metadata");
        *ret = (struct incus_response) {
                .type = streq(type, "sync") ? INCUS_RESPONSE_SYNC : INCUS_RESPONSE_ASYNC,
                .http_status = http_status,
                .status_code = status_code,
                .metadata = metadata ? json_incref(metadata) : json_null(),
                .operation = TAKE_PTR(operation),
        };
        return 0;
}

char *incus_escape(const char *s)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                             strchr("-._~", *p);
                int r = plain ? strbuf_append_len(&sb, (const char *) p, 1) : strbuf_appendf(&sb, "%%%02X", *p);

                if (r < 0) {
                        errno = -r;
                        return NULL;
                }
        }
        return strbuf_steal(&sb);
}

static int append_query(struct strbuf *sb, bool *first, const char *key, const char *value)
{
        _cleanup_free_ char *escaped = NULL;

        if (!value || !*value)
                return 0;
        escaped = incus_escape(value);
        if (!escaped)
                return -ENOMEM;
        if (strbuf_appendf(sb, "%c%s=%s", *first ? '?' : '&', key, escaped) < 0)
                return -ENOMEM;
        *first = false;
        return 0;
}

char *incus_url_build(const char *path, const char *project, const char *target)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        bool first = !strchr(path, '?');

        if (strbuf_append(&sb, path) < 0 || append_query(&sb, &first, "project", project) < 0 ||
            append_query(&sb, &first, "target", target) < 0) {
                errno = ENOMEM;
                return NULL;
        }
        return strbuf_steal(&sb);
}

static int dup_opt(const char *in, char **out)
{
        if (!in)
                return 0;
        *out = strdup(in);
        return *out ? 0 : -ENOMEM;
}

struct incus_client *incus_client_new(const struct incus_client_config *config, struct ferry_error *err)
{
        struct incus_client *c;
        int r;

        if (config->endpoint && startswith(config->endpoint, "http://")) {
                ferry_error_set(err, -EINVAL, "Incus endpoint '%s' must be https:// or unix://", config->endpoint);
                errno = EINVAL;
                return NULL;
        }
        if (config->endpoint && startswith(config->endpoint, "https://") &&
            (!config->server_fingerprint || !*config->server_fingerprint)) {
                ferry_error_set(err, -EINVAL, "Incus endpoint '%s' needs the server certificate fingerprint",
                                config->endpoint);
                errno = EINVAL;
                return NULL;
        }

        c = calloc(1, sizeof(*c));
        if (!c) {
                ferry_error_set(err, -ENOMEM, "Out of memory");
                errno = ENOMEM;
                return NULL;
        }
        if (dup_opt(config->endpoint, &c->endpoint) < 0 || dup_opt(config->client_cert, &c->client_cert) < 0 ||
            dup_opt(config->client_key, &c->client_key) < 0 ||
            dup_opt(config->server_fingerprint, &c->server_fingerprint) < 0) {
                r = ferry_error_set(err, -ENOMEM, "Out of memory");
                goto fail;
        }
        c->config = (struct incus_client_config) {
                .endpoint = c->endpoint,
                .client_cert = c->client_cert,
                .client_key = c->client_key,
                .server_fingerprint = c->server_fingerprint,
                .connect_timeout_ms = config->connect_timeout_ms,
                .timeout_ms = config->timeout_ms,
        };

        c->http = http_client_new(&(struct http_client_config) {
                                          .endpoint = config->endpoint,
                                          .client_cert = config->client_cert,
                                          .client_key = config->client_key,
                                          .pinned_fingerprint = config->server_fingerprint &&
                                                                                *config->server_fingerprint
                                                                        ? config->server_fingerprint
                                                                        : NULL,
                                          .connect_timeout_ms = config->connect_timeout_ms,
                                          .timeout_ms = config->timeout_ms,
                                  },
                                  err);
        if (!c->http) {
                r = -errno;
                goto fail;
        }
        return c;

fail:
        incus_client_free(c);
        errno = -r;
        return NULL;
}

void incus_client_free(struct incus_client *c)
{
        if (!c)
                return;
        http_client_free(c->http);
        free(c->endpoint);
        free(c->client_cert);
        free(c->client_key);
        free(c->server_fingerprint);
        free(c);
}

const struct incus_client_config *incus_client_get_config(const struct incus_client *c)
{
        return &c->config;
}

const char *incus_client_peer_fingerprint(const struct incus_client *c)
{
        return http_client_peer_fingerprint(c->http);
}

int incus_call(struct incus_client *c, const struct incus_request *req, struct incus_response *ret,
               struct ferry_error *err)
{
        _cleanup_free_ char *url = NULL, *body = NULL, *if_match = NULL;
        struct http_response resp = {};
        struct incus_response parsed;
        const char *headers[2] = {};
        int r;

        url = incus_url_build(req->path, req->project, req->target);
        if (!url)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (req->body) {
                body = json_dump_compact(req->body);
                if (!body)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        if (req->if_match) {
                if_match = strjoin("If-Match: ", req->if_match, NULL);
                if (!if_match)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                headers[0] = if_match;
        }

        r = http_request(c->http, req->method, url, body ? "application/json" : NULL, body, body ? strlen(body) : 0,
                         headers, &resp, err);
        if (r < 0)
                return r;

        r = incus_envelope_parse(resp.status, resp.body, resp.body_len, &parsed, err);
        if (r >= 0) {
                parsed.etag = TAKE_PTR(resp.etag);
                *ret = parsed;
        }
        http_response_done(&resp);
        return r;
}

int incus_get(struct incus_client *c, const char *path, const char *project, json_t **ret_metadata,
              struct ferry_error *err)
{
        struct incus_response resp = {};
        int r;

        r = incus_call(c, &(struct incus_request) { .method = "GET", .path = path, .project = project }, &resp,
                       err);
        if (r < 0)
                return r;
        *ret_metadata = TAKE_PTR(resp.metadata);
        incus_response_done(&resp);
        return 0;
}

/* "/1.0/operations/<id>" or "<id>" → the id, borrowed from operation. */
static const char *operation_id(const char *operation)
{
        const char *slash = strrchr(operation, '/');

        return slash ? slash + 1 : operation;
}

static int operation_path(const char *operation, const char *suffix, char **ret)
{
        _cleanup_free_ char *id = incus_escape(operation_id(operation));

        if (!id)
                return -ENOMEM;
        *ret = strjoin("/1.0/operations/", id, suffix, NULL);
        return *ret ? 0 : -ENOMEM;
}

int incus_operation_cancel(struct incus_client *c, const char *operation, struct ferry_error *err)
{
        _cleanup_free_ char *path = NULL;
        struct incus_response resp = {};
        int r;

        if (operation_path(operation, "", &path) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = incus_call(c, &(struct incus_request) { .method = "DELETE", .path = path }, &resp, err);
        incus_response_done(&resp);
        return r;
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The outcome of an operation object: 1 done, 0 still running, <0 failed. */
static int operation_outcome(const json_t *op, struct ferry_error *err)
{
        const char *status = json_string_value(json_object_get(op, "status"));
        const char *failure = json_string_value(json_object_get(op, "err"));

        if (!status)
                return ferry_error_set(err, -EBADMSG, "Unexpected answer from Incus: an operation without a status");
        if (streq(status, "Success"))
                return 1;
        if (streq(status, "Running") || streq(status, "Pending") || streq(status, "Cancelling"))
                return 0;
        if (streq(status, "Cancelled"))
                return ferry_error_set(err, -ECANCELED, "%s", failure && *failure ? failure : "Operation was cancelled");
        /* Failure and anything unknown. */
        return ferry_error_set(err, -EIO, "%s", failure && *failure ? failure : "Operation failed");
}

int incus_operation_wait(struct incus_client *c, const char *operation, int timeout_s,
                         const atomic_bool *cancel, json_t **ret_operation, struct ferry_error *err)
{
        int64_t deadline = now_ms() + (int64_t) (timeout_s > 0 ? timeout_s : 0) * 1000;
        const char *id = operation_id(operation);

        for (;;) {
                _cleanup_free_ char *path = NULL, *suffix = NULL;
                _cleanup_json_ json_t *op = NULL;
                int64_t left = deadline - now_ms();
                long slice;
                int r;

                if (cancel && atomic_load(cancel)) {
                        r = incus_operation_cancel(c, operation, err);
                        if (r < 0)
                                return ferry_error_prefix(err, "Cannot cancel operation '%s'", id);
                        return ferry_error_set(err, -ECANCELED, "Operation '%s' was cancelled", id);
                }

                /* Whole seconds, at least one; short slices when someone
                 * may cancel. */
                slice = left > 0 ? (long) ((left + 999) / 1000) : 0;
                if (cancel && slice > 1)
                        slice = 1;
                if (asprintf(&suffix, "/wait?timeout=%ld", slice) < 0) {
                        suffix = NULL;
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                }
                if (operation_path(operation, suffix, &path) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");

                r = incus_get(c, path, NULL, &op, err);
                if (r < 0 && r != -ECONNREFUSED && r != -EPERM && r != -ETIMEDOUT && r != -EBADMSG) {
                        /* incusd 6.0 answers a wait that times out, and one on
                         * a failed operation, with an error envelope: the
                         * operation itself says which it is.  One that is
                         * gone keeps the wait's error. */
                        _cleanup_free_ char *op_path = NULL;
                        struct ferry_error ignored = {};

                        if (operation_path(operation, "", &op_path) < 0)
                                return ferry_error_set(err, -ENOMEM, "Out of memory");
                        if (incus_get(c, op_path, NULL, &op, &ignored) < 0)
                                return r;
                } else if (r < 0)
                        return r;

                r = operation_outcome(op, err);
                if (r < 0)
                        return r;
                if (r > 0) {
                        if (ret_operation)
                                *ret_operation = TAKE_PTR(op);
                        return 0;
                }
                if (now_ms() >= deadline)
                        return ferry_error_set(err, -ETIMEDOUT, "Operation '%s' did not finish within %d seconds",
                                               id, timeout_s);
        }
}

int incus_call_wait(struct incus_client *c, const struct incus_request *req, int timeout_s,
                    const atomic_bool *cancel, json_t **ret_operation, struct ferry_error *err)
{
        struct incus_response resp = {};
        int r;

        r = incus_call(c, req, &resp, err);
        if (r < 0)
                return r;
        if (resp.type == INCUS_RESPONSE_ASYNC)
                r = incus_operation_wait(c, resp.operation, timeout_s, cancel, ret_operation, err);
        else if (ret_operation)
                *ret_operation = TAKE_PTR(resp.metadata);
        incus_response_done(&resp);
        return r;
}

int incus_download(struct incus_client *c, const char *path, const char *project, int fd,
                   struct ferry_error *err)
{
        _cleanup_free_ char *url = NULL;
        struct http_transfer t = HTTP_TRANSFER_INIT;
        struct http_response resp = {};
        struct incus_response parsed;
        int r;

        url = incus_url_build(path, project, NULL);
        if (!url)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        t.download_fd = fd;
        r = http_request_transfer(c->http, "GET", url, NULL, &t, NULL, &resp, err);
        if (r < 0)
                return r;
        if (resp.status < 200 || resp.status >= 300) {
                r = incus_envelope_parse(resp.status, resp.body, resp.body_len, &parsed, err);
                if (r >= 0) {
                        incus_response_done(&parsed);
                        r = ferry_error_set(err, -EIO, "Incus answered GET %s with HTTP %ld", path, resp.status);
                }
        }
        http_response_done(&resp);
        return r;
}

int incus_upload(struct incus_client *c, const char *method, const char *path, const char *project,
                 const char *const *headers, int fd, uint64_t size, int timeout_s, json_t **ret_operation,
                 struct ferry_error *err)
{
        _cleanup_free_ char *url = NULL;
        struct http_transfer t = HTTP_TRANSFER_INIT;
        struct http_response resp = {};
        struct incus_response parsed = {};
        int r;

        url = incus_url_build(path, project, NULL);
        if (!url)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        t.upload_fd = fd;
        t.upload_size = size;
        r = http_request_transfer(c->http, method, url, "application/octet-stream", &t, headers, &resp, err);
        if (r < 0)
                return r;
        r = incus_envelope_parse(resp.status, resp.body, resp.body_len, &parsed, err);
        http_response_done(&resp);
        if (r < 0)
                return r;
        if (parsed.type == INCUS_RESPONSE_ASYNC && parsed.operation)
                r = incus_operation_wait(c, parsed.operation, timeout_s, NULL, ret_operation, err);
        else if (ret_operation)
                *ret_operation = TAKE_PTR(parsed.metadata);
        incus_response_done(&parsed);
        return r;
}
