/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "db/batch.h"
#include "db/db.h"
#include "db/instance.h"
#include "db/network.h"
#include "db/queue.h"
#include "db/source.h"
#include "db/warning.h"
#include "seed.h"

static json_t *seed_json(const char *text)
{
        json_error_t e;
        json_t *v = json_loads(text, 0, &e);

        if (!v)
                fail_msg("Bad seed JSON: %s", e.text);
        return v;
}

#define SEED(call, what)                                                   \
        do {                                                               \
                if ((call) < 0)                                            \
                        fail_msg("Seeding %s: %s", what, err.message);     \
        } while (0)

void seed_lab_inventory(const char *data_dir)
{
        static const char *const instances[] = {
                "{\"uuid\": \"" SEED_WEB01 "\", \"source\": \"vc01\", \"location\": \"/dc1/vm/web/web01\", "
                "\"name\": \"web01\", \"cpus\": 2, \"memory\": 4294967296, \"os\": \"Ubuntu Linux (64-bit)\", "
                "\"config\": {\"tag.env\": \"prod\"}, \"disks\": [{\"name\": \"disk0\", \"capacity\": 17179869184, "
                "\"supported\": true}], \"nics\": []}",
                "{\"uuid\": \"" SEED_DB01 "\", \"source\": \"vc01\", \"location\": \"/dc1/vm/db/db01\", "
                "\"name\": \"db01\", \"cpus\": 8, \"memory\": 17179869184, \"os\": \"\", \"config\": {}, "
                "\"disks\": [], \"nics\": []}",
        };
        _cleanup_free_ char *path = NULL;
        _cleanup_db_ struct db *db = NULL;
        _cleanup_json_ json_t *source = NULL, *network = NULL, *batch = NULL, *entry = NULL;
        struct ferry_error err = {};

        assert_int_equal(mkdir(data_dir, 0700), 0);
        assert_non_null(path = strjoin(data_dir, "/ferry.db", NULL));
        SEED(db_open(path, &db, &err), "the database");

        source = seed_json(SEED_SOURCE_BODY);
        json_object_set_new(json_object_get(source, "properties"), "connectivity_status", json_string("OK"));
        SEED(db_source_create(db, source, &err), "source vc01");

        for (size_t i = 0; i < ELEMENTSOF(instances); i++) {
                _cleanup_json_ json_t *v = seed_json(instances[i]);

                SEED(db_instance_put(db, v, &err), "an instance");
        }

        network = seed_json("{\"uuid\": \"network-1\", \"source\": \"vc01\", \"location\": \"/dc1/network/VM Network\", "
                            "\"name\": \"VM Network\", \"type\": \"standard\", \"vlan\": \"\"}");
        SEED(db_network_put(db, network, &err), "a network");

        SEED(db_warning_raise(db, "sync", "instance", SEED_DB01, "Could not determine instance OS",
                              "Could not determine instance OS, check if guest agent is running", NULL, &err),
             "a warning");

        batch = seed_json("{\"name\": \"seeded\", \"include_expression\": \"cpus >= 1\", \"status\": \"Running\", "
                          "\"migration_windows\": [], \"constraints\": []}");
        SEED(db_batch_create(db, batch, &err), "a batch");
        entry = seed_json("{\"instance_uuid\": \"" SEED_WEB01 "\", \"name\": \"web01\", \"batch\": \"seeded\", \"status\": "
                          "\"Background import\", \"status_message\": \"Copying disk0\", \"import_stage\": "
                          "\"background\", \"progress\": [{\"disk\": \"disk0\", \"done\": 1073741824, "
                          "\"total\": 17179869184}]}");
        SEED(db_queue_create(db, entry, &err), "a queue entry");
}
