/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry's entities (DESIGN §3): one schema per REST object, each defined
 * in the file named after it.  docs/rest-api.md is the prose version of
 * these tables; change both together.
 */
#ifndef FERRY_MODEL_MODEL_H
#define FERRY_MODEL_MODEL_H

#include "model/schema.h"

extern const struct model_schema model_source_schema;   /* source.c */
extern const struct model_schema model_target_schema;   /* target.c */
extern const struct model_schema model_instance_override_schema; /* instance.c */
extern const struct model_schema model_network_schema;  /* network.c: only mappings is writable */
extern const struct model_schema model_batch_schema;    /* batch.c */
extern const struct model_schema model_warning_schema;  /* warning.c: only status is writable */
extern const struct model_schema model_artifact_schema; /* artifact.c */
extern const struct model_schema model_hook_schema;     /* hook.c */

/* The connectivity states of sources and targets (DESIGN §3). */
#define MODEL_CONNECTIVITY_UNKNOWN "Unknown"
#define MODEL_CONNECTIVITY_OK "OK"
#define MODEL_CONNECTIVITY_CANNOT_CONNECT "Cannot connect"
#define MODEL_CONNECTIVITY_TLS_ERROR "TLS error"
#define MODEL_CONNECTIVITY_AUTH_ERROR "Authentication error"
#define MODEL_CONNECTIVITY_NOT_REGISTERED "Not registered"

/*
 * An instance as filters, placement and the CLI see it: the synced values
 * with the overrides laid over them (disable_migration, ignore_restrictions
 * and comment stay under "overrides" only).  A new object; NULL on ENOMEM.
 */
json_t *model_instance_effective(const json_t *instance);

#endif
