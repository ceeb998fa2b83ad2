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

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/fileio.h"
#include "common/fingerprint.h"
#include "common/strbuf.h"
#include "common/tls-cert.h"

struct paths {
        char dir[64];
        char *cert;
        char *key;
};

static int setup(void **state)
{
        struct paths *p = calloc(1, sizeof(*p));

        assert_non_null(p);
        snprintf(p->dir, sizeof(p->dir), "/tmp/ferry-test-cert-XXXXXX");
        assert_non_null(mkdtemp(p->dir));
        assert_non_null(p->cert = strjoin(p->dir, "/server.crt", NULL));
        assert_non_null(p->key = strjoin(p->dir, "/server.key", NULL));
        *state = p;
        return 0;
}

static int teardown(void **state)
{
        struct paths *p = *state;

        unlink(p->cert);
        unlink(p->key);
        assert_int_equal(rmdir(p->dir), 0);
        free(p->cert);
        free(p->key);
        free(p);
        return 0;
}

static X509 *parse_cert(const char *pem)
{
        BIO *bio = BIO_new_mem_buf(pem, -1);
        X509 *cert;

        assert_non_null(bio);
        cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
        assert_non_null(cert);
        return cert;
}

static EVP_PKEY *parse_key(const char *pem)
{
        BIO *bio = BIO_new_mem_buf(pem, -1);
        EVP_PKEY *key;

        assert_non_null(bio);
        key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        BIO_free(bio);
        assert_non_null(key);
        return key;
}

/* A freshly generated certificate for common_name, and its key. */
static void generate(const char *common_name, X509 **ret_cert, EVP_PKEY **ret_key)
{
        _cleanup_free_ char *cert_pem = NULL, *key_pem = NULL;
        struct ferry_error err = {};

        assert_int_equal(tls_cert_generate(common_name, &cert_pem, &key_pem, &err), 0);
        assert_true(startswith(cert_pem, "-----BEGIN CERTIFICATE-----\n"));
        assert_true(startswith(key_pem, "-----BEGIN PRIVATE KEY-----\n"));
        *ret_cert = parse_cert(cert_pem);
        if (ret_key)
                *ret_key = parse_key(key_pem);
}

/* The subject alternative names, as "DNS:x" and "IP:a.b.c.d" joined by ",". */
static char *alt_names(X509 *cert)
{
        GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
        struct strbuf sb = STRBUF_INIT;

        assert_non_null(names);
        for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
                GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
                char *text;

                if (gn->type == GEN_DNS)
                        assert_int_equal(strbuf_appendf(&sb, "%sDNS:%s", sb.len ? "," : "",
                                                        (const char *) ASN1_STRING_get0_data(gn->d.dNSName)), 0);
                else {
                        assert_int_equal(gn->type, GEN_IPADD);
                        text = OPENSSL_buf2hexstr(ASN1_STRING_get0_data(gn->d.iPAddress),
                                                  ASN1_STRING_length(gn->d.iPAddress));
                        assert_int_equal(strbuf_appendf(&sb, "%sIP:%s", sb.len ? "," : "", text), 0);
                        OPENSSL_free(text);
                }
        }
        GENERAL_NAMES_free(names);
        return strbuf_steal(&sb);
}

static void test_generate_makes_a_p384_key_and_a_certificate_signed_by_it(void **state)
{
        X509 *cert;
        EVP_PKEY *key;
        char curve[32] = "";

        (void) state;
        generate("ferry-host", &cert, &key);

        assert_true(EVP_PKEY_is_a(key, "EC"));
        assert_true(EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof(curve), NULL));
        assert_string_equal(curve, "secp384r1");
        assert_int_equal(X509_check_private_key(cert, key), 1);
        assert_int_equal(X509_verify(cert, key), 1);
        assert_int_equal(X509_get_signature_nid(cert), NID_ecdsa_with_SHA384);
        assert_int_equal(X509_get_version(cert), X509_VERSION_3);

        X509_free(cert);
        EVP_PKEY_free(key);
}

