/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <openssl/rand.h>

#include "common/duration.h"
#include "common/http.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "daemon/jobs.h"
#include "daemon/sync.h"
#include "db/db.h"
#include "db/source.h"

/* Finished operations kept for clients to read. */
#define JOBS_KEEP_FINISHED 100

/* Job threads: a source or target that does not answer holds one of them
 * until its connect timeout, not all of ferryd's slow work. */
#define JOBS_THREADS 4

struct job {
        struct job *next;
        char *key;              /* the resource's URL: two jobs on one resource never run at once */
        char *source;
        json_t *operation;      /* shared with the operations list */
        jobs_run_fn run;        /* NULL: sync source */
        void *userdata;
        void (*free_userdata)(void *userdata);
};

struct jobs {
        pthread_t threads[JOBS_THREADS];
        size_t n_started;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop;
        atomic_bool cancel;     /* set when stopping: the running job's requests end */
        struct job *head, *tail;
        const char *running[JOBS_THREADS]; /* the key of each thread's job, or NULL */
        uint64_t interval_usec; /* every source is synced this often; 0: never on its own */
        struct timespec next_periodic;  /* CLOCK_MONOTONIC */
        json_t *operations;     /* array, oldest first */
        json_t *finished;       /* not yet dispatched */
        char *db_path;
        void (*wake)(void *userdata);
        void *userdata;
};

static void job_free(struct job *job)
{
        if (!job)
                return;
        free(job->key);
        free(job->source);
        json_decref(job->operation);
        if (job->free_userdata)
                job->free_userdata(job->userdata);
        free(job);
}

/* Under the lock: mark the operation finished and queue it for dispatch. */
static void operation_finish(struct jobs *j, json_t *op, int r, const struct ferry_error *err, json_t *metadata)
{
        char now[TIMESTAMP_RFC3339_MAX];

        timestamp_now_rfc3339(now);
        json_object_set_new(op, "status", json_string(r < 0 ? "Failure" : "Success"));
        json_object_set_new(op, "status_code", json_integer(r < 0 ? 400 : 200));
        json_object_set_new(op, "err", json_string(r < 0 ? ferry_error_message(err) : ""));
        json_object_set_new(op, "metadata", metadata ? metadata : json_null());
        json_object_set_new(op, "updated_at", json_string(now));
        json_array_append(j->finished, op);

        /* Forget the oldest finished operations beyond the limit. */
        while (json_array_size(j->operations) > JOBS_KEEP_FINISHED) {
                json_t *oldest = json_array_get(j->operations, 0);

                if (streq_ptr(json_string_value(json_object_get(oldest, "status")), "Running"))
                        break;
                json_array_remove(j->operations, 0);
        }
}

static int job_new_sync(const char *source, struct job **ret, char **ret_id, struct ferry_error *err);
static void enqueue_locked(struct jobs *j, struct job *job);

static void timespec_add_usec(struct timespec *ts, uint64_t usec)
{
        ts->tv_sec += (time_t) (usec / 1000000);
        ts->tv_nsec += (long) (usec % 1000000) * 1000;
        if (ts->tv_nsec >= 1000000000L) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000L;
        }
}

