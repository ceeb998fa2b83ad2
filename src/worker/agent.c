/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry-worker agent: the worker inside a migrating VM.  It asks ferryd
 * for commands (POST /internal/worker/UUID/:command), runs them with the
 * copy engine, and reports progress and results (…/:update), with the
 * queue entry's worker secret as a bearer token and ferryd's certificate
 * pinned by its fingerprint.  docs/rest-api.md ("Worker endpoints")
 * describes the protocol, src/model/worker-command.h its messages.
 *
 * A command is recorded in the state directory (state.h) before it runs
 * and forgotten only once ferryd has its result, so that an agent killed
 * in the middle runs it again when it starts, going on from the copy
 * engine's checkpoints.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/duration.h"
#include "common/fingerprint.h"
#include "common/http.h"
#include "common/json.h"
#include "common/log.h"
#include "common/size.h"
#include "common/strbuf.h"
#include "disk/changes.h"
#include "disk/copy.h"
#include "disk/sink.h"
#include "model/worker-command.h"
#include "worker/devincus.h"
#include "worker/post-import.h"
#include "worker/state.h"
#include "worker/worker.h"

#define DEFAULT_POLL_INTERVAL_USEC (5 * USEC_PER_SEC)
#define DEFAULT_REPORT_INTERVAL_USEC (3 * USEC_PER_SEC)
#define RETRY_MIN_USEC (1 * USEC_PER_SEC)
#define RETRY_MAX_USEC (30 * USEC_PER_SEC)
#define HASH_BUFFER_SIZE ((size_t) 1 << 20)

struct agent_args {
        char *endpoint;         /* each from the flag, the environment or devIncus */
        char *token;
        char *fingerprint;
        char *uuid;
        const char *state_dir;
        uint64_t poll_interval;
        uint64_t report_interval;
        bool exit_when_idle;
};

static void agent_args_done(struct agent_args *a)
{
        free(a->endpoint);
        if (a->token)
                explicit_bzero(a->token, strlen(a->token));
        free(a->token);
        free(a->fingerprint);
        free(a->uuid);
}

/* One disk's progress, as reported. */
struct agent_disk_progress {
        uint64_t done, total;
        double rate;
};

struct agent {
        const struct agent_args *args;
        struct http_client *http;
        char *auth_header;              /* "Authorization: Bearer …" */
        char *command_path;             /* /internal/worker/UUID/:command */
        char *update_path;
        /* The command running. */
        const struct worker_command *cmd;
        struct agent_disk_progress *progress;   /* one per disk of cmd */
        size_t current;                 /* the disk being worked on */
        const char *verb;               /* "Importing", "Checksumming" */
        const char *step;               /* post-import: what it is doing */
        uint64_t next_report;
        int fatal;                      /* a negative errno that must stop the agent */
        struct ferry_error fatal_err;
};

static volatile sig_atomic_t agent_cancel;

static void on_stop_signal(int sig)
{
        agent_cancel = sig;
}

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

