/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the YAML reader behind `ferry ... edit`, and check that whatever it
 * accepts survives the trip back to YAML and in again unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_json_ json_t *v = NULL, *again = NULL;
        _cleanup_free_ char *text = NULL;
        struct ferry_error err = {};

        if (yaml_parse_to_json((const char *) data, size, &v, &err) < 0)
                return 0;
        if (json_to_yaml(v, &text) < 0)
                abort();
        if (yaml_parse_to_json(text, strlen(text), &again, &err) < 0)
                abort();
        if (!json_equal(v, again))
                abort();
        return 0;
}
