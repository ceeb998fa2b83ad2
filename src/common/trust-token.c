/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/duration.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/trust-token.h"

/* Go's zero time.Time: what Incus writes for a token that never expires. */
#define TRUST_TOKEN_GO_ZERO_TIME "0001-01-01T00:00:00Z"

/* Far larger than any token; stops a pasted file from being decoded. */
#define TRUST_TOKEN_TEXT_MAX (64 * 1024)

void trust_token_free(struct trust_token *t)
{
        if (!t)
                return;
        free(t->client_name);
        for (char **a = t->addresses; a && *a; a++)
                free(*a);
        free(t->addresses);
        OPENSSL_cleanse(t->secret, sizeof(t->secret));
        free(t);
}

int trust_token_secret_new(char ret[static TRUST_TOKEN_SECRET_HEX_SIZE])
{
        unsigned char bytes[TRUST_TOKEN_SECRET_BYTES];

        if (RAND_bytes(bytes, sizeof(bytes)) != 1)
                return -EIO;
        hex_encode(bytes, sizeof(bytes), ret, TRUST_TOKEN_SECRET_HEX_SIZE);
        OPENSSL_cleanse(bytes, sizeof(bytes));
        return 0;
}

bool trust_token_is_secret(const char *s)
{
        if (!s || strlen(s) != TRUST_TOKEN_SECRET_HEX_SIZE - 1)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
                        return false;
        return true;
}

int trust_token_secret_hash(const char *secret, char ret[static TRUST_TOKEN_HASH_HEX_SIZE])
{
        char lower[TRUST_TOKEN_SECRET_HEX_SIZE];
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned digest_len = 0;

        if (!trust_token_is_secret(secret))
                return -EINVAL;
        for (size_t i = 0; i < sizeof(lower); i++)
                lower[i] = (char) (secret[i] >= 'A' && secret[i] <= 'F' ? secret[i] - 'A' + 'a' : secret[i]);

        if (!EVP_Digest(lower, strlen(lower), digest, &digest_len, EVP_sha256(), NULL) || digest_len != 32)
                return -EIO;
        OPENSSL_cleanse(lower, sizeof(lower));
        hex_encode(digest, digest_len, ret, TRUST_TOKEN_HASH_HEX_SIZE);
        return 0;
}

static json_t *trust_token_to_json(const struct trust_token *t)
{
        char expires[TIMESTAMP_RFC3339_MAX];
        _cleanup_json_ json_t *v = NULL;
        json_t *addresses;

        if (t->expires_at == 0)
                snprintf(expires, sizeof(expires), "%s", TRUST_TOKEN_GO_ZERO_TIME);
        else if (timestamp_format_rfc3339(t->expires_at, expires, sizeof(expires)) < 0) {
                errno = EINVAL;
                return NULL;
        }

        addresses = json_array();
        if (!addresses) {
                errno = ENOMEM;
                return NULL;
        }
        for (char **a = t->addresses; a && *a; a++)
                if (json_array_append_new(addresses, json_string(*a)) < 0) {
                        json_decref(addresses);
                        errno = ENOMEM;
                        return NULL;
                }

        v = json_pack("{s:s, s:s, s:o, s:s, s:s}",
                      "client_name", t->client_name,
                      "fingerprint", t->fingerprint,
                      "addresses", addresses,
                      "secret", t->secret,
                      "expires_at", expires);
        if (!v) {
                errno = ENOMEM;
                return NULL;
        }
        return TAKE_PTR(v);
}

int trust_token_encode(const struct trust_token *t, char **ret)
{
        _cleanup_json_ json_t *v = NULL;
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ unsigned char *out = NULL;
        char fp[FINGERPRINT_HEX_SIZE];
        size_t len, n;

        if (!t->client_name || !*t->client_name || fingerprint_normalize(t->fingerprint, fp) < 0 ||
            !trust_token_is_secret(t->secret))
                return -EINVAL;

        v = trust_token_to_json(t);
        if (!v)
                return -errno;
        text = json_dump_compact(v);
        if (!text)
                return -ENOMEM;

        len = strlen(text);
        out = malloc(4 * ((len + 2) / 3) + 1);
        if (!out)
                return -ENOMEM;
        n = (size_t) EVP_EncodeBlock(out, (const unsigned char *) text, (int) len);
        OPENSSL_cleanse(text, len);

        /* Standard base64 to base64url, without the padding. */
        while (n > 0 && out[n - 1] == '=')
                out[--n] = '\0';
        for (size_t i = 0; i < n; i++)
                if (out[i] == '+')
                        out[i] = '-';
                else if (out[i] == '/')
                        out[i] = '_';

        *ret = (char *) TAKE_PTR(out);
        return 0;
}

