/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/pem.h>

#include "common/fingerprint.h"
#include "common/strbuf.h"

/*
 * A self-signed certificate made once with
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
 *           -subj /CN=ferry-test -days 3650
 * and its fingerprint as `openssl x509 -noout -fingerprint -sha256` prints it.
 */
static const char test_cert_pem[] =
        "-----BEGIN CERTIFICATE-----\n"
        "MIIBfjCCASWgAwIBAgIUUa6sN3KXuS9ZX/sj/PaFkCEFfM4wCgYIKoZIzj0EAwIw\n"
        "FTETMBEGA1UEAwwKZmVycnktdGVzdDAeFw0yNjExMjQwNDA5NDlaFw0zNjExMjEw\n"
        "NDA5NDlaMBUxEzARBgNVBAMMCmZlcnJ5LXRlc3QwWTATBgcqhkjOPQIBBggqhkjO\n"
        "PQMBBwNCAAQm7gBlMCMOL3o0pMTCHuYLDh5dsR6ShCQtX6vFjrsLRtkmtWIt85F4\n"
        "pnvV/HZvG4YNuMLixEBsi29sqQ10NWGio1MwUTAdBgNVHQ4EFgQUkp86D3u7Iauv\n"
        "H67IkpqcWqoJ7KEwHwYDVR0jBBgwFoAUkp86D3u7IauvH67IkpqcWqoJ7KEwDwYD\n"
        "VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBpYTnEYVC3SrpamlD8zWVH\n"
        "ODwQjtkEFnOVJ+4RFNGyXQIgCr5kkGA4bNLZgdlTFCeG3FrN9M2FamcIU4e67x7s\n"
        "NcY=\n"
        "-----END CERTIFICATE-----\n";

static const unsigned char test_cert_der[] = {
        0x30, 0x82, 0x01, 0x7e, 0x30, 0x82, 0x01, 0x25, 0xa0, 0x03, 0x02, 0x01,
        0x02, 0x02, 0x14, 0x51, 0xae, 0xac, 0x37, 0x72, 0x97, 0xb9, 0x2f, 0x59,
        0x5f, 0xfb, 0x23, 0xfc, 0xf6, 0x85, 0x90, 0x21, 0x05, 0x7c, 0xce, 0x30,
        0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30,
        0x15, 0x31, 0x13, 0x30, 0x11, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0a,
        0x66, 0x65, 0x72, 0x72, 0x79, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x30, 0x1e,
        0x17, 0x0d, 0x32, 0x36, 0x31, 0x31, 0x32, 0x34, 0x30, 0x34, 0x30, 0x39,
        0x34, 0x39, 0x5a, 0x17, 0x0d, 0x33, 0x36, 0x31, 0x31, 0x32, 0x31, 0x30,
        0x34, 0x30, 0x39, 0x34, 0x39, 0x5a, 0x30, 0x15, 0x31, 0x13, 0x30, 0x11,
        0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0a, 0x66, 0x65, 0x72, 0x72, 0x79,
        0x2d, 0x74, 0x65, 0x73, 0x74, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a,
        0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
        0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x26, 0xee, 0x00, 0x65,
        0x30, 0x23, 0x0e, 0x2f, 0x7a, 0x34, 0xa4, 0xc4, 0xc2, 0x1e, 0xe6, 0x0b,
        0x0e, 0x1e, 0x5d, 0xb1, 0x1e, 0x92, 0x84, 0x24, 0x2d, 0x5f, 0xab, 0xc5,
        0x8e, 0xbb, 0x0b, 0x46, 0xd9, 0x26, 0xb5, 0x62, 0x2d, 0xf3, 0x91, 0x78,
        0xa6, 0x7b, 0xd5, 0xfc, 0x76, 0x6f, 0x1b, 0x86, 0x0d, 0xb8, 0xc2, 0xe2,
        0xc4, 0x40, 0x6c, 0x8b, 0x6f, 0x6c, 0xa9, 0x0d, 0x74, 0x35, 0x61, 0xa2,
        0xa3, 0x53, 0x30, 0x51, 0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04,
        0x16, 0x04, 0x14, 0x92, 0x9f, 0x3a, 0x0f, 0x7b, 0xbb, 0x21, 0xab, 0xaf,
        0x1f, 0xae, 0xc8, 0x92, 0x9a, 0x9c, 0x5a, 0xaa, 0x09, 0xec, 0xa1, 0x30,
        0x1f, 0x06, 0x03, 0x55, 0x1d, 0x23, 0x04, 0x18, 0x30, 0x16, 0x80, 0x14,
        0x92, 0x9f, 0x3a, 0x0f, 0x7b, 0xbb, 0x21, 0xab, 0xaf, 0x1f, 0xae, 0xc8,
        0x92, 0x9a, 0x9c, 0x5a, 0xaa, 0x09, 0xec, 0xa1, 0x30, 0x0f, 0x06, 0x03,
        0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01,
        0xff, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03,
        0x02, 0x03, 0x47, 0x00, 0x30, 0x44, 0x02, 0x20, 0x69, 0x61, 0x39, 0xc4,
        0x61, 0x50, 0xb7, 0x4a, 0xba, 0x5a, 0x9a, 0x50, 0xfc, 0xcd, 0x65, 0x47,
        0x38, 0x3c, 0x10, 0x8e, 0xd9, 0x04, 0x16, 0x73, 0x95, 0x27, 0xee, 0x11,
        0x14, 0xd1, 0xb2, 0x5d, 0x02, 0x20, 0x0a, 0xbe, 0x64, 0x90, 0x60, 0x38,
        0x6c, 0xd2, 0xd9, 0x81, 0xd9, 0x53, 0x14, 0x27, 0x86, 0xdc, 0x5a, 0xcd,
        0xf4, 0xcd, 0x85, 0x6a, 0x67, 0x08, 0x53, 0x87, 0xba, 0xef, 0x1e, 0xec,
        0x35, 0xc6,
};

