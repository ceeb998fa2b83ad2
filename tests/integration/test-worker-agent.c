/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry-worker agent against the built ferryd over HTTPS, end to end: a
 * seeded queue entry (tests/integration/seed.c) gets a worker token and
 * commands through ferryd's admin routes, the agent runs them against
 * nbdkit sources the test starts, and the results are checked by SHA-256
 * against what the test computes itself, never against what ferry says.
 *
 * The agent gets its configuration from flags here: inside a VM it reads
 * it from devIncus (/dev/incus/sock), which this machine cannot offer (it
 * runs no Incus VMs); that parsing has unit tests (test-worker-devincus.c).
 * Needs no lab.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "api-client.h"
#include "common/fileio.h"
#include "common/fingerprint.h"
#include "common/http.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "disk/checkpoint.h"
#include "disk/ranges.h"
#include "ferryd-fixture.h"
#include "nbdserver.h"
#include "seed.h"

#ifndef FERRYD_PATH
#error "FERRYD_PATH must name the ferryd binary under test"
#endif
#ifndef FERRY_WORKER_PATH
#error "FERRY_WORKER_PATH must name the ferry-worker binary under test"
#endif

#define MIB (UINT64_C(1) << 20)
#define AGENT_TIMEOUT_MS 120000
#define REFUSED "Not authorized: unknown queue entry or wrong worker token"
#define WRONG_TOKEN "0000000000000000000000000000000000000000000000000000000000000000"

struct fixture {
        struct ferryd_fixture *d;
        int port;
        char *url;                      /* https://127.0.0.1:<port> */
        char *config_path;
        char *state_dir;                /* the agent's */
        char server_fp[FINGERPRINT_HEX_SIZE];
        char *token;                    /* the seeded entry's worker secret */
        struct nbd_server servers[4];
};

/* ---- ferryd ------------------------------------------------------------ */

static int free_port(void)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        close(fd);
        return ntohs(sa.sin_port);
}

static void wait_for_port(struct proc *p, int port)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                  .sin_port = htons((uint16_t) port) };

        for (int i = 0; i < 2000; i++) {
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                int r;

                assert_true(fd >= 0);
                r = connect(fd, (struct sockaddr *) &sa, sizeof(sa));
                close(fd);
                if (r == 0)
                        return;
                if (!proc_running(p)) {
                        _cleanup_free_ char *err = proc_stderr(p);

                        fail_msg("ferryd exited before listening on port %d: %s", port, err);
                }
                usleep(10 * 1000);
        }
        fail_msg("Nothing listens on port %d after 20 s", port);
}

static void write_text(const char *path, const char *text)
{
        struct ferry_error err = {};

        if (fileio_write_atomic(path, text, strlen(text), 0644, &err) < 0)
                fail_msg("%s", ferry_error_message(&err));
}

static const char *str(const json_t *v, const char *key)
{
        const char *s = json_string_value(json_object_get(v, key));

        if (!s)
                fail_msg("'%s' is not a string", key);
        return s;
}

static uint64_t num(const json_t *v, const char *key)
{
        json_t *n = json_object_get(v, key);

        if (!json_is_integer(n))
                fail_msg("'%s' is not an integer", key);
        return (uint64_t) json_integer_value(n);
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        _cleanup_free_ char *config = NULL, *cert = NULL;
        struct ferry_error err = {};
        struct api_answer a = {};
        json_t *m;

        assert_non_null(f);
        f->d = ferryd_fixture_new(FERRYD_PATH);
        f->port = free_port();
        assert_true(asprintf(&f->url, "https://127.0.0.1:%d", f->port) > 0);
        assert_non_null(f->config_path = strjoin(f->d->dir, "/ferryd.yaml", NULL));
        assert_non_null(f->state_dir = strjoin(f->d->dir, "/worker-state", NULL));
        assert_true(asprintf(&config, "core.https_address: \"127.0.0.1:%d\"\n", f->port) > 0);
        write_text(f->config_path, config);

        seed_lab_inventory(f->d->data_dir);
        ferryd_fixture_start_with(f->d, (const char *const[]) { "--config", f->config_path, "--log-level", "debug",
                                                                NULL });
        wait_for_port(&f->d->ferryd, f->port);
        assert_non_null(cert = strjoin(f->d->data_dir, "/server.crt", NULL));
        if (fingerprint_from_pem_file(cert, f->server_fp, &err) < 0)
                fail_msg("%s", ferry_error_message(&err));

        /* The worker's secret, as the queue engine would make it. */
        m = api_expect(f->d->socket_path, "POST", "/1.0/queue/" SEED_WEB01 "/worker-token", NULL, 200, &a);
        assert_non_null(f->token = strdup(str(m, "token")));
        assert_int_equal(strlen(f->token), 64);
        api_answer_done(&a);

        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(f->servers); i++)
                nbd_server_stop(&f->servers[i]);
        r = ferryd_fixture_stop(f->d);
        ferryd_fixture_free(f->d);
        free(f->url);
        free(f->config_path);
        free(f->state_dir);
        free(f->token);
        free(f);
        return r;
}

