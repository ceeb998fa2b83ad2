/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The copy engine (src/disk) copying from nbdkit into a custom block
 * volume of the lab's incusd through the push sink (src/worker/sink-incus.c),
 * the way `ferry-worker copy` copies into a file: the volume comes back
 * byte-identical through the backup API; a source that fails leaves no
 * volume behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "disk/copy.h"
#include "lab.h"
#include "nbdserver.h"
#include "proc.h"
#include "target/incus/volume.h"
#include "worker/sink-incus.h"

struct fixture {
        char *dir;
        struct incus_client *client;
        struct nbd_server server;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        _cleanup_free_ char *endpoint = strjoin("unix://", lab_env("LAB_INCUS_SOCKET"), NULL);
        struct ferry_error err = {};

        assert_non_null(f);
        assert_non_null(endpoint);
        f->dir = tmpdir_new();
        f->client = incus_client_new(&(struct incus_client_config) { .endpoint = endpoint }, &err);
        if (!f->client)
                fail_msg("%s", err.message);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        nbd_server_stop(&f->server);
        incus_client_free(f->client);
        tmpdir_remove(f->dir);
        free(f->dir);
        free(f);
        return 0;
}

static char *run_line(const char *command)
{
        char line[256] = "";
        FILE *p = popen(command, "r");

        assert_non_null(p);
        if (!fgets(line, sizeof(line), p))
                line[0] = '\0';
        assert_int_equal(pclose(p), 0);
        line[strcspn(line, " \n")] = '\0';
        return strdup(line);
}

/* An image file: random data at a few places, holes elsewhere. */
static char *make_image(struct fixture *f, uint64_t size)
{
        char *path = strjoin(f->dir, "/disk.img", NULL);
        _cleanup_free_ char *cmd = NULL;

        assert_non_null(path);
        assert_true(asprintf(&cmd,
                             "truncate -s %" PRIu64 " %s && "
                             "head -c 1048576 /dev/urandom | dd of=%s conv=notrunc status=none && "
                             "head -c 3000000 /dev/urandom | dd of=%s bs=1 seek=%" PRIu64 " conv=notrunc status=none",
                             size, path, path, path, size - 3000000) > 0);
        assert_int_equal(system(cmd), 0);
        return path;
}

static int copy_into(struct fixture *f, const char *volume, unsigned read_attempts, struct disk_copy_result *res,
                     struct ferry_error *err)
{
        _cleanup_sink_ struct sink *sink = NULL;
        int r;

        r = sink_incus_new(f->client, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"), volume, &sink, err);
        if (r < 0)
                return r;
        return disk_copy(&(struct disk_copy_options) { .source = { .uri = f->server.uri },
                                                       .sink = sink,
                                                       .read_attempts = read_attempts,
                                                       .retry_delay_usec = 1000 },
                         res, err);
}

static char *volume_sha256(struct fixture *f, const char *volume)
{
        _cleanup_free_ char *tarball = strjoin(f->dir, "/export.tar", NULL), *cmd = NULL;
        struct ferry_error err = {};
        int fd;

        assert_non_null(tarball);
        fd = open(tarball, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        if (incus_volume_export(f->client, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"), volume, fd,
                                &err) < 0)
                fail_msg("%s", err.message);
        close(fd);
        assert_true(asprintf(&cmd, "tar -xOf %s backup/volume.img | sha256sum", tarball) > 0);
        return run_line(cmd);
}

static void test_engine_copies_an_odd_sized_disk_into_a_volume_byte_identical(void **state)
{
        struct fixture *f = *state;
        const uint64_t size = (UINT64_C(64) << 20) + 3;
        _cleanup_free_ char *image = make_image(f, size), *cmd = NULL, *want = NULL, *got = NULL;
        struct disk_copy_result res = {};
        struct ferry_error err = {};

        nbd_server_start(&f->server, f->dir, "src", "file", image, NULL);
        if (copy_into(f, "ferry-sink-odd", 0, &res, &err) < 0)
                fail_msg("%s", err.message);
        assert_int_equal(res.size, size);
        assert_int_equal(res.connections, 1);
        /* The holes went as zeros, not as data read. */
        assert_true(res.bytes_zeroed > 0);

        assert_true(asprintf(&cmd, "sha256sum %s", image) > 0);
        want = run_line(cmd);
        got = volume_sha256(f, "ferry-sink-odd");
        assert_string_equal(got, want);

        if (incus_volume_delete(f->client, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"), "ferry-sink-odd",
                                &err) < 0)
                fail_msg("%s", err.message);
}

static void test_failing_source_aborts_the_push_and_leaves_no_volume(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *vol = NULL;
        struct disk_copy_result res = {};
        struct ferry_error err = {};

        nbd_server_start(&f->server, f->dir, "faulty", "--filter=error", "pattern", "size=16M", "error=EIO",
                         "error-pread-rate=100%", NULL);
        assert_int_equal(copy_into(f, "ferry-sink-broken", 1, &res, &err), -EIO);
        assert_true(startswith(err.message, "Cannot read the source at offset 0"));
        assert_int_equal(incus_volume_get(f->client, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"),
                                          "ferry-sink-broken", &vol, &err),
                         -ENOENT);
}

static void test_out_of_order_writes_are_refused(void **state)
{
        struct fixture *f = *state;
        _cleanup_sink_ struct sink *sink = NULL;
        _cleanup_json_ json_t *vol = NULL;
        struct ferry_error err = {};
        char buf[4096] = { 1 };

        if (sink_incus_new(f->client, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"), "ferry-sink-order",
                           &sink, &err) < 0)
                fail_msg("%s", err.message);
        if (sink->ops->start(sink, 1 << 20, false, &err) < 0)
                fail_msg("%s", err.message);
        assert_int_equal(sink->ops->write(sink, buf, sizeof(buf), 8192, &err), -EINVAL);
        assert_string_equal(err.message, "The volume 'incus:default/ferry-sink-order' got offset 8192 while at 0: "
                                         "a push takes the disk in order only");
        sink_free(TAKE_PTR(sink));
        /* Freed unfinished: Incus drops what it was making. */
        assert_int_equal(incus_volume_get(f->client, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"),
                                          "ferry-sink-order", &vol, &err),
                         -ENOENT);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(test_engine_copies_an_odd_sized_disk_into_a_volume_byte_identical),
                T(test_failing_source_aborts_the_push_and_leaves_no_volume),
                T(test_out_of_order_writes_are_refused),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
