/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "target/incus/trust.h"

static void strv_free(char **v)
{
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

void incus_trust_status_done(struct incus_trust_status *s)
{
        if (!s)
                return;
        strv_free(s->projects);
        free(s->server_version);
        free(s->server_name);
        *s = (struct incus_trust_status) {};
}

static int dup_field(const json_t *obj, const char *key, char **ret)
{
        const char *s = json_string_value(json_object_get(obj, key));

        if (!s || !*s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* Names of the projects c can see: the last part of each URL. */
static int visible_projects(struct incus_client *c, char ***ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *list = NULL;
        char **names;
        size_t i, n = 0;
        json_t *url;
        int r;

        r = incus_get(c, "/1.0/projects", NULL, &list, err);
        if (r < 0)
                return r;
        if (!json_is_array(list))
                return ferry_error_set(err, -EBADMSG, "Unexpected answer from Incus: the project list is not a list");

        names = calloc(json_array_size(list) + 1, sizeof(char *));
        if (!names)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        json_array_foreach(list, i, url) {
                const char *s = json_string_value(url), *slash = s ? strrchr(s, '/') : NULL;

                if (!slash)
                        continue;
                names[n] = strdup(slash + 1);
                if (!names[n]) {
                        strv_free(names);
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                }
                n++;
        }
        *ret = names;
        return 0;
}

/*
 * Whether c's certificate is restricted, from its own entry in the trust
 * store: Incus lets every trusted client read it.  Answers 1 restricted,
 * 0 not.  A restricted one's projects come from the entry.
 */
static int certificate_restriction(struct incus_client *c, char ***ret_projects, struct ferry_error *err)
{
        const struct incus_client_config *config = incus_client_get_config(c);
        _cleanup_free_ char *path = NULL;
        _cleanup_json_ json_t *cert = NULL;
        char fingerprint[FINGERPRINT_HEX_SIZE];
        json_t *projects, *p;
        char **names;
        size_t i, n = 0;
        int r;

        if (!config->client_cert)
                return 0;       /* unix socket: root, never restricted */

        r = fingerprint_from_pem_file(config->client_cert, fingerprint, err);
        if (r < 0)
                return r;
        path = strjoin("/1.0/certificates/", fingerprint, NULL);
        if (!path)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        r = incus_get(c, path, NULL, &cert, err);
        if (r < 0)
                return r;
        if (!json_is_true(json_object_get(cert, "restricted")))
                return 0;

        projects = json_object_get(cert, "projects");
        names = calloc(json_array_size(projects) + 1, sizeof(char *));
        if (!names)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        json_array_foreach(projects, i, p) {
                if (!json_is_string(p))
                        continue;
                names[n] = strdup(json_string_value(p));
                if (!names[n]) {
                        strv_free(names);
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                }
                n++;
        }
        *ret_projects = names;
        return 1;
}

int incus_trust_get_status(struct incus_client *c, struct incus_trust_status *ret, struct ferry_error *err)
{
        _cleanup_(incus_trust_status_done) struct incus_trust_status s = {};
        const struct incus_client_config *config = incus_client_get_config(c);
        _cleanup_json_ json_t *server = NULL;
        const char *auth;
        json_t *env;
        int r;

        r = incus_get(c, "/1.0", NULL, &server, err);
        if (r < 0)
                return r;

        auth = json_string_value(json_object_get(server, "auth"));
        if (!auth)
                return ferry_error_set(err, -EBADMSG, "Unexpected answer from Incus: GET /1.0 has no 'auth'");
        s.trusted = streq(auth, "trusted");

        env = json_object_get(server, "environment");
        if (dup_field(env, "server_version", &s.server_version) < 0 ||
            dup_field(env, "server_name", &s.server_name) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        s.clustered = json_is_true(json_object_get(env, "server_clustered"));
        if (config->server_fingerprint && fingerprint_normalize(config->server_fingerprint, s.server_fingerprint) < 0)
                s.server_fingerprint[0] = '\0';

        if (s.trusted) {
                r = certificate_restriction(c, &s.projects, err);
                if (r < 0)
                        return ferry_error_prefix(err, "Cannot read ferry's certificate entry");
                s.restricted = r > 0;
                /* A restriction to no project at all means every one the
                 * certificate may see: ask Incus which. */
                if (s.restricted && (!s.projects || !s.projects[0])) {
                        strv_free(TAKE_PTR(s.projects));
                        r = visible_projects(c, &s.projects, err);
                        if (r < 0)
                                return r;
                }
        }

        *ret = s;
        s = (struct incus_trust_status) {};
        return 0;
}

int incus_trust_register(const struct incus_client_config *config, const char *token,
                         struct incus_trust_status *ret, struct ferry_error *err)
{
        _cleanup_(incus_trust_status_done) struct incus_trust_status status = {};
        _cleanup_incus_client_ struct incus_client *c = NULL;
        _cleanup_json_ json_t *body = NULL;
        struct incus_response resp = {};
        int r;

        if (!config->endpoint || !startswith(config->endpoint, "https://"))
                return ferry_error_set(err, -EINVAL, "Registering with a trust token needs an https:// endpoint, not '%s'",
                                       config->endpoint ? config->endpoint : "");
        if (!config->client_cert || !config->client_key)
                return ferry_error_set(err, -EINVAL, "Registering with a trust token needs ferry's client certificate");
        if (!token || !*token)
                return ferry_error_set(err, -EINVAL, "The trust token is empty");

        c = incus_client_new(config, err);
        if (!c)
                return -errno;

        r = incus_trust_get_status(c, &status, err);
        if (r < 0)
                return r;

        if (!status.trusted) {
                body = json_pack("{s:s}", "trust_token", token);
                if (!body)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                r = incus_call(c, &(struct incus_request) { .method = "POST", .path = "/1.0/certificates", .body = body },
                               &resp, err);
                incus_response_done(&resp);
                if (r == -EACCES)
                        return ferry_error_prefix(err, "Incus refused the trust token");
                if (r < 0)
                        return ferry_error_prefix(err, "Cannot register ferry's certificate with Incus");

                incus_trust_status_done(&status);
                r = incus_trust_get_status(c, &status, err);
                if (r < 0)
                        return r;
                if (!status.trusted)
                        return ferry_error_set(err, -EACCES,
                                               "Incus accepted the trust token but does not trust ferry's certificate");
        }

        if (ret) {
                *ret = status;
                status = (struct incus_trust_status) {};
        }
        return 0;
}
