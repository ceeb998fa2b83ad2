/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Custom block volumes in the lab's incusd: create and delete, and disks
 * pushed through the migration protocol that come back byte-identical
 * through the backup API.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/strbuf.h"
#include "lab.h"
#include "target/incus/volume.h"
#include "target/incus/websocket.h"

static struct incus_client *unix_client(void)
{
        _cleanup_free_ char *endpoint = strjoin("unix://", lab_env("LAB_INCUS_SOCKET"), NULL);
        struct ferry_error err = {};
        struct incus_client *c;

        assert_non_null(endpoint);
        c = incus_client_new(&(struct incus_client_config) { .endpoint = endpoint }, &err);
        if (!c)
                fail_msg("%s", err.message);
        return c;
}

/* A disk image in a temporary file: deterministic bytes where data is
 * wanted, holes elsewhere. */
struct image {
        char path[64];
        int fd;
        uint64_t size;
};

static void fill(int fd, uint64_t offset, uint64_t len, uint32_t seed)
{
        static char buf[65536];
        uint32_t x = seed | 1;

        while (len > 0) {
                size_t n = len < sizeof(buf) ? (size_t) len : sizeof(buf);

                for (size_t i = 0; i < n; i++) {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        buf[i] = (char) x;
                }
                assert_int_equal(pwrite(fd, buf, n, (off_t) offset), (ssize_t) n);
                offset += n;
                len -= n;
        }
}

static void image_create(struct image *img, uint64_t size)
{
        snprintf(img->path, sizeof(img->path), "/tmp/ferry-volume-XXXXXX");
        img->fd = mkstemp(img->path);
        assert_true(img->fd >= 0);
        assert_int_equal(ftruncate(img->fd, (off_t) size), 0);
        img->size = size;
}

static void image_remove(struct image *img)
{
        close(img->fd);
        unlink(img->path);
}

static ssize_t image_read(void *userdata, void *buf, size_t len, uint64_t offset, struct ferry_error *err)
{
        struct image *img = userdata;
        ssize_t n = pread(img->fd, buf, len, (off_t) offset);

        if (n < 0)
                return ferry_error_set(err, -errno, "Cannot read '%s': %m", img->path);
        return n;
}

/* sha256sum of a shell pipeline's output. */
static char *sha256_of(const char *command)
{
        _cleanup_free_ char *full = NULL;
        char line[128] = "";
        FILE *f;

        assert_true(asprintf(&full, "%s | sha256sum", command) > 0);
        f = popen(full, "r");
        assert_non_null(f);
        assert_non_null(fgets(line, sizeof(line), f));
        assert_int_equal(pclose(f), 0);
        line[64] = '\0';
        return strdup(line);
}

/* The sha256 of the volume's block data, exported through the backup API
 * and taken out of the tarball as it streams. */
