/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A warning: something ferry noticed that an admin should look at (a VM
 * whose OS is unknown, a disk without change tracking).  ferry raises
 * them; the admin may only acknowledge or delete them.
 */
#include "model/model.h"

static const char *const warning_states[] = { "new", "acknowledged", NULL };

static const struct model_field warning_fields[] = {
        { .name = "uuid", .type = MODEL_STRING, .flags = MODEL_READ_ONLY },
        { .name = "scope", .type = MODEL_OBJECT, .flags = MODEL_READ_ONLY },
        { .name = "type", .type = MODEL_STRING, .flags = MODEL_READ_ONLY },
        { "status", MODEL_STRING, MODEL_REQUIRED, .choices = warning_states },
        { .name = "messages", .type = MODEL_ARRAY, .flags = MODEL_READ_ONLY },
        { .name = "count", .type = MODEL_INT, .flags = MODEL_READ_ONLY },
        { .name = "first_seen", .type = MODEL_STRING, .flags = MODEL_READ_ONLY },
        { .name = "last_seen", .type = MODEL_STRING, .flags = MODEL_READ_ONLY },
        MODEL_FIELDS_TIMESTAMPS,
        {}
};

const struct model_schema model_warning_schema = {
        .name = "warning",
        .fields = warning_fields,
};
