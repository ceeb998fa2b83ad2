/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/yaml.h"
#include "daemon/config.h"

/* A config file is a few lines; anything this big is a mistake. */
#define CONFIG_FILE_MAX (1024 * 1024)

void config_address_done(struct config_address *a)
{
        if (!a)
                return;
        free(a->host);
        free(a->text);
        *a = (struct config_address) {};
}

void config_init(struct config *c)
{
        *c = (struct config) {
                .log_level = _LOG_LEVEL_INVALID,
                .source_interval_usec = CONFIG_DEFAULT_SYNC_INTERVAL_USEC,
                .target_interval_usec = CONFIG_DEFAULT_SYNC_INTERVAL_USEC,
        };
}

void config_done(struct config *c)
{
        if (!c)
                return;
        config_address_done(&c->https);
        config_init(c);
}

static int parse_port(const char *s, int *ret)
{
        char *end = NULL;
        long v;

        if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 5)
                return -EINVAL;
        v = strtol(s, &end, 10);
        if (v < 1 || v > 65535)
                return -ERANGE;
        *ret = (int) v;
        return 0;
}

int config_parse_address(const char *s, struct config_address *ret, struct ferry_error *err)
{
        _cleanup_free_ char *host = NULL, *text = NULL;
        const char *port_text = NULL;
        unsigned char buf[sizeof(struct in6_addr)];
        bool v6 = false;
        int port = CONFIG_DEFAULT_HTTPS_PORT, r;

        if (!s || !*s)
                return ferry_error_set(err, -EINVAL, "The address is empty");

        if (s[0] == '[') {
                const char *close = strchr(s, ']');

                if (!close || (close[1] != '\0' && close[1] != ':'))
                        return ferry_error_set(err, -EINVAL, "'%s' is not an IP address and port", s);
                host = strndup(s + 1, (size_t) (close - s - 1));
                if (close[1] == ':')
                        port_text = close + 2;
                v6 = true;
        } else if (strchr(s, ':') != strrchr(s, ':')) {
                /* Several colons and no brackets: a bare IPv6 address. */
                host = strdup(s);
                v6 = true;
        } else {
                const char *colon = strchr(s, ':');

                host = colon ? strndup(s, (size_t) (colon - s)) : strdup(s);
                if (colon)
                        port_text = colon + 1;
        }
        if (!host)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        if (port_text) {
                r = parse_port(port_text, &port);
                if (r == -ERANGE)
                        return ferry_error_set(err, -EINVAL, "The port of '%s' must be between 1 and 65535", s);
                if (r < 0)
                        return ferry_error_set(err, -EINVAL, "'%s' is not an IP address and port", s);
        }

        if (*host || v6) {
                if (inet_pton(v6 ? AF_INET6 : AF_INET, host, buf) != 1)
                        return ferry_error_set(err, -EINVAL, "'%s' is not an IP address and port (host names are not accepted)", s);
        }

        if (v6)
                r = asprintf(&text, "[%s]:%d", host, port);
        else
                r = asprintf(&text, "%s:%d", host, port);
        if (r < 0) {
                text = NULL;
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }

        *ret = (struct config_address) { .host = TAKE_PTR(host), .port = port, .text = TAKE_PTR(text) };
        return 0;
}

/*
 * Turn nested mappings into dotted keys: {"core": {"https_address": x}}
 * and {"core.https_address": x} both become "core.https_address": x.
 */
