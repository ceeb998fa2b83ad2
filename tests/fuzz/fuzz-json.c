/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the strict JSON parser that reads every API request body, and the
 * typed getters that validate its fields. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const allowed[] = { "name", "limit", "enabled", "config", "list", NULL };
        _cleanup_json_ json_t *v = NULL;
        struct ferry_error err = {};
        const char *s;
        int64_t i;
        bool b;
        json_t *o;

        if (json_parse_strict((const char *) data, size, &v, &err) < 0)
                return 0;
        (void) json_check_known_fields(v, allowed, "fuzz", &err);
        (void) json_get_string(v, "name", false, &s, &err);
        (void) json_get_int(v, "limit", false, 1, 1000, &i, &err);
        (void) json_get_bool(v, "enabled", false, &b, &err);
        (void) json_get_object(v, "config", false, &o, &err);
        (void) json_get_array(v, "list", false, &o, &err);
        free(json_dump_compact(v));
        return 0;
}
