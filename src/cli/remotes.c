/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/remotes.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/tls-cert.h"
#include "common/yaml.h"

#define REMOTES_FILE_MAX (1024 * 1024)
#define REMOTES_NAME_MAX 63

int remotes_dir(char **ret, struct ferry_error *err)
{
        const char *env = getenv("FERRY_CONF"), *home = getenv("HOME");
        char *dir;

        if (env && *env)
                dir = strdup(env);
        else {
                if (!home || !*home) {
                        struct passwd *pw = getpwuid(getuid());

                        if (!pw || !pw->pw_dir || !*pw->pw_dir)
                                return ferry_error_set(err, -ENOENT,
                                                       "Cannot find the home directory: set HOME or FERRY_CONF");
                        home = pw->pw_dir;
                }
                dir = strjoin(home, "/.config/ferry", NULL);
        }
        if (!dir)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        *ret = dir;
        return 0;
}

void remotes_free(struct remotes *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n_items; i++) {
                free(r->items[i].name);
                free(r->items[i].addr);
        }
        free(r->items);
        free(r->default_remote);
        free(r->dir);
        free(r);
}

const struct remote *remotes_find(const struct remotes *r, const char *name)
{
        for (size_t i = 0; i < r->n_items; i++)
                if (streq(r->items[i].name, name))
                        return &r->items[i];
        return NULL;
}

static bool is_name_char(char c, bool first)
{
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                return true;
        return !first && (c == '-' || c == '_' || c == '.');
}

int remotes_check_name(const char *name, struct ferry_error *err)
{
        if (!name || !*name)
                return ferry_error_set(err, -EINVAL, "A remote name must not be empty");
        if (strlen(name) > REMOTES_NAME_MAX)
                return ferry_error_set(err, -EINVAL, "Invalid remote name '%s': longer than %d characters", name,
                                       REMOTES_NAME_MAX);
        for (const char *p = name; *p; p++)
                if (!is_name_char(*p, p == name))
                        return ferry_error_set(err, -EINVAL,
                                               "Invalid remote name '%s': use letters, digits, '-', '_' and '.', "
                                               "starting with a letter or digit",
                                               name);
        return 0;
}

int remotes_normalize_addr(const char *addr, char **ret, struct ferry_error *err)
{
        _cleanup_free_ char *hostport = NULL;
        const char *rest, *port_colon;
        size_t len;

        if (!addr || !*addr)
                return ferry_error_set(err, -EINVAL, "A remote address must not be empty");

        if (startswith(addr, "https://"))
                rest = addr + strlen("https://");
        else if (strstr(addr, "://"))
                return ferry_error_set(err, -EINVAL, "Remote address '%s' must be https://HOST[:PORT]", addr);
        else
                rest = addr;

        hostport = strdup(rest);
        if (!hostport)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        len = strlen(hostport);
        if (len > 0 && hostport[len - 1] == '/')
                hostport[--len] = '\0';
        if (len == 0 || strpbrk(hostport, "/?#@ \t"))
                return ferry_error_set(err, -EINVAL, "Remote address '%s' must be https://HOST[:PORT]", addr);

        /* A port after the host, or after an IPv6 address's bracket. */
        if (hostport[0] == '[') {
                const char *close = strchr(hostport, ']');

                if (!close || (close[1] && close[1] != ':'))
                        return ferry_error_set(err, -EINVAL, "Remote address '%s' must be https://HOST[:PORT]", addr);
                port_colon = close[1] == ':' ? close + 1 : NULL;
        } else {
                if (strchr(hostport, ':') != strrchr(hostport, ':'))
                        return ferry_error_set(err, -EINVAL,
                                               "Remote address '%s': write an IPv6 address in brackets, like [::1]:8443",
                                               addr);
                port_colon = strchr(hostport, ':');
        }

        if (port_colon) {
                const char *p = port_colon + 1;
                long port;

                if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 5 || (port = atol(p)) < 1 ||
                    port > 65535)
                        return ferry_error_set(err, -EINVAL, "Remote address '%s' has an invalid port", addr);
                if (port_colon == hostport)
                        return ferry_error_set(err, -EINVAL, "Remote address '%s' must be https://HOST[:PORT]", addr);
                *ret = strjoin("https://", hostport, NULL);
        } else {
                char port[16];

                snprintf(port, sizeof(port), ":%d", REMOTES_DEFAULT_PORT);
                *ret = strjoin("https://", hostport, port, NULL);
        }
        if (!*ret)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return 0;
}

