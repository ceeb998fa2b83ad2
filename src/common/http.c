/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/http.h"
#include "common/macros.h"
#include "common/strbuf.h"

struct http_client {
        CURL *curl;
        char *endpoint;                 /* as configured, for messages */
        char *base_url;                 /* scheme://host:port, no trailing slash */
        char *unix_socket;              /* set for unix:// endpoints */
        char *client_cert;
        char *client_key;
        char pinned[FINGERPRINT_HEX_SIZE];      /* empty: verify with system CAs */
        char peer[FINGERPRINT_HEX_SIZE];        /* leaf seen on the last handshake */
        char peer_sha1[HTTP_SHA1_THUMBPRINT_SIZE];      /* the same leaf's SHA-1, "AA:BB:..." */
        bool pin_mismatch;
        long connect_timeout_ms;
        long timeout_ms;
        bool cookies;
        bool cookie_engine;     /* CURLOPT_COOKIEFILE was set */
        char curl_error[CURL_ERROR_SIZE];
};

static int http_global_init(void)
{
        static bool done;
        static int result;

        /* curl_global_init is not thread-safe before 7.84; callers create
         * their first client before starting threads. */
        if (!done) {
                result = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
                done = true;
        }
        return result;
}

static int parse_endpoint(struct http_client *c, const char *endpoint, struct ferry_error *err)
{
        size_t len;

        if (!endpoint || !*endpoint)
                return ferry_error_set(err, -EINVAL, "Endpoint is empty");

        if (startswith(endpoint, "unix://")) {
                const char *path = endpoint + strlen("unix://");

                if (*path != '/')
                        return ferry_error_set(err, -EINVAL,
                                               "Endpoint '%s' must name an absolute socket path (unix:///path)",
                                               endpoint);
                c->unix_socket = strdup(path);
                /* The host name is ignored on a unix socket but curl needs one. */
                c->base_url = strdup("http://localhost");
        } else if (startswith(endpoint, "https://") || startswith(endpoint, "http://")) {
                c->base_url = strdup(endpoint);
        } else
                return ferry_error_set(err, -EINVAL,
                                       "Endpoint '%s' must start with https://, http:// or unix://", endpoint);

        if (!c->base_url || (startswith(endpoint, "unix://") && !c->unix_socket))
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        len = strlen(c->base_url);
        while (len > 0 && c->base_url[len - 1] == '/')
                c->base_url[--len] = '\0';
        return 0;
}

struct http_client *http_client_new(const struct http_client_config *config, struct ferry_error *err)
{
        struct http_client *c;
        int r;

        r = http_global_init();
        if (r < 0) {
                ferry_error_set(err, r, "Failed to initialize libcurl");
                errno = -r;
                return NULL;
        }

        c = calloc(1, sizeof(*c));
        if (!c) {
                ferry_error_set(err, -ENOMEM, "Out of memory");
                errno = ENOMEM;
                return NULL;
        }

        r = parse_endpoint(c, config->endpoint, err);
        if (r < 0)
                goto fail;
        c->endpoint = strdup(config->endpoint);
        if (!c->endpoint) {
                r = ferry_error_set(err, -ENOMEM, "Out of memory");
                goto fail;
        }

        if (!!config->client_cert != !!config->client_key) {
                r = ferry_error_set(err, -EINVAL, "A client certificate needs its key, and a key its certificate");
                goto fail;
        }
        if (config->client_cert) {
                c->client_cert = strdup(config->client_cert);
                c->client_key = strdup(config->client_key);
                if (!c->client_cert || !c->client_key) {
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
                        goto fail;
                }
        }

        if (config->pinned_fingerprint) {
                r = fingerprint_normalize(config->pinned_fingerprint, c->pinned);
                if (r < 0) {
                        r = ferry_error_set(err, r, "'%s' is not a SHA-256 certificate fingerprint",
                                            config->pinned_fingerprint);
                        goto fail;
                }
        }

        c->connect_timeout_ms = config->connect_timeout_ms > 0 ? config->connect_timeout_ms : 10000;
        c->timeout_ms = config->timeout_ms > 0 ? config->timeout_ms : 0;
        c->cookies = config->cookies;

        c->curl = curl_easy_init();
        if (!c->curl) {
                r = ferry_error_set(err, -ENOMEM, "Failed to create a libcurl handle");
                goto fail;
        }
        return c;

fail:
        http_client_free(c);
        errno = -r;
        return NULL;
}