static void test_generate_names_subject_and_issuer_after_the_common_name(void **state)
{
        char subject[256], issuer[256];
        X509 *cert;

        (void) state;
        generate("ferry-host", &cert, NULL);

        X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
        X509_NAME_oneline(X509_get_issuer_name(cert), issuer, sizeof(issuer));
        assert_string_equal(subject, "/O=ferry/CN=ferry-host");
        assert_string_equal(issuer, subject);
        X509_free(cert);
}

static void test_generate_lists_the_host_name_and_loopback_addresses_as_alternative_names(void **state)
{
        _cleanup_free_ char *names = NULL;
        X509 *cert;

        (void) state;
        generate("ferry-host.example.org", &cert, NULL);

        names = alt_names(cert);
        assert_string_equal(names, "DNS:ferry-host.example.org,DNS:localhost,IP:7F:00:00:01,"
                                   "IP:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:01");
        X509_free(cert);
}

static void test_generate_leaves_a_common_name_that_is_no_host_name_out_of_the_alternative_names(void **state)
{
        _cleanup_free_ char *names = NULL;
        X509 *cert;

        (void) state;
        generate("root@ferry-host", &cert, NULL);

        names = alt_names(cert);
        assert_string_equal(names, "DNS:localhost,IP:7F:00:00:01,IP:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:01");
        X509_free(cert);
}

static void test_generate_makes_a_certificate_for_tls_servers_and_clients(void **state)
{
        X509 *cert;

        (void) state;
        generate("ferry-host", &cert, NULL);

        assert_int_equal(X509_check_purpose(cert, X509_PURPOSE_SSL_SERVER, 0), 1);
        assert_int_equal(X509_check_purpose(cert, X509_PURPOSE_SSL_CLIENT, 0), 1);
        assert_int_equal(X509_check_ca(cert), 0);
        assert_int_equal(X509_check_host(cert, "localhost", 0, 0, NULL), 1);
        assert_int_equal(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
        assert_int_equal(X509_check_ip_asc(cert, "::1", 0), 1);
        X509_free(cert);
}

static void test_generate_makes_a_certificate_valid_from_now_for_ten_years(void **state)
{
        int days = 0, secs = 0;
        X509 *cert;

        (void) state;
        generate("ferry-host", &cert, NULL);

        assert_int_equal(X509_cmp_current_time(X509_get0_notBefore(cert)), -1);
        assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert), X509_get0_notAfter(cert)), 1);
        assert_int_equal(days, TLS_CERT_VALIDITY_DAYS);
        assert_int_equal(secs, 0);
        X509_free(cert);
}

static void test_generate_gives_every_certificate_its_own_serial_number(void **state)
{
        X509 *a, *b;

        (void) state;
        generate("ferry-host", &a, NULL);
        generate("ferry-host", &b, NULL);

        assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(a), X509_get0_serialNumber(b)), 0);
        assert_true(ASN1_INTEGER_get(X509_get0_serialNumber(a)) != 0);
        X509_free(a);
        X509_free(b);
}

static void test_generate_cuts_a_long_common_name_to_64_characters(void **state)
{
        char name[100], subject[256];
        X509 *cert;

        (void) state;
        memset(name, 'a', sizeof(name) - 1);
        name[sizeof(name) - 1] = '\0';
        generate(name, &cert, NULL);

        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, subject, sizeof(subject));
        assert_int_equal(strlen(subject), TLS_CERT_COMMON_NAME_MAX);
        X509_free(cert);
}

static void test_generate_refuses_an_empty_common_name(void **state)
{
        char *cert_pem = NULL, *key_pem = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(tls_cert_generate("", &cert_pem, &key_pem, &err), -EINVAL);
        assert_string_equal(ferry_error_message(&err), "A certificate needs a common name");
        assert_null(cert_pem);
        assert_null(key_pem);
}