#define TEST_CERT_OPENSSL_FINGERPRINT \
        "98:3B:4F:BC:50:AF:93:A1:01:37:5E:5B:BD:28:5D:DC:8F:3E:65:8C:7F:EC:E3:F9:08:D8:08:60:E2:15:C0:78"
#define TEST_CERT_FINGERPRINT "983b4fbc50af93a101375e5bbd285ddc8f3e658c7fece3f908d80860e215c078"

/* A file holding text, removed by the caller. */
static void write_temp_file(char path[static 32], const char *text, size_t len)
{
        int fd;

        strcpy(path, "/tmp/ferry-test-fp-XXXXXX");
        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, len), (ssize_t) len);
        close(fd);
}

static void assert_pem_error(const char *pem, const char *message)
{
        struct ferry_error err = {};
        char fp[FINGERPRINT_HEX_SIZE] = "untouched";

        print_message("PEM '%s'\n", pem);
        assert_int_equal(fingerprint_from_pem(pem, strlen(pem), fp, &err), -EINVAL);
        assert_string_equal(err.message, message);
        assert_string_equal(fp, "untouched");
}

static void test_fingerprint_from_pem_matches_openssl(_unused_ void **state)
{
        struct ferry_error err = {};
        char fp[FINGERPRINT_HEX_SIZE];

        assert_int_equal(fingerprint_from_pem(test_cert_pem, strlen(test_cert_pem), fp, &err), 0);
        assert_string_equal(fp, TEST_CERT_FINGERPRINT);
        assert_true(fingerprint_equal(fp, TEST_CERT_OPENSSL_FINGERPRINT));
}

static void test_fingerprint_from_pem_skips_blocks_before_the_certificate(_unused_ void **state)
{
        _cleanup_free_ char *pem = strjoin("-----BEGIN PUBLIC KEY-----\nZmVycnk=\n-----END PUBLIC KEY-----\n",
                                           test_cert_pem, NULL);
        struct ferry_error err = {};
        char fp[FINGERPRINT_HEX_SIZE];

        assert_int_equal(fingerprint_from_pem(pem, strlen(pem), fp, &err), 0);
        assert_string_equal(fp, TEST_CERT_FINGERPRINT);
}

static void test_fingerprint_from_pem_uses_the_first_certificate(_unused_ void **state)
{
        _cleanup_free_ char *pem = strjoin(test_cert_pem,
                                           "-----BEGIN CERTIFICATE-----\nZmVycnk=\n-----END CERTIFICATE-----\n", NULL);
        struct ferry_error err = {};
        char fp[FINGERPRINT_HEX_SIZE];

        assert_int_equal(fingerprint_from_pem(pem, strlen(pem), fp, &err), 0);
        assert_string_equal(fp, TEST_CERT_FINGERPRINT);
}

