/* SPDX-License-Identifier: Apache-2.0 */
/* Disk access shared by the source drivers (src/source/disk.c). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "source/disk.h"

static void test_datastore_path_splits_into_datastore_and_path(void **state)
{
        _cleanup_free_ char *ds = NULL, *path = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(source_datastore_path_split("[ds-east 01] web01/web01-000001.vmdk", &ds, &path, &err), 0);
        assert_string_equal(ds, "ds-east 01");
        assert_string_equal(path, "web01/web01-000001.vmdk");
}

static void test_datastore_path_without_brackets_is_invalid(void **state)
{
        char *ds = NULL, *path = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(source_datastore_path_split("web01/web01.vmdk", &ds, &path, &err), -EINVAL);
        assert_string_equal(err.message, "Invalid datastore path 'web01/web01.vmdk': expected '[datastore] path'");
        assert_int_equal(source_datastore_path_split("[ds1] ", &ds, &path, &err), -EINVAL);
        assert_string_equal(err.message, "Invalid datastore path '[ds1] ': expected '[datastore] path'");
        assert_null(ds);
}

static void test_datastore_map_joins_the_mount_and_the_path(void **state)
{
        _cleanup_json_ json_t *mounts = json_pack("{s:s, s:s}", "ds1", "/mnt/ds1", "ds2", "/mnt/ds2/");
        _cleanup_free_ char *p1 = NULL, *p2 = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(source_datastore_map(mounts, "[ds1] web/web.vmdk", &p1, &err), 0);
        assert_string_equal(p1, "/mnt/ds1/web/web.vmdk");
        assert_int_equal(source_datastore_map(mounts, "[ds2] db/db_1.vmdk", &p2, &err), 0);
        assert_string_equal(p2, "/mnt/ds2/db/db_1.vmdk");
}

static void test_datastore_map_names_an_unmapped_datastore(void **state)
{
        _cleanup_json_ json_t *mounts = json_pack("{s:s}", "ds1", "/mnt/ds1");
        char *p = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(source_datastore_map(mounts, "[ds9] web/web.vmdk", &p, &err), -ENOENT);
        assert_string_equal(err.message, "Datastore 'ds9' has no mount in disk_access.datastore_mounts");
        assert_null(p);
}

static void test_datastore_map_refuses_paths_that_climb_out(void **state)
{
        _cleanup_json_ json_t *mounts = json_pack("{s:s}", "ds1", "/mnt/ds1");
        char *p = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(source_datastore_map(mounts, "[ds1] web/../../etc/shadow", &p, &err), -EINVAL);
        assert_string_equal(err.message, "Datastore path '[ds1] web/../../etc/shadow' leaves its datastore");
        assert_int_equal(source_datastore_map(mounts, "[ds1] /etc/shadow", &p, &err), -EINVAL);
        /* ".." inside a name is fine. */
        assert_int_equal(source_datastore_map(mounts, "[ds1] web/a..b.vmdk", &p, &err), 0);
        assert_string_equal(p, "/mnt/ds1/web/a..b.vmdk");
        free(p);
}

static const struct source_uri_var vars[] = {
        { "vm", "web 01" },
        { "datastore", "ds1" },
        { "path", "web01/web01.vmdk" },
        { "file", "[ds1] web01/web01.vmdk" },
};

static void test_uri_template_replaces_placeholders_percent_encoded(void **state)
{
        _cleanup_free_ char *uri = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(source_uri_template_expand("nbd://nas:10809/{datastore}/{path}?vm={vm}&f={file}", vars,
                                                    ELEMENTSOF(vars), &uri, &err),
                         0);
        assert_string_equal(uri, "nbd://nas:10809/ds1/web01/web01.vmdk?vm=web%2001&f=%5Bds1%5D%20web01/web01.vmdk");
}

static void test_uri_template_keeps_doubled_braces_literal(void **state)
{
        _cleanup_free_ char *uri = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(source_uri_template_expand("nbd://h/{{x}}{vm}", vars, ELEMENTSOF(vars), &uri, &err), 0);
        assert_string_equal(uri, "nbd://h/{x}web%2001");
}

static void test_uri_template_names_an_unknown_placeholder(void **state)
{
        char *uri = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(source_uri_template_expand("nbd://h/{host}/{vm}", vars, ELEMENTSOF(vars), &uri, &err),
                         -EINVAL);
        assert_string_equal(err.message, "Unknown placeholder '{host}' in the NBD URI template");
        assert_int_equal(source_uri_template_expand("nbd://h/{vm", vars, ELEMENTSOF(vars), &uri, &err), -EINVAL);
        assert_string_equal(err.message, "Unterminated placeholder in the NBD URI template");
        assert_null(uri);
}

