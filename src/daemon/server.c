/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <libwebsockets.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/fingerprint.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "daemon/api-operations.h"
#include "daemon/api-targets.h"
#include "daemon/api.h"
#include "daemon/daemon.h"
#include "daemon/events-log.h"
#include "daemon/events-ws.h"
#include "daemon/server.h"
#include "daemon/api-hooks.h"

DEFINE_CLEANUP_FUNC(BIO, BIO_free_all);

/* Streamed uploads (artifact files) go to <data dir>/tmp first. */
#define SERVER_UPLOAD_DIR "tmp"

/* Bytes handed to lws_write() per writable callback: large answers go out
 * in pieces instead of making lws buffer what the socket did not take. */
#define SERVER_WRITE_CHUNK (16u * 1024)

struct server {
        struct daemon *daemon;
        char *socket_path;
        struct lws_context *lws;
        struct lws_vhost *https_vhost;  /* NULL without HTTPS */
        int signal_fd;                  /* closed by lws once adopted */
        bool signal_fd_adopted;
        int stop_signal;                /* set by the signalfd callback */
        int signal_error;               /* negative errno: reading the signalfd failed */
        struct events_log *events_log;  /* log lines as logging events */
        struct server_request *waiters; /* deferred answers (server_request_defer()) */
};

/*
 * One HTTP transaction, lws's per-session data: lws allocates it zeroed
 * and frees the struct, we free what it points to.  With keep-alive the
 * same memory serves the next transaction on the connection.
 */
struct server_request {
        char method[16];
        char *path;
        char *args[API_MAX_ARGS];       /* the query string, decoded, "key=value" each */
        size_t n_args;
        char *if_match;
        char *header_sha256;
        char *authorization;
        bool head;                      /* HEAD: headers only */
        /* Who sent it (server_request_identify()). */
        bool tls;
        bool trusted;
        char fingerprint[FINGERPRINT_HEX_SIZE]; /* "" without a client certificate */
        char *peer_pem;                 /* that certificate, PEM */
        char *username;                 /* its name in the trust store, "" if none */
        bool denied;                    /* not allowed: drain the body, answer 403 */
        bool length_required;           /* a chunked body: answer 411 */
        bool close_after;               /* POST/PUT/PATCH without Content-Length: close after answering */
        bool closing;                   /* the answer is out: close once lws has flushed it */
        struct strbuf body;
        bool body_too_large;
        /* A body streamed to a file (api_streams_body()). */
        bool streaming;
        int upload_fd;
        char *upload_path;
        EVP_MD_CTX *upload_md;
        uint64_t upload_size;
        int upload_error;               /* negative errno: writing the upload failed */
        unsigned char *answer;          /* LWS_PRE bytes of headroom, then the body */
        size_t answer_len;
        size_t answer_sent;
        /* A file answer: sent from the writable callback in pieces. */
        bool sending_file;
        int file_fd;
        uint64_t file_left;
        /* A deferred answer: waiting for an operation, on s->waiters. */
        bool waiting;
        struct server *server;
        struct lws *wsi;
        char *wait_operation;
        lws_sorted_usec_list_t wait_sul;        /* its timeout */
        struct server_request *next_waiter;
};

static void server_waiter_unlink(struct server_request *sr)
{
        for (struct server_request **p = &sr->server->waiters; *p; p = &(*p)->next_waiter)
                if (*p == sr) {
                        *p = sr->next_waiter;
                        break;
                }
        lws_sul_cancel(&sr->wait_sul);
        sr->waiting = false;
        sr->next_waiter = NULL;
}