static int remote_cmp(const void *a, const void *b)
{
        return strcmp(((const struct remote *) a)->name, ((const struct remote *) b)->name);
}

int remotes_add(struct remotes *r, const char *name, const char *addr, const char *fingerprint,
                struct ferry_error *err)
{
        _cleanup_free_ char *n = NULL, *a = NULL;
        char fp[FINGERPRINT_HEX_SIZE];
        struct remote *items;
        int ret;

        ret = remotes_check_name(name, err);
        if (ret < 0)
                return ret;
        if (streq(name, REMOTES_LOCAL) || remotes_find(r, name))
                return ferry_error_set(err, -EEXIST, "Remote '%s' already exists", name);
        ret = remotes_normalize_addr(addr, &a, err);
        if (ret < 0)
                return ret;
        if (fingerprint_normalize(fingerprint, fp) < 0)
                return ferry_error_set(err, -EINVAL, "'%s' is not a SHA-256 certificate fingerprint",
                                       fingerprint ?: "");

        n = strdup(name);
        items = reallocarray(r->items, r->n_items + 1, sizeof(*items));
        if (!n || !items)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r->items = items;
        r->items[r->n_items] = (struct remote) { .name = TAKE_PTR(n), .addr = TAKE_PTR(a) };
        memcpy(r->items[r->n_items].fingerprint, fp, sizeof(fp));
        r->n_items++;
        qsort(r->items, r->n_items, sizeof(*r->items), remote_cmp);
        return 0;
}

int remotes_remove(struct remotes *r, const char *name, struct ferry_error *err)
{
        const struct remote *found;
        size_t i;

        if (streq(name, REMOTES_LOCAL))
                return ferry_error_set(err, -EPERM, "The remote 'local' cannot be removed");
        found = remotes_find(r, name);
        if (!found)
                return ferry_error_set(err, -ENOENT, "Remote '%s' does not exist", name);

        i = (size_t) (found - r->items);
        free(r->items[i].name);
        free(r->items[i].addr);
        memmove(&r->items[i], &r->items[i + 1], (r->n_items - i - 1) * sizeof(*r->items));
        r->n_items--;

        if (streq(r->default_remote, name)) {
                char *local = strdup(REMOTES_LOCAL);

                if (!local)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                free(r->default_remote);
                r->default_remote = local;
        }
        return 0;
}

int remotes_set_default(struct remotes *r, const char *name, struct ferry_error *err)
{
        char *copy;

        if (!streq(name, REMOTES_LOCAL) && !remotes_find(r, name))
                return ferry_error_set(err, -ENOENT, "Remote '%s' does not exist", name);
        copy = strdup(name);
        if (!copy)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        free(r->default_remote);
        r->default_remote = copy;
        return 0;
}

static int remotes_from_json(struct remotes *r, const json_t *doc, struct ferry_error *err)
{
        static const char *const top_keys[] = { "default-remote", "remotes", NULL };
        static const char *const remote_keys[] = { "addr", "fingerprint", NULL };
        const char *def = NULL, *name;
        json_t *list = NULL, *entry;
        int ret;

        if (json_is_null(doc))
                return 0;
        if (!json_is_object(doc))
                return ferry_error_set(err, -EINVAL, "The config must be a mapping");
        ret = json_check_known_fields(doc, top_keys, NULL, err);
        if (ret < 0)
                return ret;
        ret = json_get_string(doc, "default-remote", false, &def, err);
        if (ret < 0)
                return ret;
        ret = json_get_object(doc, "remotes", false, &list, err);
        if (ret < 0)
                return ret;

        json_object_foreach(list, name, entry) {
                const char *addr = NULL, *fp = NULL;

                if (!json_is_object(entry))
                        return ferry_error_set(err, -EINVAL, "Remote '%s' must be a mapping", name);
                ret = json_check_known_fields(entry, remote_keys, NULL, err);
                if (ret >= 0)
                        ret = json_get_string(entry, "addr", false, &addr, err);
                if (ret >= 0)
                        ret = json_get_string(entry, "fingerprint", false, &fp, err);
                if (ret < 0)
                        return ferry_error_prefix(err, "Remote '%s'", name);
                if (!addr)
                        return ferry_error_set(err, -EINVAL, "Remote '%s' has no addr", name);
                if (!fp)
                        return ferry_error_set(err, -EINVAL, "Remote '%s' has no fingerprint", name);
                if (streq(name, REMOTES_LOCAL))
                        return ferry_error_set(err, -EINVAL, "The remote 'local' is the unix socket and cannot be configured");
                ret = remotes_add(r, name, addr, fp, err);
                if (ret < 0)
                        return ret;
        }

        if (def) {
                ret = remotes_set_default(r, def, err);
                if (ret < 0)
                        return ferry_error_set(err, -EINVAL, "The default remote '%s' does not exist", def);
        }
        return 0;
}

