/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An artifact: a file a migration needs that ferry cannot fetch itself
 * (the VDDK tarball, the virtio-win ISO, the worker image).  The record is
 * created first; the file is uploaded to it and described by "file".
 */
#include "model/model.h"

static const char *const artifact_types[] = { "vddk", "virtio-win", "worker-image", "other", NULL };

static const struct model_field artifact_fields[] = {
        { "name", MODEL_STRING, MODEL_REQUIRED | MODEL_IMMUTABLE, .check = model_check_name },
        { "type", MODEL_STRING, MODEL_REQUIRED, .choices = artifact_types },
        { "description", MODEL_STRING, .default_json = "\"\"" },
        { "file", MODEL_OBJECT, MODEL_READ_ONLY | MODEL_NULLABLE, .default_json = "null" },
        MODEL_FIELDS_TIMESTAMPS,
        {}
};

const struct model_schema model_artifact_schema = {
        .name = "artifact",
        .fields = artifact_fields,
};
