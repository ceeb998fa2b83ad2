/* SPDX-License-Identifier: Apache-2.0 */
#include <stddef.h>

#include "common/macros.h"
#include "db/schema.h"

/*
 * Conventions: every table has an INTEGER PRIMARY KEY id that other tables
 * reference, real columns for keys and for what queries filter on, and the
 * rest of the object as JSON text in `object`.  Timestamps are RFC 3339 UTC
 * text with six fraction digits, so text order is time order.
 */

static const char *const v1_core[] = {
        "CREATE TABLE schema ("
        "  version INTEGER PRIMARY KEY,"
        "  applied_at TEXT NOT NULL)",

        "CREATE TABLE sources ("
        "  id INTEGER PRIMARY KEY,"
        "  name TEXT NOT NULL UNIQUE,"
        "  type TEXT NOT NULL,"
        "  object TEXT NOT NULL,"
        "  created_at TEXT NOT NULL,"
        "  updated_at TEXT NOT NULL)",

        "CREATE TABLE targets ("
        "  id INTEGER PRIMARY KEY,"
        "  name TEXT NOT NULL UNIQUE,"
        "  type TEXT NOT NULL,"
        "  object TEXT NOT NULL,"
        "  created_at TEXT NOT NULL,"
        "  updated_at TEXT NOT NULL)",

        "CREATE TABLE instances ("
        "  id INTEGER PRIMARY KEY,"
        "  uuid TEXT NOT NULL UNIQUE,"
        "  source_id INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,"
        "  name TEXT NOT NULL,"
        "  location TEXT NOT NULL,"
        "  object TEXT NOT NULL,"
        "  overrides TEXT NOT NULL DEFAULT '{}',"
        "  created_at TEXT NOT NULL,"
        "  updated_at TEXT NOT NULL)",
        "CREATE INDEX instances_source_id ON instances (source_id)",

        "CREATE TABLE networks ("
        "  id INTEGER PRIMARY KEY,"
        "  uuid TEXT NOT NULL UNIQUE,"
        "  source_id INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,"
        "  location TEXT NOT NULL,"
        "  type TEXT NOT NULL,"
        "  object TEXT NOT NULL,"
        "  mappings TEXT NOT NULL DEFAULT '{}',"
        "  created_at TEXT NOT NULL,"
        "  updated_at TEXT NOT NULL)",
        "CREATE INDEX networks_source_id ON networks (source_id)",

        "CREATE TABLE batches ("
        "  id INTEGER PRIMARY KEY,"
        "  name TEXT NOT NULL UNIQUE,"
        "  status TEXT NOT NULL,"
        "  object TEXT NOT NULL,"
        "  created_at TEXT NOT NULL,"
        "  updated_at TEXT NOT NULL)",

        /* A queue entry pins its instance, batch and target: deleting any of them is refused. */
        "CREATE TABLE queue_entries ("
        "  id INTEGER PRIMARY KEY,"
        "  instance_id INTEGER NOT NULL UNIQUE REFERENCES instances (id) ON DELETE RESTRICT,"
        "  batch_id INTEGER NOT NULL REFERENCES batches (id) ON DELETE RESTRICT,"
        "  target_id INTEGER REFERENCES targets (id) ON DELETE RESTRICT,"
        "  status TEXT NOT NULL,"
        "  import_stage TEXT,"
        "  object TEXT NOT NULL,"
        "  created_at TEXT NOT NULL,"
        "  updated_at TEXT NOT NULL)",
        "CREATE INDEX queue_entries_batch_id ON queue_entries (batch_id)",
        "CREATE INDEX queue_entries_target_id ON queue_entries (target_id)",

        /* One row per distinct problem: raising it again counts. */
        "CREATE TABLE warnings ("
        "  id INTEGER PRIMARY KEY,"
        "  uuid TEXT NOT NULL UNIQUE,"
        "  scope TEXT NOT NULL,"
        "  entity_type TEXT NOT NULL,"
        "  entity TEXT NOT NULL,"
        "  type TEXT NOT NULL,"
        "  status TEXT NOT NULL,"
        "  count INTEGER NOT NULL,"
        "  first_seen TEXT NOT NULL,"
        "  last_seen TEXT NOT NULL,"
        "  object TEXT NOT NULL,"
        "  UNIQUE (scope, entity_type, entity, type))",
        NULL,
};

