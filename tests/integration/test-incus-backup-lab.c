/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Custom block volumes imported from backup tarballs ferry streams come
 * back byte-identical through the backup API; uploaded ISO volumes hold
 * the file byte for byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
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
#include "lab.h"
#include "target/incus/backup.h"
#include "target/incus/volume.h"

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

struct image {
        char path[64];
        int fd;
        uint64_t size;
        uint64_t fail_at;       /* >0: the reader fails at this offset */
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
        *img = (struct image) {};
        snprintf(img->path, sizeof(img->path), "/tmp/ferry-backup-XXXXXX");
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
        ssize_t n;

        if (img->fail_at && offset + len > img->fail_at)
                return ferry_error_set(err, -EIO, "The source disk failed at %" PRIu64, offset);
        n = pread(img->fd, buf, len, (off_t) offset);
        if (n < 0)
                return ferry_error_set(err, -errno, "Cannot read '%s': %m", img->path);
        return n;
}

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

static char *first_line_of(const char *command)
{
        char line[256] = "";
        FILE *f = popen(command, "r");

        assert_non_null(f);
        if (!fgets(line, sizeof(line), f))
                line[0] = '\0';
        pclose(f);
        line[strcspn(line, "\n")] = '\0';
        return strdup(line);
}

/*
 * The sha256 of the first len bytes of the volume's data, exported through
 * the backup API, its whole size, and whether every byte after len is zero.
 */