static char *path_in(const struct fixture *f, const char *name)
{
        char *p = strjoin(f->d->dir, "/", name, NULL);

        assert_non_null(p);
        return p;
}

/* Queue a command for the seeded entry's worker; returns its id. */
static int64_t queue_command(struct fixture *f, const char *body)
{
        struct api_answer a = {};
        json_t *m;
        int64_t id;

        m = api_expect(f->d->socket_path, "POST", "/1.0/queue/" SEED_WEB01 "/worker-commands", body, 200, &a);
        id = (int64_t) num(m, "id");
        api_answer_done(&a);
        return id;
}

/* The seeded entry's command with this id, from the admin route (a new reference). */
static json_t *get_command(struct fixture *f, int64_t id)
{
        struct api_answer a = {};
        json_t *m, *c, *found = NULL;
        size_t i;

        m = api_expect(f->d->socket_path, "GET", "/1.0/queue/" SEED_WEB01 "/worker-commands", NULL, 200, &a);
        json_array_foreach(m, i, c)
                if ((int64_t) num(c, "id") == id)
                        found = json_incref(c);
        api_answer_done(&a);
        if (!found)
                fail_msg("No worker command %" PRId64, id);
        return found;
}

static json_t *get_entry(struct fixture *f)
{
        struct api_answer a = {};
        json_t *m;

        m = json_incref(api_expect(f->d->socket_path, "GET", "/1.0/queue/" SEED_WEB01, NULL, 200, &a));
        api_answer_done(&a);
        return m;
}

/* One HTTPS request as a worker (no client certificate), token may be NULL. */
static void worker_call(struct fixture *f, const char *method, const char *path, const char *token,
                        struct api_answer *ret)
{
        _cleanup_http_client_ struct http_client *c = NULL;
        _cleanup_free_ char *auth = NULL;
        const char *headers[] = { NULL, NULL };
        struct http_response resp = {};
        struct ferry_error err = {};
        json_error_t jerr;

        c = http_client_new(&(struct http_client_config) { .endpoint = f->url, .pinned_fingerprint = f->server_fp },
                            &err);
        if (!c)
                fail_msg("%s", ferry_error_message(&err));
        if (token) {
                assert_non_null(auth = strjoin("Authorization: Bearer ", token, NULL));
                headers[0] = auth;
        }
        if (http_request(c, method, path, "application/json", "{}", 2, headers, &resp, &err) < 0)
                fail_msg("%s %s: %s", method, path, ferry_error_message(&err));
        *ret = (struct api_answer) { .status = resp.status, .text = strdup(resp.body) };
        assert_non_null(ret->text);
        ret->envelope = json_loads(ret->text, 0, &jerr);
        if (!ret->envelope)
                fail_msg("%s %s: not JSON: %s", method, path, ret->text);
        http_response_done(&resp);
}

/* ---- the agent --------------------------------------------------------- */

static void agent_start(struct fixture *f, struct proc *p, const char *token, const char *fingerprint)
{
        char *const argv[] = { FERRY_WORKER_PATH, "agent", "--endpoint", f->url, "--fingerprint",
                               (char *) (fingerprint ?: f->server_fp), "--token", (char *) (token ?: f->token),
                               "--uuid", SEED_WEB01, "--state-dir", f->state_dir, "--report-interval", "100ms",
                               "--poll-interval", "100ms", "--exit-when-idle", NULL };

        proc_start(p, argv);
}

/* Run the agent until it has no command left; fail unless it exits with status; return its stderr. */
static char *agent_run(struct fixture *f, int status, const char *token, const char *fingerprint)
{
        struct proc p;
        char *err;
        int r;

        agent_start(f, &p, token, fingerprint);
        r = proc_wait(&p, AGENT_TIMEOUT_MS);
        err = proc_stderr(&p);
        proc_cleanup(&p);
        if (r != status)
                fail_msg("ferry-worker agent exited with status %d instead of %d, its stderr:\n%s", r, status, err);
        return err;
}

