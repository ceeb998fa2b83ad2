/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>

#include "common/json.h"
#include "daemon/api-filter.h"
#include "model/model.h"

int api_filter_expr(const struct expr *e, enum expr_schema schema, const json_t *objects, json_t **ret,
                    struct ferry_error *err)
{
        _cleanup_json_ json_t *out = json_array();
        json_t *obj;
        size_t i;
        int r;

        if (!out)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        json_array_foreach(objects, i, obj) {
                _cleanup_json_ json_t *effective = NULL;
                bool match = true;

                if (e) {
                        if (schema == EXPR_SCHEMA_INSTANCE) {
                                effective = model_instance_effective(obj);
                                if (!effective)
                                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                        }
                        r = expr_match(e, effective ?: obj, &match, err);
                        if (r < 0)
                                return r;
                }
                if (match && json_array_append(out, obj) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }

        *ret = TAKE_PTR(out);
        return 0;
}

int api_filter(const struct api_request *req, enum expr_schema schema, const json_t *objects, json_t **ret,
               struct ferry_error *err)
{
        _cleanup_expr_ struct expr *e = NULL;
        _cleanup_free_ char *text = NULL;
        const char *filter = api_request_arg(req, "filter");
        int r;

        if (filter && *filter) {
                r = expr_from_filter_argument(filter, &text);
                if (r < 0)
                        return ferry_error_set(err, r, "Failed to read the filter: %m");
                r = expr_compile(text, schema, &e, err);
                if (r < 0)
                        return ferry_error_prefix(err, "Invalid filter");
        }
        return api_filter_expr(e, schema, objects, ret, err);
}
