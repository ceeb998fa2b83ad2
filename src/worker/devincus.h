/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devIncus, the API an Incus instance reaches its host on from inside
 * (the unix socket /dev/incus/sock): the worker reads its configuration
 * from the instance's user.ferry.* keys there, GET /1.0/config/KEY.
 *
 * Incus answers a key's value as plain text, 404 for a key that is not
 * set, and 403 when the instance has security.guestapi turned off.  Some
 * versions answer JSON instead (a JSON string, or an envelope whose
 * metadata is the string); both forms are read.
 */
#ifndef FERRY_WORKER_DEVINCUS_H
#define FERRY_WORKER_DEVINCUS_H

#include <stddef.h>

#include "common/error.h"

#define WORKER_DEVINCUS_SOCKET "/dev/incus/sock"

/*
 * The value of key from one devIncus answer (status, Content-Type, body).
 * *ret (free() it) has surrounding white space removed.  Errors: -ENOENT
 * "Config key 'user.ferry.token' is not set on this instance", -EACCES
 * "devIncus refused to read 'KEY' (is security.guestapi off?)", -EPROTO
 * "devIncus answered 500 for 'KEY': …", -EINVAL for an empty value.
 */
int worker_devincus_value(long status, const char *content_type, const char *body, size_t len, const char *key,
                          char **ret, struct ferry_error *err);

/* GET /1.0/config/KEY on the devIncus socket at socket_path, read with
 * worker_devincus_value(); transport errors name the socket. */
int worker_devincus_get(const char *socket_path, const char *key, char **ret, struct ferry_error *err);

#endif
