/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry-worker copy: the standalone copier, for disk-only imports, tests
 * and benchmarks.  A thin front end to disk_copy() (src/disk/copy.h) that
 * shows progress on standard error: a bar on a terminal, a line every
 * --progress-interval otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/log.h"
#include "common/size.h"
#include "common/strbuf.h"
#include "disk/changes.h"
#include "disk/copy.h"
#include "disk/sink.h"
#include "worker/worker.h"

#define DEFAULT_PROGRESS_INTERVAL_USEC (10 * USEC_PER_SEC)
#define BAR_WIDTH 24

struct copy_args {
        const char *src_uri;
        char **src_argv;                /* NULL-terminated, into argv */
        const char *dst;
        const char *changes;
        const char *checkpoint;
        uint64_t checkpoint_interval;
        unsigned connections;
        unsigned requests;
        size_t chunk_size;
        uint64_t progress_interval;
        bool verify, direct, flush, quiet;
};

static void copy_help(void)
{
        printf("Usage: ferry-worker copy [OPTIONS] SRC DST\n"
               "\n"
               "Copy the disk served over NBD at SRC to DST. Only allocated data is read\n"
               "(NBD block status); zeros become holes. Several connections and reads in\n"
               "flight are used when the server allows them.\n"
               "\n"
               "SRC is an NBD URI: nbd://HOST[:PORT]/EXPORT, nbds://..., or\n"
               "nbd+unix:///EXPORT?socket=PATH. Or it is a command between '[' and ']'\n"
               "that serves NBD on the socket it is handed (systemd socket activation),\n"
               "such as [ qemu-nbd --read-only -f vmdk disk.vmdk ] or\n"
               "[ nbdkit --exit-with-parent file disk.img ]; it runs while the copy does.\n"
               "\n"
               "DST is a file (created if missing, written sparse), a block device, or '-'\n"
               "for standard output (the whole disk in order, zeros written out).\n"
               "\n"
               "Options:\n"
               "      --changes FILE       Copy only the changed areas listed in FILE (a\n"
               "                           delta) onto DST, which holds the earlier copy.\n"
               "                           FILE is JSON: [{\"start\": N, \"length\": N}, ...]\n"
               "                           or {\"areas\": [...]}; areas must not overlap\n"
               "      --checkpoint FILE    Record finished ranges in FILE and skip them when\n"
               "                           run again: rerun the same command to resume\n"
               "      --checkpoint-interval DURATION\n"
               "                           Update the checkpoint this often (default 5s)\n"
               "      --verify             Afterwards, compare SRC and DST chunk by chunk\n"
               "                           (SHA-256) and fail at the first difference\n"
               "  -c, --connections N      Use up to N connections if the server allows\n"
               "                           several (default %u, at most %u)\n"
               "  -r, --requests N         Keep N reads in flight per connection (default %u,\n"
               "                           at most %u)\n"
               "      --chunk-size SIZE    Read at most SIZE bytes at once: a multiple of 4K\n"
               "                           from 4K to 32M (default 1M)\n"
               "      --direct             Write DST with O_DIRECT, bypassing the page cache\n"
               "      --flush              Make DST durable before exiting\n"
               "  -q, --quiet              Print neither progress nor the summary\n"
               "      --progress-interval DURATION\n"
               "                           Without a terminal, print progress this often\n"
               "                           (default 10s); on a terminal a bar is drawn\n"
               "      --log-level LEVEL    Log 'error', 'warning', 'info' (default) or 'debug'\n"
               "  -h, --help               Show this help and exit\n"
               "\n"
               "Read buffers take at most N connections x N requests x SIZE bytes\n"
               "(64 MiB with the defaults). Reads failing with EIO are retried %u times\n"
               "with a growing delay.\n"
               "\n"
               "Examples:\n"
               "  Copy an export to a sparse file and check the result:\n"
               "    ferry-worker copy --verify 'nbd+unix:///?socket=/run/disk0.sock' disk0.img\n"
               "\n"
               "  Copy a VMDK of a mounted datastore onto a block device:\n"
               "    ferry-worker copy [ qemu-nbd --read-only -f vmdk /mnt/ds1/web01/web01.vmdk ] /dev/sdb\n"
               "\n"
               "  A copy that survives interruptions (run it again to go on):\n"
               "    ferry-worker copy --checkpoint disk0.ckpt nbd://proxy.example/disk0 disk0.img\n"
               "\n"
               "  Apply the changes since the last copy:\n"
               "    ferry-worker copy --changes changed-areas.json nbd://proxy.example/disk0 disk0.img\n"
               "\n"
               "  Checksum an export:\n"
               "    ferry-worker copy -q nbd://proxy.example/disk0 - | sha256sum\n"
               "\n"
               "Exit status: 0 on success, 1 on failure (a failed --verify included), 2 on\n"
               "bad usage. SIGINT and SIGTERM stop the copy after saving the checkpoint.\n",
               DISK_COPY_DEFAULT_CONNECTIONS, DISK_COPY_MAX_CONNECTIONS, DISK_COPY_DEFAULT_REQUESTS,
               DISK_COPY_MAX_REQUESTS, DISK_COPY_DEFAULT_READ_ATTEMPTS - 1);
}

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = worker_usage_errorv("copy", fmt, ap);
        va_end(ap);
        return r;
}