static char *volume_sha256(struct incus_client *c, const char *name, uint64_t len, uint64_t *ret_size,
                           bool *ret_zero_tail)
{
        char tarball[] = "/tmp/ferry-export-XXXXXX";
        _cleanup_free_ char *member = NULL, *list_cmd = NULL, *cmd = NULL, *size_cmd = NULL, *size = NULL;
        _cleanup_free_ char *tail_cmd = NULL, *tail = NULL;
        struct ferry_error err = {};
        char *sum;
        int fd;

        fd = mkstemp(tarball);
        assert_true(fd >= 0);
        if (incus_volume_export(c, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"), name, fd, &err) < 0)
                fail_msg("%s", err.message);
        close(fd);

        assert_true(asprintf(&list_cmd, "tar -tf %s | grep -v '^backup/index.yaml$' | grep -v '/$'", tarball) > 0);
        member = first_line_of(list_cmd);
        assert_true(startswith(member, "backup/volume"));
        assert_true(asprintf(&cmd, "tar -xOf %s '%s' | head -c %" PRIu64, tarball, member, len) > 0);
        sum = sha256_of(cmd);
        assert_true(asprintf(&size_cmd, "tar -xOf %s '%s' | wc -c", tarball, member) > 0);
        size = first_line_of(size_cmd);
        *ret_size = strtoull(size, NULL, 10);
        assert_true(asprintf(&tail_cmd, "tar -xOf %s '%s' | tail -c +%" PRIu64 " | tr -d '\\000' | wc -c", tarball,
                             member, len + 1) > 0);
        tail = first_line_of(tail_cmd);
        *ret_zero_tail = streq(tail, "0");
        unlink(tarball);
        return sum;
}

static char *image_sha256(const struct image *img)
{
        _cleanup_free_ char *cmd = NULL;

        assert_true(asprintf(&cmd, "cat %s", img->path) > 0);
        return sha256_of(cmd);
}

static int import_image(struct incus_client *c, const char *name, struct image *img, struct ferry_error *err)
{
        return incus_volume_import(c,
                                   &(struct incus_import_options) { .project = lab_env("LAB_INCUS_PROJECT"),
                                                                    .pool = lab_env("LAB_INCUS_POOL"),
                                                                    .volume = name,
                                                                    .size = img->size },
                                   image_read, img, err);
}

/*
 * The volume holds the image byte for byte.  On import Incus rounds a
 * block volume up to whole 4 KiB blocks: what follows the image is zeros.
 */
static void assert_volume_holds(struct incus_client *c, const char *name, struct image *img)
{
        _cleanup_free_ char *want = image_sha256(img), *got = NULL;
        uint64_t size = 0;
        bool zero_tail = false;

        got = volume_sha256(c, name, img->size, &size, &zero_tail);
        assert_string_equal(got, want);
        assert_int_equal(size, (img->size + 4095) / 4096 * 4096);
        assert_true(zero_tail);
}

static void delete_volume(struct incus_client *c, const char *name)
{
        struct ferry_error err = {};

        if (incus_volume_delete(c, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"), name, &err) < 0)
                fail_msg("%s", err.message);
}

static json_t *volume_get(struct incus_client *c, const char *name, int *ret_r)
{
        struct ferry_error err = {};
        json_t *v = NULL;

        *ret_r = incus_volume_get(c, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"), name, &v, &err);
        return v;
}

static void test_odd_sized_image_imported_from_a_backup_comes_back_byte_identical(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        _cleanup_json_ json_t *vol = NULL;
        struct ferry_error err = {};
        struct image img;
        int r;

        (void) state;
        image_create(&img, 10000003);
        fill(img.fd, 0, img.size, 0xbac);
        if (import_image(c, "ferry-backup-odd", &img, &err) < 0)
                fail_msg("%s", err.message);

        vol = volume_get(c, "ferry-backup-odd", &r);
        assert_int_equal(r, 0);
        assert_string_equal(json_string_value(json_object_get(vol, "content_type")), "block");
        assert_volume_holds(c, "ferry-backup-odd", &img);

        delete_volume(c, "ferry-backup-odd");
        image_remove(&img);
}

static void test_sparse_image_imported_from_a_backup_comes_back_byte_identical(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        struct ferry_error err = {};
        struct image img;

        (void) state;
        image_create(&img, UINT64_C(256) << 20);
        fill(img.fd, 0, 1 << 20, 1);
        fill(img.fd, (UINT64_C(128) << 20) + 777, 2 << 20, 2);
        fill(img.fd, (UINT64_C(256) << 20) - 513, 513, 3);
        if (import_image(c, "ferry-backup-sparse", &img, &err) < 0)
                fail_msg("%s", err.message);
        assert_volume_holds(c, "ferry-backup-sparse", &img);

        delete_volume(c, "ferry-backup-sparse");
        image_remove(&img);
}

static void test_import_onto_an_existing_volume_fails_with_incus_reason(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        struct ferry_error err = {};
        struct image img;

        (void) state;
        image_create(&img, 1 << 20);
        if (import_image(c, "ferry-backup-twice", &img, &err) < 0)
                fail_msg("%s", err.message);
        assert_true(import_image(c, "ferry-backup-twice", &img, &err) < 0);
        assert_true(startswith(err.message, "Cannot import volume 'ferry-backup-twice' from a backup: "));
        assert_non_null(strstr(err.message, "already exists"));

        delete_volume(c, "ferry-backup-twice");
        image_remove(&img);
}

static void test_reader_failure_ends_the_import_and_leaves_no_volume(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        _cleanup_json_ json_t *vol = NULL;
        struct ferry_error err = {};
        struct image img;
        int r;

        (void) state;
        image_create(&img, 8 << 20);
        img.fail_at = 3 << 20;
        assert_int_equal(import_image(c, "ferry-backup-broken", &img, &err), -EIO);
        assert_string_equal(err.message,
                            "Cannot import volume 'ferry-backup-broken' from a backup: The source disk failed at 3145728");
        vol = volume_get(c, "ferry-backup-broken", &r);
        assert_int_equal(r, -ENOENT);
        image_remove(&img);
}

static void test_import_into_a_missing_pool_names_the_pool(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        struct ferry_error err = {};
        struct image img;

        (void) state;
        image_create(&img, 4096);
        assert_int_equal(incus_volume_import(c,
                                             &(struct incus_import_options) { .project = lab_env("LAB_INCUS_PROJECT"),
                                                                              .pool = "nopool",
                                                                              .volume = "v",
                                                                              .size = img.size },
                                             image_read, &img, &err),
                         -ENOENT);
        assert_true(startswith(err.message, "Storage pool 'nopool': "));
        image_remove(&img);
}

static void test_iso_upload_makes_an_iso_volume_that_holds_the_file(void **state)
{
        _cleanup_incus_client_ struct incus_client *c = unix_client();
        _cleanup_free_ char *find = NULL, *stored = NULL, *cat = NULL, *got = NULL, *want = NULL;
        _cleanup_json_ json_t *vol = NULL;
        struct ferry_error err = {};
        struct image img;
        int r;

        (void) state;
        image_create(&img, (3 << 20) + 2048);
        fill(img.fd, 0, img.size, 0x150);
        assert_int_equal(lseek(img.fd, 0, SEEK_SET), 0);
        if (incus_iso_upload(c, lab_env("LAB_INCUS_PROJECT"), lab_env("LAB_INCUS_POOL"), "ferry-drivers.iso", img.fd,
                             img.size, &err) < 0)
                fail_msg("%s", err.message);

        vol = volume_get(c, "ferry-drivers.iso", &r);
        assert_int_equal(r, 0);
        assert_string_equal(json_string_value(json_object_get(vol, "content_type")), "iso");

        /* Incus does not back up ISO volumes: read the file the dir pool keeps it in
         * (custom/<project>_<name>.iso/root.img). */
        assert_true(asprintf(&find, "find %s/storage-pools/%s/custom -path '*ferry-drivers.iso*' -type f",
                             lab_env("LAB_INCUS_DIR"), lab_env("LAB_INCUS_POOL")) > 0);
        stored = first_line_of(find);
        if (!*stored)
                fail_msg("No file of the ISO volume in the pool: %s", find);
        /* Like block volumes, the file is rounded up to whole blocks with zeros. */
        {
                _cleanup_free_ char *tail_cmd = NULL, *tail = NULL;

                assert_true(asprintf(&tail_cmd, "tail -c +%" PRIu64 " '%s' | tr -d '\\000' | wc -c", img.size + 1,
                                     stored) > 0);
                tail = first_line_of(tail_cmd);
                assert_string_equal(tail, "0");
        }
        assert_true(asprintf(&cat, "head -c %" PRIu64 " '%s'", img.size, stored) > 0);
        got = sha256_of(cat);
        want = image_sha256(&img);
        assert_string_equal(got, want);

        delete_volume(c, "ferry-drivers.iso");
        image_remove(&img);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_odd_sized_image_imported_from_a_backup_comes_back_byte_identical),
                cmocka_unit_test(test_sparse_image_imported_from_a_backup_comes_back_byte_identical),
                cmocka_unit_test(test_import_onto_an_existing_volume_fails_with_incus_reason),
                cmocka_unit_test(test_reader_failure_ends_the_import_and_leaves_no_volume),
                cmocka_unit_test(test_import_into_a_missing_pool_names_the_pool),
                cmocka_unit_test(test_iso_upload_makes_an_iso_volume_that_holds_the_file),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