/* Either base64 alphabet, padded or not, into a NUL-terminated buffer. */
static int base64_decode_any(const char *in, size_t len, char **ret, size_t *ret_len)
{
        _cleanup_free_ unsigned char *std = NULL, *out = NULL;
        size_t padded, pad = 0;
        int n;

        while (len > 0 && in[len - 1] == '=') {
                len--;
                pad++;
        }
        if (len == 0 || len % 4 == 1 || pad > 2)
                return -EINVAL;

        padded = (len + 3) / 4 * 4;
        std = malloc(padded + 1);
        out = malloc(padded / 4 * 3 + 1);
        if (!std || !out)
                return -ENOMEM;

        for (size_t i = 0; i < len; i++) {
                char c = in[i];

                if (c == '-')
                        c = '+';
                else if (c == '_')
                        c = '/';
                else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                           c == '/'))
                        return -EINVAL;
                std[i] = (unsigned char) c;
        }
        for (size_t i = len; i < padded; i++)
                std[i] = '=';
        std[padded] = '\0';

        n = EVP_DecodeBlock(out, std, (int) padded);
        if (n < 0)
                return -EINVAL;
        /* EVP_DecodeBlock() counts the padding as zero bytes. */
        n -= (int) (padded - len);
        out[n] = '\0';

        *ret = (char *) TAKE_PTR(out);
        *ret_len = (size_t) n;
        return 0;
}

static int trust_token_from_json(const json_t *v, struct trust_token *t, struct ferry_error *err)
{
        const char *name = NULL, *fp = NULL, *secret = NULL, *expires = NULL;
        json_t *addresses = NULL, *a;
        size_t i;
        int r;

        if (!json_is_object(v))
                return ferry_error_set(err, -EINVAL, "Not a JSON object");

        r = json_get_string(v, "client_name", true, &name, err);
        if (r < 0)
                return r;
        r = json_get_string(v, "fingerprint", true, &fp, err);
        if (r < 0)
                return r;
        r = json_get_string(v, "secret", true, &secret, err);
        if (r < 0)
                return r;
        r = json_get_string(v, "expires_at", false, &expires, err);
        if (r < 0)
                return r;
        r = json_get_array(v, "addresses", false, &addresses, err);
        if (r < 0)
                return r;

        if (!*name)
                return ferry_error_set(err, -EINVAL, "Field 'client_name' is empty");
        if (fingerprint_normalize(fp, t->fingerprint) < 0)
                return ferry_error_set(err, -EINVAL, "Field 'fingerprint' is not a SHA-256 certificate fingerprint");
        if (!trust_token_is_secret(secret))
                return ferry_error_set(err, -EINVAL, "Field 'secret' is not %d hex digits",
                                       TRUST_TOKEN_SECRET_HEX_SIZE - 1);
        for (size_t k = 0; k < sizeof(t->secret); k++)
                t->secret[k] = (char) (secret[k] >= 'A' && secret[k] <= 'F' ? secret[k] - 'A' + 'a' : secret[k]);

        t->expires_at = 0;
        if (expires && !streq(expires, TRUST_TOKEN_GO_ZERO_TIME) &&
            timestamp_parse_rfc3339(expires, &t->expires_at) < 0)
                return ferry_error_set(err, -EINVAL, "Field 'expires_at' is not an RFC 3339 timestamp");

        t->client_name = strdup(name);
        t->addresses = calloc((addresses ? json_array_size(addresses) : 0) + 1, sizeof(char *));
        if (!t->client_name || !t->addresses)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        json_array_foreach(addresses, i, a) {
                if (!json_is_string(a))
                        return ferry_error_set(err, -EINVAL, "Field 'addresses' must hold strings");
                t->addresses[i] = strdup(json_string_value(a));
                if (!t->addresses[i])
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        return 0;
}

int trust_token_decode(const char *text, struct trust_token **ret, struct ferry_error *err)
{
        _cleanup_trust_token_ struct trust_token *t = NULL;
        _cleanup_json_ json_t *v = NULL;
        _cleanup_free_ char *json_text = NULL;
        size_t start = 0, len, json_len = 0;
        int r;

        if (!text)
                return ferry_error_set(err, -EINVAL, "Invalid trust token: empty");

        len = strlen(text);
        while (start < len && strchr(" \t\r\n", text[start]))
                start++;
        while (len > start && strchr(" \t\r\n", text[len - 1]))
                len--;
        if (len == start)
                return ferry_error_set(err, -EINVAL, "Invalid trust token: empty");
        if (len - start > TRUST_TOKEN_TEXT_MAX)
                return ferry_error_set(err, -EINVAL, "Invalid trust token: longer than %d characters",
                                       TRUST_TOKEN_TEXT_MAX);

        r = base64_decode_any(text + start, len - start, &json_text, &json_len);
        if (r == -ENOMEM)
                return ferry_error_set(err, r, "Out of memory");
        if (r < 0)
                return ferry_error_set(err, -EINVAL, "Invalid trust token: not base64");

        r = json_parse_strict(json_text, json_len, &v, err);
        OPENSSL_cleanse(json_text, json_len);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return ferry_error_set(err, -EINVAL, "Invalid trust token: not JSON");

        t = calloc(1, sizeof(*t));
        if (!t)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = trust_token_from_json(v, t, err);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return ferry_error_prefix(err, "Invalid trust token");

        *ret = TAKE_PTR(t);
        return 0;
}