/* Sleep usec, or less when a signal stops the agent. */
static void agent_sleep(uint64_t usec)
{
        struct timespec ts = { .tv_sec = (time_t) (usec / USEC_PER_SEC),
                               .tv_nsec = (long) (usec % USEC_PER_SEC) * 1000L };

        while (!agent_cancel && nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* ---- configuration ----------------------------------------------------- */

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = worker_usage_errorv("agent", fmt, ap);
        va_end(ap);
        return r;
}

static void agent_help(void)
{
        printf("Usage: ferry-worker agent [OPTIONS]\n"
               "\n"
               "Run as ferry's worker inside a migrating VM: ask ferryd for commands, copy\n"
               "the VM's disks from their NBD sources (full, then changed blocks), report\n"
               "progress, finalize, and fix the guest so that it boots in Incus (post-import:\n"
               "needs root and loop devices). A command the agent was running when it stopped or\n"
               "crashed runs again when it starts, from the copy's checkpoints.\n"
               "\n"
               "The connection to ferryd comes from the options, else from the\n"
               "environment, else from the VM's Incus config keys, read from devIncus\n"
               "(" WORKER_DEVINCUS_SOCKET "):\n"
               "\n"
               "  option          environment               Incus config key\n"
               "  --endpoint      FERRY_WORKER_ENDPOINT     user.ferry.endpoint     https://HOST:PORT of ferryd\n"
               "  --fingerprint   FERRY_WORKER_FINGERPRINT  user.ferry.fingerprint  SHA-256 of ferryd's certificate\n"
               "  --token         FERRY_WORKER_TOKEN        user.ferry.token        the queue entry's worker secret\n"
               "  --uuid          FERRY_WORKER_UUID         user.ferry.uuid         the queue entry (instance UUID)\n"
               "\n"
               "Options:\n"
               "      --state-dir DIR        Keep the command in progress and checkpoints in\n"
               "                             DIR (default " WORKER_STATE_DEFAULT_DIR "; env\n"
               "                             FERRY_WORKER_STATE_DIR)\n"
               "      --poll-interval DURATION\n"
               "                             Ask for a command this often when idle (default 5s)\n"
               "      --report-interval DURATION\n"
               "                             Report progress at most this often (default 3s)\n"
               "      --exit-when-idle       Exit once ferryd has no command for the worker\n"
               "      --log-level LEVEL      Log 'error', 'warning', 'info' (default) or 'debug'\n"
               "  -h, --help                 Show this help and exit\n"
               "\n"
               "Exit status: 0 when stopped by SIGTERM/SIGINT or idle with --exit-when-idle,\n"
               "1 when ferryd refuses the worker (403), its certificate does not match the\n"
               "fingerprint, or the configuration is incomplete; 2 on bad usage.\n");
}

static int set_string(char **field, const char *value)
{
        char *v = strdup(value);

        if (!v)
                return log_error_errno(ENOMEM, "Out of memory");
        free(*field);
        *field = v;
        return 0;
}

/* 0: run; 1: done (help printed); -EINVAL: bad usage, reported. */
static int parse_agent_argv(int argc, char *argv[], struct agent_args *a)
{
        enum {
                ARG_ENDPOINT = 0x100,
                ARG_TOKEN,
                ARG_FINGERPRINT,
                ARG_UUID,
                ARG_STATE_DIR,
                ARG_POLL_INTERVAL,
                ARG_REPORT_INTERVAL,
                ARG_EXIT_WHEN_IDLE,
                ARG_LOG_LEVEL,
        };
        static const struct option options[] = {
                { "endpoint", required_argument, NULL, ARG_ENDPOINT },
                { "token", required_argument, NULL, ARG_TOKEN },
                { "fingerprint", required_argument, NULL, ARG_FINGERPRINT },
                { "uuid", required_argument, NULL, ARG_UUID },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "poll-interval", required_argument, NULL, ARG_POLL_INTERVAL },
                { "report-interval", required_argument, NULL, ARG_REPORT_INTERVAL },
                { "exit-when-idle", no_argument, NULL, ARG_EXIT_WHEN_IDLE },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        enum log_level level;
        int c, r = 0;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                switch (c) {
                case ARG_ENDPOINT:
                        r = set_string(&a->endpoint, optarg);
                        break;
                case ARG_TOKEN:
                        r = set_string(&a->token, optarg);
                        break;
                case ARG_FINGERPRINT:
                        r = set_string(&a->fingerprint, optarg);
                        break;
                case ARG_UUID:
                        r = set_string(&a->uuid, optarg);
                        break;
                case ARG_STATE_DIR:
                        if (!*optarg)
                                return usage_error("--state-dir needs a directory");
                        a->state_dir = optarg;
                        break;
                case ARG_POLL_INTERVAL:
                        r = worker_parse_duration("agent", "--poll-interval", optarg, &a->poll_interval);
                        break;
                case ARG_REPORT_INTERVAL:
                        r = worker_parse_duration("agent", "--report-interval", optarg, &a->report_interval);
                        break;
                case ARG_EXIT_WHEN_IDLE:
                        a->exit_when_idle = true;
                        break;
                case ARG_LOG_LEVEL:
                        level = log_level_from_string(optarg);
                        if (level < 0)
                                return usage_error("Unknown log level '%s' (error, warning, info, debug)", optarg);
                        log_set_max_level(level);
                        break;
                case 'h':
                        agent_help();
                        return 1;
                case ':':
                        return usage_error("Option '%s' needs a value", argv[optind - 1]);
                default:
                        return usage_error("Unknown option '%s'", argv[optind - 1]);
                }
                if (r < 0)
                        return r;
        }
        if (optind < argc)
                return usage_error("Unexpected argument '%s'", argv[optind]);
        return 0;
}

struct config_key {
        const char *option, *env, *key;
        size_t offset;
};

static const struct config_key config_keys[] = {
        { "--endpoint", "FERRY_WORKER_ENDPOINT", "user.ferry.endpoint", offsetof(struct agent_args, endpoint) },
        { "--fingerprint", "FERRY_WORKER_FINGERPRINT", "user.ferry.fingerprint",
          offsetof(struct agent_args, fingerprint) },
        { "--token", "FERRY_WORKER_TOKEN", "user.ferry.token", offsetof(struct agent_args, token) },
        { "--uuid", "FERRY_WORKER_UUID", "user.ferry.uuid", offsetof(struct agent_args, uuid) },
};