static mode_t file_mode(const char *path)
{
        struct stat st;

        assert_int_equal(stat(path, &st), 0);
        return st.st_mode & 07777;
}

static void test_load_or_generate_writes_a_new_pair_with_a_private_key_only_the_owner_reads(void **state)
{
        struct paths *p = *state;
        _cleanup_free_ char *pem = NULL, *file = NULL, *key = NULL;
        struct ferry_error err = {};
        bool generated = false;
        X509 *cert;
        EVP_PKEY *pkey;

        assert_int_equal(tls_cert_load_or_generate(p->cert, p->key, "ferry-host", &pem, &generated, &err), 0);
        assert_true(generated);

        assert_int_equal(file_mode(p->key), 0600);
        assert_int_equal(file_mode(p->cert), 0644);
        assert_int_equal(fileio_read(p->cert, 65536, &file, NULL), 0);
        assert_string_equal(pem, file);
        assert_int_equal(fileio_read(p->key, 65536, &key, NULL), 0);
        assert_null(strstr(pem, "PRIVATE KEY"));

        cert = parse_cert(file);
        pkey = parse_key(key);
        assert_int_equal(X509_check_private_key(cert, pkey), 1);
        X509_free(cert);
        EVP_PKEY_free(pkey);
}

static void test_load_or_generate_loads_an_existing_pair_unchanged(void **state)
{
        struct paths *p = *state;
        _cleanup_free_ char *first = NULL, *second = NULL;
        char fp_first[FINGERPRINT_HEX_SIZE], fp_second[FINGERPRINT_HEX_SIZE];
        struct ferry_error err = {};
        bool generated = true;

        assert_int_equal(tls_cert_load_or_generate(p->cert, p->key, "ferry-host", &first, NULL, &err), 0);
        assert_int_equal(tls_cert_load_or_generate(p->cert, p->key, "other-name", &second, &generated, &err), 0);
        assert_false(generated);
        assert_string_equal(first, second);

        assert_int_equal(fingerprint_from_pem(first, strlen(first), fp_first, &err), 0);
        assert_int_equal(fingerprint_from_pem_file(p->cert, fp_second, &err), 0);
        assert_string_equal(fp_first, fp_second);
}

static void test_load_or_generate_refuses_a_certificate_without_its_key(void **state)
{
        struct paths *p = *state;
        _cleanup_free_ char *expected = NULL, *pem = NULL;
        struct ferry_error err = {};

        assert_int_equal(tls_cert_load_or_generate(p->cert, p->key, "ferry-host", NULL, NULL, &err), 0);
        assert_int_equal(unlink(p->key), 0);

        assert_int_equal(tls_cert_load_or_generate(p->cert, p->key, "ferry-host", &pem, NULL, &err), -ENOENT);
        assert_non_null(expected = strjoin("'", p->cert, "' exists but '", p->key,
                                           "' does not: remove it to have a new pair generated", NULL));
        assert_string_equal(ferry_error_message(&err), expected);
        assert_null(pem);
        assert_int_equal(access(p->key, F_OK), -1);
}

static void test_load_or_generate_refuses_a_key_without_its_certificate(void **state)
{
        struct paths *p = *state;
        _cleanup_free_ char *expected = NULL;
        struct ferry_error err = {};

        assert_int_equal(tls_cert_load_or_generate(p->cert, p->key, "ferry-host", NULL, NULL, &err), 0);
        assert_int_equal(unlink(p->cert), 0);

        assert_int_equal(tls_cert_load_or_generate(p->cert, p->key, "ferry-host", NULL, NULL, &err), -ENOENT);
        assert_non_null(expected = strjoin("'", p->key, "' exists but '", p->cert,
                                           "' does not: remove it to have a new pair generated", NULL));
        assert_string_equal(ferry_error_message(&err), expected);
}