static void server_request_reset(struct server_request *sr)
{
        if (sr->waiting)
                server_waiter_unlink(sr);
        free(sr->wait_operation);
        free(sr->path);
        for (size_t i = 0; i < sr->n_args; i++)
                free(sr->args[i]);
        free(sr->if_match);
        free(sr->header_sha256);
        free(sr->authorization);
        free(sr->peer_pem);
        free(sr->username);
        strbuf_done(&sr->body);
        if (sr->streaming && sr->upload_fd >= 0)
                close(sr->upload_fd);
        /* A handler that kept the upload has renamed it away. */
        if (sr->upload_path && unlink(sr->upload_path) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Failed to remove '%s': %m", sr->upload_path);
        free(sr->upload_path);
        EVP_MD_CTX_free(sr->upload_md);
        free(sr->answer);
        if (sr->sending_file)
                close(sr->file_fd);
        *sr = (struct server_request) {};
}

/* Copy header token h, or NULL when the request has none. */
static char *server_copy_header(struct lws *wsi, enum lws_token_indexes h)
{
        int len = lws_hdr_total_length(wsi, h);
        char *v;

        if (len <= 0)
                return NULL;
        v = malloc((size_t) len + 1);
        if (v && lws_hdr_copy(wsi, v, len + 1, h) < 0) {
                free(v);
                return NULL;
        }
        return v;
}

static char *server_copy_custom_header(struct lws *wsi, const char *name)
{
        int len = lws_hdr_custom_length(wsi, name, (int) strlen(name));
        char *v;

        if (len <= 0)
                return NULL;
        v = malloc((size_t) len + 1);
        if (v && lws_hdr_custom_copy(wsi, v, len + 1, name, (int) strlen(name)) < 0) {
                free(v);
                return NULL;
        }
        return v;
}

/* lws splits the query string at '&' and decodes each piece. */
static int server_request_read_args(struct lws *wsi, struct server_request *sr)
{
        char buf[8192];

        for (int i = 0; sr->n_args < API_MAX_ARGS; i++) {
                int n = lws_hdr_copy_fragment(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_URI_ARGS, i);

                if (n < 0)
                        break;
                sr->args[sr->n_args] = strndup(buf, (size_t) n);
                if (!sr->args[sr->n_args])
                        return -ENOMEM;
                sr->n_args++;
        }
        return 0;
}

static void server_request_fill(const struct server_request *sr, struct api_request *req)
{
        *req = (struct api_request) {
                .method = sr->method,
                .path = sr->path,
                .n_args = sr->n_args,
                .body = sr->body.data,
                .body_len = sr->body.len,
                .if_match = sr->if_match,
                .header_sha256 = sr->header_sha256,
                .authorization = sr->authorization,
                .requestor = {
                        .protocol = sr->tls ? "tls" : "unix",
                        .username = sr->username ?: "",
                        .fingerprint = sr->fingerprint[0] ? sr->fingerprint : NULL,
                        .certificate = sr->peer_pem,
                        .trusted = sr->trusted,
                },
        };
        for (size_t i = 0; i < sr->n_args; i++)
                req->args[i] = sr->args[i];
}

/*
 * Who sent the request.  On the unix socket everyone is trusted: the data
 * directory (0700) and the socket's mode (0660) decide who reaches it.
 * Over HTTPS the client certificate, if any, was accepted whatever it is
 * (server_tls_verify()); its fingerprint decides, by the trust store.
 */
static int server_request_identify(struct server *s, struct lws *wsi, struct server_request *sr)
{
        _cleanup_(BIO_free_all_p) BIO *bio = NULL;
        X509 *peer = NULL;
        SSL *ssl;
        const char *name;
        char *data = NULL;
        long len;
        int r = 0;

        if (!s->https_vhost || lws_get_vhost(wsi) != s->https_vhost) {
                sr->trusted = true;
                return 0;
        }

        sr->tls = true;
        ssl = lws_get_ssl(wsi);
        peer = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
        if (!peer)
                return 0;

        if (fingerprint_from_x509(peer, sr->fingerprint) < 0) {
                sr->fingerprint[0] = '\0';
                goto finish;
        }
        name = api_certificates_lookup(s->daemon, sr->fingerprint);
        sr->trusted = name != NULL;
        sr->username = strdup(name ?: "");

        bio = BIO_new(BIO_s_mem());
        if (!bio || !PEM_write_bio_X509(bio, peer) || (len = BIO_get_mem_data(bio, &data)) <= 0)
                r = -ENOMEM;
        else
                sr->peer_pem = strndup(data, (size_t) len);
        if (!sr->username || !sr->peer_pem)
                r = -ENOMEM;

finish:
        X509_free(peer);
        return r;
}

static int server_upload_begin(struct server *s, struct server_request *sr)
{
        sr->upload_path = strjoin(s->daemon->data_dir, "/" SERVER_UPLOAD_DIR "/upload-XXXXXX", NULL);
        if (!sr->upload_path)
                return -ENOMEM;
        sr->upload_fd = mkostemp(sr->upload_path, O_CLOEXEC);
        if (sr->upload_fd < 0) {
                int r = -errno;

                free(TAKE_PTR(sr->upload_path));
                return log_error_errno(r, "Failed to create a file for an upload: %m");
        }
        sr->streaming = true;

        sr->upload_md = EVP_MD_CTX_new();
        if (!sr->upload_md || EVP_DigestInit_ex(sr->upload_md, EVP_sha256(), NULL) != 1)
                return -ENOMEM;
        return 0;
}

static void server_upload_add(struct server_request *sr, const void *data, size_t len)
{
        const char *p = data;

        if (sr->upload_error < 0)
                return;
        if (EVP_DigestUpdate(sr->upload_md, data, len) != 1) {
                sr->upload_error = -EIO;
                return;
        }
        sr->upload_size += len;
        while (len > 0) {
                ssize_t n = write(sr->upload_fd, p, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        sr->upload_error = n < 0 ? -errno : -EIO;
                        return;
                }
                p += n;
                len -= (size_t) n;
        }
}

/*
 * lws 4.1 reads a request body, and then calls LWS_CALLBACK_HTTP_BODY_COMPLETION,
 * exactly when Content-Length is above 0, or absent on POST, PUT and PATCH,
 * or an explicit 0 on POST (lws_http_action() in roles/http/server/server.c).
 * Every other request is answered from LWS_CALLBACK_HTTP directly.
 */
static bool server_request_expects_body(struct lws *wsi, int meth)
{
        char value[32];
        long long n;

        if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 ||
            lws_hdr_copy(wsi, value, sizeof(value), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
                return false;   /* chunked bodies are refused (411) before this */

        n = atoll(value);
        return n > 0 || (n == 0 && meth == LWSHUMETH_POST);
}

static const char *const server_method_names[] = {
        [LWSHUMETH_GET] = "GET",
        [LWSHUMETH_POST] = "POST",
        [LWSHUMETH_OPTIONS] = "OPTIONS",
        [LWSHUMETH_PUT] = "PUT",
        [LWSHUMETH_PATCH] = "PATCH",
        [LWSHUMETH_DELETE] = "DELETE",
        [LWSHUMETH_CONNECT] = "CONNECT",
        [LWSHUMETH_HEAD] = "HEAD",
};

/* Finish a streamed upload: its size and SHA-256 for the handler. */
static int server_upload_finish(struct server_request *sr, struct api_upload *upload)
{
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int len = 0;

        if (sr->upload_error < 0)
                return sr->upload_error;
        if (EVP_DigestFinal_ex(sr->upload_md, digest, &len) != 1)
                return -EIO;
        if (close(sr->upload_fd) < 0)
                return -errno;
        sr->upload_fd = -EBADF;

        *upload = (struct api_upload) { .path = sr->upload_path, .size = sr->upload_size };
        return hex_encode(digest, len, upload->sha256, sizeof(upload->sha256));
}

static int server_request_respond(struct server *s, struct lws *wsi, struct server_request *sr,
                                  struct api_response *resp)
{
        struct api_request req;
        struct api_upload upload;
        int r;

        server_request_fill(sr, &req);

        if (sr->length_required)
                return api_response_error(resp, 411, "Chunked request bodies are not supported: send a Content-Length");
        if (sr->denied)
                return api_response_error(resp, 403, "Not authorized: this client certificate is not trusted");
        if (sr->body_too_large)
                return api_response_error(resp, 413, "Request body is larger than %u bytes", API_JSON_BODY_MAX);
        if (sr->streaming) {
                r = server_upload_finish(sr, &upload);
                if (r < 0) {
                        log_error_errno(r, "Failed to store the upload of %s '%s': %m", sr->method, sr->path);
                        errno = -r;
                        return api_response_error(resp, 500, "Failed to store the uploaded file: %m");
                }
                req.upload = &upload;
        }

        (void) wsi;
        return api_handle(s->daemon, &req, resp);
}

/* Send resp's headers now and its body from the writable callback. */
static int server_request_send(struct lws *wsi, struct server_request *sr, struct api_response *r_resp)
{
        struct api_response resp = *r_resp;
        unsigned char headers[LWS_PRE + 1024];
        unsigned char *start = headers + LWS_PRE, *p = start, *end = headers + sizeof(headers) - 1;
        const char *content_type = "application/json";
        uint64_t content_length;
        size_t len;

        if (resp.send_file) {
                sr->sending_file = true;
                sr->file_fd = TAKE_FD(r_resp->file_fd);
                r_resp->send_file = false;
                sr->file_left = resp.file_size;
                content_length = resp.file_size;
                content_type = resp.content_type ?: "application/octet-stream";
        } else {
                /* The body is the compact envelope and a newline, like Incus sends. */
                len = json_dumpb(resp.envelope, NULL, 0, JSON_COMPACT);
                sr->answer = len > 0 ? malloc(LWS_PRE + len + 1) : NULL;
                if (!sr->answer)
                        return log_error_errno(ENOMEM, "Failed to answer %s '%s': %m", sr->method, sr->path);
                json_dumpb(resp.envelope, (char *) sr->answer + LWS_PRE, len, JSON_COMPACT);
                sr->answer[LWS_PRE + len] = '\n';
                sr->answer_len = len + 1;
                sr->answer_sent = 0;
                content_length = sr->answer_len;
        }

        log_debug("%s %s: %d", sr->method, sr->path, resp.status);

        if (lws_add_http_common_headers(wsi, (unsigned) resp.status, content_type, content_length, &p, end))
                return -EIO;
        if (resp.etag[0] &&
            lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_ETAG, (const unsigned char *) resp.etag,
                                         (int) strlen(resp.etag), &p, end))
                return -EIO;
        if (sr->close_after &&
            lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *) "close", 5, &p, end))
                return -EIO;
        if (lws_finalize_write_http_header(wsi, start, &p, end))
                return -EIO;

        if (sr->head) {
                server_request_reset(sr);
                return lws_http_transaction_completed(wsi) ? -ECONNRESET : 0;
        }

        lws_callback_on_writable(wsi);
        return 0;
}