/* Fill what the options left open from the environment, then devIncus. */
static int agent_resolve_config(struct agent_args *a)
{
        struct ferry_error err = {};
        char fp[FINGERPRINT_HEX_SIZE];
        int r;

        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++) {
                char **field = (char **) ((char *) a + config_keys[i].offset);
                const char *env = getenv(config_keys[i].env);

                if (!*field && env && *env && set_string(field, env) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++) {
                char **field = (char **) ((char *) a + config_keys[i].offset);

                if (*field)
                        continue;
                if (access(WORKER_DEVINCUS_SOCKET, F_OK) < 0)
                        return log_error_errno(ENOENT,
                                               "No %s: pass %s, set %s, or run inside an Incus VM with the config "
                                               "key %s (devIncus socket '%s': %m)",
                                               config_keys[i].key + strlen("user.ferry."), config_keys[i].option,
                                               config_keys[i].env, config_keys[i].key, WORKER_DEVINCUS_SOCKET);
                r = worker_devincus_get(WORKER_DEVINCUS_SOCKET, config_keys[i].key, field, &err);
                if (r < 0) {
                        log_error("%s", ferry_error_message(&err));
                        return r;
                }
        }

        if (!startswith(a->endpoint, "https://"))
                return log_error_errno(EINVAL, "The ferryd endpoint '%s' must start with https://", a->endpoint);
        if (fingerprint_normalize(a->fingerprint, fp) < 0)
                return log_error_errno(EINVAL, "The fingerprint '%s' is not a SHA-256 fingerprint (64 hex digits)",
                                       a->fingerprint);
        if (!*a->uuid || strspn(a->uuid, "0123456789abcdefABCDEF-") != strlen(a->uuid))
                return log_error_errno(EINVAL, "The queue entry UUID '%s' is not a UUID", a->uuid);
        return 0;
}

/* ---- talking to ferryd ------------------------------------------------- */

static int agent_init(struct agent *ag, const struct agent_args *a)
{
        struct ferry_error err = {};

        ag->args = a;
        ag->http = http_client_new(&(struct http_client_config) { .endpoint = a->endpoint,
                                                                   .pinned_fingerprint = a->fingerprint,
                                                                   .connect_timeout_ms = 10000,
                                                                   .timeout_ms = 60000 },
                                   &err);
        if (!ag->http) {
                log_error("%s", ferry_error_message(&err));
                return err.code;
        }
        ag->auth_header = strjoin("Authorization: Bearer ", a->token, NULL);
        ag->command_path = strjoin("/internal/worker/", a->uuid, "/:command", NULL);
        ag->update_path = strjoin("/internal/worker/", a->uuid, "/:update", NULL);
        if (!ag->auth_header || !ag->command_path || !ag->update_path)
                return log_error_errno(ENOMEM, "Out of memory");
        return 0;
}

static void agent_done(struct agent *ag)
{
        http_client_free(ag->http);
        if (ag->auth_header)
                explicit_bzero(ag->auth_header, strlen(ag->auth_header));
        free(ag->auth_header);
        free(ag->command_path);
        free(ag->update_path);
        free(ag->progress);
}

/*
 * POST body to path; *ret_metadata (may be NULL) is the answer's metadata.
 * Errors: -EACCES for 403 (the worker is refused: fatal), -EPERM for a
 * certificate that does not match the pin (fatal), -ENOENT 404, -EBUSY
 * 409, -EINVAL 400, -EIO for 5xx, and transport errors.
 */
static int agent_post(struct agent *ag, const char *path, const json_t *body, json_t **ret_metadata,
                      struct ferry_error *err)
{
        const char *headers[] = { ag->auth_header, NULL };
        _cleanup_free_ char *text = json_dump_compact(body);
        _cleanup_json_ json_t *envelope = NULL;
        struct http_response resp = {};
        const char *message;
        json_error_t jerr;
        int r;

        if (!text)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = http_request(ag->http, "POST", path, "application/json", text, strlen(text), headers, &resp, err);
        if (r < 0)
                return ferry_error_prefix(err, "Cannot reach ferryd at '%s'", ag->args->endpoint);

        envelope = json_loadb(resp.body ?: "", resp.body_len, 0, &jerr);
        message = json_string_value(json_object_get(envelope, "error"));
        switch (resp.status) {
        case 200:
                if (!json_is_object(envelope))
                        r = ferry_error_set(err, -EPROTO, "ferryd answered POST %s with something else than JSON",
                                            path);
                else if (ret_metadata)
                        *ret_metadata = json_incref(json_object_get(envelope, "metadata"));
                break;
        case 403:
                r = ferry_error_set(err, -EACCES,
                                    "ferryd refused this worker for queue entry '%s' (403: %s): check the token "
                                    "(user.ferry.token) and the UUID (user.ferry.uuid)",
                                    ag->args->uuid, message ?: "no reason given");
                break;
        default:
                r = ferry_error_set(err,
                                    resp.status == 404   ? -ENOENT
                                    : resp.status == 409 ? -EBUSY
                                    : resp.status == 400 ? -EINVAL
                                                         : -EIO,
                                    "ferryd answered POST %s with %ld: %s", path, resp.status,
                                    message ?: "no reason given");
        }
        http_response_done(&resp);
        return r;
}

