/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/duration.h"
#include "common/http.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "daemon/hooks.h"
#include "daemon/queue-control.h"
#include "db/db.h"
#include "db/hook.h"
#include "db/instance.h"
#include "db/warning.h"
#include "model/model.h"
#include "scriptlet/sandbox.h"

struct hook_job {
        struct hook_job *next;
        char *name;
        char *script;
        json_t *event;
        int depth;              /* how many hooks led to this event */
};

struct hooks {
        pthread_t thread;
        bool started;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop;
        bool running;
        struct hook_job *head, *tail;
        size_t queued;
        json_t *events;         /* lifecycle metadata for the loop to emit */
        char *db_path;
        const struct target_identity *identity;
        void (*wake)(void *userdata);
        void *userdata;
};

/* One run's state, the userdata of the builtins. */
struct hook_run {
        struct hooks *hooks;
        struct db *db;
        const char *name;
        int depth;
        json_t *log;
};

static void hook_job_free(struct hook_job *job)
{
        if (!job)
                return;
        free(job->name);
        free(job->script);
        json_decref(job->event);
        free(job);
}

static const char *str(const json_t *obj, const char *key)
{
        const char *s = json_string_value(json_object_get(obj, key));

        return s ? s : "";
}

/* --- URLs ------------------------------------------------------------------------------ */

int hooks_webhook_url(const char *url, char **ret_endpoint, char **ret_path, struct ferry_error *err)
{
        _cleanup_free_ char *endpoint = NULL, *path = NULL, *host = NULL;
        const char *rest, *slash, *h_end;
        bool https;
        size_t authority;

        if (startswith(url, "https://"))
                https = true;
        else if (startswith(url, "http://"))
                https = false;
        else
                return ferry_error_set(err, -EPERM,
                                       "Webhook URL '%s' must be https://, or http:// to 127.0.0.1, [::1] or localhost",
                                       url);
        rest = url + (https ? strlen("https://") : strlen("http://"));
        slash = rest + strcspn(rest, "/?#");
        authority = (size_t) (slash - rest);
        if (authority == 0 || memchr(rest, '@', authority) || strpbrk(url, " \t\r\n"))
                return ferry_error_set(err, -EINVAL, "Webhook URL '%s' is not a URL with a host", url);

        /* The host without the port: [::1]:8080, 127.0.0.1:8080, name. */
        if (rest[0] == '[') {
                h_end = memchr(rest, ']', authority);
                if (!h_end)
                        return ferry_error_set(err, -EINVAL, "Webhook URL '%s' is not a URL with a host", url);
                host = strndup(rest, (size_t) (h_end - rest) + 1);
        } else {
                h_end = memchr(rest, ':', authority);
                host = strndup(rest, h_end ? (size_t) (h_end - rest) : authority);
        }
        if (!host)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (!https && !streq(host, "127.0.0.1") && !streq(host, "[::1]") && !streq(host, "localhost"))
                return ferry_error_set(err, -EPERM,
                                       "Webhook URL '%s' must be https://, or http:// to 127.0.0.1, [::1] or localhost",
                                       url);

        endpoint = strndup(url, (size_t) (slash - url));
        path = *slash == '/' ? strdup(slash) : strjoin("/", slash, NULL);
        if (!endpoint || !path)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        /* A fragment is not sent. */
        path[strcspn(path, "#")] = '\0';
        *ret_endpoint = TAKE_PTR(endpoint);
        *ret_path = TAKE_PTR(path);
        return 0;
}

bool hooks_events_match(const json_t *events, const char *action)
{
        const json_t *e;
        size_t i;

        json_array_foreach(events, i, e)
                if (streq_ptr(json_string_value(e), "*") || streq_ptr(json_string_value(e), action))
                        return true;
        return false;
}

/* --- actions --------------------------------------------------------------------------- */

/* A change for the loop to announce, as the API would have; context (may be NULL) is stolen. */
static void queue_event_context(struct hook_run *run, const char *action, const char *source, json_t *context)
{
        json_t *md;

        if (!context)
                context = json_object();
        if (!context || json_object_set_new(context, "hook_depth", json_integer(run->depth + 1)) < 0) {
                json_decref(context);
                return;
        }
        md = json_pack("{s:s, s:s, s:o, s:{s:s, s:s}}", "action", action, "source", source, "context", context,
                       "requestor", "protocol", "hook", "username", run->name);
        if (!md)
                return;
        pthread_mutex_lock(&run->hooks->lock);
        if (json_array_append_new(run->hooks->events, md) < 0)
                log_debug("Cannot queue the event '%s' of hook '%s'", action, run->name);
        pthread_mutex_unlock(&run->hooks->lock);
        if (run->hooks->wake)
                run->hooks->wake(run->hooks->userdata);
}

