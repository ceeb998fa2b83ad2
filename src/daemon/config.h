/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferryd's config file (--config, default <data dir>/config.yaml): YAML
 * with Incus-style dotted keys, written flat or nested, which mean the
 * same:
 *
 *     core.https_address: "127.0.0.1:8443"     core:
 *     log.level: info                            https_address: "[::1]:8443"
 *     sync.source_interval: 10m                sync:
 *                                                target_interval: 5m
 *
 * | key                   | value                                            | default  |
 * |-----------------------|--------------------------------------------------|----------|
 * | core.https_address    | IP:port, [IPv6]:port or :port (every address);   | no HTTPS |
 * |                       | the port defaults to 8443                        |          |
 * | log.level             | error, warning, info or debug                    | info     |
 * | sync.source_interval  | duration ("10m", "1h30m"), at least 1s           | 10m      |
 * | sync.target_interval  | duration, at least 1s                            | 10m      |
 *
 * An unknown key, a value of the wrong type or an invalid value is an
 * error that names the file and the key: ferryd does not start on a
 * config it does not understand.
 */
#ifndef FERRY_DAEMON_CONFIG_H
#define FERRY_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/log.h"

#define CONFIG_FILE_NAME "config.yaml"
#define CONFIG_DEFAULT_HTTPS_PORT 8443
#define CONFIG_DEFAULT_SYNC_INTERVAL_USEC (10 * 60 * UINT64_C(1000000))

/* Where and how to listen for HTTPS; see config_parse_address(). */
struct config_address {
        char *host;             /* an IP literal without brackets, or "" for every address */
        int port;               /* 1-65535 */
        char *text;             /* canonical "127.0.0.1:8443", "[::1]:8443" or ":8443" */
};

struct config {
        struct config_address https;            /* host NULL: no HTTPS listener */
        enum log_level log_level;               /* _LOG_LEVEL_INVALID: not set */
        uint64_t source_interval_usec;
        uint64_t target_interval_usec;
};

/* The defaults, as a missing or empty file gives. */
void config_init(struct config *c);
/* Free what c holds and leave the defaults. */
void config_done(struct config *c);

/*
 * Parse an address: "127.0.0.1:8443", "127.0.0.1" (port 8443),
 * "[::1]:8443", "[::1]", "::1", ":8443" (every address).  Host names are
 * refused: a listener binds an address.  Errors (-EINVAL) say why,
 * without naming the key: "'x:1' is not an IP address and port".
 */
int config_parse_address(const char *s, struct config_address *ret, struct ferry_error *err);
void config_address_done(struct config_address *a);

/*
 * Parse YAML text into *ret (config_init()ed first; left alone on
 * failure).  Messages name the key: "Unknown key 'core.http_address'",
 * "Invalid value for 'log.level': 'loud' is not one of error, warning,
 * info, debug".
 */
int config_parse(const char *text, size_t len, struct config *ret, struct ferry_error *err);

/*
 * Read and parse the file at path.  A missing file gives the defaults
 * when !must_exist, else "Config file '<path>' does not exist"; any other
 * error is prefixed with "Config file '<path>'".
 */
int config_load(const char *path, bool must_exist, struct config *ret, struct ferry_error *err);

#endif