static void test_fingerprint_from_pem_reads_only_len_bytes(_unused_ void **state)
{
        _cleanup_free_ char *pem = strjoin(test_cert_pem, "garbage that is not read", NULL);
        struct ferry_error err = {};
        char fp[FINGERPRINT_HEX_SIZE];

        assert_int_equal(fingerprint_from_pem(pem, strlen(test_cert_pem), fp, &err), 0);
        assert_string_equal(fp, TEST_CERT_FINGERPRINT);
}

static void test_fingerprint_from_pem_reports_missing_certificate(_unused_ void **state)
{
        assert_pem_error("", "No certificate found in PEM data");
        assert_pem_error("just some text\n", "No certificate found in PEM data");
        assert_pem_error("-----BEGIN PUBLIC KEY-----\nZmVycnk=\n-----END PUBLIC KEY-----\n",
                         "No certificate found in PEM data");
}

static void test_fingerprint_from_pem_reports_openssl_reason_for_bad_pem(_unused_ void **state)
{
        assert_pem_error("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
                         "Invalid PEM data: bad base64 decode");
        assert_pem_error("-----BEGIN CERTIFICATE-----\nZmVycnk=\n", "Invalid PEM data: bad end line");
}

static void test_fingerprint_from_pem_reports_openssl_reason_for_bad_certificate(_unused_ void **state)
{
        /* The DER of INTEGER 0 where a SEQUENCE is expected. */
        assert_pem_error("-----BEGIN CERTIFICATE-----\nAgEA\n-----END CERTIFICATE-----\n",
                         "Invalid certificate: wrong tag");
}

static void test_fingerprint_from_pem_rejects_null(_unused_ void **state)
{
        struct ferry_error err = {};
        char fp[FINGERPRINT_HEX_SIZE];

        assert_int_equal(fingerprint_from_pem(NULL, 0, fp, &err), -EINVAL);
        assert_string_equal(err.message, "No certificate found in PEM data");
}

static void test_fingerprint_from_der_matches_openssl(_unused_ void **state)
{
        struct ferry_error err = {};
        char fp[FINGERPRINT_HEX_SIZE];

        assert_int_equal(fingerprint_from_der(test_cert_der, sizeof test_cert_der, fp, &err), 0);
        assert_string_equal(fp, TEST_CERT_FINGERPRINT);
}

static void test_fingerprint_from_der_rejects_trailing_data(_unused_ void **state)
{
        unsigned char der[sizeof test_cert_der + 1];
        struct ferry_error err = {};
        char fp[FINGERPRINT_HEX_SIZE] = "untouched";

        memcpy(der, test_cert_der, sizeof test_cert_der);
        der[sizeof test_cert_der] = 0;
        assert_int_equal(fingerprint_from_der(der, sizeof der, fp, &err), -EINVAL);
        assert_string_equal(err.message, "Invalid certificate: trailing data after the certificate");
        assert_string_equal(fp, "untouched");
}

static void test_fingerprint_from_der_rejects_truncated_certificate(_unused_ void **state)
{
        struct ferry_error err = {};
        char fp[FINGERPRINT_HEX_SIZE] = "untouched";

        assert_int_equal(fingerprint_from_der(test_cert_der, sizeof test_cert_der - 10, fp, &err), -EINVAL);
        assert_string_equal(err.message, "Invalid certificate: too long");
        assert_string_equal(fp, "untouched");
}

static void test_fingerprint_from_der_rejects_empty_input(_unused_ void **state)
{
        struct ferry_error err = {};
        char fp[FINGERPRINT_HEX_SIZE];

        assert_int_equal(fingerprint_from_der(test_cert_der, 0, fp, &err), -EINVAL);
        assert_string_equal(err.message, "Invalid certificate: no data");
}

static void test_fingerprint_from_pem_file_reads_the_file(_unused_ void **state)
{
        struct ferry_error err = {};
        char path[32], fp[FINGERPRINT_HEX_SIZE];

        write_temp_file(path, test_cert_pem, strlen(test_cert_pem));
        assert_int_equal(fingerprint_from_pem_file(path, fp, &err), 0);
        unlink(path);
        assert_string_equal(fp, TEST_CERT_FINGERPRINT);
}

