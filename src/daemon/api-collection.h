/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The handlers every named collection shares (sources, targets, batches,
 * artifacts): list, create, show, replace, patch and delete, driven by a
 * table that names the schema and the repository functions.  A route
 * passes its table as userdata:
 *
 *     { "/1.0/sources", { [API_METHOD_GET] = api_collection_list, ... },
 *       .userdata = &api_sources },
 *     { "/1.0/sources/{name}", { [API_METHOD_GET] = api_resource_get, ... },
 *       .userdata = &api_sources },
 */
#ifndef FERRY_DAEMON_API_COLLECTION_H
#define FERRY_DAEMON_API_COLLECTION_H

#include <jansson.h>

#include "common/error.h"
#include "daemon/api-resource.h"
#include "daemon/api.h"
#include "model/schema.h"

struct daemon;
struct db;

struct api_collection {
        /* get, store (the update) and check for the object routes; first,
         * so that the same userdata serves api_resource_*(). */
        struct api_resource resource;
        int (*create)(struct db *db, const json_t *obj, struct ferry_error *err);
        int (*list)(struct db *db, json_t **ret, struct ferry_error *err);
        int (*remove)(struct db *db, const char *name, struct ferry_error *err);
        /* Cleanup after a delete (an artifact's file).  May be NULL. */
        void (*removed)(struct daemon *d, const char *name);
        /* Work that follows a create (a source's first sync).  May be NULL. */
        void (*created)(struct daemon *d, const char *name);
};

extern const struct api_collection api_sources;   /* api-sources.c */
extern const struct api_collection api_targets;   /* api-targets.c */
extern const struct api_collection api_batches;   /* api-batches.c */
extern const struct api_collection api_artifacts; /* api-artifacts.c */

int api_collection_list(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_collection_create(struct daemon *d, const struct api_request *req, struct api_response *ret);
int api_collection_delete(struct daemon *d, const struct api_request *req, struct api_response *ret);

#endif
