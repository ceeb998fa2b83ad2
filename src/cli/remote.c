/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry remote add|list|switch|remove|get-default: the ferryd servers this
 * client talks to (cli/remotes.h), and how every command connects to the
 * one it is meant for (--remote NAME, else the default remote).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/remotes.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/trust-token.h"
#include "common/yaml.h"

static int load_remotes(struct remotes **ret, struct ferry_error *err)
{
        _cleanup_free_ char *dir = NULL;
        int r;

        r = remotes_dir(&dir, err);
        if (r < 0)
                return r;
        return remotes_load(dir, ret, err);
}

void cli_remote_done(struct cli_remote *r)
{
        if (!r)
                return;
        free(r->addr);
        free(r->cert_path);
        free(r->key_path);
        *r = (struct cli_remote) {};
}

int cli_remote_resolve(struct cli *cli, struct cli_remote *ret, struct ferry_error *err)
{
        _cleanup_remotes_ struct remotes *remotes = NULL;
        _cleanup_(cli_remote_done) struct cli_remote r = {};
        const struct remote *remote;
        const char *name;
        int k;

        /* The unix socket needs no config: a broken config.yml does not
         * lock the admin out of the local ferryd. */
        if (streq_ptr(cli->remote, REMOTES_LOCAL)) {
                *ret = (struct cli_remote) { .socket_path = cli->socket_path };
                return 0;
        }

        k = load_remotes(&remotes, err);
        if (k < 0)
                return k;
        name = cli->remote ?: remotes->default_remote;
        if (streq(name, REMOTES_LOCAL)) {
                *ret = (struct cli_remote) { .socket_path = cli->socket_path };
                return 0;
        }

        remote = remotes_find(remotes, name);
        if (!remote)
                return ferry_error_set(err, -ENOENT, "Remote '%s' does not exist: see 'ferry remote list'", name);
        k = remotes_client_cert(remotes, &r.cert_path, &r.key_path, NULL, err);
        if (k < 0)
                return k;
        r.addr = strdup(remote->addr);
        if (!r.addr)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        memcpy(r.fingerprint, remote->fingerprint, sizeof(r.fingerprint));

        *ret = r;
        r = (struct cli_remote) {};
        return 0;
}

int cli_remote_connect(struct cli *cli, struct client **ret, struct ferry_error *err)
{
        _cleanup_(cli_remote_done) struct cli_remote r = {};
        int k;

        k = cli_remote_resolve(cli, &r, err);
        if (k < 0)
                return k;
        if (r.socket_path)
                return client_new(r.socket_path, ret, err);
        return client_new_https(r.addr, r.fingerprint, r.cert_path, r.key_path, ret, err);
}

/* GET /1.0 and whether the server trusts us; logs failures. */
static int server_trusts_us(struct client *c, bool *ret_trusted)
{
        _cleanup_json_ json_t *info = NULL;
        struct ferry_error err = {};
        int r;

        r = client_request(c, "GET", "/1.0", NULL, &info, &err);
        if (r < 0)
                return cli_log_error(&err);
        *ret_trusted = streq_ptr(json_string_value(json_object_get(info, "auth")), "trusted");
        return 0;
}

/* Send the token with our certificate; an already trusted certificate is fine. */
static int use_token(struct client *c, const char *token)
{
        _cleanup_json_ json_t *body = NULL, *metadata = NULL;
        struct ferry_error err = {};
        int r;

        body = json_pack("{s:s}", "trust_token", token);
        if (!body)
                return log_error_errno(ENOMEM, "Out of memory");
        r = client_request(c, "POST", "/1.0/certificates", body, &metadata, &err);
        if (r == -EEXIST)
                return 0;
        if (r < 0)
                return cli_log_error(&err);
        return 0;
}

/*
 * Without a token: learn the server's fingerprint from a handshake that
 * trusts nothing, and have it confirmed (--accept-certificate, or y on
 * the terminal).
 */
static int confirm_fingerprint(struct cli *cli, const char *addr, const char *cert, const char *key,
                               char ret[static FINGERPRINT_HEX_SIZE])
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *info = NULL;
        _cleanup_free_ char *answer = NULL;
        struct ferry_error err = {};
        const char *seen;
        int r;

        r = client_new_https(addr, NULL, cert, key, &c, &err);
        if (r < 0)
                return cli_log_error(&err);
        r = client_request(c, "GET", "/1.0", NULL, &info, &err);
        seen = client_peer_fingerprint(c);
        if (!seen) {
                if (r < 0)
                        return cli_log_error(&err);
                return log_error_errno(EPROTO, "'%s' showed no server certificate", addr);
        }
        snprintf(ret, FINGERPRINT_HEX_SIZE, "%s", seen);

        if (cli_args_has(cli->args, "accept-certificate"))
                return 0;
        if (!cli_is_interactive())
                return log_error_errno(EPERM,
                                       "The server certificate of '%s' has fingerprint %s: check it and run again "
                                       "with --accept-certificate, or use --token",
                                       addr, ret);

        fprintf(stderr, "Certificate fingerprint: %s\n", ret);
        r = cli_prompt("ok (y/n)? ", &answer);
        if (r < 0)
                return r;
        if (!streq(answer, "y") && !streq(answer, "yes"))
                return log_error_errno(ECANCELED, "Server certificate not accepted: remote not added");
        return 0;
}

