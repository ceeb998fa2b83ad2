/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/fileio.h"
#include "common/macros.h"
#include "common/strbuf.h"
#include "common/tls-cert.h"

/* Certificates and keys are a few KiB; a bigger file is not one. */
#define TLS_CERT_FILE_MAX (1024 * 1024)

DEFINE_CLEANUP_FUNC(BIO, BIO_free_all);
DEFINE_CLEANUP_FUNC(X509, X509_free);
DEFINE_CLEANUP_FUNC(EVP_PKEY, EVP_PKEY_free);
DEFINE_CLEANUP_FUNC(BIGNUM, BN_free);
DEFINE_CLEANUP_FUNC(X509_EXTENSION, X509_EXTENSION_free);

/* OpenSSL's reason for the earliest failure on this thread; clears the queue. */
static const char *openssl_reason(void)
{
        unsigned long e = ERR_peek_error();
        const char *reason = e ? ERR_reason_error_string(e) : NULL;

        ERR_clear_error();
        return reason ? reason : "unknown error";
}

/* Free a buffer that held a private key, wiping it first. */
static void free_secret(char *p)
{
        if (!p)
                return;
        OPENSSL_cleanse(p, strlen(p));
        free(p);
}
DEFINE_CLEANUP_FUNC(char, free_secret);
#define _cleanup_secret_ _cleanup_(free_secret_p)

/* Letters, digits, '-' and '.', as a DNS subject alternative name may hold. */
static bool is_host_name(const char *s)
{
        if (!*s || *s == '.' || *s == '-' || strlen(s) > 253)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '-' || *p == '.'))
                        return false;
        return true;
}

static int add_extension(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
        _cleanup_(X509_EXTENSION_free_p) X509_EXTENSION *ext = NULL;

        ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
        if (!ext || !X509_add_ext(cert, ext, -1))
                return -EIO;
        return 0;
}

static char *bio_to_string(BIO *bio)
{
        char *data = NULL;
        long len = BIO_get_mem_data(bio, &data);

        if (len < 0 || !data) {
                errno = EIO;
                return NULL;
        }
        return strndup(data, (size_t) len);
}

static int build_certificate(X509 *cert, EVP_PKEY *pkey, const char *common_name, struct ferry_error *err)
{
        _cleanup_(BN_free_p) BIGNUM *serial = NULL;
        _cleanup_free_ char *san = NULL;
        char cn[TLS_CERT_COMMON_NAME_MAX + 1];
        X509V3_CTX ctx;
        X509_NAME *name;

        snprintf(cn, sizeof(cn), "%s", common_name);

        /* A positive serial of up to 127 random bits: unique enough that
         * two certificates never share issuer and serial. */
        serial = BN_new();
        if (!serial || !BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
            !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)))
                return ferry_error_set(err, -EIO, "Failed to make a serial number: %s", openssl_reason());

        name = X509_get_subject_name(cert);
        if (!X509_set_version(cert, X509_VERSION_3) ||
            !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *) "ferry", -1, -1, 0) ||
            !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0) ||
            !X509_set_issuer_name(cert, name) ||
            !X509_gmtime_adj(X509_getm_notBefore(cert), 0) ||
            !X509_time_adj_ex(X509_getm_notAfter(cert), TLS_CERT_VALIDITY_DAYS, 0, NULL) ||
            !X509_set_pubkey(cert, pkey))
                return ferry_error_set(err, -EIO, "Failed to fill in the certificate for '%s': %s", cn,
                                       openssl_reason());

        /* The common name was checked to be a plain host name before it
         * goes into this configuration string. */
        if (is_host_name(cn) && !streq(cn, "localhost"))
                san = strjoin("DNS:", cn, ",DNS:localhost,IP:127.0.0.1,IP:::1", NULL);
        else
                san = strdup("DNS:localhost,IP:127.0.0.1,IP:::1");
        if (!san)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
        if (add_extension(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
            add_extension(cert, &ctx, NID_key_usage, "critical,digitalSignature") < 0 ||
            add_extension(cert, &ctx, NID_ext_key_usage, "serverAuth,clientAuth") < 0 ||
            add_extension(cert, &ctx, NID_subject_key_identifier, "hash") < 0 ||
            add_extension(cert, &ctx, NID_subject_alt_name, san) < 0)
                return ferry_error_set(err, -EIO, "Failed to add the certificate extensions: %s", openssl_reason());

        if (!X509_sign(cert, pkey, EVP_sha384()))
                return ferry_error_set(err, -EIO, "Failed to sign the certificate: %s", openssl_reason());
        return 0;
}