static const char *const v2_trust[] = {
        "CREATE TABLE certificates ("
        "  id INTEGER PRIMARY KEY,"
        "  fingerprint TEXT NOT NULL UNIQUE,"
        "  name TEXT NOT NULL,"
        "  certificate TEXT NOT NULL,"
        "  object TEXT NOT NULL,"
        "  created_at TEXT NOT NULL)",

        "CREATE TABLE trust_tokens ("
        "  id INTEGER PRIMARY KEY,"
        "  name TEXT NOT NULL UNIQUE,"
        "  secret_sha256 TEXT NOT NULL UNIQUE,"
        "  expires_at TEXT NOT NULL,"
        "  created_at TEXT NOT NULL)",
        NULL,
};

static const char *const v3_artifacts[] = {
        "CREATE TABLE artifacts ("
        "  id INTEGER PRIMARY KEY,"
        "  name TEXT NOT NULL UNIQUE,"
        "  type TEXT NOT NULL,"
        "  description TEXT,"
        "  file_size INTEGER,"
        "  file_sha256 TEXT,"
        "  file_uploaded_at TEXT,"
        "  object TEXT NOT NULL,"
        "  created_at TEXT NOT NULL,"
        "  updated_at TEXT NOT NULL)",
        NULL,
};

/* The worker of each queue entry: the SHA-256 of its secret, and the
 * commands queued for it.  Both go with their queue entry. */
static const char *const v4_workers[] = {
        "CREATE TABLE worker_secrets ("
        "  id INTEGER PRIMARY KEY,"
        "  queue_entry_id INTEGER NOT NULL UNIQUE REFERENCES queue_entries (id) ON DELETE CASCADE,"
        "  secret_sha256 TEXT NOT NULL,"
        "  created_at TEXT NOT NULL)",

        "CREATE TABLE worker_commands ("
        "  id INTEGER PRIMARY KEY,"
        "  queue_entry_id INTEGER NOT NULL REFERENCES queue_entries (id) ON DELETE CASCADE,"
        "  command TEXT NOT NULL,"
        "  status TEXT NOT NULL,"
        "  message TEXT NOT NULL DEFAULT '',"
        "  result TEXT,"
        "  created_at TEXT NOT NULL,"
        "  updated_at TEXT NOT NULL)",
        "CREATE INDEX worker_commands_queue_entry_id ON worker_commands (queue_entry_id)",
        NULL,
};

/* Event hooks; "runs" is ferryd's record of their last runs, kept across updates. */
static const char *const v5_hooks[] = {
        "CREATE TABLE hooks ("
        "  id INTEGER PRIMARY KEY,"
        "  name TEXT NOT NULL UNIQUE,"
        "  object TEXT NOT NULL,"
        "  runs TEXT NOT NULL DEFAULT '{}',"
        "  created_at TEXT NOT NULL,"
        "  updated_at TEXT NOT NULL)",
        NULL,
};

static const struct db_migration migrations[] = {
        { 1, "core tables", v1_core },
        { 2, "trusted certificates and trust tokens", v2_trust },
        { 3, "artifacts", v3_artifacts },
        { 4, "worker secrets and commands", v4_workers },
        { 5, "event hooks", v5_hooks },
};

int db_schema_latest(void)
{
        return (int) ELEMENTSOF(migrations);
}

const struct db_migration *db_schema_migration(int version)
{
        if (version < 1 || version > db_schema_latest())
                return NULL;
        return &migrations[version - 1];
}