static int parse_unsigned(const char *option, const char *s, unsigned min, unsigned max, unsigned *ret)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (*s < '0' || *s > '9' || *end || errno != 0 || v < min || v > max)
                return usage_error("%s must be a number from %u to %u, not '%s'", option, min, max, s);
        *ret = (unsigned) v;
        return 0;
}

/*
 * Take "[ CMD ARGS... ]" out of argv (in place) into args->src_argv, so
 * that getopt does not see the command's own options.  *argc shrinks.
 */
static int take_source_command(int *argc, char *argv[], struct copy_args *args)
{
        int open = -1, close = -1;

        for (int i = 1; i < *argc; i++) {
                if (streq(argv[i], "--"))
                        break;
                if (streq(argv[i], "[")) {
                        open = i;
                        break;
                }
        }
        if (open < 0)
                return 0;
        for (int i = open + 1; i < *argc; i++)
                if (streq(argv[i], "]")) {
                        close = i;
                        break;
                }
        if (close < 0)
                return usage_error("The source command after '[' has no closing ']'");
        if (close == open + 1)
                return usage_error("The source command between '[' and ']' is empty");

        /* argv becomes: before '[', after ']', then the command, NULL-terminated. */
        {
                int n_cmd = close - open - 1, n_after = *argc - close - 1;
                _cleanup_free_ char **cmd = calloc((size_t) n_cmd, sizeof(char *));

                if (!cmd)
                        return log_error_errno(ENOMEM, "Out of memory");
                memcpy(cmd, argv + open + 1, (size_t) n_cmd * sizeof(char *));
                memmove(argv + open, argv + close + 1, (size_t) n_after * sizeof(char *));
                memcpy(argv + open + n_after, cmd, (size_t) n_cmd * sizeof(char *));
                *argc = open + n_after;
                args->src_argv = argv + *argc;
                /* The old argv[close] slot ends the command; argv[argc] is NULL for getopt too. */
                argv[*argc + n_cmd] = NULL;
        }
        return 0;
}

