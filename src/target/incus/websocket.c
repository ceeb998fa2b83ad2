/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/fingerprint.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "target/incus/websocket.h"

/* How often the service loop comes back to check deadlines. */
#define WS_TICK_US (50 * LWS_US_PER_MS)

struct ws_message {
        struct ws_message *next;
        char *data;
        size_t len;
        bool binary;
};

struct incus_ws {
        struct lws_context *ctx;
        SSL_CTX *ssl_ctx;                       /* ours: libwebsockets does not free it */
        struct lws *wsi;
        lws_sorted_usec_list_t tick;
        char *name;                             /* the path without its query */

        char pinned[FINGERPRINT_HEX_SIZE];      /* "" on unix sockets */
        char peer[FINGERPRINT_HEX_SIZE];
        bool pin_mismatch;

        bool established;
        bool aborting;                          /* close with an error status */
        bool closed;                            /* by the peer, or failed */
        char failure[256];                      /* why, when it failed */

        unsigned char *out;                     /* LWS_PRE + the message being sent */
        size_t out_len;
        bool out_binary;
        bool out_pending;

        struct strbuf partial;                  /* fragments of the message coming in */
        struct ws_message *head, **tail;
};

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tick_cb(lws_sorted_usec_list_t *sul)
{
        (void) sul;     /* waking the loop is all it is for */
}

/* libwebsockets' own lines go to ferry's log at debug level: a library
 * logs no louder (STYLE.md).  Its notices are dropped. */
static void lws_log_line(int level, const char *line)
{
        size_t len = strlen(line);

        (void) level;
        while (len > 0 && line[len - 1] == '\n')
                len--;
        log_debug("libwebsockets: %.*s", (int) len, line);
}

static void lws_log_setup(void)
{
        lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_line);
}

static int verify_server_certificate(struct incus_ws *ws, X509_STORE_CTX *store)
{
        if (X509_STORE_CTX_get_error_depth(store) > 0) {
                X509_STORE_CTX_set_error(store, X509_V_OK);
                return 0;
        }
        if (fingerprint_from_x509(X509_STORE_CTX_get_current_cert(store), ws->peer) < 0)
                return 1;
        if (!streq(ws->peer, ws->pinned)) {
                ws->pin_mismatch = true;
                return 1;
        }
        X509_STORE_CTX_set_error(store, X509_V_OK);
        return 0;
}

static void queue_message(struct incus_ws *ws, bool binary)
{
        struct ws_message *m = calloc(1, sizeof(*m));

        if (!m) {
                snprintf(ws->failure, sizeof(ws->failure), "Out of memory");
                ws->closed = true;
                return;
        }
        m->len = ws->partial.len;
        m->data = strbuf_steal(&ws->partial);
        m->binary = binary;
        if (!m->data) {
                free(m);
                snprintf(ws->failure, sizeof(ws->failure), "Out of memory");
                ws->closed = true;
                return;
        }
        *ws->tail = m;
        ws->tail = &m->next;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
        struct incus_ws *ws = lws_context_user(lws_get_context(wsi));

        switch (reason) {
        case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
                return verify_server_certificate(ws, user);

        case LWS_CALLBACK_CLIENT_ESTABLISHED:
                ws->established = true;
                break;

        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
                snprintf(ws->failure, sizeof(ws->failure), "%s", in ? (const char *) in : "connection failed");
                ws->closed = true;
                ws->wsi = NULL;
                break;

        case LWS_CALLBACK_CLIENT_RECEIVE:
                if (strbuf_append_len(&ws->partial, in, len) < 0) {
                        snprintf(ws->failure, sizeof(ws->failure), "Out of memory");
                        ws->closed = true;
                        return -1;
                }
                if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
                        queue_message(ws, lws_frame_is_binary(wsi));
                break;

        case LWS_CALLBACK_CLIENT_WRITEABLE:
                if (ws->aborting) {
                        static const char why[] = "aborted";

                        lws_close_reason(wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, (unsigned char *) why,
                                         sizeof(why) - 1);
                        return -1;
                }
                if (ws->out_pending) {
                        int n = lws_write(wsi, ws->out + LWS_PRE, ws->out_len,
                                          ws->out_binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);

                        if (n < (int) ws->out_len) {
                                snprintf(ws->failure, sizeof(ws->failure), "write failed");
                                ws->closed = true;
                                return -1;
                        }
                        ws->out_pending = false;
                }
                break;

        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        case LWS_CALLBACK_CLIENT_CLOSED:
                ws->closed = true;
                break;

        case LWS_CALLBACK_WSI_DESTROY:
                ws->closed = true;
                ws->wsi = NULL;
                break;

        default:
                break;
        }
        return 0;
}

static const struct lws_protocols ws_protocols[] = {
        { .name = "ferry-incus", .callback = ws_callback, .rx_buffer_size = 65536 },
        { .name = NULL },
};