static bool agent_error_is_fatal(int r)
{
        return r == -EACCES || r == -EPERM;
}

/* Fetch the next command: 1 and *ret, 0 when there is none. */
static int agent_fetch(struct agent *ag, json_t **ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *body = json_object(), *command = NULL;
        int r;

        if (!body)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = agent_post(ag, ag->command_path, body, &command, err);
        if (r < 0)
                return r;
        if (!command || json_is_null(command))
                return 0;
        *ret = TAKE_PTR(command);
        return 1;
}

/* ---- progress ---------------------------------------------------------- */

static json_t *agent_progress_json(const struct agent *ag)
{
        _cleanup_json_ json_t *list = NULL;

        /* post-import moves no bytes: its progress is its message. */
        if (ag->cmd->type == WORKER_COMMAND_POST_IMPORT)
                return NULL;
        list = json_array();
        if (!list)
                return NULL;
        for (size_t i = 0; i < ag->cmd->n_disks; i++) {
                const struct agent_disk_progress *p = &ag->progress[i];

                if (json_array_append_new(list, json_pack("{s:s, s:I, s:I, s:f}", "disk", ag->cmd->disks[i].name,
                                                          "done", (json_int_t) p->done, "total",
                                                          (json_int_t) p->total, "rate", p->rate)) < 0)
                        return NULL;
        }
        return TAKE_PTR(list);
}

/* "Importing disk0 (1 of 2, full): 12.0 MiB of 64.0 MiB at 5.0 MiB/s" */
static char *agent_progress_message(const struct agent *ag)
{
        const struct agent_disk_progress *p = &ag->progress[ag->current];
        char done[SIZE_FORMAT_MAX], total[SIZE_FORMAT_MAX], rate[SIZE_FORMAT_MAX];
        char *m;

        if (ag->cmd->type == WORKER_COMMAND_POST_IMPORT)
                return strdup(ag->step ?: "Post-import");

        size_format(p->done, done, sizeof done);
        size_format(p->total, total, sizeof total);
        size_format((uint64_t) p->rate, rate, sizeof rate);
        if (asprintf(&m, "%s %s (%zu of %zu%s%s): %s of %s at %s/s", ag->verb, ag->cmd->disks[ag->current].name,
                     ag->current + 1, ag->cmd->n_disks, ag->cmd->type == WORKER_COMMAND_IMPORT ? ", " : "",
                     ag->cmd->type == WORKER_COMMAND_IMPORT ? worker_import_mode_to_string(ag->cmd->mode) : "", done,
                     total, rate) < 0)
                return NULL;
        return m;
}

/* Report progress now, as "running".  Failures other than fatal ones
 * are logged: the next report will do. */
static void agent_report_progress(struct agent *ag)
{
        _cleanup_json_ json_t *update = NULL;
        _cleanup_free_ char *message = agent_progress_message(ag);
        struct ferry_error err = {};
        int r;

        update = json_pack("{s:I, s:s, s:s?, s:o?}", "id", (json_int_t) ag->cmd->id, "status", "running", "message",
                           message, "progress", agent_progress_json(ag));
        if (!update) {
                log_warning("Cannot report progress: out of memory");
                return;
        }
        r = agent_post(ag, ag->update_path, update, NULL, &err);
        if (r < 0 && agent_error_is_fatal(r)) {
                ag->fatal = r;
                ag->fatal_err = err;
                agent_cancel = 1;
        } else if (r < 0)
                log_warning("Cannot report progress: %s", ferry_error_message(&err));
        else
                log_debug("Reported: %s", message ?: "");
}

static void agent_maybe_report(struct agent *ag)
{
        uint64_t now = now_usec();

        if (now < ag->next_report)
                return;
        ag->next_report = now + ag->args->report_interval;
        agent_report_progress(ag);
}

static void agent_copy_progress(const struct disk_progress *p, void *userdata)
{
        struct agent *ag = userdata;
        struct agent_disk_progress *d = &ag->progress[ag->current];

        if (p->phase != DISK_PHASE_COPY)
                return;
        d->done = p->bytes_done;
        d->total = p->bytes_total;
        d->rate = p->rate;
        agent_maybe_report(ag);
}

/* ---- import ------------------------------------------------------------ */