static int remote_add(struct cli *cli, int argc, char *argv[])
{
        _cleanup_remotes_ struct remotes *remotes = NULL;
        _cleanup_trust_token_ struct trust_token *token = NULL;
        _cleanup_client_ struct client *c = NULL;
        _cleanup_free_ char *addr = NULL, *cert = NULL, *key = NULL, *token_stdin = NULL;
        char fingerprint[FINGERPRINT_HEX_SIZE], own[FINGERPRINT_HEX_SIZE];
        const char *name = argv[1], *token_text = cli_args_get(cli->args, "token");
        struct ferry_error err = {};
        bool trusted = false;
        int r;

        (void) argc;
        if (cli_args_has(cli->args, "token-stdin")) {
                if (token_text)
                        return cli_usage_error(cli, "Give --token or --token-stdin, not both");
                r = cli_read_secret_line(&token_stdin);
                if (r < 0)
                        return r;
                token_text = token_stdin;
        }

        /* Everything that needs no network first. */
        r = load_remotes(&remotes, &err);
        if (r >= 0)
                r = remotes_check_name(name, &err);
        if (r >= 0 && (streq(name, REMOTES_LOCAL) || remotes_find(remotes, name)))
                r = ferry_error_set(&err, -EEXIST, "Remote '%s' already exists", name);
        if (r >= 0)
                r = remotes_normalize_addr(argv[2], &addr, &err);
        if (r >= 0 && token_text)
                r = trust_token_decode(token_text, &token, &err);
        if (r < 0)
                return cli_log_error(&err);
        if (token && cli_args_has(cli->args, "accept-certificate"))
                return cli_usage_error(cli, "A token names the server certificate: --accept-certificate is not needed");

        r = remotes_client_cert(remotes, &cert, &key, own, &err);
        if (r < 0)
                return cli_log_error(&err);

        if (token)
                snprintf(fingerprint, sizeof(fingerprint), "%s", token->fingerprint);
        else {
                r = confirm_fingerprint(cli, addr, cert, key, fingerprint);
                if (r < 0)
                        return r;
        }

        /* From here on the server is pinned: a different certificate fails
         * the handshake before anything is sent. */
        r = client_new_https(addr, fingerprint, cert, key, &c, &err);
        if (r < 0)
                return cli_log_error(&err);
        if (token) {
                r = use_token(c, token_text);
                if (r < 0)
                        return r;
        }
        r = server_trusts_us(c, &trusted);
        if (r < 0)
                return r;
        if (token && !trusted)
                return log_error_errno(EPERM, "ferryd at '%s' took the token but does not trust this client", addr);

        r = remotes_add(remotes, name, addr, fingerprint, &err);
        if (r >= 0)
                r = remotes_save(remotes, &err);
        if (r < 0)
                return cli_log_error(&err);

        if (trusted)
                printf("Remote %s added: %s trusts this client (certificate fingerprint %s)\n", name, addr, own);
        else
                printf("Remote %s added: %s, but ferryd does not trust this client yet.\n"
                       "Have an admin of that ferryd trust it, or remove the remote and add it again\n"
                       "with --token (from 'ferry config trust add NAME' there).\n"
                       "This client's certificate: %s/" REMOTES_CLIENT_CERT_NAME " (fingerprint %s)\n",
                       name, addr, remotes->dir, own);
        return 0;
}

static int remote_list(struct cli *cli, int argc, char *argv[])
{
        _cleanup_remotes_ struct remotes *remotes = NULL;
        _cleanup_table_ struct table *t = NULL;
        _cleanup_json_ json_t *list = NULL;
        _cleanup_free_ char *text = NULL, *local = NULL;
        static const char *const headers[] = { "NAME", "URL", "DEFAULT" };
        struct ferry_error err = {};
        enum output_format format;
        int r;

        (void) argc;
        (void) argv;
        r = cli_output_format(cli, &format);
        if (r != 0)
                return r;
        r = load_remotes(&remotes, &err);
        if (r < 0)
                return cli_log_error(&err);

        local = strjoin("unix://", cli->socket_path, NULL);
        list = json_array();
        t = table_new(ELEMENTSOF(headers), headers);
        if (!local || !list || !t)
                return log_error_errno(ENOMEM, "Out of memory");

        for (size_t i = 0; i <= remotes->n_items; i++) {
                /* "local" first, then the rest by name. */
                const struct remote *rm = i > 0 ? &remotes->items[i - 1] : NULL;
                const char *name = rm ? rm->name : REMOTES_LOCAL, *url = rm ? rm->addr : local;
                bool is_default = streq(name, remotes->default_remote);

                if (table_add_row(t, (const char *const[]) { name, url, is_default ? "YES" : "NO" }) < 0 ||
                    json_array_append_new(list, json_pack("{s:s, s:s, s:s?, s:b}", "name", name, "addr", url,
                                                          "fingerprint", rm ? rm->fingerprint : NULL, "default",
                                                          is_default)) < 0)
                        return log_error_errno(ENOMEM, "Out of memory");
        }

        if (format == OUTPUT_FORMAT_JSON) {
                text = json_dumps(list, JSON_INDENT(2));
                r = text ? 0 : -ENOMEM;
        } else if (format == OUTPUT_FORMAT_YAML)
                r = json_to_yaml(list, &text);
        else
                r = table_render(t, format, &text);
        if (r < 0)
                return log_error_errno(r, "Failed to format the remotes: %m");

        fputs(text, stdout);
        if (format == OUTPUT_FORMAT_JSON)
                fputc('\n', stdout);
        return 0;
}

