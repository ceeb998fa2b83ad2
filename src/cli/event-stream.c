/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <openssl/x509.h>

#include "cli/event-stream.h"
#include "common/fingerprint.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"

#define EVENT_STREAM_PROTOCOL "ferry-events-client"
#define EVENT_STREAM_SIGNAL_PROTOCOL "ferry-signal"

struct event_stream {
        const struct event_stream_config *config;
        event_stream_fn fn;
        void *userdata;
        struct ferry_error *err;

        struct lws_context *lws;
        int signal_fd;
        bool signal_fd_adopted;

        const char *where;              /* the socket path or HTTPS address, for messages */
        char pinned[FINGERPRINT_HEX_SIZE];      /* HTTPS: normalized */
        char peer[FINGERPRINT_HEX_SIZE];        /* HTTPS: what the server showed, once seen */

        int http_status;                /* of the upgrade answer, once seen */
        struct strbuf message;          /* the fragments of the message being read */
        char close_reason[124];         /* what ferryd said when it closed, if anything */

        bool done;
        int result;                     /* once done: 0 or a negative errno */
};

/* The first outcome wins: later callbacks (the close after an error) do
 * not overwrite it. */
static void event_stream_finish(struct event_stream *s, int result)
{
        if (s->done)
                return;
        s->done = true;
        s->result = result;
}

static int event_stream_receive(struct event_stream *s, struct lws *wsi, const void *in, size_t len)
{
        _cleanup_json_ json_t *event = NULL;
        json_error_t jerr;
        int r;

        if (s->done)
                return 0;       /* stopping: what else was in the buffer is not wanted */

        if (len > EVENT_STREAM_MESSAGE_MAX - s->message.len) {
                event_stream_finish(s, ferry_error_set(s->err, -EBADMSG,
                                                       "ferryd sent an event larger than %u bytes",
                                                       EVENT_STREAM_MESSAGE_MAX));
                return -1;
        }
        if (strbuf_append_len(&s->message, in, len) < 0) {
                event_stream_finish(s, ferry_error_set(s->err, -ENOMEM, "Out of memory"));
                return -1;
        }
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
                return 0;

        event = json_loadb(strbuf_str(&s->message), s->message.len, 0, &jerr);
        strbuf_reset(&s->message);
        if (!event || !json_is_object(event)) {
                event_stream_finish(s, ferry_error_set(s->err, -EBADMSG,
                                                       "ferryd sent an event that is not a JSON object"));
                return -1;
        }

        r = s->fn(event, s->userdata);
        if (r != 0)
                event_stream_finish(s, r < 0 ? r : 0);
        return 0;
}

/* What ferryd sent with its close frame: a 2-byte status code (1008 when
 * it drops a slow listener), then the reason, which we keep. */
static void event_stream_save_close_reason(struct event_stream *s, const unsigned char *in, size_t len)
{
        size_t n;

        if (len < 2)
                return;
        n = len - 2 < sizeof(s->close_reason) - 1 ? len - 2 : sizeof(s->close_reason) - 1;
        memcpy(s->close_reason, in + 2, n);
        s->close_reason[n] = '\0';
        utf8_trim_partial(s->close_reason);
        for (char *p = s->close_reason; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        *p = '?';
}

/*
 * OpenSSL's verdict on each certificate of the server's chain, leaf last
 * (depth 0).  The pin replaces CAs and host names: whatever OpenSSL says,
 * only the leaf's fingerprint decides.  Returns 0 to accept (with the
 * error cleared, as lws wants), 1 to refuse.
 */
static int event_stream_verify(struct event_stream *s, X509_STORE_CTX *store, int preverify_ok)
{
        (void) preverify_ok;

        if (X509_STORE_CTX_get_error_depth(store) > 0) {
                X509_STORE_CTX_set_error(store, X509_V_OK);
                return 0;
        }
        if (fingerprint_from_x509(X509_STORE_CTX_get_current_cert(store), s->peer) < 0 ||
            !fingerprint_equal(s->peer, s->pinned)) {
                X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
                return 1;
        }
        X509_STORE_CTX_set_error(store, X509_V_OK);
        return 0;
}

/* No websocket came up: say why, as precisely as we know. */
static void event_stream_connection_error(struct event_stream *s, const char *why)
{
        int r;

        if (s->done)
                return;
        if (s->peer[0] && !fingerprint_equal(s->peer, s->pinned))
                r = ferry_error_set(s->err, -EPERM,
                                    "Server certificate fingerprint '%s' does not match the trusted fingerprint '%s'",
                                    s->peer, s->pinned);
        else if (s->http_status > 0 && s->http_status != 101)
                r = ferry_error_set(s->err, -ECONNREFUSED, "ferryd answered HTTP %d to the event stream request",
                                    s->http_status);
        else
                r = ferry_error_set(s->err, -ECONNREFUSED, "Cannot connect to ferryd at '%s': %s", s->where,
                                    why ?: "connection failed");
        event_stream_finish(s, r);
}

static int event_stream_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                                 size_t len)
{
        struct event_stream *s = lws_context_user(lws_get_context(wsi));

        (void) user;

        switch (reason) {
        case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
                /* The answer to the upgrade, before lws checks it is a 101. */
                s->http_status = (int) lws_http_client_http_response(wsi);
                break;

        case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
                return event_stream_verify(s, user, (int) len);

        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
                event_stream_connection_error(s, in);
                break;

        case LWS_CALLBACK_CLIENT_RECEIVE:
                return event_stream_receive(s, wsi, in, len);

        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
                event_stream_save_close_reason(s, in, len);
                break;

        case LWS_CALLBACK_CLIENT_CLOSED:
                if (s->done)
                        break;  /* closed because we are done */
                if (s->close_reason[0])
                        event_stream_finish(s, ferry_error_set(s->err, -ECONNRESET,
                                                               "ferryd closed the event stream: %s",
                                                               s->close_reason));
                else
                        event_stream_finish(s, ferry_error_set(s->err, -ECONNRESET,
                                                               "ferryd closed the event stream"));
                break;

        default:
                break;
        }
        return 0;
}

