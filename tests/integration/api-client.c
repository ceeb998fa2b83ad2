/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api-client.h"
#include "common/http.h"
#include "common/json.h"
#include "common/strbuf.h"

void api_call(const char *socket_path, const char *method, const char *path, const char *body,
              const char *const *headers, struct api_answer *ret)
{
        _cleanup_free_ char *endpoint = NULL;
        _cleanup_http_client_ struct http_client *c = NULL;
        struct http_response resp = {};
        struct ferry_error err = {};
        json_error_t jerr;

        assert_non_null(endpoint = strjoin("unix://", socket_path, NULL));
        c = http_client_new(&(struct http_client_config) { .endpoint = endpoint, .timeout_ms = 30000 }, &err);
        if (!c)
                fail_msg("http_client_new(): %s", err.message);

        if (http_request(c, method, path, body ? "application/json" : NULL, body, body ? strlen(body) : 0, headers,
                         &resp, &err) < 0)
                fail_msg("%s %s: %s", method, path, err.message);

        *ret = (struct api_answer) { .status = resp.status };
        ret->envelope = json_loadb(resp.body, resp.body_len, 0, &jerr);
        if (!ret->envelope)
                fail_msg("%s %s: the answer is not JSON (%s): %s", method, path, jerr.text, resp.body);
        ret->text = TAKE_PTR(resp.body);
        ret->etag = TAKE_PTR(resp.etag);
        http_response_done(&resp);
}

json_t *api_expect(const char *socket_path, const char *method, const char *path, const char *body, long status,
                   struct api_answer *ret)
{
        api_call(socket_path, method, path, body, NULL, ret);
        if (ret->status != status)
                fail_msg("%s %s: expected %ld, got %ld: %s", method, path, status, ret->status, ret->text);
        return json_object_get(ret->envelope, "metadata");
}

void api_assert_error(const struct api_answer *a, long status, const char *message)
{
        const char *got = json_string_value(json_object_get(a->envelope, "error"));

        if (a->status != status)
                fail_msg("Expected %ld, got %ld: %s", status, a->status, a->text);
        assert_string_equal(json_string_value(json_object_get(a->envelope, "type")), "error");
        assert_int_equal(json_integer_value(json_object_get(a->envelope, "error_code")), status);
        if (!got || !streq(got, message))
                fail_msg("Expected error '%s', got '%s'", message, got ?: "(none)");
}

void api_answer_done(struct api_answer *a)
{
        json_decref(a->envelope);
        free(a->etag);
        free(a->text);
        *a = (struct api_answer) {};
}