/* The answer of a deferred request is ready: send it, or drop the connection if that fails. */
static void server_waiter_answer(struct server_request *sr, struct api_response *resp)
{
        struct lws *wsi = sr->wsi;

        server_waiter_unlink(sr);
        if (server_request_send(wsi, sr, resp) < 0) {
                log_error("Failed to answer %s '%s'", sr->method, sr->path);
                lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
        }
}

static void server_wait_timeout(lws_sorted_usec_list_t *sul)
{
        struct server_request *sr = lws_container_of(sul, struct server_request, wait_sul);
        _cleanup_api_response_ struct api_response resp = {};

        if (api_operation_wait_answer(sr->server->daemon, sr->wait_operation, true, &resp) <= 0) {
                server_waiter_unlink(sr);
                lws_set_timeout(sr->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
                return;
        }
        server_waiter_answer(sr, &resp);
}

/* Answer every deferred request whose operation has ended. */
static void server_answer_waiters(struct server *s)
{
        struct server_request *sr, *next;

        for (sr = s->waiters; sr; sr = next) {
                _cleanup_api_response_ struct api_response resp = {};
                int r;

                next = sr->next_waiter;
                r = api_operation_wait_answer(s->daemon, sr->wait_operation, false, &resp);
                if (r > 0)
                        server_waiter_answer(sr, &resp);
                else if (r < 0)
                        log_error_errno(r, "Failed to answer %s '%s': %m", sr->method, sr->path);
        }
}

/* Keep the request until its operation ends (api_response.wait_operation). */
static int server_request_defer(struct server *s, struct lws *wsi, struct server_request *sr,
                                struct api_response *resp)
{
        sr->wait_operation = TAKE_PTR(resp->wait_operation);
        sr->server = s;
        sr->wsi = wsi;
        sr->waiting = true;
        sr->next_waiter = s->waiters;
        s->waiters = sr;
        /* No lws timeout cuts a long wait short; the client's hang-up ends it (CLOSED_HTTP). */
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        if (resp->wait_timeout_usec >= 0)
                lws_sul_schedule(s->lws, 0, &sr->wait_sul, server_wait_timeout, resp->wait_timeout_usec);
        log_debug("%s %s: waiting for operation %s", sr->method, sr->path, sr->wait_operation);
        return 0;
}

/* Answer the request now, or later when the handler deferred it. */
static int server_request_answer(struct server *s, struct lws *wsi, struct server_request *sr)
{
        _cleanup_api_response_ struct api_response resp = {};
        int r;

        r = server_request_respond(s, wsi, sr, &resp);
        if (r < 0)
                return log_error_errno(r, "Failed to answer %s '%s': %m", sr->method, sr->path);
        if (resp.wait_operation)
                return server_request_defer(s, wsi, sr, &resp);
        return server_request_send(wsi, sr, &resp);
}

/* The method, path and query of the request on wsi, into sr; returns the
 * LWSHUMETH_* method. */
static int server_request_read_line(struct lws *wsi, struct server_request *sr)
{
        char *uri = NULL;
        int meth, uri_len = 0, r;

        meth = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
        if (meth < 0 || meth >= (int) ELEMENTSOF(server_method_names) || !server_method_names[meth]) {
                /* HTTP/2 (":path") needs TLS and ALPN, which this listener does not offer. */
                log_debug("Dropping a request with an unsupported method or no path");
                return -EBADMSG;
        }

        snprintf(sr->method, sizeof(sr->method), "%s", server_method_names[meth]);
        sr->path = strndup(uri, (size_t) uri_len);
        if (!sr->path)
                return log_error_errno(ENOMEM, "Failed to read a request: %m");

        /* Who asks, for every request: websocket upgrades included. */
        r = server_request_identify(lws_context_user(lws_get_context(wsi)), wsi, sr);
        if (r < 0)
                return log_error_errno(r, "Failed to read a request: %m");

        r = server_request_read_args(wsi, sr);
        if (r < 0)
                return log_error_errno(r, "Failed to read a request: %m");
        return meth;
}

static int server_request_begin(struct server *s, struct lws *wsi, struct server_request *sr)
{
        struct api_request req;
        int meth, r;

        server_request_reset(sr);
        sr->upload_fd = -EBADF;

        meth = server_request_read_line(wsi, sr);
        if (meth < 0)
                return meth;
        sr->head = meth == LWSHUMETH_HEAD;
        sr->if_match = server_copy_header(wsi, WSI_TOKEN_HTTP_IF_MATCH);
        sr->header_sha256 = server_copy_custom_header(wsi, "x-ferry-sha256:");
        sr->authorization = server_copy_header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);

        server_request_fill(sr, &req);
        sr->denied = !api_allows(&req);

        /* lws 4.1 cannot read chunked request bodies; every client ferry
         * knows sends a Content-Length. */
        if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0 &&
            lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
                sr->length_required = true;
                return server_request_answer(s, wsi, sr);
        }

        /*
         * Without a Content-Length such a request has no body (RFC 9112
         * 6.3), but lws 4.1 waits for one before it reads the next request
         * on the connection: answer, then close the connection.
         */
        sr->close_after = (meth == LWSHUMETH_POST || meth == LWSHUMETH_PUT || meth == LWSHUMETH_PATCH) &&
                          lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0;

        if (!server_request_expects_body(wsi, meth))
                return server_request_answer(s, wsi, sr);

        if (!sr->denied && api_streams_body(sr->method, sr->path)) {
                r = server_upload_begin(s, sr);
                if (r < 0)
                        return r;
        }
        return 0;       /* answered on LWS_CALLBACK_HTTP_BODY_COMPLETION */
}

