/* SPDX-License-Identifier: Apache-2.0 */
/* The nbdkit vddk command line of a VMware disk (src/source/vmware/vddk.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/strbuf.h"
#include "source/disk.h"
#include "source/vmware/vddk.h"

#define THUMB "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01"

static struct vmware_vddk_params params(void)
{
        return (struct vmware_vddk_params) {
                .libdir = "/var/lib/ferry/vddk/vmware-vix-disklib-distrib",
                .server = "vc.example.org",
                .user = "administrator@vsphere.local",
                .password_file = "/run/ferry/p.pw",
                .thumbprint = THUMB,
                .vm_moref = "vm-42",
                .snapshot = "snapshot-7",
                .file = "[ds1] web01/web01.vmdk",
                .socket_path = "/run/ferry/d.sock",
        };
}

/* argv joined by '|' for one comparison. */
static char *joined(char **argv)
{
        struct strbuf sb = STRBUF_INIT;

        for (char **a = argv; *a; a++)
                assert_int_equal(strbuf_appendf(&sb, "%s%s", a == argv ? "" : "|", *a), 0);
        return strbuf_steal(&sb);
}

static void test_vddk_argv_names_server_vm_snapshot_and_file(void **state)
{
        struct vmware_vddk_params p = params();
        _cleanup_argv_ char **argv = NULL;
        _cleanup_free_ char *s = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(vmware_vddk_argv(&p, &argv, &err), 0);
        s = joined(argv);
        assert_string_equal(s, "nbdkit|--exit-with-parent|--readonly|--unix|/run/ferry/d.sock|vddk|"
                               "libdir=/var/lib/ferry/vddk/vmware-vix-disklib-distrib|server=vc.example.org|"
                               "user=administrator@vsphere.local|password=+/run/ferry/p.pw|thumbprint=" THUMB "|"
                               "vm=moref=vm-42|snapshot=snapshot-7|file=[ds1] web01/web01.vmdk");
}

static void test_vddk_argv_never_holds_the_password_itself(void **state)
{
        struct vmware_vddk_params p = params();
        _cleanup_argv_ char **argv = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(vmware_vddk_argv(&p, &argv, &err), 0);
        for (char **a = argv; *a; a++)
                if (startswith(*a, "password="))
                        assert_string_equal(*a, "password=+/run/ferry/p.pw");
}

static void test_vddk_argv_without_snapshot_reads_the_current_disk(void **state)
{
        struct vmware_vddk_params p = params();
        _cleanup_argv_ char **argv = NULL;
        _cleanup_free_ char *s = NULL;
        struct ferry_error err = {};

        (void) state;
        p.snapshot = NULL;
        assert_int_equal(vmware_vddk_argv(&p, &argv, &err), 0);
        s = joined(argv);
        assert_null(strstr(s, "snapshot="));
        assert_non_null(strstr(s, "|vm=moref=vm-42|file=[ds1] web01/web01.vmdk"));
}

static void test_vddk_argv_names_a_port_other_than_443(void **state)
{
        struct vmware_vddk_params p = params();
        _cleanup_argv_ char **argv = NULL, **argv443 = NULL;
        _cleanup_free_ char *s = NULL, *s443 = NULL;
        struct ferry_error err = {};

        (void) state;
        p.port = 8443;
        assert_int_equal(vmware_vddk_argv(&p, &argv, &err), 0);
        s = joined(argv);
        assert_non_null(strstr(s, "|server=vc.example.org|port=8443|"));
        p.port = 443;
        assert_int_equal(vmware_vddk_argv(&p, &argv443, &err), 0);
        s443 = joined(argv443);
        assert_null(strstr(s443, "port="));
}

static void test_vddk_argv_without_libdir_asks_for_the_artifact(void **state)
{
        struct vmware_vddk_params p = params();
        char **argv = NULL;
        struct ferry_error err = {};

        (void) state;
        p.libdir = NULL;
        assert_int_equal(vmware_vddk_argv(&p, &argv, &err), -EINVAL);
        assert_null(argv);
        assert_string_equal(err.message, "VDDK access needs the VDDK library directory: upload the VDDK as an "
                                         "artifact of type 'vddk'");
}

static void test_vddk_argv_refuses_a_sha256_fingerprint_as_thumbprint(void **state)
{
        struct vmware_vddk_params p = params();
        char **argv = NULL;
        struct ferry_error err = {};

        (void) state;
        p.thumbprint = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_int_equal(vmware_vddk_argv(&p, &argv, &err), -EINVAL);
        assert_string_equal(err.message,
                            "Invalid SHA-1 thumbprint '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'");
}

static void test_vddk_argv_refuses_a_file_without_datastore(void **state)
{
        struct vmware_vddk_params p = params();
        char **argv = NULL;
        struct ferry_error err = {};

        (void) state;
        p.file = "web01/web01.vmdk";
        assert_int_equal(vmware_vddk_argv(&p, &argv, &err), -EINVAL);
        assert_string_equal(err.message, "Invalid VMDK file 'web01/web01.vmdk': expected '[datastore] path'");
}

static void test_endpoint_host_and_port_come_from_the_url(void **state)
{
        _cleanup_free_ char *h1 = NULL, *h2 = NULL, *h3 = NULL;
        int p1 = -1, p2 = -1, p3 = -1;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(vmware_endpoint_host_port("https://vc.example.org/sdk", &h1, &p1, &err), 0);
        assert_string_equal(h1, "vc.example.org");
        assert_int_equal(p1, 0);
        assert_int_equal(vmware_endpoint_host_port("https://127.0.0.1:8989/sdk", &h2, &p2, &err), 0);
        assert_string_equal(h2, "127.0.0.1");
        assert_int_equal(p2, 8989);
        assert_int_equal(vmware_endpoint_host_port("https://[::1]:443", &h3, &p3, &err), 0);
        assert_string_equal(h3, "::1");
        assert_int_equal(p3, 443);
}

static void test_endpoint_without_scheme_is_invalid(void **state)
{
        char *h = NULL;
        int p = 0;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(vmware_endpoint_host_port("vc.example.org:abc", &h, &p, &err), -EINVAL);
        assert_string_equal(err.message, "Invalid endpoint 'vc.example.org:abc'");
        assert_int_equal(vmware_endpoint_host_port("https://vc:99999/sdk", &h, &p, &err), -EINVAL);
        assert_string_equal(err.message, "Invalid endpoint 'https://vc:99999/sdk'");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_vddk_argv_names_server_vm_snapshot_and_file),
                cmocka_unit_test(test_vddk_argv_never_holds_the_password_itself),
                cmocka_unit_test(test_vddk_argv_without_snapshot_reads_the_current_disk),
                cmocka_unit_test(test_vddk_argv_names_a_port_other_than_443),
                cmocka_unit_test(test_vddk_argv_without_libdir_asks_for_the_artifact),
                cmocka_unit_test(test_vddk_argv_refuses_a_sha256_fingerprint_as_thumbprint),
                cmocka_unit_test(test_vddk_argv_refuses_a_file_without_datastore),
                cmocka_unit_test(test_endpoint_host_and_port_come_from_the_url),
                cmocka_unit_test(test_endpoint_without_scheme_is_invalid),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
