/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "common/tls-cert.h"
#include "daemon/api-targets.h"
#include "daemon/api.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/events.h"
#include "daemon/jobs.h"
#include "daemon/hooks.h"
#include "daemon/api-hooks.h"
#include "daemon/server.h"
#include "db/certificate.h"
#include "db/db.h"

/* mkdir -p: parents 0755, the data directory itself 0700.  An existing
 * directory is left as it is. */
static int daemon_make_data_dir(const char *path, struct ferry_error *err)
{
        _cleanup_free_ char *p = NULL;
        size_t len;

        p = strdup(path);
        if (!p)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        len = strlen(p);
        while (len > 1 && p[len - 1] == '/')
                p[--len] = '\0';

        for (char *slash = strchr(p + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                if (slash[-1] == '/')
                        continue;       /* "a//b" */
                *slash = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return ferry_error_set(err, -errno, "Cannot create directory '%s': %m", p);
                *slash = '/';
        }

        if (mkdir(p, 0700) < 0 && errno != EEXIST)
                return ferry_error_set(err, -errno, "Cannot create data directory '%s': %m", path);
        return 0;
}

/*
 * Hold an exclusive flock() on <data dir>/ferryd.lock for as long as we
 * run, and write our pid into it.  This is what keeps two ferryd off one
 * data directory, even when both start at the same moment.
 */
static int daemon_lock(struct daemon *d, struct ferry_error *err)
{
        _cleanup_close_ int fd = -EBADF;
        char buf[32] = {};
        ssize_t n;

        fd = open(d->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return ferry_error_set(err, -errno, "Cannot open '%s': %m", d->lock_path);

        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK)
                        return ferry_error_set(err, -errno, "Cannot lock '%s': %m", d->lock_path);

                n = pread(fd, buf, sizeof(buf) - 1, 0);
                if (n > 0 && atoi(buf) > 0)
                        return ferry_error_set(err, -EBUSY, "Another ferryd (pid %d) is already running on '%s'",
                                               atoi(buf), d->socket_path);
                return ferry_error_set(err, -EBUSY, "Another ferryd is already running on '%s'",
                                       d->socket_path);
        }

        n = snprintf(buf, sizeof(buf), "%d\n", (int) d->pid);
        if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t) n, 0) != n)
                return ferry_error_set(err, -errno, "Cannot write '%s': %m", d->lock_path);

        d->lock_fd = TAKE_FD(fd);
        return 0;
}

/*
 * With the lock held no other ferryd uses the socket path, but something
 * else still might.  A socket nobody answers on is what a ferryd that was
 * killed leaves behind: remove it.  Anything else there is not ours to
 * touch.
 */
static int daemon_check_socket(const char *path, struct ferry_error *err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (lstat(path, &st) < 0) {
                if (errno == ENOENT)
                        return 0;
                return ferry_error_set(err, -errno, "Cannot access '%s': %m", path);
        }
        if (!S_ISSOCK(st.st_mode))
                return ferry_error_set(err, -EEXIST, "'%s' exists and is not a socket", path);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return ferry_error_set(err, -errno, "Failed to create a socket: %m");

        memcpy(sa.sun_path, path, strlen(path));
        /* EAGAIN: a listener whose backlog is full, but a listener. */
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0 || errno == EAGAIN)
                return ferry_error_set(err, -EADDRINUSE, "Another process is already listening on '%s'", path);
        if (errno != ECONNREFUSED)
                return ferry_error_set(err, -errno, "Cannot check whether '%s' is in use: %m", path);

        if (unlink(path) < 0 && errno != ENOENT)
                return ferry_error_set(err, -errno, "Cannot remove the stale socket '%s': %m", path);
        log_debug("Removed the stale socket '%s'", path);
        return 0;
}

/* <data dir>/tmp holds uploads in flight: whatever is there now was left
 * by a ferryd that died, and is removed. */
static int daemon_make_subdirs(struct daemon *d, struct ferry_error *err)
{
        static const char *const subdirs[] = { DAEMON_TMP_NAME, DAEMON_ARTIFACTS_NAME };
        _cleanup_free_ char *tmp = NULL;
        DIR *dir;
        struct dirent *de;

        for (size_t i = 0; i < ELEMENTSOF(subdirs); i++) {
                _cleanup_free_ char *p = strjoin(d->data_dir, "/", subdirs[i], NULL);

                if (!p)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                if (mkdir(p, 0700) < 0 && errno != EEXIST)
                        return ferry_error_set(err, -errno, "Cannot create directory '%s': %m", p);
        }

        tmp = strjoin(d->data_dir, "/" DAEMON_TMP_NAME, NULL);
        if (!tmp)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        dir = opendir(tmp);
        if (!dir)
                return ferry_error_set(err, -errno, "Cannot open directory '%s': %m", tmp);
        while ((de = readdir(dir)))
                if (de->d_name[0] != '.' && unlinkat(dirfd(dir), de->d_name, 0) < 0)
                        log_warning_errno(errno, "Failed to remove '%s/%s': %m", tmp, de->d_name);
        closedir(dir);
        return 0;
}