static int server_request_add_body(struct server_request *sr, const void *data, size_t len)
{
        if (sr->denied || sr->body_too_large)
                return 0;
        if (sr->streaming) {
                server_upload_add(sr, data, len);
                return 0;
        }
        if (len > API_JSON_BODY_MAX - sr->body.len) {
                sr->body_too_large = true;
                strbuf_done(&sr->body);
                return 0;
        }
        return strbuf_append_len(&sr->body, data, len);
}

/* The next piece of a file answer, read into the answer buffer. */
static int server_request_read_file(struct server_request *sr)
{
        size_t want = sr->file_left < SERVER_WRITE_CHUNK ? (size_t) sr->file_left : SERVER_WRITE_CHUNK;
        ssize_t n;

        if (!sr->answer) {
                sr->answer = malloc(LWS_PRE + SERVER_WRITE_CHUNK);
                if (!sr->answer)
                        return -ENOMEM;
        }
        do
                n = read(sr->file_fd, sr->answer + LWS_PRE, want);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -EIO;    /* the file shrank under us */

        sr->answer_len = (size_t) n;
        sr->answer_sent = 0;
        sr->file_left -= (uint64_t) n;
        return 0;
}

static int server_request_write(struct lws *wsi, struct server_request *sr)
{
        enum lws_write_protocol mode;
        size_t left, n;
        int r;

        /* lws calls back once what was written is flushed. */
        if (sr->closing)
                return -ECONNRESET;

        if (sr->sending_file && sr->answer_sent == sr->answer_len) {
                if (sr->file_left == 0) {
                        /* An empty file: Content-Length 0 said it all. */
                        server_request_reset(sr);
                        return lws_http_transaction_completed(wsi) ? -ECONNRESET : 0;
                }
                r = server_request_read_file(sr);
                if (r < 0)
                        return log_error_errno(r, "Failed to read the file for %s '%s': %m", sr->method, sr->path);
        }

        if (!sr->answer)
                return 0;       /* nothing pending */

        left = sr->answer_len - sr->answer_sent;
        n = left < SERVER_WRITE_CHUNK ? left : SERVER_WRITE_CHUNK;
        mode = n == left && (!sr->sending_file || sr->file_left == 0) ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP;

        /* lws may scribble over the LWS_PRE bytes before the piece: those
         * are our headroom or bytes already sent. */
        if (lws_write(wsi, sr->answer + LWS_PRE + sr->answer_sent, n, mode) < (int) n)
                return -EIO;
        sr->answer_sent += n;

        if (mode != LWS_WRITE_HTTP_FINAL) {
                lws_callback_on_writable(wsi);
                return 0;
        }

        if (sr->close_after) {
                server_request_reset(sr);
                sr->closing = true;
                lws_callback_on_writable(wsi);
                return 0;
        }

        server_request_reset(sr);
        return lws_http_transaction_completed(wsi) ? -ECONNRESET : 0;
}

