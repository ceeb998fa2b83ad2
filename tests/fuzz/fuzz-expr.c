/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the filter expression language: compile the input as an instance
 * expression and as a network expression, evaluate what compiles on fixed
 * sample objects, and run the bare-word shorthand over it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/expr-sample.h"
#include "common/json.h"
#include "expr/expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *instance, *network;

static void load_samples(void)
{
        struct ferry_error err = {};

        if (instance)
                return;
        if (json_parse_strict(EXPR_SAMPLE_INSTANCE, strlen(EXPR_SAMPLE_INSTANCE), &instance, &err) < 0 ||
            json_parse_strict(EXPR_SAMPLE_NETWORK, strlen(EXPR_SAMPLE_NETWORK), &network, &err) < 0)
                abort();
}

static void compile_and_match(const char *text, enum expr_schema schema, const json_t *object)
{
        _cleanup_expr_ struct expr *e = NULL;
        struct ferry_error err = {};
        bool match;

        if (expr_compile(text, schema, &e, &err) < 0) {
                /* Every refusal carries a message. */
                if (err.code >= 0 || err.message[0] == '\0')
                        abort();
                return;
        }
        if (expr_match(e, object, &match, &err) < 0 && (err.code >= 0 || err.message[0] == '\0'))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *text = NULL, *alias = NULL;

        load_samples();
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';

        compile_and_match(text, EXPR_SCHEMA_INSTANCE, instance);
        compile_and_match(text, EXPR_SCHEMA_NETWORK, network);
        if (expr_from_filter_argument(text, &alias) == 0)
                compile_and_match(alias, EXPR_SCHEMA_INSTANCE, instance);
        return 0;
}
