/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/strbuf.h"
#include "expr/diag.h"
#include "expr/utf8.h"

/* The snippet shows at most this many characters (and bytes) of the line. */
#define SNIPPET_CHARS 64
#define SNIPPET_BYTES 128
/* Columns further right than this scroll the window. */
#define SNIPPET_SCROLL_AT 40
#define SNIPPET_CONTEXT 24

/* Append one character of the line as displayed; returns bytes consumed. */
static size_t snippet_put(struct strbuf *sb, const char *s, size_t n)
{
        uint32_t cp;
        size_t len = utf8_decode(s, n, &cp);

        if (len == 0) {
                (void) strbuf_append_len(sb, "?", 1);
                return 1;
        }
        if (cp < 0x20 || cp == 0x7F)
                (void) strbuf_append_len(sb, " ", 1);
        else
                (void) strbuf_append_len(sb, s, len);
        return len;
}

static size_t char_len(const char *s, size_t n)
{
        uint32_t cp;
        size_t len = utf8_decode(s, n, &cp);

        return len ? len : 1;
}

_printf_(6, 0)
static int error_at(struct ferry_error *err, int code, const struct expr_source *src, size_t pos,
                    const char *detail, const char *fmt, va_list ap)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        const char *text = src->text;
        size_t len = src->len, line = 1, line_start = 0, line_end, column, start, i, shown = 0, caret;
        char message[FERRY_ERROR_MESSAGE_MAX];

        if (pos > len)
                pos = len;
        for (i = 0; i < pos; i++)
                if (text[i] == '\n') {
                        line++;
                        line_start = i + 1;
                }
        line_end = pos;
        while (line_end < len && text[line_end] != '\n')
                line_end++;
        column = utf8_count(text + line_start, pos - line_start) + 1;

        (void) vsnprintf(message, sizeof message, fmt, ap);
        (void) strbuf_appendf(&sb, "%s at line %zu, column %zu", message, line, column);
        if (detail)
                (void) strbuf_appendf(&sb, " (%s)", detail);
        (void) strbuf_append(&sb, "\n | ");

        /* Scroll so that the column stays in view. */
        start = line_start;
        caret = column - 1;
        if (column - 1 > SNIPPET_SCROLL_AT) {
                size_t skip = column - 1 - SNIPPET_CONTEXT;

                for (size_t k = 0; k < skip; k++)
                        start += char_len(text + start, line_end - start);
                (void) strbuf_append(&sb, "...");
                caret = SNIPPET_CONTEXT + 3;
        }
        for (i = start; i < line_end && shown < SNIPPET_CHARS && i - start < SNIPPET_BYTES; shown++)
                i += snippet_put(&sb, text + i, line_end - i);
        if (i < line_end)
                (void) strbuf_append(&sb, "...");
        (void) strbuf_append(&sb, "\n | ");
        for (size_t k = 0; k < caret; k++)
                (void) strbuf_append_len(&sb, " ", 1);
        (void) strbuf_append_len(&sb, "^", 1);

        return ferry_error_set(err, code, "%s", strbuf_str(&sb));
}

int expr_error_at(struct ferry_error *err, int code, const struct expr_source *src, size_t pos,
                  const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = error_at(err, code, src, pos, NULL, fmt, ap);
        va_end(ap);
        return r;
}

int expr_error_at_detail(struct ferry_error *err, int code, const struct expr_source *src, size_t pos,
                         const char *detail, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = error_at(err, code, src, pos, detail, fmt, ap);
        va_end(ap);
        return r;
}

const char *expr_clip(const char *s, size_t len, size_t max, char *buf, size_t size)
{
        size_t i = 0, out = 0;

        if (size < max + 4) {
                if (size > 0)
                        buf[0] = '\0';
                return buf;
        }
        while (i < len) {
                uint32_t cp;
                size_t n = utf8_decode(s + i, len - i, &cp);

                if (n == 0 || cp < 0x20 || cp == 0x7F) {
                        if (out + 1 > max)
                                break;
                        buf[out++] = '?';
                        i += n ? n : 1;
                        continue;
                }
                if (out + n > max)
                        break;
                memcpy(buf + out, s + i, n);
                out += n;
                i += n;
        }
        if (i < len) {
                memcpy(buf + out, "...", 3);
                out += 3;
        }
        buf[out] = '\0';
        return buf;
}