/* Service the loop until done(ws) or the deadline: 0, -ETIMEDOUT. */
static int ws_service_until(struct incus_ws *ws, bool (*done)(const struct incus_ws *ws), int64_t deadline)
{
        while (!done(ws)) {
                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                lws_sul_schedule(ws->ctx, 0, &ws->tick, tick_cb, WS_TICK_US);
                if (lws_service(ws->ctx, 0) < 0)
                        return -EIO;
        }
        return 0;
}

static bool connect_done(const struct incus_ws *ws)
{
        return ws->established || ws->closed;
}

static bool connect_done_closed(const struct incus_ws *ws)
{
        return ws->closed;
}

static bool send_done(const struct incus_ws *ws)
{
        return !ws->out_pending || ws->closed;
}

static bool recv_done(const struct incus_ws *ws)
{
        return ws->head || ws->closed;
}

/* Split "https://host:port" into host and port. */
static int parse_https(const char *endpoint, char *host, size_t host_size, int *port)
{
        const char *h = endpoint + strlen("https://"), *colon, *end;
        size_t n;

        end = h + strcspn(h, "/");
        if (*h == '[') {
                const char *close = memchr(h, ']', (size_t) (end - h));

                if (!close)
                        return -EINVAL;
                n = (size_t) (close - h - 1);
                if (n + 1 > host_size)
                        return -EINVAL;
                memcpy(host, h + 1, n);
                host[n] = '\0';
                colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
        } else {
                colon = memchr(h, ':', (size_t) (end - h));
                n = (size_t) ((colon ? colon : end) - h);
                if (n == 0 || n + 1 > host_size)
                        return -EINVAL;
                memcpy(host, h, n);
                host[n] = '\0';
        }
        *port = colon ? atoi(colon + 1) : 8443;
        return *port > 0 && *port < 65536 ? 0 : -EINVAL;
}

int incus_ws_connect(const struct incus_client_config *config, const char *path, int timeout_ms,
                     struct incus_ws **ret, struct ferry_error *err)
{
        struct lws_context_creation_info info = {};
        struct lws_client_connect_info ci = {};
        _cleanup_free_ char *address = NULL;
        struct incus_ws *ws;
        char host[256];
        int port = 0, r;
        bool tls;

        if (!config->endpoint)
                return ferry_error_set(err, -EINVAL, "Endpoint is empty");
        tls = startswith(config->endpoint, "https://");
        if (!tls && !startswith(config->endpoint, "unix:///"))
                return ferry_error_set(err, -EINVAL, "Incus endpoint '%s' must be https:// or unix://",
                                       config->endpoint);

        static pthread_once_t log_once = PTHREAD_ONCE_INIT;

        pthread_once(&log_once, lws_log_setup);

        ws = calloc(1, sizeof(*ws));
        if (!ws)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        ws->tail = &ws->head;
        ws->name = strndup(path, strcspn(path, "?"));
        if (!ws->name) {
                r = ferry_error_set(err, -ENOMEM, "Out of memory");
                goto fail;
        }

        if (tls) {
                if (!config->server_fingerprint ||
                    fingerprint_normalize(config->server_fingerprint, ws->pinned) < 0) {
                        r = ferry_error_set(err, -EINVAL, "Incus endpoint '%s' needs the server certificate fingerprint",
                                            config->endpoint);
                        goto fail;
                }
                if (parse_https(config->endpoint, host, sizeof(host), &port) < 0) {
                        r = ferry_error_set(err, -EINVAL, "Cannot parse the endpoint '%s'", config->endpoint);
                        goto fail;
                }
                address = strdup(host);
        } else {
                /* libwebsockets takes "+/path" for a unix socket. */
                address = strjoin("+", config->endpoint + strlen("unix://"), NULL);
                snprintf(host, sizeof(host), "localhost");
        }
        if (!address) {
                r = ferry_error_set(err, -ENOMEM, "Out of memory");
                goto fail;
        }

        info.port = CONTEXT_PORT_NO_LISTEN;
        info.protocols = ws_protocols;
        info.gid = (gid_t) -1;
        info.uid = (uid_t) -1;
        info.user = ws;
        info.timeout_secs = (unsigned) (timeout_ms > 0 ? (timeout_ms + 999) / 1000 : 10);
        if (tls) {
                /* Our own client context: no CA store (the pin decides, in
                 * ws_callback()), and freed by us, where libwebsockets 4.1
                 * leaks the one it makes. */
                ws->ssl_ctx = SSL_CTX_new(TLS_client_method());
                if (!ws->ssl_ctx) {
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
                        goto fail;
                }
                SSL_CTX_set_min_proto_version(ws->ssl_ctx, TLS1_2_VERSION);
                if (config->client_cert &&
                    (SSL_CTX_use_certificate_chain_file(ws->ssl_ctx, config->client_cert) != 1 ||
                     SSL_CTX_use_PrivateKey_file(ws->ssl_ctx, config->client_key, SSL_FILETYPE_PEM) != 1)) {
                        char why[256];

                        ERR_error_string_n(ERR_get_error(), why, sizeof(why));
                        ERR_clear_error();
                        r = ferry_error_set(err, -EINVAL, "Cannot use the client certificate: %s", why);
                        goto fail;
                }
                info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
                info.provided_client_ssl_ctx = ws->ssl_ctx;
        }
        ws->ctx = lws_create_context(&info);
        if (!ws->ctx) {
                r = ferry_error_set(err, -EIO, "Cannot create a websocket client for '%s'", ws->name);
                goto fail;
        }

