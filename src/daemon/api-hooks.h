/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /1.0/hooks: event hooks through the API (a named collection, see
 * api-collection.h), and the glue between the event hub and the hook
 * thread (hooks.h).
 */
#ifndef FERRY_DAEMON_API_HOOKS_H
#define FERRY_DAEMON_API_HOOKS_H

#include <jansson.h>

struct daemon;
struct api_collection;

extern const struct api_collection api_hooks;

/* The event hub's listener for lifecycle events (userdata: the daemon). */
void api_hooks_event(const json_t *event, void *userdata);

/* On the event loop after a wake-up: emit the lifecycle events of what hooks changed. */
void api_hooks_dispatch(struct daemon *d);

#endif