static int agent_import_disk(struct agent *ag, const struct worker_disk *d, json_t *results, struct ferry_error *err)
{
        _cleanup_disk_ranges_ struct disk_ranges changes = DISK_RANGES_INIT;
        _cleanup_sink_ struct sink *sink = NULL;
        _cleanup_free_ char *checkpoint = NULL;
        char digest[DISK_CHANGES_DIGEST_SIZE];
        struct disk_copy_result res;
        bool delta = ag->cmd->mode == WORKER_IMPORT_DELTA;
        int r;

        if (delta) {
                r = disk_changes_parse(d->changes, strlen(d->changes), &changes, err);
                if (r < 0)
                        return ferry_error_prefix(err, "The change list of disk '%s'", d->name);
                r = disk_changes_digest(&changes, digest);
                if (r < 0)
                        return ferry_error_set(err, r, "Out of memory");
        }
        checkpoint = worker_state_checkpoint_path(ag->args->state_dir, d, delta ? digest : NULL);
        if (!checkpoint)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        r = sink_open(d->sink, &(struct sink_open_options) {}, &sink, err);
        if (r < 0)
                return r;

        r = disk_copy(&(struct disk_copy_options) {
                              .source = { .uri = d->source, .argv = d->source_argv },
                              .sink = sink,
                              .changes = delta ? &changes : NULL,
                              .checkpoint_path = checkpoint,
                              .checkpoint_interval_usec = ag->args->report_interval,
                              .flush = true,
                              .progress = agent_copy_progress,
                              .userdata = ag,
                              .progress_interval_usec = ag->args->report_interval / 4 ?: 1,
                              .cancel = &agent_cancel,
                      },
                      &res, err);
        if (r < 0)
                return r;

        ag->progress[ag->current] = (struct agent_disk_progress) {
                .done = res.bytes_total,
                .total = res.bytes_total,
                .rate = res.seconds > 0 ? (double) (res.bytes_total - res.bytes_skipped) / res.seconds : 0,
        };
        log_info("Disk '%s': %s import done, %" PRIu64 " bytes read, %" PRIu64 " were done before (checkpoint)",
                 d->name, worker_import_mode_to_string(ag->cmd->mode), res.bytes_read, res.bytes_skipped);
        if (json_array_append_new(results, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "name", d->name,
                                                     "size", (json_int_t) res.size, "bytes_total",
                                                     (json_int_t) res.bytes_total, "bytes_skipped",
                                                     (json_int_t) res.bytes_skipped, "bytes_read",
                                                     (json_int_t) res.bytes_read, "bytes_written",
                                                     (json_int_t) res.bytes_written, "bytes_zeroed",
                                                     (json_int_t) res.bytes_zeroed, "seconds", res.seconds)) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return 0;
}

static int agent_import(struct agent *ag, json_t **ret_result, struct ferry_error *err)
{
        _cleanup_json_ json_t *results = json_array();
        int r;

        if (!results)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        ag->verb = "Importing";
        for (ag->current = 0; ag->current < ag->cmd->n_disks; ag->current++) {
                const struct worker_disk *d = &ag->cmd->disks[ag->current];

                log_info("Disk '%s': %s import from %s to '%s'", d->name,
                         worker_import_mode_to_string(ag->cmd->mode), d->source ?: d->source_argv[0], d->sink);
                r = agent_import_disk(ag, d, results, err);
                if (r < 0)
                        return ferry_error_prefix(err, "Import of disk '%s' failed", d->name);
        }
        ag->current = ag->cmd->n_disks - 1;
        *ret_result = json_pack("{s:O}", "disks", results);
        return *ret_result ? 0 : ferry_error_set(err, -ENOMEM, "Out of memory");
}

/* ---- finalize ---------------------------------------------------------- */

/* Add len zero bytes to the hash. */
static int hash_zeros(EVP_MD_CTX *md, const unsigned char *zeros, uint64_t len)
{
        while (len > 0) {
                size_t n = len < HASH_BUFFER_SIZE ? (size_t) len : HASH_BUFFER_SIZE;

                if (EVP_DigestUpdate(md, zeros, n) != 1)
                        return -EIO;
                len -= n;
        }
        return 0;
}

/* SHA-256 of the sink's content; holes of a file are hashed as zeros without reading. */
static int agent_hash_sink(struct agent *ag, int fd, uint64_t size, const char *path, char ret[static 65],
                           struct ferry_error *err)
{
        _cleanup_free_ unsigned char *buf = malloc(HASH_BUFFER_SIZE), *zeros = calloc(1, HASH_BUFFER_SIZE);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char digest[EVP_MAX_MD_SIZE];
        struct agent_disk_progress *p = &ag->progress[ag->current];
        uint64_t off = 0, start = now_usec();
        unsigned len = 0;
        int r = 0;