static void queue_event(struct hook_run *run, const char *action, const char *source)
{
        queue_event_context(run, action, source, NULL);
}

/* The queue actions (daemon/queue-control.h), as the API runs them. */
static int queue_action(struct hook_run *run, const json_t *args, const char *what,
                        int (*fn)(const struct queue_control *qc, const char *key, json_t **ret, struct ferry_error *err),
                        json_t **ret, struct ferry_error *err)
{
        const char *key = json_string_value(json_array_get(args, 0));
        _cleanup_json_ json_t *events = json_array();
        struct queue_control qc = { .db = run->db, .identity = run->hooks->identity, .events = events };
        const json_t *e;
        size_t i;
        int r;

        if (!key)
                return ferry_error_set(err, -EINVAL, "The %s must be a string", what);
        if (!events)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = fn(&qc, key, ret, err);
        json_array_foreach(events, i, e)
                queue_event_context(run, json_string_value(json_object_get(e, "action")),
                                    json_string_value(json_object_get(e, "source")),
                                    json_deep_copy(json_object_get(e, "context")));
        return r;
}

static int builtin_batch_start(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                               struct ferry_error *err)
{
        (void) s;
        return queue_action(userdata, args, "batch name", queue_control_batch_start, ret, err);
}

static int builtin_batch_stop(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                              struct ferry_error *err)
{
        (void) s;
        return queue_action(userdata, args, "batch name", queue_control_batch_stop, ret, err);
}

static int builtin_queue_retry(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                               struct ferry_error *err)
{
        (void) s;
        return queue_action(userdata, args, "instance UUID", queue_control_retry, ret, err);
}

static int builtin_queue_cancel(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                                struct ferry_error *err)
{
        (void) s;
        return queue_action(userdata, args, "instance UUID", queue_control_cancel, ret, err);
}