static int event_stream_signal_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                                        size_t len)
{
        struct event_stream *s = lws_context_user(lws_get_context(wsi));
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
        if (n != (ssize_t) sizeof(si))
                event_stream_finish(s, ferry_error_set(s->err, n < 0 ? -errno : -EIO,
                                                       "Failed to read the signal file descriptor: %m"));
        else
                event_stream_finish(s, 0);      /* SIGINT or SIGTERM: the user is done watching */
        return 0;
}

static const struct lws_protocols event_stream_protocols[] = {
        { .name = EVENT_STREAM_PROTOCOL, .callback = event_stream_callback },
        { .name = EVENT_STREAM_SIGNAL_PROTOCOL, .callback = event_stream_signal_callback },
        {}
};

/* libwebsockets' own messages only help debugging: the stream's outcome
 * is reported once, by the caller. */
static void event_stream_lws_log(int level, const char *line)
{
        (void) level;
        log_debug("libwebsockets: %.*s", (int) strcspn(line, "\r\n"), line);
}

static int event_stream_watch_signals(struct event_stream *s)
{
        struct lws *wsi;
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        r = pthread_sigmask(SIG_BLOCK, &mask, NULL);
        if (r != 0)
                return ferry_error_set(s->err, -r, "Failed to block SIGINT and SIGTERM: %m");

        s->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (s->signal_fd < 0)
                return ferry_error_set(s->err, -errno, "Failed to create a signal file descriptor: %m");

        wsi = lws_adopt_descriptor_vhost(lws_get_vhost_by_name(s->lws, "default"), LWS_ADOPT_RAW_FILE_DESC,
                                         (lws_sock_file_fd_type) { .filefd = s->signal_fd },
                                         EVENT_STREAM_SIGNAL_PROTOCOL, NULL);
        if (!wsi)
                return ferry_error_set(s->err, -ENOMEM, "Failed to watch the signal file descriptor");
        s->signal_fd_adopted = true;
        return 0;
}

/* "https://host:port" into lws's address, port and Host header. */
static int event_stream_parse_https_addr(struct event_stream *s, char **ret_copy, const char **ret_address,
                                         int *ret_port, char **ret_host)
{
        _cleanup_free_ char *copy = strdup(s->config->https_addr), *host = NULL;
        const char *scheme = NULL, *address = NULL, *path = NULL;
        int port = 0;

        if (!copy)
                return ferry_error_set(s->err, -ENOMEM, "Out of memory");
        /* lws_parse_uri() gives "/" for no path, and 443 for no port. */
        if (lws_parse_uri(copy, &scheme, &address, &port, &path) != 0 || !streq(scheme, "https") || !*address ||
            !streq(path, "/") || port <= 0 || port > 65535)
                return ferry_error_set(s->err, -EINVAL, "Remote address '%s' must be https://HOST:PORT",
                                       s->config->https_addr);

        host = strchr(address, ':') ? strjoin("[", address, "]", NULL) : strdup(address);
        if (!host || asprintf(ret_host, "%s:%d", host, port) < 0)
                return ferry_error_set(s->err, -ENOMEM, "Out of memory");
        *ret_address = address;
        *ret_port = port;
        *ret_copy = TAKE_PTR(copy);
        return 0;
}