/*
 * The handshake accepts every client certificate, self-signed or not: a
 * client proves it holds the key (TLS does that), and the trust store
 * decides per request by fingerprint.  No certificate is fine too.
 */
static int server_tls_verify(int preverify_ok, X509_STORE_CTX *store)
{
        (void) preverify_ok;
        (void) store;
        return 1;
}

/* LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS: lws made the HTTPS
 * vhost's SSL_CTX and loaded the certificate; set the rest. */
static int server_tls_setup(SSL_CTX *ctx)
{
        static const unsigned char session_context[] = "ferryd";

        if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
            SSL_CTX_set_session_id_context(ctx, session_context, sizeof(session_context) - 1) != 1 ||
            /* lws limits key exchange to P-256; offer the usual groups. */
            SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1)
                return -EIO;
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, server_tls_verify);
        return 0;
}

/*
 * A websocket upgrade: only GET /1.0/events is one, and only for a
 * client that may use it.  Returns 0 to let lws upgrade, 1 once the
 * refusal is sent (lws then completes the transaction), -1 to hang up.
 */
static int server_confirm_upgrade(struct lws *wsi, const char *upgrade)
{
        _cleanup_(server_request_reset) struct server_request sr = {};
        _cleanup_api_response_ struct api_response resp = {};
        _cleanup_free_ char *subprotocol = NULL;
        unsigned char buf[LWS_PRE + 2048];
        unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf);
        struct api_request req;
        size_t len;
        int r;

        if (!upgrade || strcasecmp(upgrade, "websocket") != 0)
                return 0;       /* h2c: lws's business */

        r = server_request_read_line(wsi, &sr);
        if (r < 0)
                return -1;
        server_request_fill(&sr, &req);
        subprotocol = server_copy_header(wsi, WSI_TOKEN_PROTOCOL);

        r = events_ws_check_upgrade(&req, subprotocol, &resp);
        if (r < 0) {
                log_error_errno(r, "Failed to answer %s '%s': %m", sr.method, sr.path);
                return -1;
        }
        if (r == 0)
                return 0;

        /* Headers and the (small) envelope in one write, as lws does for
         * its own refusals at this point. */
        log_debug("%s %s (websocket): %d", sr.method, sr.path, resp.status);
        len = json_dumpb(resp.envelope, NULL, 0, JSON_COMPACT);
        if (len == 0 ||
            lws_add_http_common_headers(wsi, (unsigned) resp.status, "application/json", len + 1, &p, end) ||
            lws_finalize_http_header(wsi, &p, end) || (size_t) (end - p) < len + 1)
                return -1;
        json_dumpb(resp.envelope, (char *) p, len, JSON_COMPACT);
        p += len;
        *p++ = '\n';
        if (lws_write(wsi, start, (size_t) (p - start), LWS_WRITE_HTTP) != (int) (p - start))
                return -1;
        return 1;
}

