/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry config trust add|add-certificate|list|remove: the clients a ferryd
 * trusts over HTTPS (/1.0/certificates) and the one-time tokens that let
 * new ones in.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/duration.h"
#include "common/fingerprint.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/yaml.h"

/* GET path, logging failures. */
static int get(struct client *c, const char *path, json_t **ret)
{
        struct ferry_error err = {};
        int r;

        r = client_request(c, "GET", path, NULL, ret, &err);
        if (r < 0)
                return cli_log_error(&err);
        return 0;
}

static int trust_add(struct cli *cli, int argc, char *argv[])
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *body = NULL, *metadata = NULL, *info = NULL;
        const char *expires = cli_args_get(cli->args, "expires");
        struct ferry_error err = {};
        uint64_t usec;
        int r;

        (void) argc;
        if (expires && (duration_parse(expires, &usec) < 0 || usec < USEC_PER_SEC))
                return cli_usage_error(cli, "Invalid --expires '%s': use a duration of at least 1s, like 30m or 1h",
                                       expires);

        body = json_pack("{s:s, s:b}", "name", argv[1], "token", true);
        if (!body || (expires && json_object_set_new(body, "expires_in", json_string(expires)) < 0))
                return log_error_errno(ENOMEM, "Out of memory");

        r = cli_connect(cli, &c);
        if (r < 0)
                return r;
        r = client_request(c, "POST", "/1.0/certificates", body, &metadata, &err);
        if (r < 0)
                return cli_log_error(&err);

        /* The token alone on stdout, for $(...); the rest on stderr. */
        printf("%s\n", json_string_value(json_object_get(metadata, "token")) ?: "");
        fflush(stdout);
        r = get(c, "/1.0", &info);
        if (r >= 0 && json_array_size(json_object_get(json_object_get(info, "environment"), "addresses")) == 0)
                log_warning("ferryd serves no HTTPS (core.https_address is not set): nobody can use this token "
                            "until it does");
        log_info("Trust token for '%s', valid until %s: run 'ferry remote add REMOTE https://HOST:PORT --token "
                 "TOKEN' on the new client",
                 argv[1], json_string_value(json_object_get(metadata, "expires_at")) ?: "?");
        return 0;
}

static int trust_add_certificate(struct cli *cli, int argc, char *argv[])
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *body = NULL, *metadata = NULL;
        _cleanup_free_ char *pem = NULL;
        struct ferry_error err = {};
        size_t len = 0;
        int r;

        (void) argc;
        r = cli_read_file(argv[2], &pem, &len);
        if (r < 0)
                return r;
        body = json_pack("{s:s, s:s}", "name", argv[1], "certificate", pem);
        if (!body)
                return log_error_errno(EINVAL, "'%s' is not a text file", argv[2]);

        r = cli_connect(cli, &c);
        if (r < 0)
                return r;
        r = client_request(c, "POST", "/1.0/certificates", body, &metadata, &err);
        if (r < 0)
                return cli_log_error(&err);
        printf("Certificate %s trusted as %s\n", json_string_value(json_object_get(metadata, "fingerprint")) ?: "?",
               argv[1]);
        return 0;
}

/* One row per certificate, then per pending token. */
static int trust_list(struct cli *cli, int argc, char *argv[])
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *certs = NULL, *tokens = NULL, *all = NULL;
        _cleanup_table_ struct table *t = NULL;
        _cleanup_free_ char *text = NULL;
        static const char *const headers[] = { "NAME", "TYPE", "FINGERPRINT", "CREATED AT", "EXPIRES AT" };
        enum output_format format;
        json_t *v;
        size_t i;
        int r;

        (void) argc;
        (void) argv;
        r = cli_output_format(cli, &format);
        if (r != 0)
                return r;
        r = cli_connect(cli, &c);
        if (r < 0)
                return r;
        r = get(c, "/1.0/certificates?recursion=1", &certs);
        if (r < 0)
                return r;
        r = get(c, "/1.0/certificates/tokens", &tokens);
        if (r < 0)
                return r;

        if (format == OUTPUT_FORMAT_JSON || format == OUTPUT_FORMAT_YAML) {
                all = json_pack("{s:O, s:O}", "certificates", certs, "tokens", tokens);
                if (!all)
                        return log_error_errno(ENOMEM, "Out of memory");
                if (format == OUTPUT_FORMAT_JSON) {
                        text = json_dumps(all, JSON_INDENT(2));
                        r = text ? 0 : -ENOMEM;
                } else
                        r = json_to_yaml(all, &text);
                if (r < 0)
                        return log_error_errno(r, "Failed to format the trust store: %m");
                printf("%s%s", text, format == OUTPUT_FORMAT_JSON ? "\n" : "");
                return 0;
        }

        t = table_new(ELEMENTSOF(headers), headers);
        if (!t)
                return log_error_errno(ENOMEM, "Out of memory");
        json_array_foreach(certs, i, v) {
                const char *fp = json_string_value(json_object_get(v, "fingerprint")) ?: "";
                char short_fp[13];

                snprintf(short_fp, sizeof(short_fp), "%s", fp);
                if (table_add_row(t, (const char *const[]) { json_string_value(json_object_get(v, "name")), "client",
                                                              short_fp,
                                                              json_string_value(json_object_get(v, "created_at")),
                                                              "" }) < 0)
                        return log_error_errno(ENOMEM, "Out of memory");
        }
        json_array_foreach(tokens, i, v) {
                bool expired = json_is_true(json_object_get(v, "expired"));

                if (table_add_row(t, (const char *const[]) { json_string_value(json_object_get(v, "name")),
                                                              expired ? "token (expired)" : "token", "",
                                                              json_string_value(json_object_get(v, "created_at")),
                                                              json_string_value(json_object_get(v, "expires_at")) }) < 0)
                        return log_error_errno(ENOMEM, "Out of memory");
        }
        r = table_render(t, format, &text);
        if (r < 0)
                return log_error_errno(r, "Failed to format the trust store: %m");
        fputs(text, stdout);
        return 0;
}

