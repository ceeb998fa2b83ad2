/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/fingerprint.h"
#include "common/strbuf.h"

/* Certificates are a few KiB; a bigger file is not one. */
#define FINGERPRINT_FILE_MAX (1024 * 1024)

DEFINE_CLEANUP_FUNC(BIO, BIO_free_all);
DEFINE_CLEANUP_FUNC(X509, X509_free);

/*
 * OpenSSL's reason for the failure on this thread, and clear its error queue.
 * The earliest entry is the cause ("wrong tag"); later ones only say where it
 * was noticed ("nested asn1 error").
 */
static const char *openssl_reason(void)
{
        unsigned long e = ERR_peek_error();
        const char *reason = e ? ERR_reason_error_string(e) : NULL;

        ERR_clear_error();
        return reason ? reason : "unknown error";
}

int fingerprint_from_der(const void *der, size_t len, char ret[static FINGERPRINT_HEX_SIZE],
                         struct ferry_error *err)
{
        const unsigned char *p = der;
        unsigned char digest[EVP_MAX_MD_SIZE];
        char hex[FINGERPRINT_HEX_SIZE];
        unsigned digest_len = 0;

        if (!der || len == 0)
                return ferry_error_set(err, -EINVAL, "Invalid certificate: no data");
        if (len > LONG_MAX)
                return ferry_error_set(err, -EINVAL, "Invalid certificate: too large");

        {
                _cleanup_(X509_free_p) X509 *cert = NULL;

                ERR_clear_error();
                cert = d2i_X509(NULL, &p, (long) len);
                if (!cert)
                        return ferry_error_set(err, -EINVAL, "Invalid certificate: %s", openssl_reason());
        }
        if ((size_t) (p - (const unsigned char *) der) != len)
                return ferry_error_set(err, -EINVAL, "Invalid certificate: trailing data after the certificate");

        if (!EVP_Digest(der, len, digest, &digest_len, EVP_sha256(), NULL) || digest_len != 32)
                return ferry_error_set(err, -EIO, "Failed to compute SHA-256: %s", openssl_reason());

        hex_encode(digest, digest_len, hex, sizeof hex);
        memcpy(ret, hex, sizeof hex);
        return 0;
}

int fingerprint_from_x509(X509 *cert, char ret[static FINGERPRINT_HEX_SIZE])
{
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned digest_len = 0;

        if (!cert || !X509_digest(cert, EVP_sha256(), digest, &digest_len) || digest_len != 32)
                return -EINVAL;
        hex_encode(digest, digest_len, ret, FINGERPRINT_HEX_SIZE);
        return 0;
}

static bool pem_is_certificate(const char *name)
{
        return streq(name, PEM_STRING_X509) || streq(name, PEM_STRING_X509_OLD);
}

int fingerprint_from_pem(const char *pem, size_t len, char ret[static FINGERPRINT_HEX_SIZE],
                         struct ferry_error *err)
{
        _cleanup_(BIO_free_all_p) BIO *bio = NULL;

        if (!pem)
                return ferry_error_set(err, -EINVAL, "No certificate found in PEM data");
        if (len > INT_MAX)
                return ferry_error_set(err, -EINVAL, "Invalid PEM data: too large");

        ERR_clear_error();
        bio = BIO_new_mem_buf(pem, (int) len);
        if (!bio)
                return ferry_error_set(err, -ENOMEM, "Out of memory reading PEM data");

        for (;;) {
                char *name = NULL, *header = NULL;
                unsigned char *data = NULL;
                long data_len = 0;
                bool found;
                int r = 0;

                if (!PEM_read_bio(bio, &name, &header, &data, &data_len)) {
                        unsigned long e = ERR_peek_last_error();

                        if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
                                ERR_clear_error();
                                return ferry_error_set(err, -EINVAL, "No certificate found in PEM data");
                        }
                        return ferry_error_set(err, -EINVAL, "Invalid PEM data: %s", openssl_reason());
                }

                found = pem_is_certificate(name);
                if (found)
                        r = fingerprint_from_der(data, (size_t) data_len, ret, err);
                OPENSSL_free(name);
                OPENSSL_free(header);
                OPENSSL_free(data);
                if (found)
                        return r;
        }
}

int fingerprint_from_pem_file(const char *path, char ret[static FINGERPRINT_HEX_SIZE],
                              struct ferry_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        r = fileio_read(path, FINGERPRINT_FILE_MAX, &buf, &len);
        if (r == -EFBIG)
                return ferry_error_set(err, r, "Certificate file '%s' is larger than %d bytes", path,
                                       FINGERPRINT_FILE_MAX);
        if (r < 0)
                return ferry_error_set(err, r, "Failed to read certificate '%s': %m", path);

        r = fingerprint_from_pem(buf, len, ret, err);
        if (r < 0)
                return ferry_error_prefix(err, "Certificate '%s'", path);
        return 0;
}

static int hex_digit_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

int fingerprint_normalize(const char *in, char ret[static FINGERPRINT_HEX_SIZE])
{
        static const char digits[] = "0123456789abcdef";
        char out[FINGERPRINT_HEX_SIZE];
        bool separated;
        size_t n = 0;

        if (!in)
                return -EINVAL;

        /* Either 64 bare digits, or pairs separated by ':' (3 * 32 - 1 characters). */
        separated = strchr(in, ':') != NULL;
        if (strlen(in) != (separated ? 3 * 32 - 1 : 64))
                return -EINVAL;

        for (const char *p = in; *p; p++) {
                int v;

                if (separated && (p - in) % 3 == 2) {
                        if (*p != ':')
                                return -EINVAL;
                        continue;
                }
                v = hex_digit_value(*p);
                if (v < 0)
                        return -EINVAL;
                out[n++] = digits[v];
        }
        out[n] = '\0';

        memcpy(ret, out, sizeof out);
        return 0;
}

bool fingerprint_equal(const char *a, const char *b)
{
        char na[FINGERPRINT_HEX_SIZE], nb[FINGERPRINT_HEX_SIZE];

        if (fingerprint_normalize(a, na) < 0 || fingerprint_normalize(b, nb) < 0)
                return false;
        return streq(na, nb);
}