/* The upgrade went through: read the request again (lws keeps its headers
 * until this callback returns) to subscribe to what it asked for. */
static int server_events_open(struct server *s, struct lws *wsi)
{
        _cleanup_(server_request_reset) struct server_request sr = {};
        struct api_request req;
        int r;

        r = server_request_read_line(wsi, &sr);
        if (r < 0)
                return r;
        server_request_fill(&sr, &req);
        return events_ws_open(s->daemon, wsi, &req);
}

static int server_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                                size_t len)
{
        struct server *s = lws_context_user(lws_get_context(wsi));
        struct server_request *sr = user;
        int r = 0;

        switch (reason) {
        case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
                /* user is the vhost's SSL_CTX here, not a request. */
                r = server_tls_setup(user);
                if (r < 0)
                        log_error_errno(r, "Failed to set up TLS: %m");
                break;

        case LWS_CALLBACK_HTTP:
                r = server_request_begin(s, wsi, sr);
                break;

        case LWS_CALLBACK_HTTP_BODY:
                r = server_request_add_body(sr, in, len);
                if (r < 0)
                        log_error_errno(r, "Failed to read the body of %s '%s': %m", sr->method, sr->path);
                break;

        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
                r = server_request_answer(s, wsi, sr);
                break;

        case LWS_CALLBACK_HTTP_WRITEABLE:
                if (sr)
                        r = server_request_write(wsi, sr);
                break;

        case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        case LWS_CALLBACK_CLOSED_HTTP:
                if (sr)
                        server_request_reset(sr);
                return lws_callback_http_dummy(wsi, reason, user, in, len);

        /* GET /1.0/events: upgraded connections stay bound to this
         * protocol, the vhost's default (events-ws.h). */
        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
                return server_confirm_upgrade(wsi, in);

        case LWS_CALLBACK_ESTABLISHED:
                r = server_events_open(s, wsi);
                break;

        case LWS_CALLBACK_SERVER_WRITEABLE:
                return events_ws_writable(wsi);

        case LWS_CALLBACK_RECEIVE:
                return 0;       /* listeners have nothing to say */

        case LWS_CALLBACK_CLOSED:
                events_ws_close(wsi);
                return 0;

        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
                /* lws_cancel_service(): from any vhost's protocols, maybe twice. */
                if (s && s->events_log)
                        events_log_flush(s->events_log);
                return 0;

        default:
                /* Not the dummy for the cases above: it would answer 404 itself. */
                return lws_callback_http_dummy(wsi, reason, user, in, len);
        }

        /* Any failure drops the connection: that is all HTTP lets us do
         * once the answer has started. */
        return r < 0 ? -1 : 0;
}