int remotes_load(const char *dir, struct remotes **ret, struct ferry_error *err)
{
        _cleanup_remotes_ struct remotes *r = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_json_ json_t *doc = NULL;
        size_t len = 0;
        int res;

        r = calloc(1, sizeof(*r));
        if (!r || !(r->dir = strdup(dir)) || !(r->default_remote = strdup(REMOTES_LOCAL)) ||
            !(path = strjoin(dir, "/" REMOTES_CONFIG_NAME, NULL)))
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        res = fileio_read(path, REMOTES_FILE_MAX, &text, &len);
        if (res == -ENOENT) {
                *ret = TAKE_PTR(r);
                return 0;
        }
        if (res < 0)
                return ferry_error_set(err, res, "Cannot read config file '%s': %m", path);

        res = yaml_parse_to_json(text, len, &doc, err);
        if (res >= 0)
                res = remotes_from_json(r, doc, err);
        if (res < 0)
                return ferry_error_prefix(err, "Config file '%s'", path);

        *ret = TAKE_PTR(r);
        return 0;
}

/* mkdir -p with the last component 0700. */
static int make_dir(const char *path, struct ferry_error *err)
{
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        for (char *slash = strchr(p + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return ferry_error_set(err, -errno, "Cannot create directory '%s': %m", p);
                *slash = '/';
        }
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
                return ferry_error_set(err, -errno, "Cannot create directory '%s': %m", p);
        return 0;
}

int remotes_save(const struct remotes *r, struct ferry_error *err)
{
        _cleanup_json_ json_t *doc = NULL, *list = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL;
        int ret;

        list = json_object();
        if (!list)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        for (size_t i = 0; i < r->n_items; i++)
                if (json_object_set_new(list, r->items[i].name,
                                        json_pack("{s:s, s:s}", "addr", r->items[i].addr, "fingerprint",
                                                  r->items[i].fingerprint)) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        doc = json_pack("{s:s, s:O}", "default-remote", r->default_remote, "remotes", list);
        if (!doc)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        ret = json_to_yaml(doc, &text);
        if (ret < 0)
                return ferry_error_set(err, ret, "Failed to format the config: %m");

        ret = make_dir(r->dir, err);
        if (ret < 0)
                return ret;
        path = strjoin(r->dir, "/" REMOTES_CONFIG_NAME, NULL);
        if (!path)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return fileio_write_atomic(path, text, strlen(text), 0600, err);
}

int remotes_client_cert(const struct remotes *r, char **ret_cert_path, char **ret_key_path,
                        char ret_fingerprint[FINGERPRINT_HEX_SIZE], struct ferry_error *err)
{
        _cleanup_free_ char *cert = NULL, *key = NULL, *pem = NULL, *cn = NULL;
        char host[HOST_NAME_MAX + 1] = "localhost";
        struct passwd *pw;
        int ret;

        ret = make_dir(r->dir, err);
        if (ret < 0)
                return ret;

        cert = strjoin(r->dir, "/" REMOTES_CLIENT_CERT_NAME, NULL);
        key = strjoin(r->dir, "/" REMOTES_CLIENT_KEY_NAME, NULL);
        (void) gethostname(host, sizeof(host) - 1);
        pw = getpwuid(getuid());
        cn = strjoin(pw && pw->pw_name ? pw->pw_name : "ferry", "@", host, NULL);
        if (!cert || !key || !cn)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        ret = tls_cert_load_or_generate(cert, key, cn, &pem, NULL, err);
        if (ret < 0)
                return ret;
        if (ret_fingerprint) {
                ret = fingerprint_from_pem(pem, strlen(pem), ret_fingerprint, err);
                if (ret < 0)
                        return ret;
        }

        *ret_cert_path = TAKE_PTR(cert);
        *ret_key_path = TAKE_PTR(key);
        return 0;
}