static void test_qemu_nbd_serves_the_descriptor_read_only_on_the_socket(void **state)
{
        _cleanup_argv_ char **argv = NULL;
        struct strbuf sb = STRBUF_INIT;
        _cleanup_free_ char *s = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(source_qemu_nbd_argv("/mnt/ds1/web/web-000001.vmdk", "/run/f/d.sock", &argv, &err), 0);
        for (char **a = argv; *a; a++)
                assert_int_equal(strbuf_appendf(&sb, "%s%s", a == argv ? "" : " ", *a), 0);
        s = strbuf_steal(&sb);
        assert_string_equal(s, "qemu-nbd --read-only --format=vmdk --persistent --shared=16 --socket=/run/f/d.sock -- "
                               "/mnt/ds1/web/web-000001.vmdk");
}

/* A temp dir for sockets and logs. */
static char *tmpdir(void)
{
        char tmpl[] = "/tmp/ferry-test-disk.XXXXXX";

        assert_non_null(mkdtemp(tmpl));
        return strdup(tmpl);
}

static void test_a_server_that_exits_is_reported_with_its_last_output(void **state)
{
        _cleanup_free_ char *dir = tmpdir(), *sock = strjoin(dir, "/s.sock", NULL), *log = strjoin(dir, "/s.log", NULL);
        char *const argv[] = { "sh", "-c", "echo starting; echo 'cannot open disk' >&2; exit 3", NULL };
        struct source_disk *d = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(source_disk_serve(argv, sock, log, 5000, &d, &err), -EIO);
        assert_string_equal(err.message, "'sh' exited with status 3: cannot open disk");
        assert_null(d);
        /* The log is gone with the failed disk. */
        assert_int_equal(access(log, F_OK), -1);
        rmdir(dir);
}

static void test_a_missing_server_program_is_named(void **state)
{
        _cleanup_free_ char *dir = tmpdir(), *sock = strjoin(dir, "/s.sock", NULL), *log = strjoin(dir, "/s.log", NULL);
        char *const argv[] = { "ferry-no-such-nbd-server", NULL };
        struct source_disk *d = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(source_disk_serve(argv, sock, log, 5000, &d, &err), -ENOENT);
        assert_true(startswith(err.message, "Cannot run 'ferry-no-such-nbd-server'"));
        rmdir(dir);
}

static void test_a_server_that_never_listens_times_out_and_is_stopped(void **state)
{
        _cleanup_free_ char *dir = tmpdir(), *sock = strjoin(dir, "/s.sock", NULL), *log = strjoin(dir, "/s.log", NULL),
                            *pidfile = strjoin(dir, "/pid", NULL), *cmd = NULL, *expected = NULL;
        struct source_disk *d = NULL;
        struct ferry_error err = {};
        pid_t pid;

        (void) state;
        cmd = strjoin("echo $$ >", pidfile, "; exec sleep 30", NULL);
        char *const argv[] = { "sh", "-c", cmd, NULL };
        assert_int_equal(source_disk_serve(argv, sock, log, 300, &d, &err), -ETIMEDOUT);
        expected = strjoin("'sh' did not listen on '", sock, "' within 300 ms", NULL);
        assert_string_equal(err.message, expected);
        {
                FILE *f = fopen(pidfile, "r");
                int v = 0;

                assert_non_null(f);
                assert_int_equal(fscanf(f, "%d", &v), 1);
                fclose(f);
                pid = v;
        }
        /* Stopped and reaped: the pid is gone. */
        assert_int_equal(kill(pid, 0), -1);
        assert_int_equal(errno, ESRCH);
        unlink(pidfile);
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_datastore_path_splits_into_datastore_and_path),
                cmocka_unit_test(test_datastore_path_without_brackets_is_invalid),
                cmocka_unit_test(test_datastore_map_joins_the_mount_and_the_path),
                cmocka_unit_test(test_datastore_map_names_an_unmapped_datastore),
                cmocka_unit_test(test_datastore_map_refuses_paths_that_climb_out),
                cmocka_unit_test(test_uri_template_replaces_placeholders_percent_encoded),
                cmocka_unit_test(test_uri_template_keeps_doubled_braces_literal),
                cmocka_unit_test(test_uri_template_names_an_unknown_placeholder),
                cmocka_unit_test(test_qemu_nbd_serves_the_descriptor_read_only_on_the_socket),
                cmocka_unit_test(test_a_server_that_exits_is_reported_with_its_last_output),
                cmocka_unit_test(test_a_missing_server_program_is_named),
                cmocka_unit_test(test_a_server_that_never_listens_times_out_and_is_stopped),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