static void test_load_or_generate_refuses_a_key_of_another_certificate(void **state)
{
        struct paths *p = *state;
        _cleanup_free_ char *cert_pem = NULL, *key_pem = NULL, *expected = NULL;
        struct ferry_error err = {};

        assert_int_equal(tls_cert_load_or_generate(p->cert, p->key, "ferry-host", NULL, NULL, &err), 0);
        assert_int_equal(tls_cert_generate("other", &cert_pem, &key_pem, &err), 0);
        assert_int_equal(fileio_write_atomic(p->key, key_pem, strlen(key_pem), 0600, &err), 0);

        assert_int_equal(tls_cert_load_or_generate(p->cert, p->key, "ferry-host", NULL, NULL, &err), -EINVAL);
        assert_non_null(expected = strjoin("Private key '", p->key, "' does not belong to certificate '", p->cert,
                                           "'", NULL));
        assert_string_equal(ferry_error_message(&err), expected);
}

static void test_load_or_generate_refuses_a_certificate_file_that_holds_no_certificate(void **state)
{
        struct paths *p = *state;
        _cleanup_free_ char *expected = NULL;
        struct ferry_error err = {};

        assert_int_equal(tls_cert_load_or_generate(p->cert, p->key, "ferry-host", NULL, NULL, &err), 0);
        assert_int_equal(fileio_write_atomic(p->cert, "garbage\n", 8, 0644, &err), 0);

        assert_int_equal(tls_cert_load_or_generate(p->cert, p->key, "ferry-host", NULL, NULL, &err), -EINVAL);
        assert_non_null(expected = strjoin("Invalid certificate '", p->cert, "': no start line", NULL));
        assert_string_equal(ferry_error_message(&err), expected);
}

static void test_load_or_generate_reports_a_directory_it_cannot_write(void **state)
{
        _cleanup_free_ char *cert = NULL, *key = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_non_null(cert = strdup("/nonexistent-ferry-dir/server.crt"));
        assert_non_null(key = strdup("/nonexistent-ferry-dir/server.key"));

        assert_int_equal(tls_cert_load_or_generate(cert, key, "ferry-host", NULL, NULL, &err), -ENOENT);
        assert_string_equal(ferry_error_message(&err),
                            "Failed to write '/nonexistent-ferry-dir/server.key': No such file or directory");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_generate_makes_a_p384_key_and_a_certificate_signed_by_it),
                cmocka_unit_test(test_generate_names_subject_and_issuer_after_the_common_name),
                cmocka_unit_test(test_generate_lists_the_host_name_and_loopback_addresses_as_alternative_names),
                cmocka_unit_test(test_generate_leaves_a_common_name_that_is_no_host_name_out_of_the_alternative_names),
                cmocka_unit_test(test_generate_makes_a_certificate_for_tls_servers_and_clients),
                cmocka_unit_test(test_generate_makes_a_certificate_valid_from_now_for_ten_years),
                cmocka_unit_test(test_generate_gives_every_certificate_its_own_serial_number),
                cmocka_unit_test(test_generate_cuts_a_long_common_name_to_64_characters),
                cmocka_unit_test(test_generate_refuses_an_empty_common_name),
                cmocka_unit_test_setup_teardown(
                        test_load_or_generate_writes_a_new_pair_with_a_private_key_only_the_owner_reads, setup,
                        teardown),
                cmocka_unit_test_setup_teardown(test_load_or_generate_loads_an_existing_pair_unchanged, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_load_or_generate_refuses_a_certificate_without_its_key, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_load_or_generate_refuses_a_key_without_its_certificate, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_load_or_generate_refuses_a_key_of_another_certificate, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(
                        test_load_or_generate_refuses_a_certificate_file_that_holds_no_certificate, setup, teardown),
                cmocka_unit_test(test_load_or_generate_reports_a_directory_it_cannot_write),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