static int flatten(const json_t *obj, const char *prefix, json_t *out, struct ferry_error *err)
{
        const char *key;
        json_t *value;

        json_object_foreach((json_t *) obj, key, value) {
                _cleanup_free_ char *full = prefix ? strjoin(prefix, ".", key, NULL) : strdup(key);
                int r;

                if (!full)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                if (json_is_object(value)) {
                        r = flatten(value, full, out, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (json_object_get(out, full))
                        return ferry_error_set(err, -EINVAL, "Key '%s' is set twice", full);
                if (json_object_set(out, full, value) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        return 0;
}

static int get_string(const json_t *v, const char *key, const char **ret, struct ferry_error *err)
{
        if (!json_is_string(v))
                return ferry_error_set(err, -EINVAL, "Invalid value for '%s': it must be a string", key);
        *ret = json_string_value(v);
        return 0;
}

static int parse_interval(const json_t *v, const char *key, uint64_t *ret, struct ferry_error *err)
{
        const char *s = NULL;
        uint64_t usec;
        int r;

        r = get_string(v, key, &s, err);
        if (r < 0)
                return r;
        if (duration_parse(s, &usec) < 0)
                return ferry_error_set(err, -EINVAL, "Invalid value for '%s': '%s' is not a duration like '10m' or '1h30m'",
                                       key, s);
        if (usec < USEC_PER_SEC)
                return ferry_error_set(err, -EINVAL, "Invalid value for '%s': '%s' is shorter than 1s", key, s);
        *ret = usec;
        return 0;
}

static int apply_key(struct config *c, const char *key, const json_t *v, struct ferry_error *err)
{
        const char *s = NULL;
        int r;

        if (streq(key, "core.https_address")) {
                struct config_address a = {};

                if (json_is_null(v))
                        return 0;
                r = get_string(v, key, &s, err);
                if (r < 0)
                        return r;
                if (!*s)
                        return 0;       /* "" means no HTTPS, like Incus */
                r = config_parse_address(s, &a, err);
                if (r < 0)
                        return ferry_error_prefix(err, "Invalid value for '%s'", key);
                config_address_done(&c->https);
                c->https = a;
                return 0;
        }

        if (streq(key, "log.level")) {
                enum log_level level;

                r = get_string(v, key, &s, err);
                if (r < 0)
                        return r;
                level = log_level_from_string(s);
                if (level < 0)
                        return ferry_error_set(err, -EINVAL,
                                               "Invalid value for '%s': '%s' is not one of error, warning, info, debug",
                                               key, s);
                c->log_level = level;
                return 0;
        }

        if (streq(key, "sync.source_interval"))
                return parse_interval(v, key, &c->source_interval_usec, err);
        if (streq(key, "sync.target_interval"))
                return parse_interval(v, key, &c->target_interval_usec, err);

        return ferry_error_set(err, -EINVAL, "Unknown key '%s'", key);
}

int config_parse(const char *text, size_t len, struct config *ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *doc = NULL, *flat = NULL;
        struct config c;
        const char *key;
        json_t *value;
        int r;

        r = yaml_parse_to_json(text, len, &doc, err);
        if (r < 0)
                return r;

        config_init(&c);
        if (json_is_null(doc)) {
                *ret = c;
                return 0;
        }
        if (!json_is_object(doc))
                return ferry_error_set(err, -EINVAL, "The config must be a mapping of keys to values");

        flat = json_object();
        if (!flat)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = flatten(doc, NULL, flat, err);
        if (r < 0)
                return r;

        json_object_foreach(flat, key, value) {
                r = apply_key(&c, key, value, err);
                if (r < 0) {
                        config_done(&c);
                        return r;
                }
        }

        *ret = c;
        return 0;
}

int config_load(const char *path, bool must_exist, struct config *ret, struct ferry_error *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r;

        r = fileio_read(path, CONFIG_FILE_MAX, &text, &len);
        if (r == -ENOENT && !must_exist) {
                config_init(ret);
                return 0;
        }
        if (r == -ENOENT)
                return ferry_error_set(err, r, "Config file '%s' does not exist", path);
        if (r == -EFBIG)
                return ferry_error_set(err, r, "Config file '%s' is larger than %d bytes", path, CONFIG_FILE_MAX);
        if (r < 0)
                return ferry_error_set(err, r, "Cannot read config file '%s': %m", path);

        r = config_parse(text, len, ret, err);
        if (r < 0)
                return ferry_error_prefix(err, "Config file '%s'", path);
        return 0;
}