        ci.context = ws->ctx;
        ci.address = address;
        ci.port = port;
        ci.path = path;
        ci.host = host;
        ci.origin = host;
        ci.local_protocol_name = "ferry-incus";
        ci.ietf_version_or_minus_one = -1;
        ci.pwsi = &ws->wsi;
        if (tls)
                ci.ssl_connection = LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;

        if (!lws_client_connect_via_info(&ci) && !ws->closed) {
                r = ferry_error_set(err, -ECONNREFUSED, "Cannot open websocket '%s'", ws->name);
                goto fail;
        }

        r = ws_service_until(ws, connect_done, now_ms() + (timeout_ms > 0 ? timeout_ms : 10000));
        if (r == -ETIMEDOUT) {
                r = ferry_error_set(err, -ETIMEDOUT, "Opening websocket '%s' timed out", ws->name);
                goto fail;
        }
        if (ws->pin_mismatch) {
                r = ferry_error_set(err, -EPERM,
                                    "Server certificate fingerprint '%s' does not match the trusted fingerprint '%s'",
                                    ws->peer, ws->pinned);
                goto fail;
        }
        if (r < 0 || !ws->established) {
                r = ferry_error_set(err, -ECONNREFUSED, "Cannot open websocket '%s': %s", ws->name,
                                    ws->failure[0] ? ws->failure : "closed by the server");
                goto fail;
        }

        *ret = ws;
        return 0;

fail:
        incus_ws_free(ws);
        return r;
}

int incus_ws_send(struct incus_ws *ws, bool binary, const void *buf, size_t len, int timeout_ms,
                  struct ferry_error *err)
{
        unsigned char *out;
        int r;

        if (ws->closed || !ws->wsi)
                return ferry_error_set(err, -EPIPE, "Websocket '%s' was closed%s%s", ws->name,
                                       ws->failure[0] ? ": " : "", ws->failure);

        out = realloc(ws->out, LWS_PRE + len + 1);
        if (!out)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        ws->out = out;
        if (len > 0)
                memcpy(out + LWS_PRE, buf, len);
        ws->out_len = len;
        ws->out_binary = binary;
        ws->out_pending = true;

        lws_callback_on_writable(ws->wsi);
        r = ws_service_until(ws, send_done, now_ms() + (timeout_ms > 0 ? timeout_ms : 60000));
        if (r == -ETIMEDOUT)
                return ferry_error_set(err, -ETIMEDOUT, "Sending on websocket '%s' timed out", ws->name);
        if (r < 0 || ws->out_pending)
                return ferry_error_set(err, -EPIPE, "Websocket '%s' was closed%s%s", ws->name,
                                       ws->failure[0] ? ": " : "", ws->failure);
        return 0;
}

int incus_ws_recv(struct incus_ws *ws, int timeout_ms, char **ret_buf, size_t *ret_len, bool *ret_binary,
                  struct ferry_error *err)
{
        struct ws_message *m;
        int r;

        if (!ws->head && !ws->closed) {
                r = ws_service_until(ws, recv_done, now_ms() + (timeout_ms > 0 ? timeout_ms : 0));
                if (r < 0 && r != -ETIMEDOUT)
                        return ferry_error_set(err, r, "Receiving on websocket '%s' failed", ws->name);
        }
        if (!ws->head) {
                if (ws->closed)
                        return ferry_error_set(err, -EPIPE, "Websocket '%s' was closed%s%s", ws->name,
                                               ws->failure[0] ? ": " : "", ws->failure);
                return 0;
        }

        m = ws->head;
        ws->head = m->next;
        if (!ws->head)
                ws->tail = &ws->head;
        *ret_buf = m->data;
        *ret_len = m->len;
        if (ret_binary)
                *ret_binary = m->binary;
        free(m);
        return 1;
}

void incus_ws_abort(struct incus_ws *ws, int timeout_ms)
{
        if (!ws || ws->closed || !ws->wsi)
                return;
        ws->aborting = true;
        lws_callback_on_writable(ws->wsi);
        (void) ws_service_until(ws, connect_done_closed, now_ms() + (timeout_ms > 0 ? timeout_ms : 1000));
}

bool incus_ws_closed(const struct incus_ws *ws)
{
        return ws->closed;
}

void incus_ws_free(struct incus_ws *ws)
{
        if (!ws)
                return;
        if (ws->ctx) {
                lws_sul_cancel(&ws->tick);
                /* Destroying the context closes what is still open. */
                lws_context_destroy(ws->ctx);
        }
        if (ws->ssl_ctx)
                SSL_CTX_free(ws->ssl_ctx);
        while (ws->head) {
                struct ws_message *m = ws->head;

                ws->head = m->next;
                free(m->data);
                free(m);
        }
        strbuf_done(&ws->partial);
        free(ws->out);
        free(ws->name);
        free(ws);
}