static bool timespec_reached(const struct timespec *deadline)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return now.tv_sec > deadline->tv_sec || (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* Under the lock: whether a sync of source is queued or running. */
static bool running_locked(struct jobs *j, const char *key)
{
        for (size_t i = 0; i < JOBS_THREADS; i++)
                if (key && streq_ptr(j->running[i], key))
                        return true;
        return false;
}

static bool sync_pending_locked(struct jobs *j, const char *source)
{
        _cleanup_free_ char *key = NULL;

        if (asprintf(&key, "/1.0/sources/%s", source) < 0)
                return true;    /* out of memory: queue nothing */
        if (running_locked(j, key))
                return true;
        for (struct job *job = j->head; job; job = job->next)
                if (streq_ptr(job->key, key))
                        return true;
        return false;
}

/* Under the lock: take the first queued job whose resource is not busy. */
static struct job *dequeue_runnable_locked(struct jobs *j)
{
        struct job *prev = NULL;

        for (struct job *job = j->head; job; prev = job, job = job->next) {
                if (running_locked(j, job->key))
                        continue;
                if (prev)
                        prev->next = job->next;
                else
                        j->head = job->next;
                if (j->tail == job)
                        j->tail = prev;
                job->next = NULL;
                return job;
        }
        return NULL;
}

/*
 * Called with the lock held, returns with it held: queue a sync of every
 * source that has none queued or running (a slow source is never synced
 * twice at once).
 */
static void queue_periodic_syncs_locked(struct jobs *j, struct db *db)
{
        _cleanup_json_ json_t *sources = NULL;
        struct ferry_error err = {};
        json_t *src;
        size_t i;

        pthread_mutex_unlock(&j->lock);
        if (!db || db_source_list(db, &sources, &err) < 0)
                log_warning("Cannot list the sources to sync: %s", db ? ferry_error_message(&err) : "no database");
        pthread_mutex_lock(&j->lock);

        json_array_foreach(sources, i, src) {
                const char *name = json_string_value(json_object_get(src, "name"));
                _cleanup_free_ char *id = NULL;
                struct job *job;

                if (!name || sync_pending_locked(j, name))
                        continue;
                if (job_new_sync(name, &job, &id, &err) < 0 || json_array_append(j->operations, job->operation) < 0) {
                        log_warning("Cannot queue the periodic sync of source '%s': %s", name,
                                    ferry_error_message(&err));
                        continue;
                }
                log_debug("Periodic sync of source '%s' queued as operation %s", name, id);
                enqueue_locked(j, job);
        }
}

struct jobs_thread_arg {
        struct jobs *jobs;
        size_t index;
};

static void *jobs_thread(void *userdata)
{
        struct jobs_thread_arg *arg = userdata;
        struct jobs *j = arg->jobs;
        size_t self = arg->index;
        struct db *db = NULL;
        struct ferry_error open_err = {};

        free(arg);

        /* Stopping ferryd cancels the running jobs' requests, connecting included. */
        http_set_thread_cancel(&j->cancel);
        if (db_open(j->db_path, &db, &open_err) < 0)
                log_error("Job thread cannot open the database: %s", ferry_error_message(&open_err));

        pthread_mutex_lock(&j->lock);
        for (;;) {
                struct job *job = NULL;
                struct ferry_error err = {};
                json_t *summary = NULL;
                int r;

                while (!j->stop && !(job = dequeue_runnable_locked(j))) {
                        if (j->interval_usec == 0) {
                                pthread_cond_wait(&j->cond, &j->lock);
                                continue;
                        }
                        if (timespec_reached(&j->next_periodic)) {
                                clock_gettime(CLOCK_MONOTONIC, &j->next_periodic);
                                timespec_add_usec(&j->next_periodic, j->interval_usec);
                                queue_periodic_syncs_locked(j, db);
                                continue;
                        }
                        pthread_cond_timedwait(&j->cond, &j->lock, &j->next_periodic);
                }
                if (j->stop) {
                        /* Not run: jobs_free() drops it with the rest of the queue. */
                        if (job) {
                                job->next = j->head;
                                j->head = job;
                                if (!j->tail)
                                        j->tail = job;
                        }
                        break;
                }
                j->running[self] = job->key;
                pthread_mutex_unlock(&j->lock);

                if (db && job->run)
                        r = job->run(db, job->userdata, &summary, &err);
                else if (db)
                        r = sync_source(db, job->source, &summary, &err);
                else
                        r = ferry_error_set(&err, open_err.code, "%s", ferry_error_message(&open_err));
                if (r < 0 && !job->run)
                        log_warning("Sync of source '%s' failed: %s", job->source, ferry_error_message(&err));

                pthread_mutex_lock(&j->lock);
                j->running[self] = NULL;
                operation_finish(j, job->operation, r, &err, summary);
                job_free(job);
                /* A job that waited for this resource may run now. */
                pthread_cond_broadcast(&j->cond);
                if (j->wake)
                        j->wake(j->userdata);
        }
        pthread_mutex_unlock(&j->lock);
        db_close(db);
        return NULL;
}

int jobs_new(const char *db_path, void (*wake)(void *userdata), void *userdata, struct jobs **ret,
             struct ferry_error *err)
{
        struct jobs *j;
        int r;

        j = calloc(1, sizeof(*j));
        if (!j)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        pthread_mutex_init(&j->lock, NULL);
        {
                pthread_condattr_t attr;

                /* Periodic deadlines are on the monotonic clock: changing the time of day moves none. */
                pthread_condattr_init(&attr);
                pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
                pthread_cond_init(&j->cond, &attr);
                pthread_condattr_destroy(&attr);
        }
        atomic_init(&j->cancel, false);
        j->wake = wake;
        j->userdata = userdata;
        j->db_path = strdup(db_path);
        j->operations = json_array();
        j->finished = json_array();
        if (!j->db_path || !j->operations || !j->finished) {
                jobs_free(j);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        for (size_t i = 0; i < JOBS_THREADS; i++) {
                struct jobs_thread_arg *arg = malloc(sizeof(*arg));

                if (!arg) {
                        jobs_free(j);
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                }
                *arg = (struct jobs_thread_arg) { .jobs = j, .index = i };
                r = pthread_create(&j->threads[i], NULL, jobs_thread, arg);
                if (r != 0) {
                        free(arg);
                        jobs_free(j);
                        return ferry_error_set(err, -r, "Failed to start the job threads: %m");
                }
                j->n_started++;
        }
        *ret = j;
        return 0;
}

void jobs_free(struct jobs *j)
{
        if (!j)
                return;
        if (j->n_started > 0) {
                pthread_mutex_lock(&j->lock);
                j->stop = true;
                atomic_store(&j->cancel, true);
                pthread_cond_broadcast(&j->cond);
                pthread_mutex_unlock(&j->lock);
                for (size_t i = 0; i < j->n_started; i++)
                        pthread_join(j->threads[i], NULL);
        }
        while (j->head) {
                struct job *next = j->head->next;

                job_free(j->head);
                j->head = next;
        }
        json_decref(j->operations);
        json_decref(j->finished);
        pthread_cond_destroy(&j->cond);
        pthread_mutex_destroy(&j->lock);
        free(j->db_path);
        free(j);
}

static int random_uuid(char ret[static 37])
{
        unsigned char b[16];

        if (RAND_bytes(b, sizeof(b)) != 1)
                return -EIO;
        b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40);
        b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80);
        snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
        return 0;
}