/* ---- disks ------------------------------------------------------------- */

/* A deterministic pseudo-random generator (xorshift64*). */
static uint64_t rnd(uint64_t *s)
{
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        return *s * UINT64_C(2685821657736338717);
}

static void fill_random(void *buf, size_t len, uint64_t *seed)
{
        unsigned char *p = buf;

        for (size_t i = 0; i < len; i++)
                p[i] = (unsigned char) rnd(seed);
}

/* A sparse image of size bytes: about a quarter of its MiB blocks random data, the rest holes. */
static void make_image(const char *path, uint64_t size, uint64_t seed)
{
        _cleanup_free_ unsigned char *buf = malloc(MIB);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        assert_non_null(buf);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, (off_t) size), 0);
        for (uint64_t off = 0; off < size; off += MIB) {
                size_t n = size - off < MIB ? (size_t) (size - off) : MIB;

                if (rnd(&seed) % 4 != 0)
                        continue;
                fill_random(buf, n, &seed);
                assert_int_equal(pwrite(fd, buf, n, (off_t) off), (ssize_t) n);
        }
        assert_int_equal(close(fd), 0);
}

static void sha256_fd_range(EVP_MD_CTX *md, int fd)
{
        _cleanup_free_ unsigned char *buf = malloc(MIB);
        ssize_t n;

        assert_non_null(buf);
        while ((n = read(fd, buf, MIB)) > 0)
                assert_int_equal(EVP_DigestUpdate(md, buf, (size_t) n), 1);
        assert_true(n == 0);
}

/* Hex SHA-256 of a file's bytes; free() it. */
static char *sha256_file(const char *path)
{
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        char *hex = malloc(65);
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        assert_non_null(md);
        assert_non_null(hex);
        assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
        sha256_fd_range(md, fd);
        assert_int_equal(EVP_DigestFinal_ex(md, digest, &len), 1);
        assert_int_equal(hex_encode(digest, len, hex, 65), 0);
        EVP_MD_CTX_free(md);
        close(fd);
        return hex;
}

/* Hex SHA-256 of what nbdkit's pattern plugin serves: each 8 bytes are their offset, big-endian. */
static char *sha256_pattern(uint64_t size)
{
        _cleanup_free_ uint64_t *buf = malloc(MIB);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        char *hex = malloc(65);

        assert_non_null(buf);
        assert_non_null(md);
        assert_non_null(hex);
        assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
        for (uint64_t off = 0; off < size; off += MIB) {
                for (size_t i = 0; i < MIB / 8; i++)
                        buf[i] = htobe64(off + i * 8);
                assert_int_equal(EVP_DigestUpdate(md, buf, MIB), 1);
        }
        assert_int_equal(EVP_DigestFinal_ex(md, digest, &len), 1);
        assert_int_equal(hex_encode(digest, len, hex, 65), 0);
        EVP_MD_CTX_free(md);
        return hex;
}

static uint64_t allocated_bytes(const char *path)
{
        struct stat st;

        assert_int_equal(stat(path, &st), 0);
        return (uint64_t) st.st_blocks * 512;
}

/* The reads nbdkit's log filter recorded: their union and the sum of their lengths. */
static uint64_t logged_reads(const char *logfile, struct disk_ranges *reads)
{
        _cleanup_free_ char *text = NULL;
        struct ferry_error err = {};
        uint64_t total = 0;

        if (fileio_read_checked(logfile, 512 * MIB, &text, NULL, &err) < 0)
                fail_msg("%s", ferry_error_message(&err));
        for (char *line = text; line && *line;) {
                char *next = strchr(line, '\n'), *p;

                if (next)
                        *next++ = '\0';
                p = strstr(line, " Read id=");
                if (p) {
                        uint64_t off, count;

                        p = strstr(p, "offset=");
                        assert_non_null(p);
                        assert_int_equal(sscanf(p, "offset=0x%" SCNx64 " count=0x%" SCNx64, &off, &count), 2);
                        assert_int_equal(disk_ranges_add(reads, off, count), 0);
                        total += count;
                }
                line = next;
        }
        return total;
}

static uint64_t checkpoint_done(const char *path, struct disk_ranges *ret)
{
        _cleanup_disk_checkpoint_ struct disk_checkpoint c = DISK_CHECKPOINT_INIT;
        struct ferry_error err = {};

        if (disk_checkpoint_load(path, &c, &err) < 0)
                return 0;
        if (ret)
                assert_int_equal(disk_ranges_copy(ret, &c.done), 0);
        return disk_ranges_total(&c.done);
}