void http_client_free(struct http_client *c)
{
        if (!c)
                return;
        if (c->curl)
                curl_easy_cleanup(c->curl);
        free(c->endpoint);
        free(c->base_url);
        free(c->unix_socket);
        free(c->client_cert);
        free(c->client_key);
        free(c);
}

const char *http_client_peer_fingerprint(const struct http_client *c)
{
        return c->peer[0] ? c->peer : NULL;
}

const char *http_client_peer_sha1_thumbprint(const struct http_client *c)
{
        return c->peer_sha1[0] ? c->peer_sha1 : NULL;
}

/* VMware's thumbprint of a certificate: SHA-1 of the DER, upper-case hex pairs joined by ':'. */
static void sha1_thumbprint(X509 *cert, char ret[static HTTP_SHA1_THUMBPRINT_SIZE])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;

        ret[0] = '\0';
        if (!X509_digest(cert, EVP_sha1(), md, &len) || len != 20)
                return;
        for (unsigned int i = 0; i < len; i++)
                snprintf(ret + 3 * i, HTTP_SHA1_THUMBPRINT_SIZE - 3 * i, i + 1 < len ? "%02X:" : "%02X", md[i]);
}

void http_response_done(struct http_response *r)
{
        if (!r)
                return;
        free(r->body);
        free(r->content_type);
        free(r->etag);
        *r = (struct http_response) {};
}

/*
 * OpenSSL calls this for every certificate of the chain, the leaf (depth 0)
 * last.  The leaf's fingerprint is always recorded, for the "Confirm TLS
 * fingerprint" flow.  Without a pin the verdict is OpenSSL's.  With a pin
 * the chain may well be self-signed and unverifiable: only the leaf
 * matters, and it must match the pin exactly.
 */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
        SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
        struct http_client *c = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
        bool leaf = X509_STORE_CTX_get_error_depth(store) == 0;

        if (leaf && fingerprint_from_x509(X509_STORE_CTX_get_current_cert(store), c->peer) < 0)
                return 0;
        if (leaf)
                sha1_thumbprint(X509_STORE_CTX_get_current_cert(store), c->peer_sha1);
        if (!c->pinned[0])
                return preverify_ok;

        if (leaf && !streq(c->peer, c->pinned)) {
                c->pin_mismatch = true;
                X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
                return 0;
        }
        X509_STORE_CTX_set_error(store, X509_V_OK);
        return 1;
}

static CURLcode ssl_ctx_cb(CURL *curl, void *ssl_ctx, void *userdata)
{
        struct http_client *c = userdata;

        (void) curl;
        SSL_CTX_set_app_data(ssl_ctx, c);
        SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, verify_cb);
        return CURLE_OK;
}

/* What one request collects while libcurl runs it. */
struct http_exchange {
        CURL *curl;
        const struct http_transfer *transfer;   /* NULL: bodies in memory only */
        struct strbuf body;
        char *etag;
        uint64_t uploaded;
        uint64_t downloaded;
        int io_errno;           /* of a failed read() or write() */
        bool upload_short;      /* upload_fd ended before upload_size */
        bool out_of_memory;
        bool canceled;          /* the thread's cancel flag was set */
};

/* Set by http_set_thread_cancel(): requests of this thread stop when it turns true. */
static _Thread_local const atomic_bool *thread_cancel;

void http_set_thread_cancel(const atomic_bool *flag)
{
        thread_cancel = flag;
}

static void http_exchange_done(struct http_exchange *x)
{
        strbuf_done(&x->body);
        free(x->etag);
}

static int write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                buf += n;
                len -= (size_t) n;
        }
        return 0;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        struct http_exchange *x = userdata;
        size_t n = size * nmemb;

        if (x->transfer && x->transfer->download_fd >= 0) {
                long status = 0;

                curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
                if (status >= 200 && status < 300) {
                        int r = write_all(x->transfer->download_fd, ptr, n);

                        if (r < 0) {
                                x->io_errno = -r;
                                return 0;       /* CURLE_WRITE_ERROR */
                        }
                        x->downloaded += n;
                        return n;
                }
        }

        if (strbuf_append_len(&x->body, ptr, n) < 0) {
                x->out_of_memory = true;
                return 0;
        }
        return n;
}