static int event_stream_connect(struct event_stream *s)
{
        struct sockaddr_un sa;
        _cleanup_free_ char *address = NULL, *host = NULL;
        struct lws_client_connect_info info = {};
        int r;

        info.context = s->lws;
        info.path = s->config->path;
        info.local_protocol_name = EVENT_STREAM_PROTOCOL;

        if (s->config->https_addr) {
                r = event_stream_parse_https_addr(s, &address, &info.address, &info.port, &host);
                if (r < 0)
                        return r;
                info.host = host;
                info.origin = host;
                /* The pin is the trust: see event_stream_verify(). */
                info.ssl_connection = LCCSCF_USE_SSL | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
        } else {
                if (strlen(s->config->socket_path) >= sizeof(sa.sun_path))
                        return ferry_error_set(s->err, -ENAMETOOLONG, "Cannot connect to ferryd at '%s': %s",
                                               s->config->socket_path, strerrordesc_np(ENAMETOOLONG));

                /* "+path" is libwebsockets' way of naming a unix socket. */
                address = strjoin("+", s->config->socket_path, NULL);
                if (!address)
                        return ferry_error_set(s->err, -ENOMEM, "Out of memory");
                info.address = address;
                info.port = 0;
                info.host = "ferry";
        }

        /* Until it returns, lws reports a failure by returning NULL only. */
        if (!lws_client_connect_via_info(&info) && !s->done)
                return ferry_error_set(s->err, -ECONNREFUSED, "Cannot connect to ferryd at '%s'", s->where);
        return 0;
}

int event_stream_run(const struct event_stream_config *config, event_stream_fn fn, void *userdata,
                     struct ferry_error *err)
{
        struct lws_context_creation_info info = {};
        struct event_stream s = {
                .config = config,
                .fn = fn,
                .userdata = userdata,
                .err = err,
                .signal_fd = -EBADF,
                .message = STRBUF_INIT,
        };
        int r;

        lws_set_log_level(LLL_ERR | LLL_WARN, event_stream_lws_log);

        if (!!config->socket_path == !!config->https_addr)
                return ferry_error_set(err, -EINVAL, "Either a socket path or an HTTPS address is needed");
        s.where = config->socket_path ?: config->https_addr;
        if (config->https_addr) {
                if (!config->fingerprint || fingerprint_normalize(config->fingerprint, s.pinned) < 0)
                        return ferry_error_set(err, -EINVAL, "'%s' is not a SHA-256 certificate fingerprint",
                                               config->fingerprint ?: "");
                info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
                info.client_ssl_cert_filepath = config->cert_path;
                info.client_ssl_private_key_filepath = config->key_path;
        }

        info.port = CONTEXT_PORT_NO_LISTEN;
        info.protocols = event_stream_protocols;
        info.user = &s;
        info.uid = -1;
        info.gid = -1;
        s.lws = lws_create_context(&info);
        if (!s.lws) {
                /* With TLS, the likely reason is the client certificate. */
                if (config->https_addr)
                        r = ferry_error_set(err, -EIO,
                                            "Failed to set up TLS with the client certificate '%s' and key '%s'",
                                            config->cert_path ?: "", config->key_path ?: "");
                else
                        r = ferry_error_set(err, -ENOMEM, "Failed to create the libwebsockets context");
                goto finish;
        }

        r = event_stream_watch_signals(&s);
        if (r < 0)
                goto finish;

        r = event_stream_connect(&s);
        if (r < 0)
                goto finish;

        while (!s.done)
                /* lws 4 ignores the timeout: it sleeps until the next event. */
                if (lws_service(s.lws, 0) < 0)
                        event_stream_finish(&s, ferry_error_set(err, -EIO, "The event loop failed"));
        r = s.result;

finish:
        if (s.lws)
                lws_context_destroy(s.lws);
        if (!s.signal_fd_adopted && s.signal_fd >= 0)
                close(s.signal_fd);
        strbuf_done(&s.message);
        return r;
}
