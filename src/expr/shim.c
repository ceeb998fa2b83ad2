/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TEMPORARY, replaced by the expression engine when branch 'expr' is
 * merged: lets ferryd build meanwhile.  Every expression compiles; none
 * can be evaluated.
 */
#include <stdlib.h>
#include <string.h>

#include "expr/expr.h"

struct expr {
        char *text;
};

int expr_compile(const char *text, enum expr_schema schema, struct expr **ret, struct ferry_error *err)
{
        (void) schema;

        *ret = calloc(1, sizeof(**ret));
        if (!*ret || !((*ret)->text = strdup(text))) {
                free(*ret);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        return 0;
}

int expr_match(const struct expr *e, const json_t *object, bool *ret, struct ferry_error *err)
{
        (void) e;
        (void) object;
        (void) ret;
        return ferry_error_set(err, -EOPNOTSUPP, "Filter expressions are not available in this build yet");
}

void expr_free(struct expr *e)
{
        if (e)
                free(e->text);
        free(e);
}

int expr_from_filter_argument(const char *arg, char **ret)
{
        *ret = strdup(arg);
        return *ret ? 0 : -ENOMEM;
}