/* Keeps the ETag of the final answer: a status line starts a new header block. */
static size_t header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
        struct http_exchange *x = userdata;
        size_t n = size * nitems, len;
        const char *value;

        if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
                free(x->etag);
                x->etag = NULL;
                return n;
        }
        if (n < 5 || strncasecmp(buf, "ETag:", 5) != 0)
                return n;

        value = buf + 5;
        len = n - 5;
        while (len > 0 && (*value == ' ' || *value == '\t')) {
                value++;
                len--;
        }
        while (len > 0 && strchr(" \t\r\n", value[len - 1]))
                len--;

        free(x->etag);
        x->etag = strndup(value, len);
        if (!x->etag) {
                x->out_of_memory = true;
                return 0;
        }
        return n;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
        struct http_exchange *x = userdata;
        uint64_t left = x->transfer->upload_size - x->uploaded;
        size_t want = size * nitems;
        ssize_t n;

        if (left == 0)
                return 0;
        if (want > left)
                want = (size_t) left;

        do
                n = read(x->transfer->upload_fd, buf, want);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                x->io_errno = errno;
                return CURL_READFUNC_ABORT;
        }
        if (n == 0) {
                x->upload_short = true;
                return CURL_READFUNC_ABORT;
        }
        x->uploaded += (uint64_t) n;
        return (size_t) n;
}

static int xferinfo_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
        struct http_exchange *x = userdata;
        const struct http_transfer *t = x->transfer;

        (void) ultotal;
        if (thread_cancel && atomic_load(thread_cancel)) {
                x->canceled = true;
                return 1;
        }
        if (!t || !t->progress)
                return 0;
        if (t->upload_fd >= 0)
                t->progress((uint64_t) ulnow, t->upload_size, t->userdata);
        else
                t->progress((uint64_t) dlnow, dltotal > 0 ? (uint64_t) dltotal : 0, t->userdata);
        return 0;
}

static int translate_curl_error(struct http_client *c, const struct http_exchange *x, CURLcode cc,
                                const char *method, const char *url, struct ferry_error *err)
{
        const char *detail = c->curl_error[0] ? c->curl_error : curl_easy_strerror(cc);

        if (x->upload_short)
                return ferry_error_set(err, -EIO,
                                       "Cannot read the request body: it ended after %" PRIu64 " of %" PRIu64
                                       " bytes",
                                       x->uploaded, x->transfer->upload_size);
        if (x->canceled && cc == CURLE_ABORTED_BY_CALLBACK)
                return ferry_error_set(err, -ECANCELED, "%s %s was canceled", method, url);
        if (x->io_errno && cc == CURLE_ABORTED_BY_CALLBACK)
                return ferry_error_set(err, -x->io_errno, "Cannot read the request body: %m");
        if (x->io_errno && cc == CURLE_WRITE_ERROR)
                return ferry_error_set(err, -x->io_errno, "Cannot write the answer of %s %s: %m", method, url);

        if (c->pin_mismatch)
                return ferry_error_set(err, -EPERM,
                                       "Server certificate fingerprint '%s' does not match the trusted fingerprint '%s'",
                                       c->peer, c->pinned);

        switch (cc) {
        case CURLE_OPERATION_TIMEDOUT:
                return ferry_error_set(err, -ETIMEDOUT, "%s %s timed out: %s", method, url, detail);
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST: {
                long os_errno = 0;

                /* The OS's reason ("No such file or directory") says more
                 * than curl's summary, which names a made-up host for
                 * unix sockets. */
                if (curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK && os_errno > 0)
                        detail = strerror((int) os_errno);
                return ferry_error_set(err, -ECONNREFUSED, "Cannot connect to '%s': %s", c->endpoint, detail);
        }
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CONNECT_ERROR:
                if (c->peer[0])
                        return ferry_error_set(err, -EPERM,
                                               "TLS error with '%s' (server certificate fingerprint '%s'): %s",
                                               url, c->peer, detail);
                return ferry_error_set(err, -EPERM, "TLS error with '%s': %s", url, detail);
        case CURLE_SSL_CERTPROBLEM:
                return ferry_error_set(err, -EINVAL, "Cannot use the client certificate: %s", detail);
        case CURLE_WRITE_ERROR:
        case CURLE_OUT_OF_MEMORY:
                return ferry_error_set(err, -ENOMEM, "Out of memory reading the answer of %s %s", method, url);
        default:
                return ferry_error_set(err, -EIO, "%s %s failed: %s", method, url, detail);
        }
}

