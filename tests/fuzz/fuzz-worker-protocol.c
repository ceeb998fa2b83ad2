/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the worker protocol's messages (model/worker-command.h): updates
 * reach ferryd from inside a migrating VM, commands reach the worker from
 * ferryd; and the devIncus answers the worker reads its settings from. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/json.h"
#include "model/worker-command.h"
#include "worker/devincus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_json_ json_t *v = NULL;
        struct worker_command *c = NULL;
        struct worker_update u;
        struct ferry_error err = {};
        char *value = NULL;

        if (json_parse_strict((const char *) data, size, &v, &err) == 0) {
                (void) worker_update_parse(v, &u, &err);
                if (worker_command_parse(v, true, &c, &err) == 0)
                        worker_command_free(c);
                if (worker_command_parse(v, false, &c, &err) == 0)
                        worker_command_free(c);
        }
        if (worker_devincus_value(200, "application/json", (const char *) data, size, "user.ferry.token", &value,
                                  &err) == 0)
                free(value);
        if (worker_devincus_value(200, "text/plain", (const char *) data, size, "user.ferry.token", &value, &err) == 0)
                free(value);
        return 0;
}
