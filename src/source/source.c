/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "common/strbuf.h"
#include "source/source.h"
#include "source/vmware/vmware.h"

static const struct source_ops *const source_drivers[] = {
        &vmware_source_ops,
};

const struct source_ops *source_ops_find(const char *type)
{
        for (size_t i = 0; type && i < ELEMENTSOF(source_drivers); i++)
                if (streq(source_drivers[i]->type, type))
                        return source_drivers[i];
        return NULL;
}

void source_inventory_done(struct source_inventory *inv)
{
        if (!inv)
                return;
        json_decref(inv->instances);
        json_decref(inv->networks);
        json_decref(inv->warnings);
        *inv = (struct source_inventory) {};
}