static char *volume_sha256(struct incus_client *c, const char *name, uint64_t *ret_size)
{
        char tarball[] = "/tmp/ferry-export-XXXXXX";
        _cleanup_free_ char *cmd = NULL, *size_cmd = NULL;
        struct ferry_error err = {};
        char *sum, line[64] = "";
        FILE *f;
        int fd;

        fd = mkstemp(tarball);
        assert_true(fd >= 0);
        if (incus_volume_export(c, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"), name, fd, &err) < 0)
                fail_msg("%s", err.message);
        close(fd);

        assert_true(asprintf(&cmd, "tar -xOf %s backup/volume.img", tarball) > 0);
        sum = sha256_of(cmd);
        assert_true(asprintf(&size_cmd, "tar -xOf %s backup/volume.img | wc -c", tarball) > 0);
        f = popen(size_cmd, "r");
        assert_non_null(f);
        assert_non_null(fgets(line, sizeof(line), f));
        pclose(f);
        *ret_size = strtoull(line, NULL, 10);
        unlink(tarball);
        return sum;
}

static char *image_sha256(const struct image *img)
{
        _cleanup_free_ char *cmd = NULL;

        assert_true(asprintf(&cmd, "cat %s", img->path) > 0);
        return sha256_of(cmd);
}

static void push_image(struct incus_client *c, const char *name, struct image *img, bool refresh)
{
        struct ferry_error err = {};

        if (incus_volume_push(c,
                              &(struct incus_push_options) { .project = lab_env("LAB_INCUS_PROJECT"),
                                                             .pool = lab_env("LAB_INCUS_POOL"),
                                                             .volume = name,
                                                             .size = img->size,
                                                             .refresh = refresh },
                              image_read, img, &err) < 0)
                fail_msg("Pushing '%s': %s", name, err.message);
}

static void assert_volume_holds(struct incus_client *c, const char *name, struct image *img)
{
        _cleanup_free_ char *want = image_sha256(img), *got = NULL;
        uint64_t size = 0;

        got = volume_sha256(c, name, &size);
        assert_int_equal(size, img->size);
        assert_string_equal(got, want);
}

static void delete_volume(struct incus_client *c, const char *name)
{
        struct ferry_error err = {};

        if (incus_volume_delete(c, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"), name, &err) < 0)
                fail_msg("%s", err.message);
}

static void assert_no_volume(struct incus_client *c, const char *name)
{
        _cleanup_json_ json_t *vol = NULL;
        struct ferry_error err = {};

        assert_int_equal(incus_volume_get(c, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"), name, &vol, &err),
                         -ENOENT);
}

static void test_block_volume_is_created_with_its_size_and_deleted(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        _cleanup_json_ json_t *vol = NULL;
        struct ferry_error err = {};

        (void) state;
        if (incus_volume_create_block(c, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"), "ferry-empty",
                                      8 * 1024 * 1024, &err) < 0)
                fail_msg("%s", err.message);
        if (incus_volume_get(c, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"), "ferry-empty", &vol, &err) < 0)
                fail_msg("%s", err.message);
        assert_string_equal(json_string_value(json_object_get(vol, "content_type")), "block");
        assert_string_equal(json_string_value(json_object_get(json_object_get(vol, "config"), "size")), "8388608B");

        delete_volume(c, "ferry-empty");
        assert_no_volume(c, "ferry-empty");
        assert_int_equal(incus_volume_delete(c, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"), "ferry-empty",
                                             &err),
                         -ENOENT);
        assert_string_equal(err.message, "Storage pool volume not found");
}

static void test_odd_sized_image_comes_back_byte_identical(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        struct image img;

        (void) state;
        image_create(&img, 10000003);
        fill(img.fd, 0, img.size, 0x5eed);

        push_image(c, "ferry-odd", &img, false);
        assert_volume_holds(c, "ferry-odd", &img);

        delete_volume(c, "ferry-odd");
        image_remove(&img);
}

static void test_sparse_gigabyte_image_comes_back_byte_identical(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        struct image img;

        (void) state;
        image_create(&img, UINT64_C(1) << 30);
        fill(img.fd, 0, 1 << 20, 1);                             /* a boot sector and more */
        fill(img.fd, (UINT64_C(1) << 29) + 12345, 3 << 20, 2);   /* unaligned, in the middle */
        fill(img.fd, (UINT64_C(1) << 30) - 4097, 4097, 3);       /* up to the last byte */

        push_image(c, "ferry-sparse", &img, false);
        assert_volume_holds(c, "ferry-sparse", &img);

        delete_volume(c, "ferry-sparse");
        image_remove(&img);
}

static void test_refresh_overwrites_the_volume_in_place(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        struct image first, second;

        (void) state;
        image_create(&first, 4 << 20);
        fill(first.fd, 0, first.size, 11);
        image_create(&second, 4 << 20);
        fill(second.fd, 1 << 20, 1 << 20, 12);   /* mostly zeros where first had data */

        push_image(c, "ferry-refresh", &first, false);
        push_image(c, "ferry-refresh", &second, true);
        assert_volume_holds(c, "ferry-refresh", &second);

        delete_volume(c, "ferry-refresh");
        image_remove(&first);
        image_remove(&second);
}

static void test_push_onto_existing_volume_without_refresh_fails_with_incus_reason(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        struct ferry_error err = {};
        struct image img;
        int r;

        (void) state;
        image_create(&img, 1 << 20);
        push_image(c, "ferry-exists", &img, false);

        r = incus_volume_push(c,
                              &(struct incus_push_options) { .project = lab_env("LAB_INCUS_PROJECT"),
                                                             .pool = lab_env("LAB_INCUS_POOL"),
                                                             .volume = "ferry-exists",
                                                             .size = img.size },
                              image_read, &img, &err);
        assert_true(r < 0);
        assert_non_null(strstr(err.message, "already exists"));

        delete_volume(c, "ferry-exists");
        image_remove(&img);
}

static void test_push_ended_early_fails_and_leaves_no_volume(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        struct incus_push *push = NULL;
        struct ferry_error err = {};
        char buf[4096] = { 1 };

        (void) state;
        if (incus_push_begin(c,
                             &(struct incus_push_options) { .project = lab_env("LAB_INCUS_PROJECT"),
                                                            .pool = lab_env("LAB_INCUS_POOL"),
                                                            .volume = "ferry-short",
                                                            .size = 1 << 20 },
                             &push, &err) < 0)
                fail_msg("%s", err.message);
        assert_int_equal(incus_push_write(push, buf, sizeof(buf), &err), 0);
        assert_int_equal(incus_push_offset(push), sizeof(buf));

        assert_int_equal(incus_push_finish(push, &err), -EIO);
        assert_string_equal(err.message, "Pushed 4096 of 1048576 bytes of volume 'ferry-short'");

        incus_push_free(push);
        assert_no_volume(c, "ferry-short");
}

static void test_write_past_the_size_is_refused(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        _cleanup_incus_push_ struct incus_push *push = NULL;
        struct ferry_error err = {};
        char buf[8192] = { 0 };

        (void) state;
        if (incus_push_begin(c,
                             &(struct incus_push_options) { .project = lab_env("LAB_INCUS_PROJECT"),
                                                            .pool = lab_env("LAB_INCUS_POOL"),
                                                            .volume = "ferry-past",
                                                            .size = 4096 },
                             &push, &err) < 0)
                fail_msg("%s", err.message);
        assert_int_equal(incus_push_write(push, buf, sizeof(buf), &err), -EFBIG);
        assert_string_equal(err.message, "Writing 8192 bytes at 0 passes the end of volume 'ferry-past' (4096 bytes)");
        assert_int_equal(incus_push_write_zeros(push, 4096, &err), 0);
        if (incus_push_finish(push, &err) < 0)
                fail_msg("%s", err.message);
        delete_volume(c, "ferry-past");
}

static void test_push_to_missing_pool_fails_with_incus_message(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        struct incus_push *push = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(incus_push_begin(c,
                                          &(struct incus_push_options) { .project = lab_env("LAB_INCUS_PROJECT"),
                                                                         .pool = "nosuchpool",
                                                                         .volume = "ferry-nopool",
                                                                         .size = 4096 },
                                          &push, &err),
                         -ENOENT);
        assert_null(push);
        assert_non_null(strstr(err.message, "not found"));
}

static struct incus_client *https_client(const char *pin)
{
        struct ferry_error err = {};
        struct incus_client *c;

        c = incus_client_new(&(struct incus_client_config) {
                                     .endpoint = lab_env("LAB_INCUS_URL"),
                                     .client_cert = lab_env("LAB_INCUS_CLIENT_CERT"),
                                     .client_key = lab_env("LAB_INCUS_CLIENT_KEY"),
                                     .server_fingerprint = pin,
                             },
                             &err);
        if (!c)
                fail_msg("%s", err.message);
        return c;
}

static void test_push_over_https_with_client_certificate_works(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = https_client(lab_env("LAB_INCUS_FINGERPRINT"));
        struct image img;

        (void) state;
        image_create(&img, 3 * 1024 * 1024 + 1);
        fill(img.fd, 0, img.size, 77);

        push_image(c, "ferry-https", &img, false);
        assert_volume_holds(c, "ferry-https", &img);

        delete_volume(c, "ferry-https");
        image_remove(&img);
}

static void test_websocket_with_wrong_pin_fails_in_the_handshake(void **state)
{
        static const char pin[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        _cleanup_incus_client_ struct incus_client *c = https_client(pin);
        _cleanup_free_ char *expected = NULL;
        struct incus_ws *ws = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(incus_ws_connect(incus_client_get_config(c), "/1.0/events?secret=never-shown", 5000, &ws, &err),
                         -EPERM);
        assert_null(ws);
        assert_true(asprintf(&expected,
                             "Server certificate fingerprint '%s' does not match the trusted fingerprint '%s'",
                             lab_env("LAB_INCUS_FINGERPRINT"), pin) > 0);
        assert_string_equal(err.message, expected);
}

static void test_websocket_to_missing_socket_names_the_path_not_the_secret(void **state)
{
        struct incus_ws *ws = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(incus_ws_connect(&(struct incus_client_config) { .endpoint = "unix:///nonexistent/incus.socket" },
                                          "/1.0/operations/x/websocket?secret=never-shown", 5000, &ws, &err),
                         -ECONNREFUSED);
        assert_null(ws);
        assert_true(startswith(err.message, "Cannot open websocket '/1.0/operations/x/websocket'"));
        assert_null(strstr(err.message, "never-shown"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_block_volume_is_created_with_its_size_and_deleted),
                cmocka_unit_test(test_odd_sized_image_comes_back_byte_identical),
                cmocka_unit_test(test_sparse_gigabyte_image_comes_back_byte_identical),
                cmocka_unit_test(test_refresh_overwrites_the_volume_in_place),
                cmocka_unit_test(test_push_onto_existing_volume_without_refresh_fails_with_incus_reason),
                cmocka_unit_test(test_push_ended_early_fails_and_leaves_no_volume),
                cmocka_unit_test(test_write_past_the_size_is_refused),
                cmocka_unit_test(test_push_to_missing_pool_fails_with_incus_message),
                cmocka_unit_test(test_push_over_https_with_client_certificate_works),
                cmocka_unit_test(test_websocket_with_wrong_pin_fails_in_the_handshake),
                cmocka_unit_test(test_websocket_to_missing_socket_names_the_path_not_the_secret),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
