/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "common/duration.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/trust-token.h"

#define TEST_FINGERPRINT "983b4fbc50af93a101375e5bbd285ddc8f3e658c7fece3f908d80860e215c078"
#define TEST_SECRET "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static struct trust_token *make_token(void)
{
        static const char *const addresses[] = { "127.0.0.1:8443", "[::1]:8443", NULL };
        struct trust_token *t = calloc(1, sizeof(*t));

        assert_non_null(t);
        assert_non_null(t->client_name = strdup("laptop"));
        snprintf(t->fingerprint, sizeof(t->fingerprint), "%s", TEST_FINGERPRINT);
        snprintf(t->secret, sizeof(t->secret), "%s", TEST_SECRET);
        assert_non_null(t->addresses = calloc(3, sizeof(char *)));
        for (size_t i = 0; addresses[i]; i++)
                assert_non_null(t->addresses[i] = strdup(addresses[i]));
        assert_int_equal(timestamp_parse_rfc3339("2026-11-24T11:00:00Z", &t->expires_at), 0);
        return t;
}

/* Standard base64, padded, of text: how Incus writes its tokens. */
static char *base64_std(const char *text)
{
        size_t len = strlen(text);
        unsigned char *out = malloc(4 * ((len + 2) / 3) + 1);

        assert_non_null(out);
        EVP_EncodeBlock(out, (const unsigned char *) text, (int) len);
        return (char *) out;
}

static void assert_decode_fails(const char *text, const char *message)
{
        struct trust_token *t = NULL;
        struct ferry_error err = {};

        assert_int_equal(trust_token_decode(text, &t, &err), -EINVAL);
        assert_string_equal(ferry_error_message(&err), message);
        assert_null(t);
}

static void test_encode_writes_unpadded_base64url(void **state)
{
        _cleanup_trust_token_ struct trust_token *t = make_token();
        _cleanup_free_ char *text = NULL;

        (void) state;
        assert_int_equal(trust_token_encode(t, &text), 0);
        assert_true(strlen(text) > 100);
        assert_int_equal(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), strlen(text));
}

static void test_encode_then_decode_gives_the_token_back(void **state)
{
        _cleanup_trust_token_ struct trust_token *t = make_token(), *back = NULL;
        _cleanup_free_ char *text = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(trust_token_encode(t, &text), 0);
        assert_int_equal(trust_token_decode(text, &back, &err), 0);

        assert_string_equal(back->client_name, "laptop");
        assert_string_equal(back->fingerprint, TEST_FINGERPRINT);
        assert_string_equal(back->secret, TEST_SECRET);
        assert_int_equal(back->expires_at, t->expires_at);
        assert_string_equal(back->addresses[0], "127.0.0.1:8443");
        assert_string_equal(back->addresses[1], "[::1]:8443");
        assert_null(back->addresses[2]);
}

static void test_encode_writes_the_fields_incus_reads(void **state)
{
        _cleanup_trust_token_ struct trust_token *t = make_token();
        _cleanup_free_ char *text = NULL, *std = NULL, *json_text = NULL;
        unsigned char decoded[1024];
        size_t len;
        int n;

        (void) state;
        assert_int_equal(trust_token_encode(t, &text), 0);

        /* Back to padded standard base64 by hand, then decode with OpenSSL. */
        len = strlen(text);
        assert_non_null(std = calloc(len + 4, 1));
        for (size_t i = 0; i < len; i++)
                std[i] = text[i] == '-' ? '+' : text[i] == '_' ? '/' : text[i];
        while (len % 4)
                std[len++] = '=';
        n = EVP_DecodeBlock(decoded, (const unsigned char *) std, (int) len);
        assert_true(n > 0);
        assert_non_null(json_text = strndup((const char *) decoded, (size_t) n));
        /* EVP_DecodeBlock leaves the padding as NUL bytes at the end. */
        assert_string_equal(json_text,
                            "{\"client_name\":\"laptop\",\"fingerprint\":\"" TEST_FINGERPRINT "\","
                            "\"addresses\":[\"127.0.0.1:8443\",\"[::1]:8443\"],\"secret\":\"" TEST_SECRET "\","
                            "\"expires_at\":\"2026-11-24T11:00:00Z\"}");
}

