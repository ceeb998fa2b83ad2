/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vSphere tags through vAPI into instance config.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/http.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "source/vmware/tags.h"

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

int vmware_tags_apply(json_t *instances, const json_t *attachments, const json_t *tags, const json_t *categories,
                      struct ferry_error *err)
{
        _cleanup_json_ json_t *by_moref = json_object(); /* moref → {category: [names]} */
        size_t i, j;
        json_t *item, *id, *vm;

        if (!by_moref)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        json_array_foreach(attachments, i, item) {
                const char *moref = json_string_value(json_object_get(json_object_get(item, "object_id"), "id"));
                json_t *cats;

                if (!moref)
                        return ferry_error_set(err, -EBADMSG, "vAPI answered a tag attachment without object");
                cats = json_object_get(by_moref, moref);
                if (!cats && json_object_set_new(by_moref, moref, cats = json_object()) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                json_array_foreach(json_object_get(item, "tag_ids"), j, id) {
                        const json_t *tag = json_object_get(tags, json_string_value(id) ?: "");
                        const char *name = json_string_value(json_object_get(tag, "name"));
                        const char *cid = json_string_value(json_object_get(tag, "category_id"));
                        const char *cname = json_string_value(
                                json_object_get(json_object_get(categories, cid ? cid : ""), "name"));
                        json_t *list;

                        if (!name || !cname)
                                return ferry_error_set(err, -EBADMSG, "vAPI tag '%s' has no name or category",
                                                       json_string_value(id) ?: "");
                        list = json_object_get(cats, cname);
                        if (!list && json_object_set_new(cats, cname, list = json_array()) < 0)
                                return ferry_error_set(err, -ENOMEM, "Out of memory");
                        if (json_array_append_new(list, json_string(name)) < 0)
                                return ferry_error_set(err, -ENOMEM, "Out of memory");
                }
        }

        json_array_foreach(instances, i, vm) {
                json_t *config = json_object_get(vm, "config");
                const json_t *cats = json_object_get(by_moref, json_string_value(json_object_get(config, "vmware.moref")) ?: "");
                const char *cname;
                json_t *list;

                json_object_foreach((json_t *) cats, cname, list) {
                        size_t n = json_array_size(list);
                        _cleanup_free_ const char **names = calloc(n ? n : 1, sizeof(*names));
                        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
                        _cleanup_free_ char *key = strjoin("tag.", cname, NULL);
                        int r = 0;

                        if (!names || !key)
                                return ferry_error_set(err, -ENOMEM, "Out of memory");
                        for (j = 0; j < n; j++)
                                names[j] = json_string_value(json_array_get(list, j));
                        qsort(names, n, sizeof(*names), cmp_str);
                        for (j = 0; r >= 0 && j < n; j++)
                                r = strbuf_appendf(&sb, "%s%s", j ? "," : "", names[j]);
                        if (r < 0 || json_object_set_new(config, key, json_string(strbuf_str(&sb))) < 0)
                                return ferry_error_set(err, -ENOMEM, "Out of memory");
                }
        }
        return 0;
}

/* One vAPI call; *ret gets the answer's "value". */
static int rest_call(struct http_client *h, const char *method, const char *path, const char *body, json_t **ret,
                     struct ferry_error *err)
{
        _cleanup_json_ json_t *answer = NULL;
        struct http_response resp = {};
        json_t *value;
        int r;