/* As PATCH /1.0/instances/{uuid}/override: a merge patch, then the override schema. */
static int builtin_instance_override(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                                     struct ferry_error *err)
{
        struct hook_run *run = userdata;
        const char *uuid = json_string_value(json_array_get(args, 0));
        const json_t *patch = json_array_get(args, 1);
        _cleanup_json_ json_t *instance = NULL, *merged = NULL, *validated = NULL;
        _cleanup_free_ char *source = NULL;
        const json_t *current;
        int r;

        (void) s, (void) ret;
        if (!uuid)
                return ferry_error_set(err, -EINVAL, "The instance UUID must be a string");
        if (json_is_array(patch) && json_array_size(patch) == 0)
                patch = NULL;   /* {} arrives as an empty list */
        if (patch && !json_is_object(patch))
                return ferry_error_set(err, -EINVAL, "The overrides must be a table like {comment = 'x'}");
        r = db_instance_get(run->db, uuid, &instance, err);
        if (r < 0)
                return r;
        current = json_object_get(instance, "overrides");
        if (!patch)
                return 0;
        merged = model_merge_patch(json_is_object(current) ? current : json_object(), patch);
        if (!merged)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = model_validate(&model_instance_override_schema, merged, current, &validated, err);
        if (r < 0)
                return r;
        r = db_instance_set_overrides(run->db, uuid, validated, err);
        if (r < 0)
                return r;
        if (asprintf(&source, "/1.0/instances/%s", uuid) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        queue_event(run, "instance-override-updated", source);
        return 0;
}

/* As GET /1.0/instances/{uuid}: synced values and "overrides". */
static int builtin_instance(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                            struct ferry_error *err)
{
        struct hook_run *run = userdata;
        const char *uuid = json_string_value(json_array_get(args, 0));

        (void) s;
        if (!uuid)
                return ferry_error_set(err, -EINVAL, "The instance UUID must be a string");
        return db_instance_get(run->db, uuid, ret, err);
}

static int builtin_warn(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                        struct ferry_error *err)
{
        struct hook_run *run = userdata;
        const char *message = json_string_value(json_array_get(args, 0));
        _cleanup_free_ char *uuid = NULL, *source = NULL;
        int r;

        (void) s, (void) ret;
        if (!message || !*message)
                return ferry_error_set(err, -EINVAL, "The warning needs a message");
        r = db_warning_raise(run->db, "hook", "hook", run->name, "Hook warning", message, &uuid, err);
        if (r < 0)
                return r;
        if (asprintf(&source, "/1.0/warnings/%s", uuid) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        queue_event(run, r > 0 ? "warning-created" : "warning-updated", source);
        return 0;
}

static int builtin_warnings(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                            struct ferry_error *err)
{
        struct hook_run *run = userdata;

        (void) s, (void) args;
        return db_warning_list(run->db, ret, err);
}

static int builtin_warning_acknowledge(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                                       struct ferry_error *err)
{
        struct hook_run *run = userdata;
        const char *uuid = json_string_value(json_array_get(args, 0));
        _cleanup_free_ char *source = NULL;
        int r;

        (void) s, (void) ret;
        if (!uuid)
                return ferry_error_set(err, -EINVAL, "The warning UUID must be a string");
        r = db_warning_set_status(run->db, uuid, "acknowledged", err);
        if (r < 0)
                return r;
        if (asprintf(&source, "/1.0/warnings/%s", uuid) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        queue_event(run, "warning-updated", source);
        return 0;
}

static int builtin_webhook(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                           struct ferry_error *err)
{
        const char *url = json_string_value(json_array_get(args, 0));
        _cleanup_free_ char *endpoint = NULL, *path = NULL, *body = NULL;
        _cleanup_(http_response_done) struct http_response resp = {};
        _cleanup_http_client_ struct http_client *c = NULL;
        uint64_t left = scriptlet_time_left_ms(s);
        long timeout = left < HOOKS_WEBHOOK_TIMEOUT_MS ? (long) left : HOOKS_WEBHOOK_TIMEOUT_MS;
        int r;

        (void) userdata;
        if (!url)
                return ferry_error_set(err, -EINVAL, "The URL must be a string");
        r = hooks_webhook_url(url, &endpoint, &path, err);
        if (r < 0)
                return r;
        body = json_dumps(json_array_get(args, 1) ? json_array_get(args, 1) : json_null(),
                          JSON_COMPACT | JSON_ENCODE_ANY);
        if (!body)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (strlen(body) > HOOKS_WEBHOOK_BODY_MAX)
                return ferry_error_set(err, -E2BIG, "The webhook body is larger than %d bytes", HOOKS_WEBHOOK_BODY_MAX);
        if (timeout <= 0)
                return ferry_error_set(err, -ETIMEDOUT, "No time left for the webhook to '%s'", url);

        c = http_client_new(&(struct http_client_config) { .endpoint = endpoint, .connect_timeout_ms = timeout,
                                                           .timeout_ms = timeout },
                            err);
        if (!c)
                return ferry_error_prefix(err, "Webhook to '%s'", url);
        r = http_request(c, "POST", path, "application/json", body, strlen(body), NULL, &resp, err);
        if (r < 0)
                return ferry_error_prefix(err, "Webhook to '%s'", url);
        *ret = json_pack("{s:i, s:s%}", "status", (int) resp.status, "body", resp.body ? resp.body : "",
                         resp.body ? strnlen(resp.body, resp.body_len) : 0);
        if (!*ret)
                *ret = json_pack("{s:i}", "status", (int) resp.status);
        return *ret ? 0 : ferry_error_set(err, -ENOMEM, "Out of memory");
}

static const struct scriptlet_builtin hook_builtins[] = {
        { "batch_start", builtin_batch_start },
        { "batch_stop", builtin_batch_stop },
        { "queue_retry", builtin_queue_retry },
        { "queue_cancel", builtin_queue_cancel },
        { "instance", builtin_instance },
        { "instance_override", builtin_instance_override },
        { "warn", builtin_warn },
        { "warnings", builtin_warnings },
        { "warning_acknowledge", builtin_warning_acknowledge },
        { "webhook", builtin_webhook },
        {}
};

/* --- runs ------------------------------------------------------------------------------ */

static void collect_log(enum log_level level, const char *message, void *userdata)
{
        struct hook_run *run = userdata;

        log_full_errno(level <= LOG_LEVEL_INFO ? LOG_LEVEL_INFO : level, 0, "Hook '%s': %s", run->name, message);
        (void) json_array_append_new(run->log, json_pack("{s:s, s:s}", "level", log_level_to_string(level) ?: "info",
                                                         "message", message));
}

/* What on_event() sees: the event's metadata lifted to the top, the event itself under "metadata". */
static json_t *event_view(const json_t *event)
{
        const json_t *md = json_object_get(event, "metadata");
        json_t *context = json_object_get(md, "context"), *requestor = json_object_get(md, "requestor");

        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:O}", "type", str(event, "type"), "timestamp",
                         str(event, "timestamp"), "action", str(md, "action"), "source", str(md, "source"), "target",
                         str(md, "target"), "project", str(md, "project"), "context",
                         context ? json_incref(context) : json_object(), "requestor",
                         requestor ? json_incref(requestor) : json_object(), "metadata", md ? md : json_null());
}

static void hook_run(struct hooks *h, struct db *db, struct hook_job *job)
{
        _cleanup_scriptlet_ struct scriptlet *s = NULL;
        _cleanup_json_ json_t *log = json_array(), *view = event_view(job->event), *record = NULL;
        struct hook_run run = { .hooks = h, .db = db, .name = job->name, .depth = job->depth, .log = log };
        const struct scriptlet_options options = {
                .name = job->name, .time_max_ms = HOOKS_TIME_MAX_MS, .log = collect_log, .log_userdata = &run,
        };
        const json_t *md = json_object_get(job->event, "metadata");
        char started[TIMESTAMP_RFC3339_MAX];
        struct ferry_error err = {}, record_err = {};
        struct timespec a, b;
        const json_t *args[1];
        int r;

        timestamp_now_rfc3339(started);
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (!log || !view)
                r = ferry_error_set(&err, -ENOMEM, "Out of memory");
        else
                r = scriptlet_new(&options, &s, &err);
        if (r >= 0)
                r = scriptlet_add_builtins(s, "ferry", hook_builtins, &run, &err);
        if (r >= 0)
                r = scriptlet_load(s, job->script, strlen(job->script), &err);
        if (r >= 0) {
                args[0] = view;
                r = scriptlet_call(s, "on_event", args, 1, NULL, &err);
        }
        clock_gettime(CLOCK_MONOTONIC, &b);

        if (r < 0)
                log_warning("Hook '%s' failed on '%s': %s", job->name, str(md, "action"), ferry_error_message(&err));
        else
                log_debug("Hook '%s' ran for '%s'", job->name, str(md, "action"));

        record = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:O}", "started_at", started, "duration_ms",
                           (json_int_t) ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000), "event",
                           str(md, "action"), "source", str(md, "source"), "status", r < 0 ? "Failure" : "Success",
                           "error", r < 0 ? ferry_error_message(&err) : "", "log", log ? log : json_array());
        /* The hook may have been deleted meanwhile: then there is nothing to record into. */
        if (!record || db_hook_record_run(db, job->name, record, &record_err) < 0)
                log_debug("Cannot record the run of hook '%s': %s", job->name, ferry_error_message(&record_err));
}