static void test_fingerprint_from_pem_file_reports_missing_file(_unused_ void **state)
{
        struct ferry_error err = {};
        char fp[FINGERPRINT_HEX_SIZE];

        assert_int_equal(fingerprint_from_pem_file("/nonexistent-ferry-test/server.crt", fp, &err), -ENOENT);
        assert_string_equal(err.message,
                            "Failed to read certificate '/nonexistent-ferry-test/server.crt': No such file or directory");
}

static void test_fingerprint_from_pem_file_reports_a_directory(_unused_ void **state)
{
        struct ferry_error err = {};
        char fp[FINGERPRINT_HEX_SIZE];

        assert_int_equal(fingerprint_from_pem_file("/", fp, &err), -EISDIR);
        assert_string_equal(err.message, "Failed to read certificate '/': Is a directory");
}

static void test_fingerprint_from_pem_file_names_the_file_in_parse_errors(_unused_ void **state)
{
        static const char text[] = "not a certificate\n";
        struct ferry_error err = {};
        char path[32], fp[FINGERPRINT_HEX_SIZE], expected[128];

        write_temp_file(path, text, strlen(text));
        assert_int_equal(fingerprint_from_pem_file(path, fp, &err), -EINVAL);
        unlink(path);
        snprintf(expected, sizeof expected, "Certificate '%s': No certificate found in PEM data", path);
        assert_string_equal(err.message, expected);
}

static void test_fingerprint_from_pem_file_refuses_huge_files(_unused_ void **state)
{
        struct ferry_error err = {};
        char path[32], fp[FINGERPRINT_HEX_SIZE], expected[128];

        write_temp_file(path, "", 0);
        assert_int_equal(truncate(path, 2 * 1024 * 1024), 0);
        assert_int_equal(fingerprint_from_pem_file(path, fp, &err), -EFBIG);
        unlink(path);
        snprintf(expected, sizeof expected, "Certificate file '%s' is larger than 1048576 bytes", path);
        assert_string_equal(err.message, expected);
}

static void test_fingerprint_normalize_accepts_the_openssl_form(_unused_ void **state)
{
        char fp[FINGERPRINT_HEX_SIZE];

        assert_int_equal(fingerprint_normalize(TEST_CERT_OPENSSL_FINGERPRINT, fp), 0);
        assert_string_equal(fp, TEST_CERT_FINGERPRINT);
}

static void test_fingerprint_normalize_lowercases_bare_hex(_unused_ void **state)
{
        char fp[FINGERPRINT_HEX_SIZE];

        assert_int_equal(fingerprint_normalize("983B4FBC50AF93A101375E5BBD285DDC8F3E658C7FECE3F908D80860E215C078", fp),
                         0);
        assert_string_equal(fp, TEST_CERT_FINGERPRINT);
        assert_int_equal(fingerprint_normalize(TEST_CERT_FINGERPRINT, fp), 0);
        assert_string_equal(fp, TEST_CERT_FINGERPRINT);
}

static void test_fingerprint_normalize_rejects_garbage(_unused_ void **state)
{
        static const char *const cases[] = {
                "",
                "983b",
                /* 63 and 65 digits */
                "983b4fbc50af93a101375e5bbd285ddc8f3e658c7fece3f908d80860e215c07",
                "983b4fbc50af93a101375e5bbd285ddc8f3e658c7fece3f908d80860e215c0780",
                /* a non-hex digit */
                "g83b4fbc50af93a101375e5bbd285ddc8f3e658c7fece3f908d80860e215c078",
                /* separators in the wrong places, or only some of them */
                "983:B4F:BC50:AF:93:A1:01:37:5E:5B:BD:28:5D:DC:8F:3E:65:8C:7F:EC:E3:F9:08:D8:08:60:E2:15:C0:78",
                "98:3B4FBC50AF93A101375E5BBD285DDC8F3E658C7FECE3F908D80860E215C078",
                "98-3B-4F-BC-50-AF-93-A1-01-37-5E-5B-BD-28-5D-DC-8F-3E-65-8C-7F-EC-E3-F9-08-D8-08-60-E2-15-C0-78",
                "98:3B:4F:BC:50:AF:93:A1:01:37:5E:5B:BD:28:5D:DC:8F:3E:65:8C:7F:EC:E3:F9:08:D8:08:60:E2:15:C0:78:",
                " 983b4fbc50af93a101375e5bbd285ddc8f3e658c7fece3f908d80860e215c078",
                "sha256:983b4fbc50af93a101375e5bbd285ddc8f3e658c7fece3f908d80860e215c078",
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char fp[FINGERPRINT_HEX_SIZE] = "untouched";

                print_message("'%s'\n", cases[i]);
                assert_int_equal(fingerprint_normalize(cases[i], fp), -EINVAL);
                assert_string_equal(fp, "untouched");
        }
        assert_int_equal(fingerprint_normalize(NULL, (char[FINGERPRINT_HEX_SIZE]) {}), -EINVAL);
}

