/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One object behind a URL with a key in it (/1.0/sources/{name},
 * /1.0/networks/{uuid}, /1.0/instances/{uuid}/override): show it with its
 * ETag, replace it (PUT) or merge into it (PATCH) under If-Match, through
 * its schema, and announce the change.  A route passes its table as
 * userdata; for the named collections the table is the first member of
 * struct api_collection.
 */
#ifndef FERRY_DAEMON_API_RESOURCE_H
#define FERRY_DAEMON_API_RESOURCE_H

#include <jansson.h>

#include "common/error.h"
#include "daemon/api.h"
#include "model/schema.h"

struct daemon;
struct db;

struct api_resource {
        const char *base;               /* "/1.0/sources": events name base/KEY */
        const char *entity;             /* "source": events are "source-updated", ... */
        const struct model_schema *schema;
        /* The stored object (secrets included) for key. */
        int (*get)(struct db *db, const char *key, json_t **ret, struct ferry_error *err);
        /* Store what the schema checked. */
        int (*store)(struct db *db, const char *key, const json_t *obj, struct ferry_error *err);
        /* Checks beyond the schema that need the daemon (expressions,
         * scriptlets).  May be NULL. */
        int (*check)(struct daemon *d, const json_t *obj, struct ferry_error *err);
        /* Work that follows a PUT or PATCH (a target's new endpoint), with
         * the stored objects before and after.  May be NULL. */
        void (*updated)(struct daemon *d, const char *key, const json_t *before, const json_t *after);
};

int api_resource_get(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_resource_put(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_resource_patch(struct daemon *d, const struct api_request *req, struct api_response *ret);

/* Emit "<entity>-<verb>" for base/key. */
int api_resource_emit(struct daemon *d, const struct api_request *req, const struct api_resource *res,
                      const char *key, const char *verb);

/* Validate body against current (NULL on create) and run res->check. */
int api_resource_validate(struct daemon *d, const struct api_resource *res, const json_t *body,
                          const json_t *current, json_t **ret, struct ferry_error *err);

/* Answer 200 with the public form of the stored object for key. */
int api_resource_respond(struct daemon *d, const struct api_resource *res, const char *key,
                         struct api_response *ret);

#endif