static void test_encode_writes_a_token_that_never_expires_as_the_zero_time(void **state)
{
        _cleanup_trust_token_ struct trust_token *t = make_token(), *back = NULL;
        _cleanup_free_ char *text = NULL;
        struct ferry_error err = {};

        (void) state;
        t->expires_at = 0;
        assert_int_equal(trust_token_encode(t, &text), 0);
        assert_int_equal(trust_token_decode(text, &back, &err), 0);
        assert_int_equal(back->expires_at, 0);
}

static void test_encode_refuses_a_token_without_a_valid_secret(void **state)
{
        _cleanup_trust_token_ struct trust_token *t = make_token();
        char *text = NULL;

        (void) state;
        t->secret[3] = 'x';
        assert_int_equal(trust_token_encode(t, &text), -EINVAL);
        assert_null(text);
}

static void test_decode_reads_an_incus_token_in_padded_standard_base64(void **state)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_trust_token_ struct trust_token *t = NULL;
        struct ferry_error err = {};

        (void) state;
        text = base64_std("{\"client_name\":\"ferry\",\"fingerprint\":\"" TEST_FINGERPRINT "\","
                          "\"addresses\":[\"10.0.0.1:8443\"],\"secret\":\"" TEST_SECRET "\","
                          "\"expires_at\":\"0001-01-01T00:00:00Z\",\"type\":\"client\"}");
        assert_non_null(strchr(text, '='));
        assert_int_equal(trust_token_decode(text, &t, &err), 0);
        assert_string_equal(t->client_name, "ferry");
        assert_string_equal(t->addresses[0], "10.0.0.1:8443");
        assert_int_equal(t->expires_at, 0);
}

static void test_decode_ignores_surrounding_white_space_and_normalizes_the_fingerprint(void **state)
{
        _cleanup_free_ char *b64 = NULL, *text = NULL;
        _cleanup_trust_token_ struct trust_token *t = NULL;
        struct ferry_error err = {};

        (void) state;
        b64 = base64_std("{\"client_name\":\"x\",\"fingerprint\":\"98:3B:4F:BC:50:AF:93:A1:01:37:5E:5B:BD:28:5D:DC:"
                         "8F:3E:65:8C:7F:EC:E3:F9:08:D8:08:60:E2:15:C0:78\",\"secret\":\"" TEST_SECRET "\"}");
        assert_non_null(text = strjoin("  ", b64, "\n", NULL));
        assert_int_equal(trust_token_decode(text, &t, &err), 0);
        assert_string_equal(t->fingerprint, TEST_FINGERPRINT);
        assert_null(t->addresses[0]);
}

static void test_decode_refuses_text_that_is_not_base64(void **state)
{
        (void) state;
        assert_decode_fails("not a token!", "Invalid trust token: not base64");
        assert_decode_fails("   ", "Invalid trust token: empty");
        assert_decode_fails("abcde", "Invalid trust token: not base64");
}

static void test_decode_refuses_base64_that_is_not_json(void **state)
{
        _cleanup_free_ char *text = base64_std("hello world");

        (void) state;
        assert_decode_fails(text, "Invalid trust token: not JSON");
}

static void test_decode_names_a_missing_field(void **state)
{
        _cleanup_free_ char *text = base64_std("{\"client_name\":\"x\",\"fingerprint\":\"" TEST_FINGERPRINT "\"}");

        (void) state;
        assert_decode_fails(text, "Invalid trust token: Missing required field 'secret'");
}