static int remote_switch(struct cli *cli, int argc, char *argv[])
{
        _cleanup_remotes_ struct remotes *remotes = NULL;
        struct ferry_error err = {};
        int r;

        (void) cli;
        (void) argc;
        r = load_remotes(&remotes, &err);
        if (r >= 0)
                r = remotes_set_default(remotes, argv[1], &err);
        if (r >= 0)
                r = remotes_save(remotes, &err);
        if (r < 0)
                return cli_log_error(&err);
        printf("Default remote is now %s\n", argv[1]);
        return 0;
}

static int remote_remove(struct cli *cli, int argc, char *argv[])
{
        _cleanup_remotes_ struct remotes *remotes = NULL;
        struct ferry_error err = {};
        int r;

        (void) cli;
        (void) argc;
        r = load_remotes(&remotes, &err);
        if (r >= 0)
                r = remotes_remove(remotes, argv[1], &err);
        if (r >= 0)
                r = remotes_save(remotes, &err);
        if (r < 0)
                return cli_log_error(&err);
        printf("Remote %s removed\n", argv[1]);
        return 0;
}

static int remote_get_default(struct cli *cli, int argc, char *argv[])
{
        _cleanup_remotes_ struct remotes *remotes = NULL;
        struct ferry_error err = {};
        int r;

        (void) cli;
        (void) argc;
        (void) argv;
        r = load_remotes(&remotes, &err);
        if (r < 0)
                return cli_log_error(&err);
        printf("%s\n", remotes->default_remote);
        return 0;
}

static const struct cli_option remote_add_options[] = {
        { "token", 0, "TOKEN", "A trust token from 'ferry config trust add' on that ferryd" },
        { "token-stdin", 0, NULL, "Read the token from the first line of stdin" },
        { "accept-certificate", 0, NULL, "Trust the server certificate without asking (no token)" },
        {}
};

static const struct cli_option remote_list_options[] = {
        CLI_OPTION_FORMAT,
        {}
};

const struct cli_command cli_remote_commands[] = {
        {
                .name = "add",
                .args = "NAME URL",
                .summary = "Add a remote ferryd and have it trust this client",
                .description =
                        "Add the ferryd at URL (https://HOST[:PORT], port 8443 by default) as NAME.\n"
                        "With --token (made by 'ferry config trust add NAME' on that ferryd), the\n"
                        "server certificate is pinned by the fingerprint in the token and the token\n"
                        "makes ferryd trust this client's certificate, which ferry makes on first\n"
                        "use.  Without a token, ferry shows the server's fingerprint and asks\n"
                        "(--accept-certificate in scripts); the client must then be trusted by\n"
                        "other means.  Remotes live in $FERRY_CONF/config.yml (default\n"
                        "~/.config/ferry).",
                .min_args = 2,
                .max_args = 2,
                .run = remote_add,
                .options = remote_add_options,
                .examples = "ferry remote add prod https://ferry.example.org:8443 --token eyJjbGllbnRfbmFtZSI6...\n"
                            "ssh admin@ferry ferry config trust add $USER | ferry remote add prod ferry:8443 --token-stdin\n"
                            "ferry remote add lab 10.0.0.5 --accept-certificate",
        },
        {
                .name = "list",
                .args = "",
                .summary = "List the remotes",
                .description = "List the remotes: NAME, URL, DEFAULT.  'local' is ferryd's unix socket and\n"
                               "is always there.",
                .run = remote_list,
                .options = remote_list_options,
                .examples = "ferry remote list\nferry remote list -f yaml",
        },
        {
                .name = "switch",
                .args = "NAME",
                .summary = "Make a remote the default",
                .description = "Make NAME the remote that commands use without --remote.",
                .min_args = 1,
                .max_args = 1,
                .run = remote_switch,
                .options = cli_no_options,
                .examples = "ferry remote switch prod\nferry remote switch local",
        },
        {
                .name = "remove",
                .args = "NAME",
                .summary = "Remove a remote",
                .description = "Forget the remote NAME; if it was the default, 'local' is the default again.\n"
                               "ferryd keeps trusting this client until its admin removes the certificate.",
                .min_args = 1,
                .max_args = 1,
                .run = remote_remove,
                .options = cli_no_options,
                .examples = "ferry remote remove prod",
        },
        {
                .name = "get-default",
                .args = "",
                .summary = "Show the default remote",
                .run = remote_get_default,
                .options = cli_no_options,
                .examples = "ferry remote get-default",
        },
        {}
};