        r = http_request(h, method, path, body ? "application/json" : NULL, body, body ? strlen(body) : 0, NULL,
                         &resp, err);
        if (r < 0)
                return r;
        if (resp.status != 200) {
                r = ferry_error_set(err, -EIO, "vAPI %s %s failed with HTTP status %ld", method, path, resp.status);
                http_response_done(&resp);
                return r;
        }
        r = json_parse_strict(resp.body, resp.body_len, &answer, err);
        http_response_done(&resp);
        if (r < 0)
                return ferry_error_prefix(err, "vAPI %s %s", method, path);
        value = json_object_get(answer, "value");
        if (!value)
                return ferry_error_set(err, -EBADMSG, "vAPI %s %s answered no value", method, path);
        *ret = json_incref(value);
        return 0;
}

/* Fetch each id's object once into cache ("tag" or "category"). */
static int fetch_named(struct http_client *h, const char *kind, const char *id, json_t *cache, struct ferry_error *err)
{
        _cleanup_free_ char *path = NULL;
        json_t *v = NULL;
        int r;

        if (json_object_get(cache, id))
                return 0;
        path = strjoin("/rest/com/vmware/cis/tagging/", kind, "/id:", id, NULL);
        if (!path)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = rest_call(h, "GET", path, NULL, &v, err);
        if (r < 0)
                return r;
        return json_object_set_new(cache, id, v) < 0 ? ferry_error_set(err, -ENOMEM, "Out of memory") : 0;
}

int vmware_tags_sync(const struct vmware_tags_config *config, json_t *instances, struct ferry_error *err)
{
        _cleanup_(http_client_free_p) struct http_client *h = NULL;
        _cleanup_free_ char *base = NULL, *credentials = NULL, *auth = NULL, *body = NULL;
        _cleanup_json_ json_t *ids = json_array(), *req = NULL, *attachments = NULL, *tags = json_object(),
                              *categories = json_object();
        unsigned char encoded[1024];
        struct http_response resp = {};
        const char *headers[2];
        long status;
        size_t i, j;
        json_t *vm, *item, *id;
        int r;

        if (!ids || !tags || !categories)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (json_array_size(instances) == 0)
                return 0;
        base = strdup(config->endpoint ? config->endpoint : "");
        if (!base)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (endswith(base, "/sdk"))
                base[strlen(base) - 4] = '\0';
        else if (endswith(base, "/sdk/"))
                base[strlen(base) - 5] = '\0';
        h = http_client_new(&(struct http_client_config) {
                                    .endpoint = base,
                                    .pinned_fingerprint = config->fingerprint && *config->fingerprint
                                                                  ? config->fingerprint
                                                                  : NULL,
                                    .cookies = true,
                            },
                            err);
        if (!h)
                return -errno;

        credentials = strjoin(config->username ? config->username : "", ":",
                              config->password ? config->password : "", NULL);
        if (!credentials || strlen(credentials) > 700)
                return ferry_error_set(err, credentials ? -EINVAL : -ENOMEM, "Credentials too long for vAPI");
        EVP_EncodeBlock(encoded, (const unsigned char *) credentials, (int) strlen(credentials));
        explicit_bzero(credentials, strlen(credentials));
        auth = strjoin("Authorization: Basic ", (const char *) encoded, NULL);
        explicit_bzero(encoded, sizeof(encoded));
        if (!auth)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        headers[0] = auth;
        headers[1] = NULL;
        r = http_request(h, "POST", "/rest/com/vmware/cis/session", NULL, NULL, 0, headers, &resp, err);
        explicit_bzero(auth, strlen(auth));
        if (r < 0)
                return r;
        status = resp.status;
        http_response_done(&resp);
        if (status == 404) {
                log_debug("No vAPI at '%s': no tags", base);
                return 0;
        }
        if (status != 200)
                return ferry_error_set(err, -EACCES, "vAPI login failed with HTTP status %ld", status);

        json_array_foreach(instances, i, vm) {
                const char *moref = json_string_value(json_object_get(json_object_get(vm, "config"), "vmware.moref"));

                if (moref && json_array_append_new(ids, json_pack("{s:s, s:s}", "id", moref, "type",
                                                                  "VirtualMachine")) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        req = json_pack("{s:O}", "object_ids", ids);
        body = req ? json_dumps(req, JSON_COMPACT) : NULL;
        if (!body)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = rest_call(h, "POST", "/rest/com/vmware/cis/tagging/tag-association?~action=list-attached-tags-on-objects",
                      body, &attachments, err);
        if (r < 0)
                return r;
        json_array_foreach(attachments, i, item)
                json_array_foreach(json_object_get(item, "tag_ids"), j, id) {
                        const char *cid;

                        if (!json_string_value(id))
                                return ferry_error_set(err, -EBADMSG, "vAPI answered a tag id that is not a string");
                        r = fetch_named(h, "tag", json_string_value(id), tags, err);
                        if (r < 0)
                                return r;
                        cid = json_string_value(json_object_get(json_object_get(tags, json_string_value(id)),
                                                                "category_id"));
                        if (cid && (r = fetch_named(h, "category", cid, categories, err)) < 0)
                                return r;
                }
        (void) http_request(h, "DELETE", "/rest/com/vmware/cis/session", NULL, NULL, 0, NULL, &resp, NULL);
        http_response_done(&resp);
        return vmware_tags_apply(instances, attachments, tags, categories, err);
}