static void test_decode_refuses_a_bad_fingerprint_secret_or_expiry(void **state)
{
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

        (void) state;
        a = base64_std("{\"client_name\":\"x\",\"fingerprint\":\"abc\",\"secret\":\"" TEST_SECRET "\"}");
        assert_decode_fails(a, "Invalid trust token: Field 'fingerprint' is not a SHA-256 certificate fingerprint");
        b = base64_std("{\"client_name\":\"x\",\"fingerprint\":\"" TEST_FINGERPRINT "\",\"secret\":\"123\"}");
        assert_decode_fails(b, "Invalid trust token: Field 'secret' is not 64 hex digits");
        c = base64_std("{\"client_name\":\"x\",\"fingerprint\":\"" TEST_FINGERPRINT "\",\"secret\":\"" TEST_SECRET
                       "\",\"expires_at\":\"tomorrow\"}");
        assert_decode_fails(c, "Invalid trust token: Field 'expires_at' is not an RFC 3339 timestamp");
        d = base64_std("{\"client_name\":\"\",\"fingerprint\":\"" TEST_FINGERPRINT "\",\"secret\":\"" TEST_SECRET
                       "\"}");
        assert_decode_fails(d, "Invalid trust token: Field 'client_name' is empty");
}

static void test_decode_refuses_addresses_that_are_not_strings(void **state)
{
        _cleanup_free_ char *text = base64_std("{\"client_name\":\"x\",\"fingerprint\":\"" TEST_FINGERPRINT
                                               "\",\"secret\":\"" TEST_SECRET "\",\"addresses\":[1]}");

        (void) state;
        assert_decode_fails(text, "Invalid trust token: Field 'addresses' must hold strings");
}

static void test_secret_new_gives_64_hex_digits_that_differ_each_time(void **state)
{
        char a[TRUST_TOKEN_SECRET_HEX_SIZE], b[TRUST_TOKEN_SECRET_HEX_SIZE];

        (void) state;
        assert_int_equal(trust_token_secret_new(a), 0);
        assert_int_equal(trust_token_secret_new(b), 0);
        assert_int_equal(strlen(a), 64);
        assert_true(trust_token_is_secret(a));
        assert_string_not_equal(a, b);
}

static void test_is_secret_accepts_only_64_hex_digits(void **state)
{
        (void) state;
        assert_true(trust_token_is_secret(TEST_SECRET));
        assert_true(trust_token_is_secret("00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"));
        assert_false(trust_token_is_secret("0011"));
        assert_false(trust_token_is_secret("g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"));
        assert_false(trust_token_is_secret(NULL));
}

static void test_secret_hash_is_the_sha256_of_the_lower_case_secret(void **state)
{
        char upper[] = "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF";
        char h1[TRUST_TOKEN_HASH_HEX_SIZE], h2[TRUST_TOKEN_HASH_HEX_SIZE];
        unsigned char digest[32];
        char expected[65];

        (void) state;
        assert_int_equal(trust_token_secret_hash(TEST_SECRET, h1), 0);
        assert_int_equal(trust_token_secret_hash(upper, h2), 0);
        assert_string_equal(h1, h2);

        assert_int_equal(EVP_Digest(TEST_SECRET, 64, digest, NULL, EVP_sha256(), NULL), 1);
        assert_int_equal(hex_encode(digest, sizeof(digest), expected, sizeof(expected)), 0);
        assert_string_equal(h1, expected);
        assert_int_equal(trust_token_secret_hash("short", h1), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_encode_writes_unpadded_base64url),
                cmocka_unit_test(test_encode_then_decode_gives_the_token_back),
                cmocka_unit_test(test_encode_writes_the_fields_incus_reads),
                cmocka_unit_test(test_encode_writes_a_token_that_never_expires_as_the_zero_time),
                cmocka_unit_test(test_encode_refuses_a_token_without_a_valid_secret),
                cmocka_unit_test(test_decode_reads_an_incus_token_in_padded_standard_base64),
                cmocka_unit_test(test_decode_ignores_surrounding_white_space_and_normalizes_the_fingerprint),
                cmocka_unit_test(test_decode_refuses_text_that_is_not_base64),
                cmocka_unit_test(test_decode_refuses_base64_that_is_not_json),
                cmocka_unit_test(test_decode_names_a_missing_field),
                cmocka_unit_test(test_decode_refuses_a_bad_fingerprint_secret_or_expiry),
                cmocka_unit_test(test_decode_refuses_addresses_that_are_not_strings),
                cmocka_unit_test(test_secret_new_gives_64_hex_digits_that_differ_each_time),
                cmocka_unit_test(test_is_secret_accepts_only_64_hex_digits),
                cmocka_unit_test(test_secret_hash_is_the_sha256_of_the_lower_case_secret),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