static void *hooks_thread(void *userdata)
{
        struct hooks *h = userdata;
        struct db *db = NULL;
        struct ferry_error open_err = {};

        if (db_open(h->db_path, &db, &open_err) < 0)
                log_error("Hook thread cannot open the database: %s", ferry_error_message(&open_err));

        pthread_mutex_lock(&h->lock);
        for (;;) {
                struct hook_job *job;

                while (!h->stop && !h->head)
                        pthread_cond_wait(&h->cond, &h->lock);
                if (h->stop)
                        break;
                job = h->head;
                h->head = job->next;
                if (!h->head)
                        h->tail = NULL;
                h->queued--;
                h->running = true;
                pthread_mutex_unlock(&h->lock);

                if (db)
                        hook_run(h, db, job);
                hook_job_free(job);

                pthread_mutex_lock(&h->lock);
                h->running = false;
                if (h->wake)
                        h->wake(h->userdata);
        }
        pthread_mutex_unlock(&h->lock);
        db_close(db);
        return NULL;
}

int hooks_new(const char *db_path, const struct target_identity *identity, void (*wake)(void *userdata),
              void *userdata, struct hooks **ret, struct ferry_error *err)
{
        struct hooks *h;
        int r;

        h = calloc(1, sizeof(*h));
        if (!h)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        pthread_mutex_init(&h->lock, NULL);
        pthread_cond_init(&h->cond, NULL);
        h->identity = identity;
        h->wake = wake;
        h->userdata = userdata;
        h->db_path = strdup(db_path);
        h->events = json_array();
        if (!h->db_path || !h->events) {
                hooks_free(h);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        r = pthread_create(&h->thread, NULL, hooks_thread, h);
        if (r != 0) {
                hooks_free(h);
                return ferry_error_set(err, -r, "Failed to start the hook thread: %m");
        }
        h->started = true;
        *ret = h;
        return 0;
}

void hooks_free(struct hooks *h)
{
        if (!h)
                return;
        if (h->started) {
                pthread_mutex_lock(&h->lock);
                h->stop = true;
                pthread_cond_signal(&h->cond);
                pthread_mutex_unlock(&h->lock);
                pthread_join(h->thread, NULL);
        }
        while (h->head) {
                struct hook_job *next = h->head->next;

                hook_job_free(h->head);
                h->head = next;
        }
        json_decref(h->events);
        pthread_cond_destroy(&h->cond);
        pthread_mutex_destroy(&h->lock);
        free(h->db_path);
        free(h);
}

static void queue_run(struct hooks *h, const json_t *hook, const json_t *event, int depth)
{
        struct hook_job *job = calloc(1, sizeof(*job));
        const char *action = str(json_object_get(event, "metadata"), "action");

        if (!job)
                return;
        job->name = strdup(str(hook, "name"));
        job->script = strdup(str(hook, "script"));
        job->event = json_deep_copy(event);
        job->depth = depth;
        if (!job->name || !job->script || !job->event) {
                hook_job_free(job);
                log_warning("Out of memory: hook '%s' does not run for '%s'", str(hook, "name"), action);
                return;
        }

        pthread_mutex_lock(&h->lock);
        if (h->queued >= HOOKS_QUEUE_MAX) {
                pthread_mutex_unlock(&h->lock);
                log_warning("%d hook runs are waiting already: hook '%s' does not run for '%s'", HOOKS_QUEUE_MAX,
                            job->name, action);
                hook_job_free(job);
                return;
        }
        if (h->tail)
                h->tail->next = job;
        else
                h->head = job;
        h->tail = job;
        h->queued++;
        pthread_cond_signal(&h->cond);
        pthread_mutex_unlock(&h->lock);
}

void hooks_on_event(struct hooks *h, struct db *db, const json_t *event)
{
        _cleanup_json_ json_t *list = NULL;
        const json_t *md = json_object_get(event, "metadata"), *requestor = json_object_get(md, "requestor"), *hook;
        const char *action = str(md, "action"), *by_hook = NULL;
        struct ferry_error err = {};
        json_int_t depth = json_integer_value(json_object_get(json_object_get(md, "context"), "hook_depth"));
        size_t i;

        if (!h || !*action)
                return;
        if (streq(str(requestor, "protocol"), "hook"))
                by_hook = str(requestor, "username");
        if (depth >= HOOKS_CHAIN_MAX) {
                log_warning("Hooks do not run for '%s' of %s: %d hooks in a row led to it", action, str(md, "source"),
                            HOOKS_CHAIN_MAX);
                return;
        }
        if (db_hook_list(db, &list, &err) < 0) {
                log_warning("Cannot read the hooks: %s", ferry_error_message(&err));
                return;
        }
        json_array_foreach(list, i, hook) {
                _cleanup_free_ char *url = NULL;

                if (json_is_false(json_object_get(hook, "enabled")))
                        continue;
                if (by_hook && streq(by_hook, str(hook, "name")))
                        continue;       /* never for its own changes */
                url = strjoin("/1.0/hooks/", str(hook, "name"), NULL);
                if (!url || streq(str(md, "source"), url))
                        continue;       /* nor for changes of itself */
                if (hooks_events_match(json_object_get(hook, "events"), action))
                        queue_run(h, hook, event, (int) depth);
        }
}

json_t *hooks_take_events(struct hooks *h)
{
        json_t *copy;

        pthread_mutex_lock(&h->lock);
        copy = json_deep_copy(h->events);
        if (copy)
                json_array_clear(h->events);
        pthread_mutex_unlock(&h->lock);
        return copy;
}

bool hooks_busy(struct hooks *h)
{
        bool busy;

        pthread_mutex_lock(&h->lock);
        busy = h->head || h->running;
        pthread_mutex_unlock(&h->lock);
        return busy;
}