/*
 * The HTTPS identity: <data dir>/server.crt and server.key, made on first
 * start with the host name as common name.  Loaded even without an HTTPS
 * listener: GET /1.0 and trust tokens name its fingerprint.
 */
static int daemon_load_server_cert(struct daemon *d, struct ferry_error *err)
{
        _cleanup_free_ char *cert = NULL, *key = NULL;
        char host[HOST_NAME_MAX + 1] = "ferry";
        bool generated = false;
        int r;

        cert = strjoin(d->data_dir, "/" DAEMON_SERVER_CERT_NAME, NULL);
        key = strjoin(d->data_dir, "/" DAEMON_SERVER_KEY_NAME, NULL);
        if (!cert || !key)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (gethostname(host, sizeof(host) - 1) < 0 || !*host)
                snprintf(host, sizeof(host), "ferry");

        r = tls_cert_load_or_generate(cert, key, host, &d->server_cert_pem, &generated, err);
        if (r < 0)
                return r;
        r = fingerprint_from_pem(d->server_cert_pem, strlen(d->server_cert_pem), d->server_fingerprint, err);
        if (r < 0)
                return ferry_error_prefix(err, "Certificate '%s'", cert);

        if (generated)
                log_info("Generated the server certificate '%s' (fingerprint %s)", cert, d->server_fingerprint);
        return 0;
}

static int daemon_listen_https(struct daemon *d, const struct config *config, struct ferry_error *err)
{
        _cleanup_free_ char *cert = NULL, *key = NULL;
        int r;

        if (!config || !config->https.host)
                return 0;

        cert = strjoin(d->data_dir, "/" DAEMON_SERVER_CERT_NAME, NULL);
        key = strjoin(d->data_dir, "/" DAEMON_SERVER_KEY_NAME, NULL);
        d->https_address = strdup(config->https.text);
        if (!cert || !key || !d->https_address)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        r = server_listen_https(d->server, config->https.host, config->https.port, cert, key, err);
        if (r < 0)
                return r;
        log_info("Listening on https://%s (server certificate fingerprint %s)", d->https_address,
                 d->server_fingerprint);
        return 0;
}

/* From the job thread: a job ended, wake the event loop to report it. */
void daemon_wake(void *userdata)
{
        struct daemon *d = userdata;

        server_wake(d->server);
}

