/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /1.0/hooks: saving a hook checks its script (it compiles, its main chunk
 * runs briefly and it defines on_event()); the runs themselves are the
 * hook thread's (hooks.c).
 */
#include <errno.h>

#include "common/json.h"
#include "common/log.h"
#include "daemon/api-collection.h"
#include "daemon/api-hooks.h"
#include "daemon/api-placement.h"
#include "daemon/daemon.h"
#include "daemon/events.h"
#include "daemon/hooks.h"
#include "db/hook.h"
#include "model/model.h"
#include "scriptlet/sandbox.h"

static int api_hook_check(struct daemon *d, const json_t *hook, struct ferry_error *err)
{
        const struct scriptlet_options options = {
                .name = json_string_value(json_object_get(hook, "name")),
                .time_max_ms = API_PLACEMENT_CHECK_TIME_MAX_MS,
                .instructions_max = API_PLACEMENT_CHECK_INSTRUCTIONS_MAX,
        };
        int r;

        (void) d;
        r = scriptlet_check(&options, json_string_value(json_object_get(hook, "script")), "on_event", err);
        if (r < 0)
                return ferry_error_set(err, -EINVAL, "Field 'script': %s", ferry_error_message(err));
        return 0;
}

const struct api_collection api_hooks = {
        .resource = {
                .base = "/1.0/hooks",
                .entity = "hook",
                .schema = &model_hook_schema,
                .get = db_hook_get,
                .store = db_hook_update,
                .check = api_hook_check,
        },
        .create = db_hook_create,
        .list = db_hook_list,
        .remove = db_hook_delete,
};

void api_hooks_event(const json_t *event, void *userdata)
{
        struct daemon *d = userdata;

        hooks_on_event(d->hooks, d->db, event);
}

void api_hooks_dispatch(struct daemon *d)
{
        _cleanup_json_ json_t *events = NULL;
        json_t *md;
        size_t i;

        if (!d->hooks)
                return;
        events = hooks_take_events(d->hooks);
        json_array_foreach(events, i, md)
                if (event_hub_emit(d->events, EVENT_LIFECYCLE, json_incref(md)) < 0)
                        log_debug("Cannot emit the event of a hook");
}