static void test_fingerprint_equal_ignores_case_and_separators(_unused_ void **state)
{
        assert_true(fingerprint_equal(TEST_CERT_FINGERPRINT, TEST_CERT_OPENSSL_FINGERPRINT));
        assert_true(fingerprint_equal(TEST_CERT_OPENSSL_FINGERPRINT, TEST_CERT_FINGERPRINT));
        assert_true(fingerprint_equal(TEST_CERT_FINGERPRINT, TEST_CERT_FINGERPRINT));
}

static void test_fingerprint_equal_rejects_different_or_invalid_fingerprints(_unused_ void **state)
{
        assert_false(fingerprint_equal(TEST_CERT_FINGERPRINT,
                                       "983b4fbc50af93a101375e5bbd285ddc8f3e658c7fece3f908d80860e215c079"));
        assert_false(fingerprint_equal("garbage", "garbage"));
        assert_false(fingerprint_equal(NULL, NULL));
        assert_false(fingerprint_equal(TEST_CERT_FINGERPRINT, NULL));
}

static void test_fingerprint_from_x509_matches_openssl(void **state)
{
        char fp[FINGERPRINT_HEX_SIZE];
        BIO *bio = BIO_new_mem_buf(test_cert_pem, -1);
        X509 *cert;

        (void) state;
        assert_non_null(bio);
        assert_non_null(cert = PEM_read_bio_X509(bio, NULL, NULL, NULL));
        assert_int_equal(fingerprint_from_x509(cert, fp), 0);
        assert_string_equal(fp, TEST_CERT_FINGERPRINT);
        X509_free(cert);
        BIO_free(bio);
}

static void test_fingerprint_from_x509_refuses_no_certificate(void **state)
{
        char fp[FINGERPRINT_HEX_SIZE];

        (void) state;
        assert_int_equal(fingerprint_from_x509(NULL, fp), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fingerprint_from_pem_matches_openssl),
                cmocka_unit_test(test_fingerprint_from_pem_skips_blocks_before_the_certificate),
                cmocka_unit_test(test_fingerprint_from_pem_uses_the_first_certificate),
                cmocka_unit_test(test_fingerprint_from_pem_reads_only_len_bytes),
                cmocka_unit_test(test_fingerprint_from_pem_reports_missing_certificate),
                cmocka_unit_test(test_fingerprint_from_pem_reports_openssl_reason_for_bad_pem),
                cmocka_unit_test(test_fingerprint_from_pem_reports_openssl_reason_for_bad_certificate),
                cmocka_unit_test(test_fingerprint_from_pem_rejects_null),
                cmocka_unit_test(test_fingerprint_from_der_matches_openssl),
                cmocka_unit_test(test_fingerprint_from_x509_matches_openssl),
                cmocka_unit_test(test_fingerprint_from_x509_refuses_no_certificate),
                cmocka_unit_test(test_fingerprint_from_der_rejects_trailing_data),
                cmocka_unit_test(test_fingerprint_from_der_rejects_truncated_certificate),
                cmocka_unit_test(test_fingerprint_from_der_rejects_empty_input),
                cmocka_unit_test(test_fingerprint_from_pem_file_reads_the_file),
                cmocka_unit_test(test_fingerprint_from_pem_file_reports_missing_file),
                cmocka_unit_test(test_fingerprint_from_pem_file_reports_a_directory),
                cmocka_unit_test(test_fingerprint_from_pem_file_names_the_file_in_parse_errors),
                cmocka_unit_test(test_fingerprint_from_pem_file_refuses_huge_files),
                cmocka_unit_test(test_fingerprint_normalize_accepts_the_openssl_form),
                cmocka_unit_test(test_fingerprint_normalize_lowercases_bare_hex),
                cmocka_unit_test(test_fingerprint_normalize_rejects_garbage),
                cmocka_unit_test(test_fingerprint_equal_ignores_case_and_separators),
                cmocka_unit_test(test_fingerprint_equal_rejects_different_or_invalid_fingerprints),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