static int server_signal_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                                  size_t len)
{
        struct server *s = lws_context_user(lws_get_context(wsi));
        struct signalfd_siginfo si;
        ssize_t n;

        (void) user;
        (void) in;
        (void) len;

        if (reason != LWS_CALLBACK_RAW_RX_FILE)
                return 0;

        n = read(s->signal_fd, &si, sizeof(si));
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n != (ssize_t) sizeof(si)) {
                s->signal_error = n < 0 ? -errno : -EIO;
                return 0;
        }
        s->stop_signal = (int) si.ssi_signo;
        return 0;
}

static const struct lws_protocols server_protocols[] = {
        /* The first protocol gets every HTTP request of the vhost. */
        { .name = "ferry-http", .callback = server_http_callback,
          .per_session_data_size = sizeof(struct server_request) },
        { .name = "ferry-signal", .callback = server_signal_callback },
        {}
};

/* lws's own messages: errors at warning level (ferryd reports the failure
 * that matters itself), the rest for debugging. */
static void server_lws_log(int level, const char *line)
{
        int n = (int) strcspn(line, "\r\n");

        if (level & LLL_ERR)
                log_warning("libwebsockets: %.*s", n, line);
        else
                log_debug("libwebsockets: %.*s", n, line);
}

static int server_block_signals(struct server *s, struct ferry_error *err)
{
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);

        r = pthread_sigmask(SIG_BLOCK, &mask, NULL);
        if (r != 0)
                return ferry_error_set(err, -r, "Failed to block SIGTERM and SIGINT: %m");

        s->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (s->signal_fd < 0)
                return ferry_error_set(err, -errno, "Failed to create a signal file descriptor: %m");
        return 0;
}

int server_new(struct daemon *d, const char *socket_path, struct server **ret, struct ferry_error *err)
{
        _cleanup_server_ struct server *s = NULL;
        struct lws_context_creation_info context_info = {};
        struct lws_context_creation_info vhost_info = {};
        struct lws_vhost *vhost;
        struct lws *wsi;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        s->daemon = d;
        s->signal_fd = -EBADF;
        s->socket_path = strdup(socket_path);
        if (!s->socket_path)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        r = server_block_signals(s, err);
        if (r < 0)
                return r;

        lws_set_log_level(log_get_max_level() >= LOG_LEVEL_DEBUG ? LLL_ERR | LLL_WARN | LLL_NOTICE : LLL_ERR,
                          server_lws_log);

        /* The context only; each listener is a vhost of its own. */
        context_info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        context_info.user = s;
        context_info.uid = -1;
        context_info.gid = -1;
        s->lws = lws_create_context(&context_info);
        if (!s->lws)
                return ferry_error_set(err, -ENOMEM, "Failed to create the libwebsockets context");

        r = events_log_new(d->events, s->lws, &s->events_log);
        if (r < 0)
                return ferry_error_set(err, r, "Out of memory");

        vhost_info.vhost_name = "unix";
        vhost_info.options = LWS_SERVER_OPTION_UNIX_SOCK;
        vhost_info.iface = s->socket_path;
        vhost_info.port = 0;
        vhost_info.protocols = server_protocols;
        vhost_info.uid = -1;
        vhost_info.gid = -1;
        vhost = lws_create_vhost(s->lws, &vhost_info);
        if (!vhost)
                return ferry_error_set(err, -EADDRNOTAVAIL, "Cannot listen on '%s'", s->socket_path);

        /* Read-write for ferryd's user and group only; the data directory
         * (0700) guards it as well. */
        if (chmod(s->socket_path, 0660) < 0)
                return ferry_error_set(err, -errno, "Failed to set the mode of '%s': %m", s->socket_path);

        wsi = lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_RAW_FILE_DESC,
                                         (lws_sock_file_fd_type) { .filefd = s->signal_fd }, "ferry-signal",
                                         NULL);
        if (!wsi)
                return ferry_error_set(err, -ENOMEM, "Failed to watch the signal file descriptor");
        s->signal_fd_adopted = true;

        *ret = TAKE_PTR(s);
        return 0;
}

