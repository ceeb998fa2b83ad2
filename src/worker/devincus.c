/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/http.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "worker/devincus.h"

static char *strip_dup(const char *s, size_t len)
{
        while (len > 0 && strchr(" \t\r\n", s[0])) {
                s++;
                len--;
        }
        while (len > 0 && strchr(" \t\r\n", s[len - 1]))
                len--;
        return strndup(s, len);
}

/* A JSON answer: a string, or an envelope with the string in "metadata". */
static int json_value(const char *body, size_t len, const char *key, char **ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *v = NULL;
        json_error_t jerr;
        const char *s;

        v = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
        s = json_string_value(json_is_object(v) ? json_object_get(v, "metadata") : v);
        if (!s)
                return ferry_error_set(err, -EPROTO, "devIncus answered something else than a string for '%s'", key);
        *ret = strip_dup(s, strlen(s));
        return *ret ? 0 : ferry_error_set(err, -ENOMEM, "Out of memory");
}

int worker_devincus_value(long status, const char *content_type, const char *body, size_t len, const char *key,
                          char **ret, struct ferry_error *err)
{
        _cleanup_free_ char *value = NULL;
        int r;

        if (status == 404)
                return ferry_error_set(err, -ENOENT, "Config key '%s' is not set on this instance", key);
        if (status == 403)
                return ferry_error_set(err, -EACCES, "devIncus refused to read '%s' (is security.guestapi off?)", key);
        if (status != 200) {
                _cleanup_free_ char *text = strip_dup(body ?: "", body ? len : 0);

                return ferry_error_set(err, -EPROTO, "devIncus answered %ld for '%s': %.200s", status, key,
                                       text ?: "");
        }

        if (content_type && startswith(content_type, "application/json")) {
                r = json_value(body ?: "", body ? len : 0, key, &value, err);
                if (r < 0)
                        return r;
        } else {
                if (body && memchr(body, '\0', len))
                        return ferry_error_set(err, -EPROTO, "devIncus answered binary data for '%s'", key);
                value = strip_dup(body ?: "", body ? len : 0);
                if (!value)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        if (!*value)
                return ferry_error_set(err, -EINVAL, "Config key '%s' is empty on this instance", key);
        *ret = TAKE_PTR(value);
        return 0;
}

int worker_devincus_get(const char *socket_path, const char *key, char **ret, struct ferry_error *err)
{
        _cleanup_http_client_ struct http_client *c = NULL;
        _cleanup_free_ char *endpoint = NULL, *path = NULL;
        struct http_response resp = {};
        int r;

        endpoint = strjoin("unix://", socket_path, NULL);
        path = strjoin("/1.0/config/", key, NULL);
        if (!endpoint || !path)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        c = http_client_new(&(struct http_client_config) { .endpoint = endpoint, .connect_timeout_ms = 5000,
                                                            .timeout_ms = 10000 },
                            err);
        if (!c)
                return err->code;
        r = http_request(c, "GET", path, NULL, NULL, 0, NULL, &resp, err);
        if (r < 0)
                return ferry_error_prefix(err, "Cannot read '%s' from devIncus at '%s'", key, socket_path);
        r = worker_devincus_value(resp.status, resp.content_type, resp.body, resp.body_len, key, ret, err);
        http_response_done(&resp);
        return r;
}
