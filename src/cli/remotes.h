/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CLI's own configuration, as Incus keeps it: a directory ($FERRY_CONF,
 * else ~/.config/ferry) holding
 *
 *     config.yml      default-remote: prod
 *                     remotes:
 *                       prod:
 *                         addr: https://ferry.example.org:8443
 *                         fingerprint: 983b4fbc50af93a1...
 *     client.crt      the certificate ferry shows to HTTPS remotes, and
 *     client.key      its key (0600), both made on first need
 *
 * The remote "local" is always there and is not written down: it is
 * ferryd's unix socket (--socket, $FERRY_DIR).  Every other remote is an
 * HTTPS ferryd whose server certificate is pinned by fingerprint.
 */
#ifndef FERRY_CLI_REMOTES_H
#define FERRY_CLI_REMOTES_H

#include <stddef.h>

#include "common/error.h"
#include "common/fingerprint.h"
#include "common/macros.h"

#define REMOTES_LOCAL "local"
#define REMOTES_CONFIG_NAME "config.yml"
#define REMOTES_CLIENT_CERT_NAME "client.crt"
#define REMOTES_CLIENT_KEY_NAME "client.key"
#define REMOTES_DEFAULT_PORT 8443

struct remote {
        char *name;
        char *addr;                             /* "https://host:port" */
        char fingerprint[FINGERPRINT_HEX_SIZE]; /* the server certificate's */
};

struct remotes {
        char *dir;                      /* the config directory */
        char *default_remote;           /* REMOTES_LOCAL unless set */
        struct remote *items;           /* sorted by name */
        size_t n_items;
};

/*
 * The config directory: $FERRY_CONF if set and not empty, else
 * $HOME/.config/ferry (the home directory from the password database when
 * HOME is unset).  free() the result.
 */
int remotes_dir(char **ret, struct ferry_error *err);

/*
 * Read <dir>/config.yml; a missing file gives only "local".  Unknown
 * keys, remotes without addr or fingerprint and a default remote that
 * does not exist are errors naming the file: "Config file '<path>':
 * Remote 'x' has no fingerprint".
 */
int remotes_load(const char *dir, struct remotes **ret, struct ferry_error *err);

/* Write <dir>/config.yml atomically (0600), creating dir (0700) if needed. */
int remotes_save(const struct remotes *r, struct ferry_error *err);

void remotes_free(struct remotes *r);
DEFINE_CLEANUP_FUNC(struct remotes, remotes_free);
#define _cleanup_remotes_ _cleanup_(remotes_free_p)

/* The remote named name, or NULL (always NULL for "local").  Borrowed. */
const struct remote *remotes_find(const struct remotes *r, const char *name);

/*
 * Remote names are 1 to 63 letters, digits, '-', '_' and '.', starting
 * with a letter or digit: "Invalid remote name 'a:b': ...".
 */
int remotes_check_name(const char *name, struct ferry_error *err);

/*
 * "https://host:port" from what a user types: "https://host:port",
 * "https://host" (port 8443), "host:port", "[::1]:8443"; a trailing "/" is
 * dropped.  Other schemes and paths are refused:
 * "Remote address 'http://x' must be https://HOST[:PORT]".
 */
int remotes_normalize_addr(const char *addr, char **ret, struct ferry_error *err);

/*
 * Add a remote (addr as remotes_normalize_addr() gives it, fingerprint in
 * any form fingerprint_normalize() accepts).  -EEXIST "Remote 'x' already
 * exists"; "local" is always taken.
 */
int remotes_add(struct remotes *r, const char *name, const char *addr, const char *fingerprint,
                struct ferry_error *err);

/* -ENOENT "Remote 'x' does not exist"; removing the default makes "local" the default. */
int remotes_remove(struct remotes *r, const char *name, struct ferry_error *err);

/* name is "local" or an existing remote; -ENOENT otherwise. */
int remotes_set_default(struct remotes *r, const char *name, struct ferry_error *err);

/*
 * The client certificate and key paths (free() them), generating the pair
 * with CN "<user>@<host>" on first use.  ret_fingerprint may be NULL.
 */
int remotes_client_cert(const struct remotes *r, char **ret_cert_path, char **ret_key_path,
                        char ret_fingerprint[FINGERPRINT_HEX_SIZE], struct ferry_error *err);

#endif
