/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/remotes.h"
#include "common/fileio.h"
#include "common/strbuf.h"

#define FP1 "983b4fbc50af93a101375e5bbd285ddc8f3e658c7fece3f908d80860e215c078"
#define FP1_OPENSSL \
        "98:3B:4F:BC:50:AF:93:A1:01:37:5E:5B:BD:28:5D:DC:8F:3E:65:8C:7F:EC:E3:F9:08:D8:08:60:E2:15:C0:78"
#define FP2 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

struct fixture {
        char dir[64];
        char *conf;     /* <dir>/conf: does not exist until saved */
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/ferry-test-remotes-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        assert_non_null(f->conf = strjoin(f->dir, "/conf", NULL));
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *cmd = NULL;

        assert_non_null(cmd = strjoin("rm -rf '", f->dir, "'", NULL));
        assert_int_equal(system(cmd), 0);
        free(f->conf);
        free(f);
        return 0;
}

static struct remotes *load(const char *dir)
{
        struct ferry_error err = {};
        struct remotes *r = NULL;

        if (remotes_load(dir, &r, &err) < 0)
                fail_msg("remotes_load: %s", ferry_error_message(&err));
        return r;
}

static void write_config(struct fixture *f, const char *text)
{
        _cleanup_free_ char *path = strjoin(f->conf, "/config.yml", NULL);
        struct ferry_error err = {};

        assert_non_null(path);
        mkdir(f->conf, 0700);
        assert_int_equal(fileio_write_atomic(path, text, strlen(text), 0600, &err), 0);
}

static void assert_load_fails(struct fixture *f, const char *text, const char *message)
{
        _cleanup_free_ char *expected = NULL;
        struct ferry_error err = {};
        struct remotes *r = NULL;

        write_config(f, text);
        assert_int_equal(remotes_load(f->conf, &r, &err), -EINVAL);
        assert_non_null(expected = strjoin("Config file '", f->conf, "/config.yml': ", message, NULL));
        assert_string_equal(ferry_error_message(&err), expected);
        assert_null(r);
}

static void assert_addr(const char *in, const char *out)
{
        _cleanup_free_ char *addr = NULL;
        struct ferry_error err = {};

        if (remotes_normalize_addr(in, &addr, &err) < 0)
                fail_msg("'%s': %s", in, ferry_error_message(&err));
        assert_string_equal(addr, out);
}

static void assert_addr_fails(const char *in, const char *message)
{
        char *addr = NULL;
        struct ferry_error err = {};

        assert_int_equal(remotes_normalize_addr(in, &addr, &err), -EINVAL);
        assert_string_equal(ferry_error_message(&err), message);
        assert_null(addr);
}

static void test_a_missing_config_has_only_the_local_remote(void **state)
{
        struct fixture *f = *state;
        _cleanup_remotes_ struct remotes *r = load(f->conf);

        assert_string_equal(r->default_remote, "local");
        assert_int_equal(r->n_items, 0);
        assert_null(remotes_find(r, "local"));
}