static void sleep_ms(int ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* ---- tests ------------------------------------------------------------- */

static void test_a_full_import_then_a_delta_and_finalize_give_byte_identical_disks(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *src0 = path_in(f, "src0.img"), *src1 = path_in(f, "src1.img"),
                            *out0 = path_in(f, "out0.img"), *out1 = path_in(f, "out1.img"), *arg0 = NULL,
                            *arg1 = NULL, *body = NULL, *err = NULL, *want0 = NULL, *want1 = NULL, *got = NULL,
                            *changes_text = NULL;
        _cleanup_json_ json_t *cmd = NULL, *entry = NULL, *changes = json_array();
        _cleanup_free_ unsigned char *buf = malloc(16384);
        const uint64_t size0 = 64 * MIB, size1 = 10 * MIB + 12345;
        uint64_t seed = 42, changed = 0;
        int64_t full, delta, fin;
        json_t *p, *disks;
        int fd;

        /* Two disks: a sparse one and an odd-sized one. */
        make_image(src0, size0, 1);
        make_image(src1, size1, 2);
        assert_non_null(arg0 = strjoin("file=", src0, NULL));
        assert_non_null(arg1 = strjoin("file=", src1, NULL));
        nbd_server_start(&f->servers[0], f->d->dir, "disk0", "file", arg0, NULL);
        nbd_server_start(&f->servers[1], f->d->dir, "disk1", "file", arg1, NULL);

        assert_true(asprintf(&body,
                             "{\"command\": \"import\", \"mode\": \"full\", \"disks\": ["
                             "{\"name\": \"disk0\", \"source\": \"%s\", \"sink\": \"%s\"}, "
                             "{\"name\": \"disk1\", \"source\": \"%s\", \"sink\": \"%s\"}]}",
                             f->servers[0].uri, out0, f->servers[1].uri, out1) > 0);
        full = queue_command(f, body);
        err = agent_run(f, 0, NULL, NULL);
        assert_contains(err, "No command for the worker: exiting (--exit-when-idle)");

        want0 = sha256_file(src0);
        want1 = sha256_file(src1);
        got = sha256_file(out0);
        assert_string_equal(got, want0);
        free(got);
        got = sha256_file(out1);
        assert_string_equal(got, want1);
        free(TAKE_PTR(got));
        /* Holes stayed holes. */
        print_message("disk0: %" PRIu64 " of %" PRIu64 " bytes allocated in the sink (source: %" PRIu64 ")\n",
                      allocated_bytes(out0), size0, allocated_bytes(src0));
        assert_true(allocated_bytes(out0) <= allocated_bytes(src0) + MIB);

        /* ferryd has the result and shows the progress. */
        cmd = get_command(f, full);
        assert_string_equal(str(cmd, "status"), "done");
        disks = json_object_get(json_object_get(cmd, "result"), "disks");
        assert_int_equal(json_array_size(disks), 2);
        assert_int_equal(num(json_array_get(disks, 0), "size"), size0);
        assert_int_equal(num(json_array_get(disks, 1), "size"), size1);
        assert_true(num(json_array_get(disks, 0), "bytes_read") <= allocated_bytes(src0));
        entry = get_entry(f);
        assert_string_equal(str(entry, "status_message"), "Full import of 2 disks done");
        {
                _cleanup_free_ char *log = proc_stderr(&f->d->ferryd);

                assert_contains(log, "Lifecycle event 'queue-entry-updated' for '/1.0/queue/" SEED_WEB01 "'");
        }
        p = json_array_get(json_object_get(entry, "progress"), 0);
        assert_string_equal(str(p, "disk"), "disk0");
        assert_int_equal(num(p, "done"), size0);
        assert_int_equal(num(p, "total"), size0);
        p = json_array_get(json_object_get(entry, "progress"), 1);
        assert_int_equal(num(p, "done"), size1);
        json_decref(TAKE_PTR(cmd));
        json_decref(TAKE_PTR(entry));

        /* Change about 1% of disk0 in 40 scattered 16 KiB areas, holes included. */
        fd = open(src0, O_WRONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_non_null(buf);
        for (int i = 0; i < 40; i++) {
                uint64_t off = (uint64_t) i * (size0 / 40) + (rnd(&seed) % (size0 / 40 - 16384)) / 4096 * 4096;

                fill_random(buf, 16384, &seed);
                assert_int_equal(pwrite(fd, buf, 16384, (off_t) off), 16384);
                assert_int_equal(json_array_append_new(changes, json_pack("{s:I, s:I}", "start", (json_int_t) off,
                                                                          "length", (json_int_t) 16384)),
                                 0);
                changed += 16384;
        }
        assert_int_equal(close(fd), 0);
        free(want0);
        want0 = sha256_file(src0);

        assert_non_null(changes_text = json_dumps(changes, JSON_COMPACT));
        free(body);
        assert_true(asprintf(&body,
                             "{\"command\": \"import\", \"mode\": \"delta\", \"disks\": ["
                             "{\"name\": \"disk0\", \"source\": \"%s\", \"sink\": \"%s\", \"changes\": %s}]}",
                             f->servers[0].uri, out0, changes_text) > 0);
        delta = queue_command(f, body);
        free(body);
        assert_true(asprintf(&body,
                             "{\"command\": \"finalize\", \"sha256\": true, \"disks\": ["
                             "{\"name\": \"disk0\", \"sink\": \"%s\"}, {\"name\": \"disk1\", \"sink\": \"%s\"}]}",
                             out0, out1) > 0);
        fin = queue_command(f, body);
        free(err);
        err = agent_run(f, 0, NULL, NULL);

        got = sha256_file(out0);
        assert_string_equal(got, want0);

        /* The delta read no more than what changed. */
        cmd = get_command(f, delta);
        assert_string_equal(str(cmd, "status"), "done");
        p = json_array_get(json_object_get(json_object_get(cmd, "result"), "disks"), 0);
        print_message("delta: read %" PRIu64 " bytes for %" PRIu64 " changed\n", num(p, "bytes_read"), changed);
        assert_int_equal(num(p, "bytes_total"), changed);
        assert_true(num(p, "bytes_read") <= changed);
        json_decref(TAKE_PTR(cmd));

        /* Finalize reports what the test computed. */
        cmd = get_command(f, fin);
        assert_string_equal(str(cmd, "status"), "done");
        disks = json_object_get(json_object_get(cmd, "result"), "disks");
        assert_string_equal(str(json_array_get(disks, 0), "sha256"), want0);
        assert_string_equal(str(json_array_get(disks, 1), "sha256"), want1);
        entry = get_entry(f);
        assert_string_equal(str(entry, "status_message"), "Finalize of 2 disks done");
}

/* Poll the queue entry until the agent has reported progress in the middle of disk0. */
static void wait_for_progress(struct fixture *f, struct proc *agent, uint64_t total)
{
        for (int i = 0; i < 600; i++) {
                _cleanup_json_ json_t *entry = get_entry(f);
                json_t *p = json_array_get(json_object_get(entry, "progress"), 0);

                if (p && json_integer_value(json_object_get(p, "done")) > 0 &&
                    (uint64_t) json_integer_value(json_object_get(p, "done")) < total) {
                        assert_int_equal(num(p, "total"), total);
                        assert_true(json_number_value(json_object_get(p, "rate")) > 0);
                        assert_true(startswith(str(entry, "status_message"), "Importing disk0 (1 of 1, full): "));
                        print_message("progress seen: %s\n", str(entry, "status_message"));
                        return;
                }
                if (!proc_running(agent)) {
                        _cleanup_free_ char *err = proc_stderr(agent);

                        fail_msg("The agent exited before reporting progress: %s", err);
                }
                sleep_ms(50);
        }
        fail_msg("No progress in the queue entry after 30 s");
}

static void test_progress_shows_in_the_queue_entry_and_a_killed_agent_resumes_from_its_checkpoint(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "resume.img"), *log = path_in(f, "resume.log"), *log_arg = NULL,
                            *body = NULL, *err = NULL, *ck = NULL, *cmdfile = NULL, *want = NULL, *got = NULL,
                            *sock = path_in(f, "slow.sock");
        _cleanup_disk_ranges_ struct disk_ranges done = DISK_RANGES_INIT, reads = DISK_RANGES_INIT;
        _cleanup_json_ json_t *cmd = NULL;
        const uint64_t size = 256 * MIB;
        uint64_t done_bytes = 0, total_read;
        int64_t id;
        json_t *r;
        struct proc p;

        assert_non_null(ck = strjoin(f->state_dir, "/disk0.full.ckpt", NULL));
        assert_non_null(cmdfile = strjoin(f->state_dir, "/command.json", NULL));

        /* 32 MB/s after a first burst: seconds for the whole disk. */
        nbd_server_start(&f->servers[0], f->d->dir, "slow", "--filter=rate", "pattern", "size=256M", "rate=256M",
                         NULL);
        assert_true(asprintf(&body,
                             "{\"command\": \"import\", \"mode\": \"full\", \"disks\": ["
                             "{\"name\": \"disk0\", \"source\": \"%s\", \"sink\": \"%s\"}]}",
                             f->servers[0].uri, out) > 0);
        id = queue_command(f, body);

        agent_start(f, &p, NULL, NULL);
        wait_for_progress(f, &p, size);
        for (int i = 0; i < 600 && (done_bytes = checkpoint_done(ck, NULL)) < 32 * MIB; i++)
                sleep_ms(50);
        assert_int_equal(kill(p.pid, SIGKILL), 0);
        assert_int_equal(proc_wait(&p, 10000), 128 + SIGKILL);
        proc_cleanup(&p);

        done_bytes = checkpoint_done(ck, &done);
        print_message("done before the kill: %" PRIu64 " of %" PRIu64 " bytes\n", done_bytes, size);
        assert_true(done_bytes >= 32 * MIB && done_bytes < size);
        assert_int_equal(access(cmdfile, F_OK), 0);
        cmd = get_command(f, id);
        assert_string_equal(str(cmd, "status"), "running");
        json_decref(TAKE_PTR(cmd));

        /* The same source again, now logging every read. */
        nbd_server_stop(&f->servers[0]);
        (void) unlink(sock);    /* nbdkit leaves it behind */
        assert_non_null(log_arg = strjoin("logfile=", log, NULL));
        nbd_server_start(&f->servers[0], f->d->dir, "slow", "--filter=log", "pattern", "size=256M", log_arg, NULL);
        err = agent_run(f, 0, NULL, NULL);
        nbd_server_stop(&f->servers[0]);
        assert_contains(err, "Resuming command ");

        /* The second run read exactly what the first had not finished. */
        total_read = logged_reads(log, &reads);
        print_message("read after the restart: %" PRIu64 " bytes\n", total_read);
        for (size_t i = 0; i < reads.n; i++)
                assert_false(disk_ranges_overlaps(&done, reads.v[i].start, reads.v[i].length));
        assert_int_equal(total_read, size - done_bytes);

        want = sha256_pattern(size);
        got = sha256_file(out);
        assert_string_equal(got, want);

        cmd = get_command(f, id);
        assert_string_equal(str(cmd, "status"), "done");
        r = json_array_get(json_object_get(json_object_get(cmd, "result"), "disks"), 0);
        assert_int_equal(num(r, "bytes_skipped"), done_bytes);
        /* Done and delivered: the command and its checkpoint are gone from the worker. */
        assert_int_equal(access(cmdfile, F_OK), -1);
        assert_int_equal(access(ck, F_OK), -1);
}

/* The source's disk access may be a server to start (nbdkit vddk in
 * production): the worker runs it with socket activation, one per
 * connection, and it goes away with the copy. */
static void test_an_import_from_a_server_the_worker_starts(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *src = path_in(f, "src.img"), *out = path_in(f, "out.img"), *body = NULL, *err = NULL,
                            *want = NULL, *got = NULL;
        _cleanup_json_ json_t *cmd = NULL;
        int64_t id;

        make_image(src, 24 * MIB + 512, 7);
        assert_true(asprintf(&body,
                             "{\"command\": \"import\", \"mode\": \"full\", \"disks\": [{\"name\": \"disk0\", "
                             "\"source_command\": [\"nbdkit\", \"--readonly\", \"file\", \"%s\"], \"sink\": \"%s\"}]}",
                             src, out) > 0);
        id = queue_command(f, body);
        err = agent_run(f, 0, NULL, NULL);
        assert_contains(err, "No command for the worker: exiting (--exit-when-idle)");

        cmd = get_command(f, id);
        assert_string_equal(str(cmd, "status"), "done");
        want = sha256_file(src);
        got = sha256_file(out);
        assert_string_equal(got, want);
}

static void test_a_wrong_token_gets_403_and_the_agent_exits_with_a_clear_error(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;
        struct api_answer a = {};

        err = agent_run(f, 1, WRONG_TOKEN, NULL);
        assert_contains(err, "ferry-worker: error: ferryd refused this worker for queue entry '" SEED_WEB01
                             "' (403: " REFUSED "): check the token (user.ferry.token) and the UUID (user.ferry.uuid)");

        /* Wrong, missing, and right token for an entry that does not exist: one answer. */
        worker_call(f, "POST", "/internal/worker/" SEED_WEB01 "/:command", WRONG_TOKEN, &a);
        api_assert_error(&a, 403, REFUSED);
        api_answer_done(&a);
        worker_call(f, "POST", "/internal/worker/" SEED_WEB01 "/:update", NULL, &a);
        api_assert_error(&a, 403, REFUSED);
        api_answer_done(&a);
        worker_call(f, "POST", "/internal/worker/" SEED_DB01 "/:command", f->token, &a);
        api_assert_error(&a, 403, REFUSED);
        api_answer_done(&a);
        worker_call(f, "POST", "/internal/worker/4a3c5e0e-ffff-4000-8000-00000000ffff/:command", f->token, &a);
        api_assert_error(&a, 403, REFUSED);
        api_answer_done(&a);

        /* The right one: no command yet. */
        worker_call(f, "POST", "/internal/worker/" SEED_WEB01 "/:command", f->token, &a);
        assert_int_equal(a.status, 200);
        assert_true(json_is_null(json_object_get(a.envelope, "metadata")));
        api_answer_done(&a);
}

static void test_an_untrusted_client_reaches_only_the_worker_endpoints(void **state)
{
        struct fixture *f = *state;
        struct api_answer a = {};

        /* Even with the worker's token, nothing else is open. */
        worker_call(f, "GET", "/1.0/queue/" SEED_WEB01, f->token, &a);
        api_assert_error(&a, 403, "Not authorized: this client certificate is not trusted");
        api_answer_done(&a);
        worker_call(f, "POST", "/1.0/queue/" SEED_WEB01 "/worker-token", f->token, &a);
        api_assert_error(&a, 403, "Not authorized: this client certificate is not trusted");
        api_answer_done(&a);
        worker_call(f, "POST", "/1.0/queue/" SEED_WEB01 "/worker-commands", f->token, &a);
        api_assert_error(&a, 403, "Not authorized: this client certificate is not trusted");
        api_answer_done(&a);
        worker_call(f, "GET", "/internal/worker/" SEED_WEB01 "/:command", f->token, &a);
        api_assert_error(&a, 403, "Not authorized: this client certificate is not trusted");
        api_answer_done(&a);
}

static void test_a_new_token_replaces_the_old_one(void **state)
{
        struct fixture *f = *state;
        struct api_answer a = {};
        char *old = f->token;
        json_t *m;

        m = api_expect(f->d->socket_path, "POST", "/1.0/queue/" SEED_WEB01 "/worker-token", NULL, 200, &a);
        assert_non_null(f->token = strdup(str(m, "token")));
        assert_string_not_equal(f->token, old);
        api_answer_done(&a);

        worker_call(f, "POST", "/internal/worker/" SEED_WEB01 "/:command", old, &a);
        api_assert_error(&a, 403, REFUSED);
        api_answer_done(&a);
        worker_call(f, "POST", "/internal/worker/" SEED_WEB01 "/:command", f->token, &a);
        assert_int_equal(a.status, 200);
        api_answer_done(&a);
        free(old);
}

static void test_a_wrong_fingerprint_stops_the_agent_before_it_sends_the_token(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL;

        err = agent_run(f, 1, NULL, "1111111111111111111111111111111111111111111111111111111111111111");
        assert_contains(err, "ferry-worker: error: Cannot reach ferryd at '");
        assert_contains(err, f->server_fp);
}

static void test_queued_commands_are_validated_and_need_an_existing_entry(void **state)
{
        struct fixture *f = *state;
        struct api_answer a = {};

        api_call(f->d->socket_path, "POST", "/1.0/queue/" SEED_WEB01 "/worker-commands",
                 "{\"command\": \"reboot\", \"disks\": []}", NULL, &a);
        api_assert_error(&a, 400, "Unknown command 'reboot' (import, finalize, post-import)");
        api_answer_done(&a);
        api_call(f->d->socket_path, "POST", "/1.0/queue/" SEED_WEB01 "/worker-commands",
                 "{\"command\": \"import\", \"mode\": \"full\", \"disks\": [{\"name\": \"disk0\", \"source\": "
                 "\"/tmp/disk.img\", \"sink\": \"/dev/sdb\"}]}",
                 NULL, &a);
        api_assert_error(&a, 400,
                         "Disk 'disk0': source '/tmp/disk.img' is not an NBD URI (nbd://, nbds://, nbd+unix://...)");
        api_answer_done(&a);
        api_call(f->d->socket_path, "POST", "/1.0/queue/" SEED_DB01 "/worker-commands",
                 "{\"command\": \"finalize\", \"disks\": [{\"name\": \"disk0\", \"sink\": \"/dev/sdb\"}]}", NULL, &a);
        api_assert_error(&a, 404, "Queue entry '" SEED_DB01 "' not found");
        api_answer_done(&a);
        api_call(f->d->socket_path, "POST", "/1.0/queue/" SEED_DB01 "/worker-token", NULL, NULL, &a);
        api_assert_error(&a, 404, "Queue entry '" SEED_DB01 "' not found");
        api_answer_done(&a);
}

static void test_a_failed_import_is_reported_and_the_agent_goes_on(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = path_in(f, "none.img"), *body = NULL, *err = NULL, *sock = path_in(f, "gone.sock");
        _cleanup_json_ json_t *cmd = NULL, *entry = NULL;
        int64_t id;

        assert_true(asprintf(&body,
                             "{\"command\": \"import\", \"mode\": \"full\", \"disks\": ["
                             "{\"name\": \"disk0\", \"source\": \"nbd+unix:///?socket=%s\", \"sink\": \"%s\"}]}",
                             sock, out) > 0);
        id = queue_command(f, body);
        err = agent_run(f, 0, NULL, NULL);
        assert_contains(err, "Command 1 failed: Import of disk 'disk0' failed: Cannot connect to the source");

        cmd = get_command(f, id);
        assert_string_equal(str(cmd, "status"), "failed");
        assert_true(startswith(str(cmd, "message"), "Import of disk 'disk0' failed: Cannot connect to the source"));
        entry = get_entry(f);
        assert_string_equal(str(entry, "status_message"), str(cmd, "message"));
}

static void test_a_damaged_state_file_is_dropped_and_the_command_fetched_again(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *src = path_in(f, "small.img"), *out = path_in(f, "small.out"), *arg = NULL, *body = NULL,
                            *cmdfile = NULL, *err = NULL, *want = NULL, *got = NULL;
        _cleanup_json_ json_t *cmd = NULL;
        struct api_answer a = {};
        int64_t id;

        make_image(src, 8 * MIB, 3);
        assert_non_null(arg = strjoin("file=", src, NULL));
        nbd_server_start(&f->servers[0], f->d->dir, "small", "file", arg, NULL);
        assert_true(asprintf(&body,
                             "{\"command\": \"import\", \"mode\": \"full\", \"disks\": ["
                             "{\"name\": \"disk0\", \"source\": \"%s\", \"sink\": \"%s\"}]}",
                             f->servers[0].uri, out) > 0);
        id = queue_command(f, body);

        /* A worker fetched it, then its record was spoiled. */
        worker_call(f, "POST", "/internal/worker/" SEED_WEB01 "/:command", f->token, &a);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(a.envelope, "metadata"), "id")), id);
        api_answer_done(&a);
        assert_int_equal(mkdir(f->state_dir, 0700), 0);
        assert_non_null(cmdfile = strjoin(f->state_dir, "/command.json", NULL));
        write_text(cmdfile, "{\"id\": ");

        err = agent_run(f, 0, NULL, NULL);
        assert_contains(err, "/command.json' is damaged: Invalid JSON");
        assert_contains(err, "; asking ferryd for the command instead");
        want = sha256_file(src);
        got = sha256_file(out);
        assert_string_equal(got, want);
        cmd = get_command(f, id);
        assert_string_equal(str(cmd, "status"), "done");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_a_full_import_then_a_delta_and_finalize_give_byte_identical_disks,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_progress_shows_in_the_queue_entry_and_a_killed_agent_resumes_from_its_checkpoint, setup,
                        teardown),
                cmocka_unit_test_setup_teardown(test_an_import_from_a_server_the_worker_starts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_wrong_token_gets_403_and_the_agent_exits_with_a_clear_error,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_an_untrusted_client_reaches_only_the_worker_endpoints, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_a_new_token_replaces_the_old_one, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_wrong_fingerprint_stops_the_agent_before_it_sends_the_token,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_queued_commands_are_validated_and_need_an_existing_entry, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_a_failed_import_is_reported_and_the_agent_goes_on, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_a_damaged_state_file_is_dropped_and_the_command_fetched_again,
                                                setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