int daemon_new(const struct daemon_config *config, struct daemon **ret, struct ferry_error *err)
{
        _cleanup_daemon_ struct daemon *d = NULL;
        _cleanup_free_ char *db_path = NULL;
        const char *data_dir = config->data_dir ? config->data_dir : DAEMON_DEFAULT_DATA_DIR;
        int r;

        if (!*data_dir)
                return ferry_error_set(err, -EINVAL, "The data directory must not be empty");

        d = calloc(1, sizeof(*d));
        if (!d)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        d->lock_fd = -EBADF;
        d->pid = getpid();
        pthread_mutex_init(&d->posted_lock, NULL);
        d->posted = json_array();
        if (!d->posted)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        r = daemon_make_data_dir(data_dir, err);
        if (r < 0)
                return r;

        d->data_dir = realpath(data_dir, NULL);
        if (!d->data_dir)
                return ferry_error_set(err, -errno, "Cannot resolve data directory '%s': %m", data_dir);

        d->socket_path = strjoin(d->data_dir, "/" DAEMON_SOCKET_NAME, NULL);
        d->lock_path = strjoin(d->data_dir, "/" DAEMON_LOCK_NAME, NULL);
        if (!d->socket_path || !d->lock_path)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        if (strlen(d->socket_path) >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
                return ferry_error_set(err, -ENAMETOOLONG, "Socket path '%s' is too long (at most %zu bytes)",
                                       d->socket_path, sizeof(((struct sockaddr_un *) NULL)->sun_path) - 1);

        r = daemon_lock(d, err);
        if (r < 0)
                return r;

        r = daemon_check_socket(d->socket_path, err);
        if (r < 0)
                return r;

        r = daemon_make_subdirs(d, err);
        if (r < 0)
                return r;

        db_path = strjoin(d->data_dir, "/" DAEMON_DB_NAME, NULL);
        if (!db_path)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = db_open(db_path, &d->db, err);
        if (r < 0)
                return r;

        r = event_hub_new(&d->events);
        if (r < 0)
                return ferry_error_set(err, r, "Out of memory");

        r = daemon_load_server_cert(d, err);
        if (r < 0)
                return r;

        /* Tokens that expired while ferryd was down are of no use to anyone. */
        r = db_trust_token_purge_expired(d->db, err);
        if (r < 0)
                return r;
        r = api_certificates_load(d, err);
        if (r < 0)
                return r;

        r = server_new(d, d->socket_path, &d->server, err);
        if (r < 0)
                return r;

        r = daemon_listen_https(d, config->config, err);
        if (r < 0)
                return r;

        /* After server_new(): the job thread inherits the blocked stop signals. */
        r = jobs_new(db_path, daemon_wake, d, &d->jobs, err);
        if (r < 0)
                return r;
        r = api_targets_start(d, db_path, err);
        if (r < 0)
                return r;
        jobs_set_source_sync_interval(d->jobs, config->config ? config->config->source_interval_usec
                                                              : CONFIG_DEFAULT_SYNC_INTERVAL_USEC);

        r = hooks_new(db_path, &d->target_identity, daemon_wake, d, &d->hooks, err);
        if (r < 0)
                return r;
        r = event_hub_subscribe(d->events, EVENT_TYPE_MASK(EVENT_LIFECYCLE), api_hooks_event, d,
                                &d->hooks_subscription);
        if (r < 0)
                return ferry_error_set(err, r, "Out of memory");

        *ret = TAKE_PTR(d);
        return 0;
}

int daemon_run(struct daemon *d, struct ferry_error *err)
{
        return server_run(d->server, err);
}

void daemon_free(struct daemon *d)
{
        if (!d)
                return;

        /* The socket goes first, the lock last: whoever takes the lock
         * next finds the path free. */
        jobs_free(d->jobs);
        api_targets_stop(d);
        event_subscription_free(d->hooks_subscription);
        hooks_free(d->hooks);
        server_free(d->server);
        event_hub_free(d->events);
        db_close(d->db);
        if (d->lock_fd >= 0)
                close(d->lock_fd);
        free(d->data_dir);
        free(d->socket_path);
        free(d->lock_path);
        free(d->server_cert_pem);
        free(d->https_address);
        json_decref(d->trusted);
        json_decref(d->posted);
        pthread_mutex_destroy(&d->posted_lock);
        free(d);
}

void daemon_post_lifecycle(struct daemon *d, const json_t *events, const char *protocol, const char *username)
{
        const json_t *e;
        size_t i;

        if (json_array_size(events) == 0)
                return;
        pthread_mutex_lock(&d->posted_lock);
        json_array_foreach(events, i, e) {
                json_t *md = json_pack("{s:O?, s:O?, s:O?, s:{s:s, s:s}}", "action", json_object_get(e, "action"),
                                       "source", json_object_get(e, "source"), "context",
                                       json_object_get(e, "context"), "requestor", "protocol", protocol ?: "internal",
                                       "username", username ?: "");

                if (!md || json_array_append_new(d->posted, md) < 0)
                        log_warning("Cannot post the lifecycle event '%s': out of memory",
                                    json_string_value(json_object_get(e, "action")) ?: "");
        }
        pthread_mutex_unlock(&d->posted_lock);
        daemon_wake(d);
}

void daemon_dispatch_posted(struct daemon *d)
{
        _cleanup_json_ json_t *posted = json_array();
        json_t *md;
        size_t i;

        if (!posted)
                return;
        pthread_mutex_lock(&d->posted_lock);
        if (json_array_size(d->posted) > 0) {
                json_t *tmp = d->posted;

                d->posted = posted;
                posted = tmp;
        }
        pthread_mutex_unlock(&d->posted_lock);
        json_array_foreach(posted, i, md) {
                if (!json_is_object(json_object_get(md, "context")) && json_object_set_new(md, "context", json_object()) < 0)
                        continue;
                log_debug("Lifecycle event '%s' for '%s'", json_string_value(json_object_get(md, "action")) ?: "",
                          json_string_value(json_object_get(md, "source")) ?: "");
                if (event_hub_emit(d->events, EVENT_LIFECYCLE, json_incref(md)) < 0)
                        log_debug("Cannot emit a posted lifecycle event");
        }
}