/* 0: copy; 1: done (help printed); -EINVAL: bad usage, reported. */
static int parse_copy_argv(int argc, char *argv[], struct copy_args *args)
{
        enum {
                ARG_CHANGES = 0x100,
                ARG_CHECKPOINT,
                ARG_CHECKPOINT_INTERVAL,
                ARG_VERIFY,
                ARG_CHUNK_SIZE,
                ARG_DIRECT,
                ARG_FLUSH,
                ARG_PROGRESS_INTERVAL,
                ARG_LOG_LEVEL,
        };
        static const struct option options[] = {
                { "changes", required_argument, NULL, ARG_CHANGES },
                { "checkpoint", required_argument, NULL, ARG_CHECKPOINT },
                { "checkpoint-interval", required_argument, NULL, ARG_CHECKPOINT_INTERVAL },
                { "verify", no_argument, NULL, ARG_VERIFY },
                { "connections", required_argument, NULL, 'c' },
                { "requests", required_argument, NULL, 'r' },
                { "chunk-size", required_argument, NULL, ARG_CHUNK_SIZE },
                { "direct", no_argument, NULL, ARG_DIRECT },
                { "flush", no_argument, NULL, ARG_FLUSH },
                { "quiet", no_argument, NULL, 'q' },
                { "progress-interval", required_argument, NULL, ARG_PROGRESS_INTERVAL },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        enum log_level level;
        uint64_t size;
        int c, r, npos;

        r = take_source_command(&argc, argv, args);
        if (r < 0)
                return r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":c:r:qh", options, NULL)) >= 0)
                switch (c) {
                case ARG_CHANGES:
                        args->changes = optarg;
                        break;
                case ARG_CHECKPOINT:
                        if (!*optarg)
                                return usage_error("--checkpoint needs a file name");
                        args->checkpoint = optarg;
                        break;
                case ARG_CHECKPOINT_INTERVAL:
                        r = worker_parse_duration("copy", "--checkpoint-interval", optarg, &args->checkpoint_interval);
                        if (r < 0)
                                return r;
                        break;
                case ARG_VERIFY:
                        args->verify = true;
                        break;
                case 'c':
                        r = parse_unsigned("--connections", optarg, 1, DISK_COPY_MAX_CONNECTIONS, &args->connections);
                        if (r < 0)
                                return r;
                        break;
                case 'r':
                        r = parse_unsigned("--requests", optarg, 1, DISK_COPY_MAX_REQUESTS, &args->requests);
                        if (r < 0)
                                return r;
                        break;
                case ARG_CHUNK_SIZE:
                        if (size_parse(optarg, &size) < 0 || size < DISK_COPY_MIN_CHUNK_SIZE ||
                            size > DISK_COPY_MAX_CHUNK_SIZE || size % 4096 != 0)
                                return usage_error("--chunk-size must be a multiple of 4K from 4K to 32M, "
                                                   "such as '256K' or '4M', not '%s'",
                                                   optarg);
                        args->chunk_size = (size_t) size;
                        break;
                case ARG_DIRECT:
                        args->direct = true;
                        break;
                case ARG_FLUSH:
                        args->flush = true;
                        break;
                case 'q':
                        args->quiet = true;
                        break;
                case ARG_PROGRESS_INTERVAL:
                        r = worker_parse_duration("copy", "--progress-interval", optarg, &args->progress_interval);
                        if (r < 0)
                                return r;
                        break;
                case ARG_LOG_LEVEL:
                        level = log_level_from_string(optarg);
                        if (level < 0)
                                return usage_error("Unknown log level '%s' (error, warning, info, debug)", optarg);
                        log_set_max_level(level);
                        break;
                case 'h':
                        copy_help();
                        return 1;
                case ':':
                        return usage_error("Option '%s' needs a value", argv[optind - 1]);
                default:
                        return usage_error("Unknown option '%s'", argv[optind - 1]);
                }

        npos = argc - optind;
        if (!args->src_argv) {
                if (npos < 1)
                        return usage_error("Missing SRC and DST");
                args->src_uri = argv[optind++];
                npos--;
        }
        if (npos < 1)
                return usage_error("Missing DST");
        if (npos > 1)
                return usage_error("Unexpected argument '%s'", argv[optind + 1]);
        args->dst = argv[optind];

        if (args->src_uri && !strstr(args->src_uri, "://"))
                return usage_error("SRC '%s' is not an NBD URI (nbd://, nbds://, nbd+unix://...); "
                                   "for an image file use [ qemu-nbd --read-only -f FORMAT FILE ]",
                                   args->src_uri);
        if (!*args->dst)
                return usage_error("DST must not be empty");
        return 0;
}

/* ---- progress ---------------------------------------------------------- */

struct display {
        bool tty;
        bool quiet;
        uint64_t interval;      /* between lines without a terminal */
        uint64_t next_line;
        bool bar_drawn;
};

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static void format_eta(double eta, char *buf, size_t size)
{
        /* Whole seconds, rounded up: "0s left" only at the end. */
        if (eta < 0 || eta > 1e7 || duration_format((uint64_t) ceil(eta) * USEC_PER_SEC, buf, size) < 0)
                snprintf(buf, size, "--");
}

static void show_progress(const struct disk_progress *p, void *userdata)
{
        struct display *d = userdata;
        char done[SIZE_FORMAT_MAX], total[SIZE_FORMAT_MAX], rate[SIZE_FORMAT_MAX], eta[DURATION_FORMAT_MAX];
        unsigned percent = p->bytes_total ? (unsigned) ((unsigned __int128) p->bytes_done * 100 / p->bytes_total) : 100;
        const char *what = p->phase == DISK_PHASE_VERIFY ? "verify" : "copy";

        if (d->quiet)
                return;
        size_format(p->bytes_done, done, sizeof done);
        size_format(p->bytes_total, total, sizeof total);
        size_format((uint64_t) p->rate, rate, sizeof rate);
        format_eta(p->eta, eta, sizeof eta);

        if (d->tty) {
                char bar[BAR_WIDTH + 1];
                unsigned filled = percent * BAR_WIDTH / 100;

                for (unsigned i = 0; i < BAR_WIDTH; i++)
                        bar[i] = i < filled ? '#' : '.';
                bar[BAR_WIDTH] = '\0';
                fprintf(stderr, "\r%-6s [%s] %3u%%  %s / %s  %s/s  ETA %s\033[K", what, bar, percent, done, total,
                        rate, eta);
                d->bar_drawn = true;
                return;
        }

        /* The first report comes at the start: wait one interval from there. */
        if (d->next_line == 0) {
                d->next_line = now_usec() + d->interval;
                return;
        }
        if (now_usec() < d->next_line)
                return;
        d->next_line = now_usec() + d->interval;
        fprintf(stderr, "ferry-worker: %s: %s of %s (%u%%), %s/s, %s left\n", what, done, total, percent, rate, eta);
}