static void test_saved_remotes_load_back_sorted_with_the_default(void **state)
{
        struct fixture *f = *state;
        _cleanup_remotes_ struct remotes *r = load(f->conf), *back = NULL;
        struct ferry_error err = {};
        struct stat st;

        assert_int_equal(remotes_add(r, "zeta", "https://10.0.0.2:9443", FP2, &err), 0);
        assert_int_equal(remotes_add(r, "alpha", "10.0.0.1", FP1_OPENSSL, &err), 0);
        assert_int_equal(remotes_set_default(r, "zeta", &err), 0);
        assert_int_equal(remotes_save(r, &err), 0);

        assert_int_equal(stat(f->conf, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);

        back = load(f->conf);
        assert_string_equal(back->default_remote, "zeta");
        assert_int_equal(back->n_items, 2);
        assert_string_equal(back->items[0].name, "alpha");
        assert_string_equal(back->items[0].addr, "https://10.0.0.1:8443");
        assert_string_equal(back->items[0].fingerprint, FP1);
        assert_string_equal(back->items[1].name, "zeta");
        assert_string_equal(back->items[1].addr, "https://10.0.0.2:9443");
}

static void test_the_config_file_is_yaml_only_its_owner_reads(void **state)
{
        struct fixture *f = *state;
        _cleanup_remotes_ struct remotes *r = load(f->conf);
        _cleanup_free_ char *path = NULL, *text = NULL;
        struct ferry_error err = {};
        struct stat st;

        assert_int_equal(remotes_add(r, "r1", "https://127.0.0.1:8443", FP1, &err), 0);
        assert_int_equal(remotes_save(r, &err), 0);

        assert_non_null(path = strjoin(f->conf, "/config.yml", NULL));
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(fileio_read(path, 4096, &text, NULL), 0);
        assert_string_equal(text, "default-remote: local\n"
                                  "remotes:\n"
                                  "  r1:\n"
                                  "    addr: https://127.0.0.1:8443\n"
                                  "    fingerprint: '" FP1 "'\n");
}

static void test_adding_a_remote_twice_or_local_is_refused(void **state)
{
        struct fixture *f = *state;
        _cleanup_remotes_ struct remotes *r = load(f->conf);
        struct ferry_error err = {};

        assert_int_equal(remotes_add(r, "r1", "127.0.0.1", FP1, &err), 0);
        assert_int_equal(remotes_add(r, "r1", "127.0.0.2", FP1, &err), -EEXIST);
        assert_string_equal(ferry_error_message(&err), "Remote 'r1' already exists");
        assert_int_equal(remotes_add(r, "local", "127.0.0.2", FP1, &err), -EEXIST);
        assert_string_equal(ferry_error_message(&err), "Remote 'local' already exists");
        assert_int_equal(r->n_items, 1);
}

static void test_adding_a_remote_checks_name_and_fingerprint(void **state)
{
        struct fixture *f = *state;
        _cleanup_remotes_ struct remotes *r = load(f->conf);
        struct ferry_error err = {};

        assert_int_equal(remotes_add(r, "a:b", "127.0.0.1", FP1, &err), -EINVAL);
        assert_string_equal(ferry_error_message(&err),
                            "Invalid remote name 'a:b': use letters, digits, '-', '_' and '.', starting with a letter "
                            "or digit");
        assert_int_equal(remotes_add(r, "", "127.0.0.1", FP1, &err), -EINVAL);
        assert_string_equal(ferry_error_message(&err), "A remote name must not be empty");
        assert_int_equal(remotes_add(r, "r1", "127.0.0.1", "abc", &err), -EINVAL);
        assert_string_equal(ferry_error_message(&err), "'abc' is not a SHA-256 certificate fingerprint");
        assert_int_equal(r->n_items, 0);
}

static void test_removing_the_default_remote_makes_local_the_default(void **state)
{
        struct fixture *f = *state;
        _cleanup_remotes_ struct remotes *r = load(f->conf);
        struct ferry_error err = {};

        assert_int_equal(remotes_add(r, "a", "127.0.0.1", FP1, &err), 0);
        assert_int_equal(remotes_add(r, "b", "127.0.0.2", FP2, &err), 0);
        assert_int_equal(remotes_set_default(r, "a", &err), 0);
        assert_int_equal(remotes_remove(r, "a", &err), 0);

        assert_string_equal(r->default_remote, "local");
        assert_int_equal(r->n_items, 1);
        assert_string_equal(r->items[0].name, "b");
        assert_null(remotes_find(r, "a"));
}

static void test_removing_local_or_an_unknown_remote_is_refused(void **state)
{
        struct fixture *f = *state;
        _cleanup_remotes_ struct remotes *r = load(f->conf);
        struct ferry_error err = {};

        assert_int_equal(remotes_remove(r, "local", &err), -EPERM);
        assert_string_equal(ferry_error_message(&err), "The remote 'local' cannot be removed");
        assert_int_equal(remotes_remove(r, "nope", &err), -ENOENT);
        assert_string_equal(ferry_error_message(&err), "Remote 'nope' does not exist");
}

static void test_switching_to_an_unknown_remote_is_refused(void **state)
{
        struct fixture *f = *state;
        _cleanup_remotes_ struct remotes *r = load(f->conf);
        struct ferry_error err = {};

        assert_int_equal(remotes_set_default(r, "nope", &err), -ENOENT);
        assert_string_equal(ferry_error_message(&err), "Remote 'nope' does not exist");
        assert_int_equal(remotes_set_default(r, "local", &err), 0);
        assert_string_equal(r->default_remote, "local");
}

static void test_addresses_become_https_urls_with_a_port(void **state)
{
        (void) state;
        assert_addr("https://ferry.example.org:9443", "https://ferry.example.org:9443");
        assert_addr("https://ferry.example.org", "https://ferry.example.org:8443");
        assert_addr("https://ferry.example.org/", "https://ferry.example.org:8443");
        assert_addr("10.0.0.1:8443", "https://10.0.0.1:8443");
        assert_addr("[::1]", "https://[::1]:8443");
        assert_addr("https://[::1]:9000", "https://[::1]:9000");
}

static void test_addresses_that_are_not_https_host_port_are_refused(void **state)
{
        (void) state;
        assert_addr_fails("http://10.0.0.1", "Remote address 'http://10.0.0.1' must be https://HOST[:PORT]");
        assert_addr_fails("unix:///run/x", "Remote address 'unix:///run/x' must be https://HOST[:PORT]");
        assert_addr_fails("https://host/1.0", "Remote address 'https://host/1.0' must be https://HOST[:PORT]");
        assert_addr_fails("https://host:0", "Remote address 'https://host:0' has an invalid port");
        assert_addr_fails("https://host:x", "Remote address 'https://host:x' has an invalid port");
        assert_addr_fails("::1", "Remote address '::1': write an IPv6 address in brackets, like [::1]:8443");
        assert_addr_fails("", "A remote address must not be empty");
}

static void test_loading_refuses_unknown_keys_and_incomplete_remotes(void **state)
{
        struct fixture *f = *state;

        assert_load_fails(f, "default-remote: local\ncolour: blue\n", "Unknown field 'colour'");
        assert_load_fails(f, "remotes:\n  r1:\n    addr: https://h:1\n", "Remote 'r1' has no fingerprint");
        assert_load_fails(f, "remotes:\n  r1:\n    fingerprint: " FP1 "\n", "Remote 'r1' has no addr");
        assert_load_fails(f, "remotes:\n  r1:\n    addr: https://h:1\n    fingerprint: " FP1 "\n    port: 1\n",
                          "Remote 'r1': Unknown field 'port'");
        assert_load_fails(f, "default-remote: r9\n", "The default remote 'r9' does not exist");
        assert_load_fails(f, "remotes:\n  local:\n    addr: https://h:1\n    fingerprint: " FP1 "\n",
                          "The remote 'local' is the unix socket and cannot be configured");
}

static void test_the_client_certificate_is_made_once_with_a_private_key(void **state)
{
        struct fixture *f = *state;
        _cleanup_remotes_ struct remotes *r = load(f->conf);
        _cleanup_free_ char *cert1 = NULL, *key1 = NULL, *cert2 = NULL, *key2 = NULL;
        char fp1[FINGERPRINT_HEX_SIZE], fp2[FINGERPRINT_HEX_SIZE];
        struct ferry_error err = {};
        struct stat st;

        assert_int_equal(remotes_client_cert(r, &cert1, &key1, fp1, &err), 0);
        assert_int_equal(remotes_client_cert(r, &cert2, &key2, fp2, &err), 0);
        assert_string_equal(fp1, fp2);
        assert_string_equal(cert1, cert2);
        assert_true(endswith(cert1, "/conf/client.crt"));
        assert_true(endswith(key1, "/conf/client.key"));
        assert_int_equal(stat(key1, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_the_config_dir_is_ferry_conf_or_under_home(void **state)
{
        _cleanup_free_ char *a = NULL, *b = NULL;
        const char *old_home = getenv("HOME");
        _cleanup_free_ char *saved_home = old_home ? strdup(old_home) : NULL;
        struct ferry_error err = {};

        (void) state;
        setenv("FERRY_CONF", "/srv/ferry-conf", 1);
        assert_int_equal(remotes_dir(&a, &err), 0);
        assert_string_equal(a, "/srv/ferry-conf");

        unsetenv("FERRY_CONF");
        setenv("HOME", "/home/alice", 1);
        assert_int_equal(remotes_dir(&b, &err), 0);
        assert_string_equal(b, "/home/alice/.config/ferry");

        if (saved_home)
                setenv("HOME", saved_home, 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_a_missing_config_has_only_the_local_remote, setup, teardown),
                cmocka_unit_test_setup_teardown(test_saved_remotes_load_back_sorted_with_the_default, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_the_config_file_is_yaml_only_its_owner_reads, setup, teardown),
                cmocka_unit_test_setup_teardown(test_adding_a_remote_twice_or_local_is_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_adding_a_remote_checks_name_and_fingerprint, setup, teardown),
                cmocka_unit_test_setup_teardown(test_removing_the_default_remote_makes_local_the_default, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_removing_local_or_an_unknown_remote_is_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_switching_to_an_unknown_remote_is_refused, setup, teardown),
                cmocka_unit_test(test_addresses_become_https_urls_with_a_port),
                cmocka_unit_test(test_addresses_that_are_not_https_host_port_are_refused),
                cmocka_unit_test_setup_teardown(test_loading_refuses_unknown_keys_and_incomplete_remotes, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_the_client_certificate_is_made_once_with_a_private_key, setup,
                                                teardown),
                cmocka_unit_test(test_the_config_dir_is_ferry_conf_or_under_home),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
