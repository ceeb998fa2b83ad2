/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The trust store of the HTTPS API (docs/rest-api.md "Transport and
 * authentication"): trusted client certificates, and the one-time trust
 * tokens that let a new client add its own certificate, as Incus does.
 *
 *     GET, POST     /1.0/certificates
 *     GET, DELETE   /1.0/certificates/{fingerprint}
 *     GET           /1.0/certificates/tokens
 *     DELETE        /1.0/certificates/tokens/{name}
 *
 * POST /1.0/certificates is the one route besides GET /1.0 that an
 * untrusted client may use, and then only with a trust token.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/duration.h"
#include "common/fingerprint.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/trust-token.h"
#include "daemon/api-util.h"
#include "daemon/api.h"
#include "daemon/daemon.h"
#include "db/certificate.h"
#include "db/db.h"
#include "model/schema.h"

#define API_TOKEN_DEFAULT_EXPIRY_USEC USEC_PER_HOUR

DEFINE_CLEANUP_FUNC(BIO, BIO_free_all);
DEFINE_CLEANUP_FUNC(X509, X509_free);


int api_certificates_load(struct daemon *d, struct ferry_error *err)
{
        _cleanup_json_ json_t *list = NULL, *cache = NULL;
        json_t *cert;
        size_t i;
        int r;

        r = db_certificate_list(d->db, &list, err);
        if (r < 0)
                return r;
        cache = json_object();
        if (!cache)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        json_array_foreach(list, i, cert) {
                const char *fp = json_string_value(json_object_get(cert, "fingerprint"));
                const char *name = json_string_value(json_object_get(cert, "name"));

                if (fp && name && json_object_set_new(cache, fp, json_string(name)) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }

        json_decref(d->trusted);
        d->trusted = TAKE_PTR(cache);
        return 0;
}

const char *api_certificates_lookup(struct daemon *d, const char *fingerprint)
{
        if (!d->trusted || !fingerprint)
                return NULL;
        return json_string_value(json_object_get(d->trusted, fingerprint));
}

/* After a change: the next request already sees it. */
static void api_certificates_reload(struct daemon *d)
{
        struct ferry_error err = {};

        if (api_certificates_load(d, &err) < 0)
                log_error("Failed to reload the trusted certificates: %s", ferry_error_message(&err));
}

/* Whether a is a loopback or link-local address, which no remote client reaches. */
static bool address_is_local(const struct sockaddr *sa)
{
        if (sa->sa_family == AF_INET)
                return (ntohl(((const struct sockaddr_in *) sa)->sin_addr.s_addr) >> 24) == 127;
        if (sa->sa_family == AF_INET6) {
                const struct in6_addr *a = &((const struct sockaddr_in6 *) sa)->sin6_addr;

                return IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a);
        }
        return true;
}

/* Every address of this host a wildcard listener is reachable on. */
static int append_host_addresses(json_t *out, const char *port, bool v6)
{
        struct ifaddrs *ifa = NULL;

        if (getifaddrs(&ifa) < 0)
                return -errno;
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
                char ip[INET6_ADDRSTRLEN];
                _cleanup_free_ char *text = NULL;

                if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || address_is_local(i->ifa_addr))
                        continue;
                if (i->ifa_addr->sa_family == AF_INET6 && !v6)
                        continue;
                if (i->ifa_addr->sa_family == AF_INET)
                        inet_ntop(AF_INET, &((struct sockaddr_in *) i->ifa_addr)->sin_addr, ip, sizeof(ip));
                else
                        inet_ntop(AF_INET6, &((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr, ip, sizeof(ip));
                text = i->ifa_addr->sa_family == AF_INET6 ? strjoin("[", ip, "]:", port, NULL)
                                                          : strjoin(ip, ":", port, NULL);
                if (!text || json_array_append_new(out, json_string(text)) < 0) {
                        freeifaddrs(ifa);
                        return -ENOMEM;
                }
        }
        freeifaddrs(ifa);
        return 0;
}

json_t *api_https_addresses(const struct daemon *d)
{
        _cleanup_json_ json_t *out = json_array();
        const char *port;
        bool wildcard;

        if (!out)
                return NULL;
        if (!d->https_address)
                return TAKE_PTR(out);

        /* ":8443", "0.0.0.0:8443" and "[::]:8443" listen everywhere: name the addresses. */
        port = strrchr(d->https_address, ':') + 1;
        wildcard = d->https_address[0] == ':' || startswith(d->https_address, "0.0.0.0:") ||
                   startswith(d->https_address, "[::]:");
        if (wildcard && append_host_addresses(out, port, !startswith(d->https_address, "0.0.0.0:")) < 0)
                return NULL;
        if (json_array_size(out) == 0) {
                /* A host with loopback only, or a single address. */
                _cleanup_free_ char *text = wildcard ? strjoin("127.0.0.1:", port, NULL) : strdup(d->https_address);

                if (!text || json_array_append_new(out, json_string(text)) < 0)
                        return NULL;
        }
        return TAKE_PTR(out);
}

/* The stored form of a certificate: its PEM text alone, re-encoded, so
 * that nothing else a client sent (a private key, say) is kept or shown. */
static int certificate_canonical_pem(const char *pem, char **ret_pem, char ret_fp[static FINGERPRINT_HEX_SIZE],
                                     struct ferry_error *err)
{
        _cleanup_(BIO_free_all_p) BIO *in = NULL, *out = NULL;
        _cleanup_(X509_free_p) X509 *cert = NULL;
        char *data = NULL;
        long len;

        in = BIO_new_mem_buf(pem, -1);
        out = BIO_new(BIO_s_mem());
        if (!in || !out)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        cert = PEM_read_bio_X509(in, NULL, NULL, NULL);
        if (!cert)
                return ferry_error_set(err, -EINVAL, "Field 'certificate' is not a PEM certificate");
        if (fingerprint_from_x509(cert, ret_fp) < 0 || !PEM_write_bio_X509(out, cert) ||
            (len = BIO_get_mem_data(out, &data)) <= 0)
                return ferry_error_set(err, -EIO, "Failed to encode the certificate");
        *ret_pem = strndup(data, (size_t) len);
        if (!*ret_pem)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return 0;
}

/* Trust pem under name, in one transaction with whatever the caller began. */
static int certificate_add(struct daemon *d, const char *name, const char *fingerprint, const char *pem,
                           struct ferry_error *err)
{
        _cleanup_json_ json_t *obj = NULL;

        if (api_certificates_lookup(d, fingerprint))
                return ferry_error_set(err, -EEXIST, "Certificate '%s' is already trusted as '%s'", fingerprint,
                                       api_certificates_lookup(d, fingerprint));
        obj = json_pack("{s:s, s:s, s:s}", "fingerprint", fingerprint, "name", name, "certificate", pem);
        if (!obj)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return db_certificate_add(d->db, obj, err);
}

static int certificate_created(struct daemon *d, const struct api_request *req, const char *fingerprint,
                               struct api_response *ret)
{
        _cleanup_free_ char *source = strjoin("/1.0/certificates/", fingerprint, NULL);
        struct ferry_error err = {};
        json_t *obj = NULL;

        if (!source)
                return -ENOMEM;
        api_certificates_reload(d);
        api_emit_lifecycle(d, req, "certificate-created", source, NULL);

        if (db_certificate_get(d->db, fingerprint, &obj, &err) < 0)
                return api_response_from_error(ret, &err);
        return api_response_object(ret, obj);
}

static int check_name(const char *name, struct api_response *ret)
{
        if (!model_name_is_valid(name))
                return api_response_error(ret, 400,
                                          "Invalid name '%s': use 1 to 63 letters, digits, '-', '_' and '.', "
                                          "starting with a letter or digit",
                                          name);
        return 1;
}

/* POST {"name": "x", "token": true, "expires_in": "30m"}: a new trust token. */
static int certificates_post_token(struct daemon *d, const struct api_request *req, const json_t *body,
                                   struct api_response *ret)
{
        static const char *const fields[] = { "name", "token", "expires_in", NULL };
        _cleanup_trust_token_ struct trust_token *t = NULL;
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ json_t *addresses = NULL;
        char hash[TRUST_TOKEN_HASH_HEX_SIZE], expires[TIMESTAMP_RFC3339_MAX];
        struct ferry_error err = {};
        const char *name = NULL, *expires_in = NULL;
        uint64_t expiry = API_TOKEN_DEFAULT_EXPIRY_USEC;
        json_t *a, *metadata;
        size_t i;
        int r;

        (void) req;
        if (json_check_known_fields(body, fields, NULL, &err) < 0 ||
            json_get_string(body, "name", true, &name, &err) < 0 ||
            json_get_string(body, "expires_in", false, &expires_in, &err) < 0)
                return api_response_from_error(ret, &err);
        r = check_name(name, ret);
        if (r <= 0)
                return r;
        if (expires_in && (duration_parse(expires_in, &expiry) < 0 || expiry < USEC_PER_SEC))
                return api_response_error(ret, 400,
                                          "Field 'expires_in' must be a duration of at least 1s, like '30m' or '1h'");

        t = calloc(1, sizeof(*t));
        addresses = api_https_addresses(d);
        if (!t || !addresses || !(t->client_name = strdup(name)) ||
            !(t->addresses = calloc(json_array_size(addresses) + 1, sizeof(char *))))
                return -ENOMEM;
        json_array_foreach(addresses, i, a)
                if (!(t->addresses[i] = strdup(json_string_value(a))))
                        return -ENOMEM;
        memcpy(t->fingerprint, d->server_fingerprint, sizeof(t->fingerprint));
        t->expires_at = timestamp_now_usec() + (int64_t) expiry;

        r = trust_token_secret_new(t->secret);
        if (r >= 0)
                r = trust_token_secret_hash(t->secret, hash);
        if (r >= 0)
                r = trust_token_encode(t, &text);
        if (r >= 0)
                r = timestamp_format_rfc3339(t->expires_at, expires, sizeof(expires));
        if (r < 0)
                return r;

        r = db_trust_token_create(d->db, name, hash, t->expires_at, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        log_info("Created trust token '%s', valid until %s", name, expires);
        metadata = json_pack("{s:s, s:s, s:s}", "name", name, "token", text, "expires_at", expires);
        if (!metadata)
                return -ENOMEM;
        return api_response_sync(ret, metadata);
}

/* POST {"trust_token": "..."}: trust the TLS client's certificate, once. */
static int certificates_post_trust_token(struct daemon *d, const struct api_request *req, const json_t *body,
                                         struct api_response *ret)
{
        static const char *const fields[] = { "trust_token", NULL };
        _cleanup_trust_token_ struct trust_token *t = NULL;
        _cleanup_free_ char *name = NULL, *pem = NULL;
        char hash[TRUST_TOKEN_HASH_HEX_SIZE], fp[FINGERPRINT_HEX_SIZE];
        struct ferry_error err = {};
        const char *token = NULL, *secret;
        int r;

        if (json_check_known_fields(body, fields, NULL, &err) < 0 ||
            json_get_string(body, "trust_token", true, &token, &err) < 0)
                return api_response_from_error(ret, &err);

        if (!streq_ptr(req->requestor.protocol, "tls") || !req->requestor.certificate)
                return api_response_error(ret, 400,
                                          "A trust token adds the certificate of the TLS client that sends it: "
                                          "send it over HTTPS with a client certificate");

        if (trust_token_is_secret(token))
                secret = token;
        else {
                if (trust_token_decode(token, &t, &err) < 0)
                        return api_response_error(ret, 403, "%s", ferry_error_message(&err));
                if (!streq(t->fingerprint, d->server_fingerprint))
                        return api_response_error(ret, 403,
                                                  "The trust token was issued by another server (certificate "
                                                  "fingerprint '%s')",
                                                  t->fingerprint);
                secret = t->secret;
        }
        r = trust_token_secret_hash(secret, hash);
        if (r < 0)
                return r;

        r = certificate_canonical_pem(req->requestor.certificate, &pem, fp, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        r = db_begin(d->db, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);
        r = db_trust_token_consume(d->db, hash, &name, &err);
        if (r == -ENOENT)
                ferry_error_set(&err, -EPERM, "Unknown trust token: it was never issued, or it was used or revoked");
        if (r >= 0)
                r = certificate_add(d, name, fp, pem, &err);
        if (r >= 0 || err.code == -ETIMEDOUT) {
                /* An expired token is gone for good: keep its deletion. */
                int k = db_commit(d->db, r >= 0 ? &err : NULL);

                if (r >= 0)
                        r = k;
        } else
                db_rollback(d->db);
        if (r < 0) {
                log_info("Refused a trust token from certificate %s: %s", fp, ferry_error_message(&err));
                if (err.code == -ETIMEDOUT)
                        err.code = -EPERM;      /* "Trust token 'x' has expired" */
                return api_response_from_error(ret, &err);
        }

        log_info("Trusted certificate %s as '%s' (trust token used)", fp, name);
        return certificate_created(d, req, fp, ret);
}

/* POST {"name": "x", "certificate": "PEM"}: trust a certificate directly. */
static int certificates_post_certificate(struct daemon *d, const struct api_request *req, const json_t *body,
                                         struct api_response *ret)
{
        static const char *const fields[] = { "name", "certificate", NULL };
        _cleanup_free_ char *pem = NULL;
        char fp[FINGERPRINT_HEX_SIZE];
        struct ferry_error err = {};
        const char *name = NULL, *given = NULL;
        int r;

        if (json_check_known_fields(body, fields, NULL, &err) < 0 ||
            json_get_string(body, "name", true, &name, &err) < 0 ||
            json_get_string(body, "certificate", true, &given, &err) < 0)
                return api_response_from_error(ret, &err);
        r = check_name(name, ret);
        if (r <= 0)
                return r;
        r = certificate_canonical_pem(given, &pem, fp, &err);
        if (r >= 0)
                r = certificate_add(d, name, fp, pem, &err);
        if (r < 0)
                return api_response_from_error(ret, &err);

        log_info("Trusted certificate %s as '%s'", fp, name);
        return certificate_created(d, req, fp, ret);
}

int api_certificates_post(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *body = NULL;
        int r;

        r = api_request_json(req, ret, &body);
        if (r < 0 || !body)
                return r;

        if (json_object_get(body, "trust_token"))
                return certificates_post_trust_token(d, req, body, ret);

        /* Everything else is for trusted clients only. */
        if (!req->requestor.trusted)
                return api_response_error(ret, 403, "Not authorized: this client certificate is not trusted");
        if (json_is_true(json_object_get(body, "token")))
                return certificates_post_token(d, req, body, ret);
        if (json_object_get(body, "certificate"))
                return certificates_post_certificate(d, req, body, ret);
        return api_response_error(ret, 400,
                                  "Send {\"name\": ..., \"token\": true} for a trust token, "
                                  "{\"name\": ..., \"certificate\": PEM} to trust a certificate, "
                                  "or {\"trust_token\": ...} to use a token");
}

int api_certificates_list(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *list = NULL;
        struct ferry_error err = {};

        if (db_certificate_list(d->db, &list, &err) < 0)
                return api_response_from_error(ret, &err);
        return api_response_collection(ret, req, "/1.0/certificates", "fingerprint", list, NULL);
}

/*
 * The fingerprint a path names: a whole one in any form
 * fingerprint_normalize() takes, or a prefix (like Incus, at least one hex
 * digit) that only one trusted certificate has.  0 with ret filled, or an
 * answer in resp and 1.
 */
static int certificate_resolve(struct daemon *d, const char *given, char ret[static FINGERPRINT_HEX_SIZE],
                               struct api_response *resp)
{
        const char *key, *found = NULL;
        json_t *value;
        size_t len = strlen(given);
        int r;

        if (fingerprint_normalize(given, ret) == 0)
                return 0;

        if (len == 0 || len > 64 || strspn(given, "0123456789abcdefABCDEF") != len) {
                r = api_response_error(resp, 404, "Certificate '%s' not found", given);
                return r < 0 ? r : 1;
        }
        json_object_foreach(d->trusted, key, value) {
                if (strncasecmp(key, given, len) != 0)
                        continue;
                if (found) {
                        r = api_response_error(resp, 400, "Fingerprint prefix '%s' matches more than one certificate",
                                               given);
                        return r < 0 ? r : 1;
                }
                found = key;
        }
        if (!found) {
                r = api_response_error(resp, 404, "Certificate '%s' not found", given);
                return r < 0 ? r : 1;
        }
        memcpy(ret, found, FINGERPRINT_HEX_SIZE);
        return 0;
}

int api_certificate_get(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        char fp[FINGERPRINT_HEX_SIZE];
        struct ferry_error err = {};
        json_t *obj = NULL;
        int r;

        r = certificate_resolve(d, req->params[0], fp, ret);
        if (r != 0)
                return r < 0 ? r : 0;
        if (db_certificate_get(d->db, fp, &obj, &err) < 0)
                return api_response_from_error(ret, &err);
        return api_response_object(ret, obj);
}

int api_certificate_delete(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_free_ char *source = NULL;
        char fp[FINGERPRINT_HEX_SIZE];
        struct ferry_error err = {};
        int r;

        r = certificate_resolve(d, req->params[0], fp, ret);
        if (r != 0)
                return r < 0 ? r : 0;
        if (db_certificate_delete(d->db, fp, &err) < 0)
                return api_response_from_error(ret, &err);

        log_info("Removed trusted certificate %s", fp);
        api_certificates_reload(d);
        source = strjoin("/1.0/certificates/", fp, NULL);
        if (!source)
                return -ENOMEM;
        api_emit_lifecycle(d, req, "certificate-deleted", source, NULL);
        return api_response_sync(ret, NULL);
}

int api_certificate_tokens_list(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        _cleanup_json_ json_t *list = NULL;
        struct ferry_error err = {};
        json_t *token;
        int64_t now = timestamp_now_usec(), expires;
        size_t i;

        (void) req;
        if (db_trust_token_list(d->db, &list, &err) < 0)
                return api_response_from_error(ret, &err);
        json_array_foreach(list, i, token) {
                const char *at = json_string_value(json_object_get(token, "expires_at"));

                if (json_object_set_new(token, "expired",
                                        json_boolean(at && timestamp_parse_rfc3339(at, &expires) == 0 &&
                                                     expires <= now)) < 0)
                        return -ENOMEM;
        }
        return api_response_sync(ret, TAKE_PTR(list));
}

int api_certificate_token_delete(struct daemon *d, const struct api_request *req, struct api_response *ret)
{
        struct ferry_error err = {};

        if (db_trust_token_delete(d->db, req->params[0], &err) < 0)
                return api_response_from_error(ret, &err);
        log_info("Revoked trust token '%s'", req->params[0]);
        return api_response_sync(ret, NULL);
}