int tls_cert_generate(const char *common_name, char **ret_cert_pem, char **ret_key_pem, struct ferry_error *err)
{
        _cleanup_(EVP_PKEY_free_p) EVP_PKEY *pkey = NULL;
        _cleanup_(X509_free_p) X509 *cert = NULL;
        _cleanup_(BIO_free_all_p) BIO *cert_bio = NULL, *key_bio = NULL;
        _cleanup_free_ char *cert_pem = NULL;
        _cleanup_secret_ char *key_pem = NULL;
        int r;

        if (!common_name || !*common_name)
                return ferry_error_set(err, -EINVAL, "A certificate needs a common name");

        ERR_clear_error();
        pkey = EVP_EC_gen("P-384");
        if (!pkey)
                return ferry_error_set(err, -EIO, "Failed to generate a P-384 key: %s", openssl_reason());

        cert = X509_new();
        if (!cert)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = build_certificate(cert, pkey, common_name, err);
        if (r < 0)
                return r;

        cert_bio = BIO_new(BIO_s_mem());
        key_bio = BIO_new(BIO_s_mem());
        if (!cert_bio || !key_bio)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (!PEM_write_bio_X509(cert_bio, cert) ||
            !PEM_write_bio_PrivateKey(key_bio, pkey, NULL, NULL, 0, NULL, NULL))
                return ferry_error_set(err, -EIO, "Failed to encode the certificate and key: %s", openssl_reason());

        cert_pem = bio_to_string(cert_bio);
        key_pem = bio_to_string(key_bio);
        if (!cert_pem || !key_pem)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        *ret_cert_pem = TAKE_PTR(cert_pem);
        *ret_key_pem = TAKE_PTR(key_pem);
        return 0;
}

/* Never prompt on a terminal for an encrypted key: refuse it. */
static int no_passphrase_cb(char *buf, int size, int rwflag, void *u)
{
        (void) buf;
        (void) size;
        (void) rwflag;
        (void) u;
        return -1;
}

static int load_pair(const char *cert_path, const char *key_path, char **ret_cert_pem, struct ferry_error *err)
{
        _cleanup_free_ char *cert_pem = NULL;
        _cleanup_secret_ char *key_pem = NULL;
        _cleanup_(BIO_free_all_p) BIO *cert_bio = NULL, *key_bio = NULL;
        _cleanup_(X509_free_p) X509 *cert = NULL;
        _cleanup_(EVP_PKEY_free_p) EVP_PKEY *pkey = NULL;
        size_t cert_len = 0, key_len = 0;
        int r;

        r = fileio_read(cert_path, TLS_CERT_FILE_MAX, &cert_pem, &cert_len);
        if (r < 0)
                return ferry_error_set(err, r, "Failed to read certificate '%s': %m", cert_path);
        r = fileio_read(key_path, TLS_CERT_FILE_MAX, &key_pem, &key_len);
        if (r < 0)
                return ferry_error_set(err, r, "Failed to read private key '%s': %m", key_path);

        ERR_clear_error();
        cert_bio = BIO_new_mem_buf(cert_pem, (int) cert_len);
        key_bio = BIO_new_mem_buf(key_pem, (int) key_len);
        if (!cert_bio || !key_bio)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        cert = PEM_read_bio_X509(cert_bio, NULL, no_passphrase_cb, NULL);
        if (!cert)
                return ferry_error_set(err, -EINVAL, "Invalid certificate '%s': %s", cert_path, openssl_reason());
        pkey = PEM_read_bio_PrivateKey(key_bio, NULL, no_passphrase_cb, NULL);
        if (!pkey)
                return ferry_error_set(err, -EINVAL, "Invalid private key '%s' (encrypted keys are not supported): %s",
                                       key_path, openssl_reason());
        if (!X509_check_private_key(cert, pkey)) {
                ERR_clear_error();
                return ferry_error_set(err, -EINVAL, "Private key '%s' does not belong to certificate '%s'", key_path,
                                       cert_path);
        }

        if (ret_cert_pem)
                *ret_cert_pem = TAKE_PTR(cert_pem);
        return 0;
}

static int file_exists(const char *path, struct ferry_error *err)
{
        if (access(path, F_OK) == 0)
                return 1;
        if (errno == ENOENT)
                return 0;
        return ferry_error_set(err, -errno, "Cannot access '%s': %m", path);
}

int tls_cert_load_or_generate(const char *cert_path, const char *key_path, const char *common_name,
                              char **ret_cert_pem, bool *ret_generated, struct ferry_error *err)
{
        _cleanup_free_ char *cert_pem = NULL;
        _cleanup_secret_ char *key_pem = NULL;
        int have_cert, have_key, r;

        have_cert = file_exists(cert_path, err);
        if (have_cert < 0)
                return have_cert;
        have_key = file_exists(key_path, err);
        if (have_key < 0)
                return have_key;

        if (have_cert && have_key) {
                r = load_pair(cert_path, key_path, ret_cert_pem, err);
                if (r < 0)
                        return r;
                if (ret_generated)
                        *ret_generated = false;
                return 0;
        }
        if (have_cert)
                return ferry_error_set(err, -ENOENT,
                                       "'%s' exists but '%s' does not: remove it to have a new pair generated",
                                       cert_path, key_path);
        if (have_key)
                return ferry_error_set(err, -ENOENT,
                                       "'%s' exists but '%s' does not: remove it to have a new pair generated",
                                       key_path, cert_path);

        r = tls_cert_generate(common_name, &cert_pem, &key_pem, err);
        if (r < 0)
                return r;

        /* A crash between the two writes leaves one file, which the
         * next call reports rather than overwrites. */
        r = fileio_write_atomic(key_path, key_pem, strlen(key_pem), 0600, err);
        if (r < 0)
                return r;
        r = fileio_write_atomic(cert_path, cert_pem, strlen(cert_pem), 0644, err);
        if (r < 0) {
                (void) unlink(key_path);
                return r;
        }

        if (ret_cert_pem)
                *ret_cert_pem = TAKE_PTR(cert_pem);
        if (ret_generated)
                *ret_generated = true;
        return 0;
}
