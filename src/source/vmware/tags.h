/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vSphere tags, which only vCenter's Automation API (vAPI, under /rest)
 * serves, into each synced instance's config as "tag.<category>": the
 * category's tags, sorted and comma-separated (docs/expressions.md,
 * has_tag()).
 */
#ifndef FERRY_SOURCE_VMWARE_TAGS_H
#define FERRY_SOURCE_VMWARE_TAGS_H

#include <jansson.h>

#include "common/error.h"

struct vmware_tags_config {
        const char *endpoint;           /* the source's endpoint; "/sdk" is dropped */
        const char *username;
        const char *password;
        const char *fingerprint;        /* pinned SHA-256, or NULL/"" for the system CAs */
};

/*
 * Log in to vAPI, read the tags attached to the instances (by their config
 * "vmware.moref") and set their "tag.<category>" keys.  A server without
 * vAPI (ESXi: 404 on the session) leaves the instances as they are.
 * Errors: -EACCES "vAPI login failed with HTTP status N", those of the
 * transport, -EBADMSG for answers that are not what vAPI sends.
 */
int vmware_tags_sync(const struct vmware_tags_config *config, json_t *instances, struct ferry_error *err);

/*
 * The pure part: attachments is the value of list-attached-tags-on-objects
 * ([{"object_id": {"id": "vm-42"}, "tag_ids": [...]}]), tags maps a tag id
 * to {"name", "category_id"}, categories a category id to {"name"}.
 */
int vmware_tags_apply(json_t *instances, const json_t *attachments, const json_t *tags, const json_t *categories,
                      struct ferry_error *err);

#endif
