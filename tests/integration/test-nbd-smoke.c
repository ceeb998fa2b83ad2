/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lab's disk servers, read with libnbd: nbdkit exports, and a
 * simulator VM's disk served by qemu-nbd from its VMDK descriptor, the way
 * ferry reads mounted datastores (DESIGN §5, disk_access "datastore").
 */
#include <endian.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libnbd.h>
#include <openssl/evp.h>

#include "common/macros.h"
#include "lab.h"

DEFINE_CLEANUP_FUNC(struct nbd_handle, nbd_close);
#define _cleanup_nbd_ _cleanup_(nbd_close_p)

#define CHUNK (4u << 20)

static struct nbd_handle *connect_uri(const char *uri)
{
        struct nbd_handle *nbd = nbd_create();

        assert_non_null(nbd);
        if (nbd_connect_uri(nbd, uri) == -1)
                fail_msg("Cannot connect to '%s': %s", uri, nbd_get_error());
        return nbd;
}

/* SHA-256 of the whole export, as lowercase hex. */
static void export_sha256(struct nbd_handle *nbd, char hex[65])
{
        _cleanup_free_ uint8_t *buf = malloc(CHUNK);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char digest[32];
        unsigned int len;
        int64_t size = nbd_get_size(nbd);

        assert_non_null(buf);
        assert_non_null(md);
        assert_true(size >= 0);
        assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
        for (int64_t off = 0; off < size; off += CHUNK) {
                size_t n = (size_t) (size - off < CHUNK ? size - off : CHUNK);
                if (nbd_pread(nbd, buf, n, (uint64_t) off, 0) == -1)
                        fail_msg("Read at offset %" PRIi64 " failed: %s", off, nbd_get_error());
                assert_int_equal(EVP_DigestUpdate(md, buf, n), 1);
        }
        assert_int_equal(EVP_DigestFinal_ex(md, digest, &len), 1);
        EVP_MD_CTX_free(md);
        for (unsigned i = 0; i < len; i++)
                sprintf(hex + 2 * i, "%02x", digest[i]);
}

/* nbdkit's pattern: each 8-byte big-endian word holds its own offset. */
static void assert_pattern_at(struct nbd_handle *nbd, uint64_t offset, size_t len)
{
        _cleanup_free_ uint64_t *buf = malloc(len);

        assert_non_null(buf);
        assert_int_equal(offset % 8, 0);
        if (nbd_pread(nbd, buf, len, offset, 0) == -1)
                fail_msg("Read at offset %" PRIu64 " failed: %s", offset, nbd_get_error());
        for (size_t i = 0; i < len / 8; i++)
                if (be64toh(buf[i]) != offset + 8 * i)
                        fail_msg("Pattern broken at offset %" PRIu64 ": 0x%" PRIx64,
                                 offset + 8 * i, be64toh(buf[i]));
}

static void test_nbdkit_pattern_export_has_its_size_and_content(void **state)
{
        _cleanup_nbd_ struct nbd_handle *nbd = connect_uri(lab_env("LAB_NBD_PATTERN"));

        (void) state;
        assert_int_equal(nbd_get_size(nbd), 64 << 20);
        assert_pattern_at(nbd, 0, 65536);
        assert_pattern_at(nbd, (32 << 20) + 4096, 4096);
        assert_pattern_at(nbd, (64 << 20) - 4096, 4096);
}

static void test_nbdkit_file_export_matches_the_image_checksum(void **state)
{
        _cleanup_nbd_ struct nbd_handle *nbd = connect_uri(lab_env("LAB_NBD_FILE"));
        char hex[65];

        (void) state;
        export_sha256(nbd, hex);
        assert_string_equal(hex, lab_env("LAB_NBD_FILE_SHA256"));
}

static void test_qemu_nbd_serves_a_simulator_disk_from_its_vmdk_descriptor(void **state)
{
        _cleanup_nbd_ struct nbd_handle *nbd = nbd_create();
        char *argv[] = { "qemu-nbd", "--read-only", "--format=vmdk", "--",
                         (char *) lab_env("LAB_VM_DISK_VMDK"), NULL };
        char label[128], expected[128], hex[65];

        (void) state;
        assert_non_null(nbd);
        /* What ferry does for a mounted datastore: spawn qemu-nbd on the
         * descriptor and let it follow the flat extent. */
        if (nbd_connect_systemd_socket_activation(nbd, argv) == -1)
                fail_msg("Cannot start qemu-nbd on '%s': %s", argv[4], nbd_get_error());

        assert_int_equal(nbd_get_size(nbd), (int64_t) lab_env_u64("LAB_VM_DISK_SIZE"));

        snprintf(expected, sizeof(expected), "ferry-lab:%s:0", lab_env("LAB_VM_DISK_VM"));
        assert_int_equal(nbd_pread(nbd, label, strlen(expected), 0, 0), 0);
        label[strlen(expected)] = '\0';
        assert_string_equal(label, expected);

        export_sha256(nbd, hex);
        assert_string_equal(hex, lab_env("LAB_VM_DISK_SHA256"));
}

static void test_connecting_to_a_missing_socket_fails_with_the_reason(void **state)
{
        _cleanup_nbd_ struct nbd_handle *nbd = nbd_create();

        (void) state;
        assert_int_equal(nbd_connect_uri(nbd, "nbd+unix:///?socket=/nonexistent/ferry.sock"), -1);
        assert_non_null(strstr(nbd_get_error(), "No such file or directory"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nbdkit_pattern_export_has_its_size_and_content),
                cmocka_unit_test(test_nbdkit_file_export_matches_the_image_checksum),
                cmocka_unit_test(test_qemu_nbd_serves_a_simulator_disk_from_its_vmdk_descriptor),
                cmocka_unit_test(test_connecting_to_a_missing_socket_fails_with_the_reason),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
