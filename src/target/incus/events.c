/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "target/incus/events.h"
#include "target/incus/websocket.h"

#define EVENTS_PATH "/1.0/events?type=lifecycle,operation&all-projects=true"
#define STOP_CHECK_MS 200

bool incus_event_affects_inventory(const json_t *event)
{
        static const char *const prefixes[] = { "project-", "network-", "storage-pool-", "profile-",
                                                "cluster-member-" };
        const char *action;

        if (!streq_ptr(json_string_value(json_object_get(event, "type")), "lifecycle"))
                return false;
        action = json_string_value(json_object_get(json_object_get(event, "metadata"), "action"));
        if (!action)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (startswith(action, prefixes[i]))
                        return true;
        return false;
}

static bool stopped(const atomic_bool *stop)
{
        return stop && atomic_load(stop);
}

/* Sleep ms in short steps; false if stopped meanwhile. */
static bool wait_or_stop(const atomic_bool *stop, int ms)
{
        while (ms > 0) {
                int step = ms < STOP_CHECK_MS ? ms : STOP_CHECK_MS;
                struct timespec ts = { .tv_sec = step / 1000, .tv_nsec = (long) (step % 1000) * 1000000 };

                if (stopped(stop))
                        return false;
                nanosleep(&ts, NULL);
                ms -= step;
        }
        return !stopped(stop);
}

/* Read events until the connection drops (0), stop (0), or a callback fails (<0). */
static int follow_connection(struct incus_ws *ws, const struct incus_events_callbacks *cb, const atomic_bool *stop,
                             struct ferry_error *err)
{
        while (!stopped(stop)) {
                _cleanup_free_ char *buf = NULL;
                _cleanup_json_ json_t *event = NULL;
                struct ferry_error recv_err = {};
                size_t len = 0;
                int r;

                r = incus_ws_recv(ws, STOP_CHECK_MS, &buf, &len, NULL, &recv_err);
                if (r < 0) {
                        log_debug("Incus event stream ended: %s", ferry_error_message(&recv_err));
                        return 0;
                }
                if (r == 0)
                        continue;
                if (json_parse_strict(buf, len, &event, &recv_err) < 0 || !json_is_object(event)) {
                        log_debug("Ignoring an Incus event that is not a JSON object");
                        continue;
                }
                r = cb->event(event, cb->userdata);
                if (r < 0)
                        return ferry_error_set(err, r, "Incus event handler failed");
        }
        return 0;
}

int incus_events_follow(const struct incus_client_config *config, const struct incus_events_callbacks *cb,
                        const atomic_bool *stop, int max_backoff_s, struct ferry_error *err)
{
        int backoff_ms = 1000, max_ms = (max_backoff_s > 0 ? max_backoff_s : 30) * 1000;
        bool first = true;

        while (!stopped(stop)) {
                _cleanup_incus_ws_ struct incus_ws *ws = NULL;
                struct ferry_error conn_err = {};
                int r;

                r = incus_ws_connect(config, EVENTS_PATH, 10000, &ws, &conn_err);
                if (r < 0) {
                        log_debug("Cannot follow Incus events at '%s': %s", config->endpoint,
                                  ferry_error_message(&conn_err));
                        if (!wait_or_stop(stop, backoff_ms))
                                break;
                        backoff_ms = backoff_ms * 2 > max_ms ? max_ms : backoff_ms * 2;
                        continue;
                }
                backoff_ms = 1000;

                if (cb->connected) {
                        r = cb->connected(first, cb->userdata);
                        if (r < 0)
                                return ferry_error_set(err, r, "Incus event handler failed");
                }
                first = false;

                r = follow_connection(ws, cb, stop, err);
                if (r < 0)
                        return r;
                if (!stopped(stop) && !wait_or_stop(stop, backoff_ms))
                        break;
        }
        return 0;
}
