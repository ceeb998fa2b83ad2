/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "daemon/target-events.h"
#include "daemon/targets.h"
#include "db/db.h"
#include "db/target.h"
#include "target/incus/events.h"
#include "target/incus/inventory.h"

/* A queue of events the loop has not taken is bounded: a stuck loop costs a fixed amount. */
#define PENDING_MAX 4096
#define BACKOFF_MAX_S 30

struct follower {
        struct follower *next;
        struct target_followers *tf;
        char *name;
        pthread_t thread;
        atomic_bool stop;
        atomic_bool done;
        /* The thread's own. */
        struct db *db;
        struct incus_client *client;
};

struct target_followers {
        pthread_mutex_t lock;
        struct follower *running;       /* one per target name */
        struct follower *stopping;      /* told to stop, not joined yet */
        json_t *pending;                /* lifecycle metadata for the hub */
        char *db_path;
        const struct target_identity *id;
        void (*wake)(void *userdata);
        void *userdata;
};

static void follower_free(struct follower *f)
{
        if (!f)
                return;
        free(f->name);
        free(f);
}

static void follower_sync_inventory(struct follower *f)
{
        _cleanup_json_ json_t *inventory = NULL;
        struct ferry_error err = {};
        bool changed = false;
        int r;

        log_debug("Reading the inventory of target '%s'", f->name);
        r = incus_inventory_read(f->client, &inventory, &err);
        if (r < 0) {
                log_warning("Cannot read the inventory of target '%s': %s", f->name, ferry_error_message(&err));
                target_store_status(f->db, f->name, target_status_from_errno(r));
                return;
        }
        r = target_store_inventory(f->db, f->name, inventory, NULL, &changed, &err);
        if (r < 0) {
                log_warning("Cannot store the inventory of target '%s': %s", f->name, ferry_error_message(&err));
                return;
        }
        if (changed)
                log_debug("Inventory of target '%s' updated", f->name);
}

static int on_connected(bool first, void *userdata)
{
        struct follower *f = userdata;

        log_debug("Following the events of target '%s'%s", f->name, first ? "" : " again");
        follower_sync_inventory(f);
        return 0;
}

/* Incus's lifecycle metadata with the target (and the project) added: what ferryd emits. */
static json_t *forwarded_metadata(const char *target, const json_t *event)
{
        const json_t *metadata = json_object_get(event, "metadata");
        const char *project = json_string_value(json_object_get(event, "project"));
        json_t *m = json_deep_copy(metadata);

        if (!m)
                return NULL;
        if (json_object_set_new(m, "target", json_string(target)) < 0 ||
            (project && !json_object_get(m, "project") &&
             json_object_set_new(m, "project", json_string(project)) < 0)) {
                json_decref(m);
                return NULL;
        }
        return m;
}

static void forward(struct follower *f, const json_t *event)
{
        struct target_followers *tf = f->tf;
        json_t *m = forwarded_metadata(f->name, event);

        if (!m)
                return;
        pthread_mutex_lock(&tf->lock);
        if (json_array_size(tf->pending) >= PENDING_MAX) {
                log_warning("Dropping an Incus event of target '%s': ferryd is not taking them", f->name);
                json_decref(m);
        } else
                json_array_append_new(tf->pending, m);
        pthread_mutex_unlock(&tf->lock);
        if (tf->wake)
                tf->wake(tf->userdata);
}

static int on_event(const json_t *event, void *userdata)
{
        struct follower *f = userdata;
        const char *action;

        /* Operation events carry secrets: look no further. */
        if (!streq_ptr(json_string_value(json_object_get(event, "type")), "lifecycle"))
                return 0;
        if (incus_event_affects_inventory(event)) {
                follower_sync_inventory(f);
                return 0;
        }
        action = json_string_value(json_object_get(json_object_get(event, "metadata"), "action"));
        if (startswith(action, "instance-"))
                forward(f, event);
        return 0;
}