/*
 * A certificate by name, then a pending token by name, then a certificate
 * by fingerprint or a prefix of it (ferryd resolves prefixes).
 */
static int trust_remove(struct cli *cli, int argc, char *argv[])
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *certs = NULL, *tokens = NULL, *metadata = NULL;
        _cleanup_free_ char *path = NULL;
        const char *what = argv[1], *fingerprint = NULL;
        struct ferry_error err = {};
        size_t i, n_named = 0;
        json_t *v;
        int r;

        (void) argc;
        r = cli_connect(cli, &c);
        if (r < 0)
                return r;
        r = get(c, "/1.0/certificates?recursion=1", &certs);
        if (r < 0)
                return r;
        json_array_foreach(certs, i, v)
                if (streq_ptr(json_string_value(json_object_get(v, "name")), what)) {
                        fingerprint = json_string_value(json_object_get(v, "fingerprint"));
                        n_named++;
                }
        if (n_named > 1)
                return log_error_errno(EINVAL, "Several certificates are named '%s': give the fingerprint", what);

        if (fingerprint)
                path = strjoin("/1.0/certificates/", fingerprint, NULL);
        else {
                r = get(c, "/1.0/certificates/tokens", &tokens);
                if (r < 0)
                        return r;
                json_array_foreach(tokens, i, v)
                        if (streq_ptr(json_string_value(json_object_get(v, "name")), what))
                                break;
                if (i < json_array_size(tokens))
                        path = cli_path("/1.0/certificates/tokens", what, NULL);
                else
                        path = cli_path("/1.0/certificates", what, NULL);
        }
        if (!path)
                return log_error_errno(ENOMEM, "Out of memory");

        r = client_request(c, "DELETE", path, NULL, &metadata, &err);
        if (r == -ENOENT)
                return log_error_errno(ENOENT, "No trusted certificate or pending token is named '%s', and no "
                                       "certificate fingerprint starts with it", what);
        if (r < 0)
                return cli_log_error(&err);
        if (startswith(path, "/1.0/certificates/tokens/"))
                printf("Trust token %s revoked\n", what);
        else
                printf("Certificate %s removed\n", what);
        return 0;
}

static const struct cli_option trust_add_options[] = {
        { "expires", 0, "DURATION", "How long the token stays usable (default 1h), like 30m or 2h" },
        {}
};

static const struct cli_option trust_list_options[] = {
        CLI_OPTION_FORMAT,
        {}
};

static const struct cli_command cli_trust_commands[] = {
        {
                .name = "add",
                .args = "NAME",
                .summary = "Make a one-time trust token for a new client",
                .description =
                        "Make a trust token for a new client named NAME and print it.  On the new\n"
                        "client, 'ferry remote add REMOTE https://HOST:PORT --token TOKEN' pins this\n"
                        "ferryd's certificate and has the client's certificate trusted as NAME.\n"
                        "The token works once and expires (--expires, default 1h).",
                .min_args = 1,
                .max_args = 1,
                .run = trust_add,
                .options = trust_add_options,
                .examples = "ferry config trust add laptop\nferry config trust add ci --expires 10m",
        },
        {
                .name = "add-certificate",
                .args = "NAME FILE",
                .summary = "Trust a client certificate from a PEM file",
                .description = "Trust the client certificate in FILE (PEM, '-' for stdin) as NAME.",
                .min_args = 2,
                .max_args = 2,
                .run = trust_add_certificate,
                .options = cli_no_options,
                .examples = "ferry config trust add-certificate laptop ~/laptop-client.crt",
        },
        {
                .name = "list",
                .args = "",
                .summary = "List trusted certificates and pending tokens",
                .description = "List the trusted client certificates and the trust tokens not used yet.\n"
                               "Columns: NAME, TYPE (client or token), FINGERPRINT (first 12 digits),\n"
                               "CREATED AT, EXPIRES AT.",
                .run = trust_list,
                .options = trust_list_options,
                .examples = "ferry config trust list\nferry config trust list -f yaml",
        },
        {
                .name = "remove",
                .args = "NAME|FINGERPRINT",
                .summary = "Stop trusting a certificate, or revoke a pending token",
                .description = "Remove the trusted certificate named NAME, or with this FINGERPRINT (a\n"
                               "prefix only one certificate has will do), or revoke the pending token NAME.",
                .min_args = 1,
                .max_args = 1,
                .run = trust_remove,
                .options = cli_no_options,
                .examples = "ferry config trust remove laptop\nferry config trust remove 84099cff175f",
        },
        {}
};

const struct cli_command cli_config_commands[] = {
        {
                .name = "trust",
                .summary = "Manage the clients ferryd trusts over HTTPS",
                .description = "ferryd trusts HTTPS clients by the SHA-256 fingerprint of their TLS\n"
                               "certificate.  Add one with a trust token, or from its certificate file.",
                .subcommands = cli_trust_commands,
        },
        {}
};
