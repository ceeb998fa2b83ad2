/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ?filter=EXPR on the instance and network lists (src/expr).
 */
#ifndef FERRY_DAEMON_API_FILTER_H
#define FERRY_DAEMON_API_FILTER_H

#include <jansson.h>

#include "common/error.h"
#include "daemon/api.h"
#include "expr/expr.h"

/*
 * The objects (borrowed) that req's filter selects, as a new array in
 * *ret: all of them without a filter.  Instances are matched with their
 * overrides applied.  A bad expression is -EINVAL with the compiler's
 * message (line, column, caret).
 */
int api_filter(const struct api_request *req, enum expr_schema schema, const json_t *objects, json_t **ret,
               struct ferry_error *err);

/* Select from objects with a compiled expression; as api_filter(). */
int api_filter_expr(const struct expr *e, enum expr_schema schema, const json_t *objects, json_t **ret,
                    struct ferry_error *err);

#endif
