/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Crash safety: a child process writes objects in a loop and reports each
 * one after its commit returns; it is killed with SIGKILL in the middle of
 * the burst.  The database must open again, hold every acknowledged write,
 * and hold no partial transaction.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "db-test.h"
#include "db/db-internal.h"
#include "db/instance.h"
#include "db/source.h"

#define INSTANCES_PER_SOURCE 3
#define MIN_ACKS 20
#define KILL_AFTER_MSEC 200

static int64_t now_msec(void)
{
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One write: a source and its instances in one transaction. */
static int write_source(struct db *db, const char *name, struct ferry_error *err)
{
        _cleanup_json_ json_t *source = NULL;
        char secret[64];
        int r;

        (void) snprintf(secret, sizeof secret, "secret-%s", name);
        source = json_pack("{sssss{sssssssi}}", "name", name, "type", "vmware", "properties", "endpoint",
                           "https://vcenter.example.org/sdk", "username", "admin", "password", secret,
                           "import_limit", 50);
        if (!source)
                return -ENOMEM;

        r = db_begin(db, err);
        if (r < 0)
                return r;
        r = db_source_create(db, source, err);
        for (int i = 0; i < INSTANCES_PER_SOURCE && r >= 0; i++) {
                _cleanup_json_ json_t *instance = NULL;
                char uuid[64];

                (void) snprintf(uuid, sizeof uuid, "%s-vm%d", name, i);
                instance = json_pack("{sssssssssisI}", "uuid", uuid, "source", name, "name", uuid, "location",
                                     "/dc1/vm", "cpus", 2, "memory", (json_int_t) 4294967296);
                r = instance ? db_instance_put(db, instance, err) : -ENOMEM;
        }
        return db_end(db, r, err);
}

/* The child: write until killed, acknowledging each committed name on fd. */
_noreturn_ static void writer(const char *path, int fd)
{
        struct ferry_error err = {};
        struct db *db = NULL;

        if (db_open(path, &db, &err) < 0)
                _exit(2);
        for (unsigned i = 0;; i++) {
                char line[32];
                int n;

                n = snprintf(line, sizeof line, "s%07u\n", i);
                line[n - 1] = '\0';
                if (write_source(db, line, &err) < 0)
                        _exit(3);
                line[n - 1] = '\n';
                if (write(fd, line, (size_t) n) != n)
                        _exit(4);
        }
}

/* Read what is there on fd into sb, waiting up to timeout_ms; false at end of file. */
static bool read_acks(int fd, struct strbuf *sb, int timeout_ms)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };
        char buf[4096];
        ssize_t n;

        if (poll(&p, 1, timeout_ms) <= 0)
                return true;
        n = read(fd, buf, sizeof buf);
        assert_true(n >= 0);
        assert_int_equal(strbuf_append_len(sb, buf, (size_t) n), 0);
        return n > 0;
}

static size_t count_lines(const char *s)
{
        size_t n = 0;

        for (; *s; s++)
                n += *s == '\n';
        return n;
}

/* Every field of a source and its instances is there: no partial object, no partial transaction. */
static void assert_source_complete(struct db *db, const char *name)
{
        _cleanup_json_ json_t *source = NULL, *instances = NULL;
        struct ferry_error err = {};
        char secret[64];
        int64_t usec;
        json_t *instance;
        size_t i;

        assert_ok(db_source_get(db, name, &source, &err), &err);
        (void) snprintf(secret, sizeof secret, "secret-%s", name);
        assert_string_equal(json_string_value(json_object_get(json_object_get(source, "properties"), "password")),
                            secret);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(source, "properties"), "import_limit")),
                         50);
        assert_int_equal(timestamp_parse_rfc3339(json_string_value(json_object_get(source, "created_at")), &usec),
                         0);

        assert_ok(db_instance_list(db, name, &instances, &err), &err);
        assert_int_equal(json_array_size(instances), INSTANCES_PER_SOURCE);
        json_array_foreach(instances, i, instance)
                assert_int_equal(json_integer_value(json_object_get(instance, "memory")), 4294967296);
}

static void test_kill_9_in_a_burst_of_writes_loses_no_acknowledged_write(void **state)
{
        struct db_test *t = *state;
        _cleanup_strbuf_ struct strbuf acks = STRBUF_INIT;
        _cleanup_json_ json_t *sources = NULL, *instances = NULL;
        _cleanup_free_ char *integrity = NULL;
        struct ferry_error err = {};
        int64_t start, killed_at;
        int fds[2], status;
        size_t acked;
        json_t *source;
        pid_t pid;
        size_t i;

        assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(fds[0]);
                writer(t->path, fds[1]);
        }
        close(fds[1]);

        /* Let it get going (slow under valgrind), then kill it mid-burst. */
        start = now_msec();
        while (count_lines(strbuf_str(&acks)) < MIN_ACKS && now_msec() - start < 60000)
                assert_true(read_acks(fds[0], &acks, 100));
        killed_at = now_msec() + KILL_AFTER_MSEC;
        while (now_msec() < killed_at)
                assert_true(read_acks(fds[0], &acks, 10));
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        while (read_acks(fds[0], &acks, 1000))
                ;
        close(fds[0]);

        acked = count_lines(strbuf_str(&acks));
        print_message("%zu writes acknowledged before SIGKILL\n", acked);
        assert_true(acked >= MIN_ACKS);

        assert_ok(db_open(t->path, &t->db, &err), &err);
        for (char *line = acks.data; line && *line;) {
                char *end = strchr(line, '\n');

                *end = '\0';
                assert_source_complete(t->db, line);
                line = end + 1;
        }

        /* At most the write in flight committed without its acknowledgement, and whole. */
        assert_ok(db_source_list(t->db, &sources, &err), &err);
        assert_true(json_array_size(sources) == acked || json_array_size(sources) == acked + 1);
        json_array_foreach(sources, i, source)
                assert_source_complete(t->db, json_string_value(json_object_get(source, "name")));
        assert_ok(db_instance_list(t->db, NULL, &instances, &err), &err);
        assert_int_equal(json_array_size(instances), INSTANCES_PER_SOURCE * json_array_size(sources));

        {
                _cleanup_stmt_ sqlite3_stmt *stmt = NULL;

                assert_ok(db_prepare(t->db, "PRAGMA integrity_check", &stmt, &err), &err);
                assert_int_equal(db_step(t->db, stmt, &err), 1);
                integrity = strdup(db_column_text(stmt, 0));
        }
        assert_string_equal(integrity, "ok");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_kill_9_in_a_burst_of_writes_loses_no_acknowledged_write,
                                                db_test_setup_unopened, db_test_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