        if (!buf || !zeros || !md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
                r = ferry_error_set(err, -ENOMEM, "Out of memory");
                goto finish;
        }
        p->total = size;
        while (off < size && r >= 0) {
                off_t data = lseek(fd, (off_t) off, SEEK_DATA);
                uint64_t end;

                if (data < 0 && errno == ENXIO)
                        data = (off_t) size;            /* a hole up to the end */
                else if (data < 0)
                        data = (off_t) off;             /* no SEEK_DATA: read everything */
                if ((uint64_t) data > off) {
                        if (hash_zeros(md, zeros, (uint64_t) data - off) < 0)
                                r = ferry_error_set(err, -EIO, "Cannot compute SHA-256");
                        off = (uint64_t) data;
                        continue;
                }
                end = off + HASH_BUFFER_SIZE < size ? off + HASH_BUFFER_SIZE : size;
                {
                        ssize_t n = pread(fd, buf, (size_t) (end - off), (off_t) off);

                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                r = ferry_error_set(err, n < 0 ? -errno : -EIO,
                                                    "Cannot read '%s' at offset %" PRIu64 ": %m", path, off);
                                break;
                        }
                        if (EVP_DigestUpdate(md, buf, (size_t) n) != 1)
                                r = ferry_error_set(err, -EIO, "Cannot compute SHA-256");
                        off += (uint64_t) n;
                }
                p->done = off;
                p->rate = (double) off * USEC_PER_SEC / (double) (now_usec() - start + 1);
                agent_maybe_report(ag);
                if (agent_cancel)
                        r = ferry_error_set(err, -ECANCELED, "Stopped");
        }
        if (r >= 0 && EVP_DigestFinal_ex(md, digest, &len) != 1)
                r = ferry_error_set(err, -EIO, "Cannot compute SHA-256");
        if (r >= 0)
                r = hex_encode(digest, len, ret, 65);
finish:
        EVP_MD_CTX_free(md);
        return r;
}

static int agent_finalize_disk(struct agent *ag, const struct worker_disk *d, json_t *results,
                               struct ferry_error *err)
{
        _cleanup_close_ int fd = -EBADF;
        char sha256[65] = "";
        struct stat st;
        uint64_t size;
        int r;