static void *follower_thread(void *userdata)
{
        struct follower *f = userdata;
        struct target_followers *tf = f->tf;
        _cleanup_json_ json_t *target = NULL;
        struct incus_client_config config;
        struct ferry_error err = {};
        int r;

        r = db_open(tf->db_path, &f->db, &err);
        if (r >= 0)
                r = db_target_get(f->db, f->name, &target, &err);
        if (r >= 0)
                r = target_client_config(target, tf->id, &config, &err);
        if (r >= 0) {
                f->client = incus_client_new(&config, &err);
                if (!f->client)
                        r = -errno;
        }
        if (r >= 0) {
                const struct incus_events_callbacks cb = {
                        .event = on_event,
                        .connected = on_connected,
                        .userdata = f,
                };

                r = incus_events_follow(&config, &cb, &f->stop, BACKOFF_MAX_S, &err);
        }
        if (r < 0)
                log_warning("Stopped following the events of target '%s': %s", f->name, ferry_error_message(&err));

        incus_client_free(f->client);
        f->client = NULL;
        db_close(f->db);
        f->db = NULL;
        atomic_store(&f->done, true);
        return NULL;
}

int target_followers_new(const char *db_path, const struct target_identity *id, void (*wake)(void *userdata),
                         void *userdata, struct target_followers **ret, struct ferry_error *err)
{
        struct target_followers *tf = calloc(1, sizeof(*tf));

        if (!tf)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        pthread_mutex_init(&tf->lock, NULL);
        tf->db_path = strdup(db_path);
        tf->pending = json_array();
        tf->id = id;
        tf->wake = wake;
        tf->userdata = userdata;
        if (!tf->db_path || !tf->pending) {
                target_followers_free(tf);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        *ret = tf;
        return 0;
}

/* Under the lock: take target name's follower out of the running list and tell it to stop. */
static void stop_locked(struct target_followers *tf, const char *name)
{
        for (struct follower **p = &tf->running; *p; p = &(*p)->next)
                if (streq((*p)->name, name)) {
                        struct follower *f = *p;

                        *p = f->next;
                        atomic_store(&f->stop, true);
                        f->next = tf->stopping;
                        tf->stopping = f;
                        return;
                }
}

/* Join the stopped followers; with all, wait for those still running too. */
static void reap(struct target_followers *tf, bool all)
{
        struct follower *done = NULL;

        pthread_mutex_lock(&tf->lock);
        for (struct follower **p = &tf->stopping; *p;) {
                struct follower *f = *p;

                if (all || atomic_load(&f->done)) {
                        *p = f->next;
                        f->next = done;
                        done = f;
                } else
                        p = &f->next;
        }
        pthread_mutex_unlock(&tf->lock);

        while (done) {
                struct follower *next = done->next;

                pthread_join(done->thread, NULL);
                follower_free(done);
                done = next;
        }
}

void target_followers_free(struct target_followers *tf)
{
        if (!tf)
                return;
        pthread_mutex_lock(&tf->lock);
        while (tf->running)
                stop_locked(tf, tf->running->name);
        pthread_mutex_unlock(&tf->lock);
        reap(tf, true);
        json_decref(tf->pending);
        free(tf->db_path);
        pthread_mutex_destroy(&tf->lock);
        free(tf);
}

int target_followers_start(struct target_followers *tf, const char *name, struct ferry_error *err)
{
        struct follower *f = calloc(1, sizeof(*f));
        int r;

        if (!f)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        f->tf = tf;
        f->name = strdup(name);
        if (!f->name) {
                follower_free(f);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }

        pthread_mutex_lock(&tf->lock);
        stop_locked(tf, name);
        r = pthread_create(&f->thread, NULL, follower_thread, f);
        if (r != 0) {
                pthread_mutex_unlock(&tf->lock);
                follower_free(f);
                return ferry_error_set(err, -r, "Cannot start the event follower of target '%s': %m", name);
        }
        f->next = tf->running;
        tf->running = f;
        pthread_mutex_unlock(&tf->lock);
        return 0;
}

void target_followers_stop(struct target_followers *tf, const char *name)
{
        pthread_mutex_lock(&tf->lock);
        stop_locked(tf, name);
        pthread_mutex_unlock(&tf->lock);
}

bool target_followers_has(struct target_followers *tf, const char *name)
{
        bool found = false;

        pthread_mutex_lock(&tf->lock);
        for (struct follower *f = tf->running; f && !found; f = f->next)
                found = streq(f->name, name);
        pthread_mutex_unlock(&tf->lock);
        return found;
}

json_t *target_followers_take_events(struct target_followers *tf)
{
        json_t *taken;

        reap(tf, false);
        pthread_mutex_lock(&tf->lock);
        taken = tf->pending;
        tf->pending = json_array();
        if (!tf->pending) {
                tf->pending = taken;
                taken = NULL;
        }
        pthread_mutex_unlock(&tf->lock);
        return taken;
}