/*
 * lws only logs why it cannot listen; try the address first to say why:
 * in use, not an address of this host, a privileged port.
 */
static int server_probe_address(const char *host, int port, bool v6, const char *text, struct ferry_error *err)
{
        struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t) port) };
        struct sockaddr_in sa4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
        _cleanup_close_ int fd = -EBADF;
        int one = 1, r;

        if (v6 && *host && inet_pton(AF_INET6, host, &sa6.sin6_addr) != 1)
                return ferry_error_set(err, -EINVAL, "Cannot listen on %s: not an IP address", text);
        if (!v6 && inet_pton(AF_INET, host, &sa4.sin_addr) != 1)
                return ferry_error_set(err, -EINVAL, "Cannot listen on %s: not an IP address", text);

        fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return ferry_error_set(err, -errno, "Cannot listen on %s: %m", text);
        /* lws sets SO_REUSEADDR too: a socket in TIME_WAIT is no conflict. */
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        r = v6 ? bind(fd, (struct sockaddr *) &sa6, sizeof(sa6)) : bind(fd, (struct sockaddr *) &sa4, sizeof(sa4));
        if (r < 0)
                return ferry_error_set(err, -errno, "Cannot listen on %s: %m", text);
        return 0;
}

int server_listen_https(struct server *s, const char *host, int port, const char *cert_path, const char *key_path,
                        struct ferry_error *err)
{
        struct lws_context_creation_info info = {};
        _cleanup_free_ char *text = NULL;
        /* "" (every address) listens on IPv6 and IPv4 alike. */
        bool v6 = !*host || strchr(host, ':');
        int r;

        if (asprintf(&text, v6 && *host ? "[%s]:%d" : "%s:%d", host, port) < 0) {
                text = NULL;
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }

        r = server_probe_address(host, port, v6, text, err);
        if (r < 0)
                return r;

        info.vhost_name = "https";
        info.port = port;
        info.iface = *host ? host : NULL;
        info.protocols = server_protocols;
        /* lws binds an IPv4 address only on an IPv4 socket. */
        info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | (v6 ? 0 : LWS_SERVER_OPTION_DISABLE_IPV6);
        info.ssl_cert_filepath = cert_path;
        info.ssl_private_key_filepath = key_path;
        /* HTTP/1.1 only: server.c reads requests the HTTP/1 way. */
        info.alpn = "http/1.1";
        info.uid = -1;
        info.gid = -1;

        s->https_vhost = lws_create_vhost(s->lws, &info);
        if (!s->https_vhost)
                return ferry_error_set(err, -EADDRNOTAVAIL,
                                       "Cannot listen on %s for HTTPS: libwebsockets refused (see the log above)", text);
        return 0;
}

int server_run(struct server *s, struct ferry_error *err)
{
        while (s->stop_signal == 0) {
                /* lws 4 ignores the timeout: it sleeps until the next event or timer. */
                if (lws_service(s->lws, 0) < 0)
                        return ferry_error_set(err, -EIO, "The event loop failed");
                if (s->signal_error < 0)
                        return ferry_error_set(err, s->signal_error, "Failed to read the signal file descriptor: %m");
                api_operations_dispatch(s->daemon);
                api_targets_dispatch(s->daemon);
                api_hooks_dispatch(s->daemon);
                daemon_dispatch_posted(s->daemon);
                if (s->waiters)
                        server_answer_waiters(s);
        }
        return s->stop_signal;
}

void server_wake(struct server *s)
{
        if (s && s->lws)
                lws_cancel_service(s->lws);
}

void server_free(struct server *s)
{
        if (!s)
                return;

        /* Log lines go straight to the log target again. */
        events_log_free(s->events_log);

        /* Destroying the context closes every connection, the adopted
         * signalfd and the listener, and unlinks the socket file. */
        if (s->lws)
                lws_context_destroy(s->lws);
        if (!s->signal_fd_adopted && s->signal_fd >= 0)
                close(s->signal_fd);
        if (s->socket_path && unlink(s->socket_path) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Failed to remove '%s': %m", s->socket_path);

        free(s->socket_path);
        free(s);
}