static void display_end(struct display *d)
{
        if (d->bar_drawn) {
                fputs("\n", stderr);
                d->bar_drawn = false;
        }
}

static void show_summary(const struct copy_args *args, const struct disk_copy_result *res)
{
        char work[SIZE_FORMAT_MAX], rd[SIZE_FORMAT_MAX], wr[SIZE_FORMAT_MAX], zero[SIZE_FORMAT_MAX],
                rate[SIZE_FORMAT_MAX], skipped[SIZE_FORMAT_MAX];
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        uint64_t copied = res->bytes_total - res->bytes_skipped;

        size_format(copied, work, sizeof work);
        size_format(res->bytes_read, rd, sizeof rd);
        size_format(res->bytes_written, wr, sizeof wr);
        size_format(res->bytes_zeroed, zero, sizeof zero);
        size_format(res->seconds > 0 ? (uint64_t) ((double) copied / res->seconds) : 0, rate, sizeof rate);
        size_format(res->bytes_skipped, skipped, sizeof skipped);

        strbuf_appendf(&sb, "%s %s in %.2fs (%s/s): read %s, wrote %s, %s as zeros; %u connection%s",
                       args->changes ? "Copied the changed areas," : "Copied", work, res->seconds, rate, rd, wr, zero,
                       res->connections, res->connections == 1 ? "" : "s");
        if (res->read_retries > 0)
                strbuf_appendf(&sb, ", %" PRIu64 " read retr%s", res->read_retries,
                               res->read_retries == 1 ? "y" : "ies");
        if (res->bytes_skipped > 0)
                strbuf_appendf(&sb, "; %s were done before (checkpoint)", skipped);
        if (res->verified)
                strbuf_append(&sb, "; verified: DST matches SRC");
        fprintf(stderr, "ferry-worker: %s\n", strbuf_str(&sb));
}

/* ---- the command ------------------------------------------------------- */

static volatile sig_atomic_t copy_cancel;

static void on_stop_signal(int sig)
{
        (void) sig;
        copy_cancel = 1;
}

static int install_signals(void)
{
        struct sigaction sa = { .sa_handler = on_stop_signal };
        struct sigaction ign = { .sa_handler = SIG_IGN };

        sigemptyset(&sa.sa_mask);
        sigemptyset(&ign.sa_mask);
        /* A closed pipe on '-' is an error to report, not a reason to die. */
        if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
            sigaction(SIGPIPE, &ign, NULL) < 0)
                return log_error_errno(errno, "Cannot set up signal handlers: %m");
        return 0;
}

int worker_copy(int argc, char *argv[])
{
        struct copy_args args = {};
        _cleanup_disk_ranges_ struct disk_ranges changes = DISK_RANGES_INIT;
        _cleanup_sink_ struct sink *sink = NULL;
        struct ferry_error err = {};
        struct disk_copy_result res;
        struct display display = {};
        int r;

        r = parse_copy_argv(argc, argv, &args);
        if (r < 0)
                return EXIT_USAGE;
        if (r > 0)
                return EXIT_SUCCESS;

        if (install_signals() < 0)
                return EXIT_FAILURE;

        if (args.changes) {
                r = disk_changes_load(args.changes, &changes, &err);
                if (r < 0) {
                        log_error("%s", ferry_error_message(&err));
                        return EXIT_FAILURE;
                }
        }

        r = sink_open(args.dst, &(struct sink_open_options) { .direct = args.direct }, &sink, &err);
        if (r < 0) {
                log_error("%s", ferry_error_message(&err));
                return EXIT_FAILURE;
        }

        display = (struct display) {
                .tty = isatty(STDERR_FILENO),
                .quiet = args.quiet,
                .interval = args.progress_interval ?: DEFAULT_PROGRESS_INTERVAL_USEC,
        };

        r = disk_copy(&(struct disk_copy_options) {
                              .source = { .uri = args.src_uri, .argv = args.src_argv },
                              .sink = sink,
                              .changes = args.changes ? &changes : NULL,
                              .checkpoint_path = args.checkpoint,
                              .checkpoint_interval_usec = args.checkpoint_interval,
                              .connections = args.connections,
                              .requests = args.requests,
                              .chunk_size = args.chunk_size,
                              .verify = args.verify,
                              .flush = args.flush,
                              .progress = show_progress,
                              .userdata = &display,
                              .cancel = &copy_cancel,
                      },
                      &res, &err);
        display_end(&display);
        if (r < 0) {
                if (r == -ECANCELED && args.checkpoint)
                        log_error("%s; run the same command again to go on from checkpoint '%s'",
                                  ferry_error_message(&err), args.checkpoint);
                else
                        log_error("%s", ferry_error_message(&err));
                return EXIT_FAILURE;
        }
        if (!args.quiet)
                show_summary(&args, &res);
        return EXIT_SUCCESS;
}
