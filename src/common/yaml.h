/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML <-> jansson, for editing objects in $EDITOR the way `incus edit`
 * does.  Knows nothing of ferry.
 *
 * Plain scalars resolve like the YAML 1.2 core schema, restricted to what
 * JSON holds: "null", "~" or empty -> null; "true"/"false" -> bool;
 * [-+]?[0-9]+ -> integer; decimal floats -> real; anything else, and every
 * quoted or block scalar, is a string.  Mapping keys are always strings.
 * Refused, with a message that says where: anchors and aliases, several
 * documents, non-scalar or duplicate keys, tags other than the core ones,
 * NUL characters, infinities and NaN, integers outside int64, and nesting
 * deeper than YAML_DEPTH_MAX.
 */
#ifndef FERRY_COMMON_YAML_H
#define FERRY_COMMON_YAML_H

#include <jansson.h>
#include <stddef.h>

#include "common/error.h"

#define YAML_DEPTH_MAX 64

/*
 * Parse one YAML document into *ret (an empty input gives JSON null).
 * Errors: "Invalid YAML at line L, column C: <problem>", -EINVAL.
 */
int yaml_parse_to_json(const char *buf, size_t len, json_t **ret, struct ferry_error *err);

/*
 * Block-style YAML text for v (free() it).  Strings that would read back
 * as another type, or as YAML 1.1 booleans and numbers, are quoted;
 * multi-line strings use literal blocks.  yaml_parse_to_json() gives back
 * an equal value.  Returns -EINVAL for values nested deeper than
 * YAML_DEPTH_MAX, -ENOMEM on allocation failure.
 */
int json_to_yaml(const json_t *v, char **ret);

#endif