static int http_perform(struct http_client *c, const char *method, const char *path, const char *content_type,
                        const void *body, size_t body_len, const struct http_transfer *transfer,
                        const char *const *headers, struct http_response *ret, struct ferry_error *err)
{
        _cleanup_free_ char *url = NULL, *ct_header = NULL, *content_type_copy = NULL;
        struct http_exchange x = { .curl = c->curl, .transfer = transfer };
        struct curl_slist *list = NULL;
        bool upload = transfer && transfer->upload_fd >= 0;
        CURL *h = c->curl;
        CURLcode cc;
        char *ct = NULL;
        long status = 0;
        int r;

        url = strjoin(c->base_url, path && *path == '/' ? "" : "/", path ? path : "", NULL);
        if (!url)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        curl_easy_reset(h);
        c->curl_error[0] = '\0';
        /* peer keeps what the last handshake saw: a reused connection
         * does not shake hands again. */
        c->pin_mismatch = false;

        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_error);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION);
        if (c->unix_socket)
                curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->unix_socket);
        /* Start the cookie engine once, with a cookie of an unused domain: the
         * engine and its cookies survive curl_easy_reset(), and libcurl 7.88
         * leaks the file list that CURLOPT_COOKIEFILE would leave at a reset. */
        if (c->cookies && !c->cookie_engine) {
                curl_easy_setopt(h, CURLOPT_COOKIELIST, "ferry.invalid\tFALSE\t/\tFALSE\t0\tferry\t1");
                c->cookie_engine = true;
        }

        if (startswith(c->base_url, "https://")) {
                curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
                curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, c);
                curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
                /* A pinned certificate is matched exactly: its name does not matter. */
                curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->pinned[0] ? 0L : 2L);
                /* Each request re-checks the pin: no TLS session reuse. */
                curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
                if (c->client_cert) {
                        curl_easy_setopt(h, CURLOPT_SSLCERT, c->client_cert);
                        curl_easy_setopt(h, CURLOPT_SSLKEY, c->client_key);
                }
        }

        if (content_type) {
                ct_header = strjoin("Content-Type: ", content_type, NULL);
                if (!ct_header || !(list = curl_slist_append(list, ct_header))) {
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
                        goto finish;
                }
        }
        for (const char *const *hp = headers; hp && *hp; hp++) {
                struct curl_slist *n = curl_slist_append(list, *hp);
                if (!n) {
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
                        goto finish;
                }
                list = n;
        }
        /* Expect: 100-continue costs a round trip for nothing here. */
        if (body || upload) {
                struct curl_slist *n = curl_slist_append(list, "Expect:");
                if (!n) {
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
                        goto finish;
                }
                list = n;
        }
        if (upload) {
                curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
                curl_easy_setopt(h, CURLOPT_READDATA, &x);
                curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t) transfer->upload_size);
        } else if (body) {
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body_len);
        }
        if ((transfer && transfer->progress) || thread_cancel) {
                curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
                curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
                curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
        }
        if (list)
                curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);

        cc = curl_easy_perform(h);
        if (cc != CURLE_OK) {
                r = translate_curl_error(c, &x, cc, method, url, err);
                goto finish;
        }

        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);

        /* Always hand back a NUL-terminated body, even an empty one. */
        if (strbuf_append_len(&x.body, "", 0) < 0 || (ct && !(content_type_copy = strdup(ct)))) {
                r = ferry_error_set(err, -ENOMEM, "Out of memory");
                goto finish;
        }

        if (transfer && transfer->progress) {
                if (upload)
                        transfer->progress(x.uploaded, transfer->upload_size, transfer->userdata);
                else
                        transfer->progress(x.downloaded, x.downloaded, transfer->userdata);
        }

        *ret = (struct http_response) {
                .status = status,
                .body_len = x.body.len,
                .content_type = TAKE_PTR(content_type_copy),
                .etag = TAKE_PTR(x.etag),
        };
        ret->body = strbuf_steal(&x.body);
        r = 0;

finish:
        curl_slist_free_all(list);
        http_exchange_done(&x);
        return r;
}

int http_request(struct http_client *c, const char *method, const char *path,
                 const char *content_type, const void *body, size_t body_len,
                 const char *const *headers, struct http_response *ret, struct ferry_error *err)
{
        return http_perform(c, method, path, content_type, body, body_len, NULL, headers, ret, err);
}

int http_request_transfer(struct http_client *c, const char *method, const char *path,
                          const char *content_type, const struct http_transfer *transfer,
                          const char *const *headers, struct http_response *ret, struct ferry_error *err)
{
        return http_perform(c, method, path, content_type, NULL, 0, transfer, headers, ret, err);
}