        fd = open(d->sink, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return ferry_error_set(err, -errno, "Cannot open '%s': %m", d->sink);
        if (fstat(fd, &st) < 0)
                return ferry_error_set(err, -errno, "Cannot stat '%s': %m", d->sink);
        if (S_ISBLK(st.st_mode)) {
                off_t end = lseek(fd, 0, SEEK_END);

                if (end < 0)
                        return ferry_error_set(err, -errno, "Cannot find the size of '%s': %m", d->sink);
                size = (uint64_t) end;
        } else if (S_ISREG(st.st_mode))
                size = (uint64_t) st.st_size;
        else
                return ferry_error_set(err, -EINVAL, "'%s' is neither a block device nor a file", d->sink);

        /* Whatever the imports wrote is on the disk before ferryd goes on. */
        if (fsync(fd) < 0)
                return ferry_error_set(err, -errno, "Cannot flush '%s': %m", d->sink);

        if (ag->cmd->sha256) {
                r = agent_hash_sink(ag, fd, size, d->sink, sha256, err);
                if (r < 0)
                        return r;
        }
        ag->progress[ag->current] = (struct agent_disk_progress) { .done = size, .total = size };
        if (json_array_append_new(results, json_pack("{s:s, s:I, s:s?}", "name", d->name, "size", (json_int_t) size,
                                                     "sha256", ag->cmd->sha256 ? sha256 : NULL)) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return 0;
}

static int agent_finalize(struct agent *ag, json_t **ret_result, struct ferry_error *err)
{
        _cleanup_json_ json_t *results = json_array();
        int removed, r;

        if (!results)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        ag->verb = ag->cmd->sha256 ? "Checksumming" : "Flushing";
        for (ag->current = 0; ag->current < ag->cmd->n_disks; ag->current++) {
                r = agent_finalize_disk(ag, &ag->cmd->disks[ag->current], results, err);
                if (r < 0)
                        return ferry_error_prefix(err, "Finalizing disk '%s' failed", ag->cmd->disks[ag->current].name);
        }
        ag->current = ag->cmd->n_disks - 1;

        removed = worker_state_remove_checkpoints(ag->args->state_dir, err);
        if (removed < 0)
                return removed;
        *ret_result = json_pack("{s:O, s:i}", "disks", results, "checkpoints_removed", removed);
        return *ret_result ? 0 : ferry_error_set(err, -ENOMEM, "Out of memory");
}

/* ---- post-import ------------------------------------------------------- */

static void agent_post_import_progress(const char *message, void *userdata)
{
        struct agent *ag = userdata;

        ag->step = message;
        agent_report_progress(ag);
        ag->step = NULL;
}

static int agent_post_import(struct agent *ag, json_t **ret_result, struct ferry_error *err)
{
        return post_import_run(ag->cmd,
                               &(struct post_import_options) { .progress = agent_post_import_progress, .userdata = ag },
                               ret_result, err);
}

/* ---- running commands -------------------------------------------------- */

/* Deliver the final update, retrying what may pass later.  0, or a fatal error. */
static int agent_deliver(struct agent *ag, json_t *update)
{
        uint64_t delay = RETRY_MIN_USEC;
        struct ferry_error err = {};
        int r;

        for (;;) {
                r = agent_post(ag, ag->update_path, update, NULL, &err);
                if (r >= 0)
                        return 0;
                if (agent_error_is_fatal(r)) {
                        log_error("%s", ferry_error_message(&err));
                        return r;
                }
                if (r == -EBUSY || r == -ENOENT || r == -EINVAL) {
                        /* Finished already, or gone: nothing a retry changes. */
                        log_warning("ferryd did not take the result of command %" PRId64 ": %s", ag->cmd->id,
                                    ferry_error_message(&err));
                        return 0;
                }
                log_warning("Cannot report the result of command %" PRId64 ", retrying: %s", ag->cmd->id,
                            ferry_error_message(&err));
                agent_sleep(delay);
                if (agent_cancel)
                        return -ECANCELED;
                delay = delay * 2 < RETRY_MAX_USEC ? delay * 2 : RETRY_MAX_USEC;
        }
}

/*
 * Run one command and deliver its result.  0 when done with it (it
 * succeeded or failed), -ECANCELED when a signal stopped it (it stays in
 * the state directory), a fatal error otherwise.
 */
static int agent_run(struct agent *ag, const struct worker_command *c)
{
        _cleanup_json_ json_t *result = NULL, *update = NULL;
        _cleanup_free_ char *summary = NULL;
        struct ferry_error err = {}, cerr = {};
        int r;

        ag->cmd = c;
        free(ag->progress);
        ag->progress = calloc(c->n_disks, sizeof(*ag->progress));
        if (!ag->progress)
                return log_error_errno(ENOMEM, "Out of memory");
        ag->current = 0;
        ag->next_report = 0;    /* report at once */

        log_info("Running command %" PRId64 ": %s of %zu disk%s", c->id, worker_command_type_to_string(c->type),
                 c->n_disks, c->n_disks == 1 ? "" : "s");
        switch (c->type) {
        case WORKER_COMMAND_IMPORT:
                r = agent_import(ag, &result, &err);
                break;
        case WORKER_COMMAND_FINALIZE:
                r = agent_finalize(ag, &result, &err);
                break;
        case WORKER_COMMAND_POST_IMPORT:
                r = agent_post_import(ag, &result, &err);
                break;
        default:
                r = ferry_error_set(&err, -EINVAL, "Unknown command type %d", (int) c->type);
        }

        if (ag->fatal < 0) {
                log_error("%s", ferry_error_message(&ag->fatal_err));
                return ag->fatal;
        }
        if (r == -ECANCELED && agent_cancel) {
                log_info("Stopped by a signal; command %" PRId64 " goes on from its checkpoints at the next start",
                         c->id);
                return -ECANCELED;
        }

        if (r < 0) {
                log_error("Command %" PRId64 " failed: %s", c->id, ferry_error_message(&err));
                update = json_pack("{s:I, s:s, s:s, s:o?, s:O?}", "id", (json_int_t) c->id, "status", "failed",
                                   "message", ferry_error_message(&err), "progress", agent_progress_json(ag), "result",
                                   result);
        } else {
                const char *what = c->type == WORKER_COMMAND_FINALIZE      ? "Finalize"
                                   : c->type == WORKER_COMMAND_POST_IMPORT ? "Post-import"
                                   : c->mode == WORKER_IMPORT_FULL         ? "Full import"
                                                                           : "Delta import";

                if (asprintf(&summary, "%s of %zu disk%s done", what, c->n_disks, c->n_disks == 1 ? "" : "s") < 0)
                        summary = NULL;
                update = json_pack("{s:I, s:s, s:s?, s:o?, s:O}", "id", (json_int_t) c->id, "status", "done",
                                   "message", summary, "progress", agent_progress_json(ag), "result", result);
        }
        if (!update)
                return log_error_errno(ENOMEM, "Out of memory");

        r = agent_deliver(ag, update);
        if (r < 0)
                return r;

        /* ferryd has the result: this command's checkpoints and record go. */
        if (c->type == WORKER_COMMAND_IMPORT && json_is_object(result))
                for (size_t i = 0; i < c->n_disks; i++) {
                        _cleanup_disk_ranges_ struct disk_ranges changes = DISK_RANGES_INIT;
                        _cleanup_free_ char *ck = NULL;
                        char digest[DISK_CHANGES_DIGEST_SIZE];
                        bool delta = c->mode == WORKER_IMPORT_DELTA;

                        if (delta && (disk_changes_parse(c->disks[i].changes, strlen(c->disks[i].changes), &changes,
                                                         &cerr) < 0 ||
                                      disk_changes_digest(&changes, digest) < 0))
                                continue;
                        ck = worker_state_checkpoint_path(ag->args->state_dir, &c->disks[i], delta ? digest : NULL);
                        if (ck && unlink(ck) < 0 && errno != ENOENT)
                                log_warning_errno(errno, "Cannot remove the checkpoint '%s': %m", ck);
                }
        if (worker_state_clear(ag->args->state_dir, &cerr) < 0)
                log_warning("%s", ferry_error_message(&cerr));
        return 0;
}

/*
 * The next command: the one in progress in the state directory, or a
 * new one from ferryd, recorded there before it runs.  1 with *ret, 0
 * when ferryd has none, negative on errors (fatal or not: the caller
 * decides).
 */
static int agent_next(struct agent *ag, struct worker_command **ret, struct ferry_error *err)
{
        _cleanup_json_ json_t *json = NULL;
        struct worker_command *c = NULL;
        int r;

        r = worker_state_load(ag->args->state_dir, &c, &json, err);
        if (r == -EINVAL) {
                /* ferryd sends the command it handed out again: the file is not needed. */
                log_warning("%s; asking ferryd for the command instead", ferry_error_message(err));
                r = worker_state_clear(ag->args->state_dir, err);
        }
        if (r < 0)
                return r;
        if (r > 0) {
                log_info("Resuming command %" PRId64 " (%s), which was running when the worker stopped", c->id,
                         worker_command_type_to_string(c->type));
                *ret = c;
                return 1;
        }

        r = agent_fetch(ag, &json, err);
        if (r <= 0)
                return r;
        r = worker_command_parse(json, true, &c, err);
        if (r < 0) {
                /* ferryd validates what it queues: tell it, and go on. */
                _cleanup_json_ json_t *update = json_pack("{s:O?, s:s, s:s}", "id", json_object_get(json, "id"),
                                                          "status", "failed", "message", ferry_error_message(err));

                log_error("ferryd sent an invalid command: %s", ferry_error_message(err));
                if (update && json_object_get(update, "id"))
                        (void) agent_post(ag, ag->update_path, update, NULL, err);
                return ferry_error_set(err, -EAGAIN, "Skipped an invalid command");
        }
        r = worker_state_save(ag->args->state_dir, json, err);
        if (r < 0) {
                worker_command_free(c);
                return r;
        }
        *ret = c;
        return 1;
}

static int agent_loop(struct agent *ag)
{
        uint64_t delay = RETRY_MIN_USEC;
        int r;

        while (!agent_cancel) {
                _cleanup_worker_command_ struct worker_command *c = NULL;
                struct ferry_error err = {};

                r = agent_next(ag, &c, &err);
                if (r < 0 && (agent_error_is_fatal(r) || r == -ENOENT || r == -EINVAL || r == -ENOMEM)) {
                        log_error("%s", ferry_error_message(&err));
                        return r;
                }
                if (r == -EAGAIN) {
                        agent_sleep(ag->args->poll_interval);
                        continue;
                }
                if (r < 0) {
                        log_warning("%s; retrying in %" PRIu64 " s", ferry_error_message(&err), delay / USEC_PER_SEC);
                        agent_sleep(delay);
                        delay = delay * 2 < RETRY_MAX_USEC ? delay * 2 : RETRY_MAX_USEC;
                        continue;
                }
                delay = RETRY_MIN_USEC;
                if (r == 0) {
                        if (ag->args->exit_when_idle) {
                                log_info("No command for the worker: exiting (--exit-when-idle)");
                                return 0;
                        }
                        agent_sleep(ag->args->poll_interval);
                        continue;
                }

                r = agent_run(ag, c);
                if (r == -ECANCELED)
                        return 0;
                if (r < 0)
                        return r;
        }
        log_info("Stopped by a signal");
        return 0;
}

static int install_signals(void)
{
        struct sigaction sa = { .sa_handler = on_stop_signal };
        struct sigaction ign = { .sa_handler = SIG_IGN };

        sigemptyset(&sa.sa_mask);
        sigemptyset(&ign.sa_mask);
        if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
            sigaction(SIGPIPE, &ign, NULL) < 0)
                return log_error_errno(errno, "Cannot set up signal handlers: %m");
        return 0;
}

int worker_agent(int argc, char *argv[])
{
        _cleanup_(agent_args_done) struct agent_args args = {};
        _cleanup_(agent_done) struct agent ag = {};
        struct ferry_error err = {};
        int r;

        r = parse_agent_argv(argc, argv, &args);
        if (r < 0)
                return EXIT_USAGE;
        if (r > 0)
                return EXIT_SUCCESS;
        if (!args.state_dir)
                args.state_dir = getenv("FERRY_WORKER_STATE_DIR") ?: WORKER_STATE_DEFAULT_DIR;
        if (!args.poll_interval)
                args.poll_interval = DEFAULT_POLL_INTERVAL_USEC;
        if (!args.report_interval)
                args.report_interval = DEFAULT_REPORT_INTERVAL_USEC;

        if (install_signals() < 0)
                return EXIT_FAILURE;
        if (agent_resolve_config(&args) < 0)
                return EXIT_FAILURE;
        if (worker_state_prepare(args.state_dir, &err) < 0) {
                log_error("%s", ferry_error_message(&err));
                return EXIT_FAILURE;
        }
        if (agent_init(&ag, &args) < 0)
                return EXIT_FAILURE;

        log_info("Worker for queue entry '%s' of ferryd at %s", args.uuid, args.endpoint);
        r = agent_loop(&ag);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