/* A sync job of source with its operation (Running); *ret_id is the operation's id. */
static int job_new_sync(const char *source, struct job **ret, char **ret_id, struct ferry_error *err)
{
        _cleanup_free_ char *url = NULL, *description = NULL, *id = NULL;
        struct job *job;
        char uuid[37], now[TIMESTAMP_RFC3339_MAX];

        if (random_uuid(uuid) < 0)
                return ferry_error_set(err, -EIO, "Cannot make an operation id");
        timestamp_now_rfc3339(now);
        id = strdup(uuid);
        if (!id || asprintf(&url, "/1.0/sources/%s", source) < 0 ||
            asprintf(&description, "Syncing source '%s'", source) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        job = calloc(1, sizeof(*job));
        if (!job)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        job->source = strdup(source);
        job->key = strdup(url);
        job->operation = json_pack("{s:s, s:s, s:s, s:s, s:i, s:{s:[s]}, s:n, s:s, s:b, s:s, s:s}", "id", uuid,
                                   "class", "task", "description", description, "status", "Running",
                                   "status_code", 103, "resources", "sources", url, "metadata", "err", "",
                                   "may_cancel", 0, "created_at", now, "updated_at", now);
        if (!job->source || !job->key || !job->operation) {
                job_free(job);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        *ret = job;
        *ret_id = TAKE_PTR(id);
        return 0;
}

/* Under the lock: append job to the queue and wake the thread. */
static void enqueue_locked(struct jobs *j, struct job *job)
{
        if (j->tail)
                j->tail->next = job;
        else
                j->head = job;
        j->tail = job;
        pthread_cond_signal(&j->cond);
}

int jobs_submit_sync(struct jobs *j, const char *source, char **ret_id, struct ferry_error *err)
{
        _cleanup_free_ char *id = NULL;
        struct job *job;
        int r;

        r = job_new_sync(source, &job, &id, err);
        if (r < 0)
                return r;
        pthread_mutex_lock(&j->lock);
        if (json_array_append(j->operations, job->operation) < 0) {
                pthread_mutex_unlock(&j->lock);
                job_free(job);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        enqueue_locked(j, job);
        pthread_mutex_unlock(&j->lock);

        *ret_id = TAKE_PTR(id);
        return 0;
}

void jobs_set_source_sync_interval(struct jobs *j, uint64_t usec)
{
        pthread_mutex_lock(&j->lock);
        j->interval_usec = usec;
        clock_gettime(CLOCK_MONOTONIC, &j->next_periodic);
        timespec_add_usec(&j->next_periodic, usec);
        pthread_cond_signal(&j->cond);
        pthread_mutex_unlock(&j->lock);
}

int jobs_submit(struct jobs *j, const char *description, const char *resource_type, const char *resource_url,
                jobs_run_fn run, void *userdata, void (*free_userdata)(void *userdata), char **ret_id,
                struct ferry_error *err)
{
        _cleanup_free_ char *id = NULL;
        struct job *job;
        char uuid[37], now[TIMESTAMP_RFC3339_MAX];

        job = calloc(1, sizeof(*job));
        if (!job) {
                if (free_userdata)
                        free_userdata(userdata);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        job->run = run;
        job->userdata = userdata;
        job->free_userdata = free_userdata;
        job->key = strdup(resource_url);
        if (random_uuid(uuid) < 0) {
                job_free(job);
                return ferry_error_set(err, -EIO, "Cannot make an operation id");
        }
        timestamp_now_rfc3339(now);
        id = strdup(uuid);
        job->operation = json_pack("{s:s, s:s, s:s, s:s, s:i, s:{s:[s]}, s:n, s:s, s:b, s:s, s:s}", "id", uuid,
                                   "class", "task", "description", description, "status", "Running",
                                   "status_code", 103, "resources", resource_type, resource_url, "metadata", "err",
                                   "", "may_cancel", 0, "created_at", now, "updated_at", now);
        if (!id || !job->key || !job->operation) {
                job_free(job);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }

        pthread_mutex_lock(&j->lock);
        if (json_array_append(j->operations, job->operation) < 0) {
                pthread_mutex_unlock(&j->lock);
                job_free(job);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        enqueue_locked(j, job);
        pthread_mutex_unlock(&j->lock);

        *ret_id = TAKE_PTR(id);
        return 0;
}

json_t *jobs_operation_get(struct jobs *j, const char *id)
{
        json_t *found = NULL, *op;
        size_t i;

        pthread_mutex_lock(&j->lock);
        json_array_foreach(j->operations, i, op)
                if (streq_ptr(json_string_value(json_object_get(op, "id")), id)) {
                        found = json_deep_copy(op);
                        break;
                }
        pthread_mutex_unlock(&j->lock);
        if (!found)
                errno = ENOENT;
        return found;
}

json_t *jobs_operation_list(struct jobs *j)
{
        json_t *copy;

        pthread_mutex_lock(&j->lock);
        copy = json_deep_copy(j->operations);
        pthread_mutex_unlock(&j->lock);
        return copy;
}

json_t *jobs_take_finished(struct jobs *j)
{
        json_t *copy;

        pthread_mutex_lock(&j->lock);
        copy = json_deep_copy(j->finished);
        if (copy)
                json_array_clear(j->finished);
        pthread_mutex_unlock(&j->lock);
        return copy;
}
