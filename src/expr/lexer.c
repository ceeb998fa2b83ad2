/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "expr/lexer.h"
#include "expr/utf8.h"

struct lexer {
        const struct expr_source *src;
        const char *text;
        size_t len;
        size_t pos;
        struct arena *arena;
        struct token_list out;
        size_t alloc;
        struct ferry_error *err;
};

static const struct {
        const char *word;
        enum token_kind kind;
} keywords[] = {
        { "true", TOKEN_TRUE },
        { "false", TOKEN_FALSE },
        { "nil", TOKEN_NIL },
        { "not", TOKEN_NOT },
        { "and", TOKEN_AND },
        { "or", TOKEN_OR },
        { "in", TOKEN_IN },
        { "matches", TOKEN_MATCHES },
        { "contains", TOKEN_CONTAINS },
        { "startsWith", TOKEN_STARTSWITH },
        { "endsWith", TOKEN_ENDSWITH },
        { "let", TOKEN_UNSUPPORTED },
        { "if", TOKEN_UNSUPPORTED },
        { "else", TOKEN_UNSUPPORTED },
};

_printf_(3, 4)
static int lexer_error(struct lexer *l, size_t pos, const char *fmt, ...)
{
        char message[FERRY_ERROR_MESSAGE_MAX];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        return expr_error_at(l->err, -EINVAL, l->src, pos, "%s", message);
}

static int lexer_oom(struct lexer *l)
{
        return ferry_error_set(l->err, -ENOMEM, "Out of memory");
}

static struct token *lexer_push(struct lexer *l, enum token_kind kind, size_t pos, size_t len)
{
        struct token *t;

        if (l->out.n == l->alloc) {
                size_t alloc = l->alloc ? l->alloc * 2 : 64;
                struct token *tokens = realloc(l->out.tokens, alloc * sizeof(*tokens));

                if (!tokens)
                        return NULL;
                l->out.tokens = tokens;
                l->alloc = alloc;
        }
        t = &l->out.tokens[l->out.n++];
        *t = (struct token) { .kind = kind, .pos = pos, .len = len };
        return t;
}

static int push_simple(struct lexer *l, enum token_kind kind, size_t len)
{
        if (!lexer_push(l, kind, l->pos, len))
                return lexer_oom(l);
        l->pos += len;
        return 0;
}

/* Length of a whitespace character at i, or 0. */
static size_t space_at(const struct lexer *l, size_t i)
{
        uint32_t cp;
        size_t n;

        if ((unsigned char) l->text[i] < 0x80)
                return strchr(" \t\n\v\f\r", l->text[i]) && l->text[i] ? 1 : 0;
        n = utf8_decode(l->text + i, l->len - i, &cp);
        return n && utf8_is_space(cp) ? n : 0;
}

/* Length of an identifier character at i, or 0. */
static size_t ident_char_at(const struct lexer *l, size_t i)
{
        uint32_t cp;
        size_t n;

        if (i >= l->len || !lexer_is_ident_char((unsigned char) l->text[i]))
                return 0;
        if ((unsigned char) l->text[i] < 0x80)
                return 1;
        n = utf8_decode(l->text + i, l->len - i, &cp);
        return n && !utf8_is_space(cp) ? n : 0;
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
        c_locale = newlocale(LC_ALL_MASK, "C", (locale_t) 0);
}

static bool is_digit_in(char c, int base)
{
        switch (base) {
        case 2:
                return c == '0' || c == '1';
        case 8:
                return c >= '0' && c <= '7';
        case 16:
                return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        default:
                return c >= '0' && c <= '9';
        }
}

static int digit_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return c - 'A' + 10;
}

static int lex_number(struct lexer *l)
{
        size_t start = l->pos, i = l->pos, digits_start;
        int base = 10;
        bool is_float = false;
        char buf[128];
        size_t blen = 0;
        struct token *t;

        if (l->text[i] == '0' && i + 1 < l->len && strchr("xXoObB", l->text[i + 1]) && l->text[i + 1]) {
                char p = l->text[i + 1];

                base = p == 'x' || p == 'X' ? 16 : p == 'o' || p == 'O' ? 8 : 2;
                i += 2;
        }
        digits_start = i;
        while (i < l->len && (is_digit_in(l->text[i], base) || l->text[i] == '_'))
                i++;
        if (base == 10) {
                /* 1..2 is a range, not the float "1." followed by ".2". */
                if (i < l->len && l->text[i] == '.' && !(i + 1 < l->len && l->text[i + 1] == '.')) {
                        is_float = true;
                        i++;
                        while (i < l->len && (is_digit_in(l->text[i], 10) || l->text[i] == '_'))
                                i++;
                }
                if (i < l->len && (l->text[i] == 'e' || l->text[i] == 'E')) {
                        is_float = true;
                        i++;
                        if (i < l->len && (l->text[i] == '+' || l->text[i] == '-'))
                                i++;
                        while (i < l->len && (is_digit_in(l->text[i], 10) || l->text[i] == '_'))
                                i++;
                }
        }
        /* What follows a number must not be part of a word. */
        if (ident_char_at(l, i) || (base != 10 && i < l->len && l->text[i] == '.' &&
                                    !(i + 1 < l->len && l->text[i + 1] == '.'))) {
                size_t end = i + 1;

                while (ident_char_at(l, end))
                        end += ident_char_at(l, end);
                l->pos = end;
                {
                        char word[EXPR_CLIP_BUF];

                        expr_clip(l->text + start, end - start, EXPR_CLIP_MAX, word, sizeof word);
                        return lexer_error(l, start, "Bad number syntax '%s'", word);
                }
        }

        /* Digits without underscores, the prefix dropped for integers. */
        for (size_t k = is_float ? start : digits_start; k < i; k++) {
                if (l->text[k] == '_')
                        continue;
                if (blen + 1 >= sizeof buf) {
                        l->pos = i;
                        return lexer_error(l, start, "%s",
                                           is_float ? "Float literal is too long" : "Integer literal is too large");
                }
                buf[blen++] = l->text[k];
        }
        buf[blen] = '\0';

        if (!(t = lexer_push(l, is_float ? TOKEN_FLOAT : TOKEN_INT, start, i - start)))
                return lexer_oom(l);
        l->pos = i;

        if (is_float) {
                char *end;
                double f;

                if (pthread_once(&c_locale_once, c_locale_init) != 0 || c_locale == (locale_t) 0)
                        return lexer_oom(l);
                errno = 0;
                f = strtod_l(buf, &end, c_locale);
                if (*end != '\0' || end == buf) {
                        char word[EXPR_CLIP_BUF];

                        expr_clip(l->text + start, i - start, EXPR_CLIP_MAX, word, sizeof word);
                        return lexer_error(l, start, "Bad number syntax '%s'", word);
                }
                if (errno == ERANGE && isinf(f))
                        return lexer_error(l, start, "Float literal is too large");
                t->f = f;
                return 0;
        }

        if (blen == 0) {
                char word[EXPR_CLIP_BUF];

                expr_clip(l->text + start, i - start, EXPR_CLIP_MAX, word, sizeof word);
                return lexer_error(l, start, "Bad number syntax '%s'", word);
        }
        {
                uint64_t v = 0;

                for (size_t k = 0; k < blen; k++) {
                        uint64_t d = (uint64_t) digit_value(buf[k]);

                        if (v > (UINT64_C(0x7FFFFFFFFFFFFFFF) - d) / (uint64_t) base)
                                return lexer_error(l, start, "Integer literal is too large");
                        v = v * (uint64_t) base + d;
                }
                t->i = (int64_t) v;
        }
        return 0;
}

/* Append the UTF-8 form of cp. */
static int buf_put_rune(struct strbuf *sb, uint32_t cp)
{
        char out[4];

        return strbuf_append_len(sb, out, utf8_encode(cp, out));
}

/*
 * Decode one escape sequence at l->pos (the backslash) into sb and advance.
 * As Go (and expr-lang): \a \b \f \n \r \t \v \\, the enclosing quote,
 * \NNN octal and \xNN bytes, \uNNNN \u{N..N} \UNNNNNNNN characters.
 */
static int lex_escape(struct lexer *l, char quote, struct strbuf *sb)
{
        size_t at = l->pos, i = l->pos + 1, ndigits = 0, end;
        uint32_t v = 0;
        char c, seq[16];
        int base = 16;
        bool is_byte = false;

        /* On error, end is one past the last character to show. */
        if (i >= l->len) {
                end = l->len;
                goto invalid;
        }
        c = l->text[i++];
        end = i;
        switch (c) {
        case 'a': v = '\a'; goto simple;
        case 'b': v = '\b'; goto simple;
        case 'f': v = '\f'; goto simple;
        case 'n': v = '\n'; goto simple;
        case 'r': v = '\r'; goto simple;
        case 't': v = '\t'; goto simple;
        case 'v': v = '\v'; goto simple;
        case '\\': v = '\\'; goto simple;
        case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
                base = 8;
                ndigits = 3;
                is_byte = true;
                i--;
                break;
        case 'x':
                ndigits = 2;
                is_byte = true;
                break;
        case 'u':
                if (i < l->len && l->text[i] == '{') {
                        size_t n = 0;

                        i++;
                        while (i < l->len && l->text[i] != '}') {
                                if (!is_digit_in(l->text[i], 16) || n >= 6) {
                                        end = i + 1;
                                        goto invalid;
                                }
                                v = v * 16 + (uint32_t) digit_value(l->text[i]);
                                i++;
                                n++;
                        }
                        if (i >= l->len || n == 0) {
                                end = i < l->len ? i + 1 : l->len;
                                goto invalid;
                        }
                        i++;
                        end = i;
                        goto rune;
                }
                ndigits = 4;
                break;
        case 'U':
                ndigits = 8;
                break;
        default:
                if (c == quote) {
                        v = (uint32_t) (unsigned char) quote;
                        goto simple;
                }
                goto invalid;
        }

        for (size_t k = 0; k < ndigits; k++, i++) {
                if (i >= l->len || !is_digit_in(l->text[i], base)) {
                        end = i < l->len ? i + 1 : l->len;
                        goto invalid;
                }
                v = v * (uint32_t) base + (uint32_t) digit_value(l->text[i]);
        }
        end = i;
        if (is_byte) {
                char b;

                if (v > 255)
                        goto invalid;
                b = (char) v;
                if (strbuf_append_len(sb, &b, 1) < 0)
                        return lexer_oom(l);
                l->pos = i;
                return 0;
        }
rune:
        if (v > UTF8_MAX_RUNE || (v >= 0xD800 && v <= 0xDFFF))
                goto invalid;
        if (buf_put_rune(sb, v) < 0)
                return lexer_oom(l);
        l->pos = i;
        return 0;

simple:
        {
                char b = (char) v;

                if (strbuf_append_len(sb, &b, 1) < 0)
                        return lexer_oom(l);
        }
        l->pos = i;
        return 0;

invalid:
        {
                size_t n = 0;
                char clipped[EXPR_CLIP_BUF];

                /* The backslash and what follows, up to the bad character. */
                for (size_t k = at; k < end && n < sizeof seq - 1; k++)
                        seq[n++] = l->text[k];
                seq[n] = '\0';
                expr_clip(seq, n, EXPR_CLIP_MAX, clipped, sizeof clipped);
                return lexer_error(l, at, "Invalid escape sequence '%s'", clipped);
        }
}

static int lex_string(struct lexer *l)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        size_t start = l->pos;
        char quote = l->text[l->pos++];
        struct token *t;
        char *s;
        int r;

        for (;;) {
                char c;

                if (l->pos >= l->len)
                        return lexer_error(l, start, "Unterminated string");
                c = l->text[l->pos];
                if (c == quote) {
                        /* In a raw string, `` is one backtick. */
                        if (quote == '`' && l->pos + 1 < l->len && l->text[l->pos + 1] == '`') {
                                l->pos += 2;
                                if (strbuf_append_len(&sb, &c, 1) < 0)
                                        return lexer_oom(l);
                                continue;
                        }
                        l->pos++;
                        break;
                }
                if (quote == '`') {
                        l->pos++;
                        if (strbuf_append_len(&sb, &c, 1) < 0)
                                return lexer_oom(l);
                        continue;
                }
                if (c == '\n')
                        return lexer_error(l, start, "Unterminated string");
                if (c == '\\') {
                        r = lex_escape(l, quote, &sb);
                        if (r < 0)
                                return r;
                        continue;
                }
                /* As expr-lang, a lone carriage return reads as a newline. */
                if (c == '\r')
                        c = '\n';
                if (strbuf_append_len(&sb, &c, 1) < 0)
                        return lexer_oom(l);
                l->pos++;
        }

        if (!(s = arena_strndup(l->arena, strbuf_str(&sb), sb.len)))
                return lexer_oom(l);
        if (!(t = lexer_push(l, TOKEN_STRING, start, l->pos - start)))
                return lexer_oom(l);
        t->str.s = s;
        t->str.n = sb.len;
        return 0;
}

static int lex_word(struct lexer *l)
{
        size_t start = l->pos, n;
        enum token_kind kind = TOKEN_IDENT;

        while ((n = ident_char_at(l, l->pos)))
                l->pos += n;
        for (size_t k = 0; k < ELEMENTSOF(keywords); k++)
                if (strlen(keywords[k].word) == l->pos - start &&
                    memcmp(keywords[k].word, l->text + start, l->pos - start) == 0) {
                        kind = keywords[k].kind;
                        break;
                }
        if (!lexer_push(l, kind, start, l->pos - start))
                return lexer_oom(l);
        return 0;
}

static int lex_comment(struct lexer *l)
{
        size_t start = l->pos;

        if (l->text[l->pos + 1] == '/') {
                while (l->pos < l->len && l->text[l->pos] != '\n')
                        l->pos++;
                return 0;
        }
        l->pos += 2;
        for (;;) {
                if (l->pos + 1 >= l->len) {
                        l->pos = l->len;
                        return lexer_error(l, start, "Unterminated comment");
                }
                if (l->text[l->pos] == '*' && l->text[l->pos + 1] == '/') {
                        l->pos += 2;
                        return 0;
                }
                l->pos++;
        }
}

static int lex_one(struct lexer *l)
{
        const char *t = l->text + l->pos;
        char c = t[0], c1 = l->pos + 1 < l->len ? t[1] : '\0';
        size_t n;

        switch (c) {
        case '(': return push_simple(l, TOKEN_LPAREN, 1);
        case ')': return push_simple(l, TOKEN_RPAREN, 1);
        case '[': return push_simple(l, TOKEN_LBRACKET, 1);
        case ']': return push_simple(l, TOKEN_RBRACKET, 1);
        case '{': return push_simple(l, TOKEN_LBRACE, 1);
        case '}': return push_simple(l, TOKEN_RBRACE, 1);
        case ',': return push_simple(l, TOKEN_COMMA, 1);
        case ':': return push_simple(l, TOKEN_COLON, 1);
        case '+': return push_simple(l, TOKEN_PLUS, 1);
        case '-': return push_simple(l, TOKEN_MINUS, 1);
        case '%': return push_simple(l, TOKEN_PERCENT, 1);
        case '^': return push_simple(l, TOKEN_UNSUPPORTED, 1);
        case ';': return push_simple(l, TOKEN_UNSUPPORTED, 1);
        case '*': return c1 == '*' ? push_simple(l, TOKEN_UNSUPPORTED, 2) : push_simple(l, TOKEN_STAR, 1);
        case '/':
                if (c1 == '/' || c1 == '*')
                        return lex_comment(l);
                return push_simple(l, TOKEN_SLASH, 1);
        case '=': return c1 == '=' ? push_simple(l, TOKEN_EQ, 2) : push_simple(l, TOKEN_UNSUPPORTED, 1);
        case '!': return c1 == '=' ? push_simple(l, TOKEN_NE, 2) : push_simple(l, TOKEN_BANG, 1);
        case '<': return c1 == '=' ? push_simple(l, TOKEN_LE, 2) : push_simple(l, TOKEN_LT, 1);
        case '>': return c1 == '=' ? push_simple(l, TOKEN_GE, 2) : push_simple(l, TOKEN_GT, 1);
        case '&': return c1 == '&' ? push_simple(l, TOKEN_ANDAND, 2) : push_simple(l, TOKEN_UNSUPPORTED, 1);
        case '|': return c1 == '|' ? push_simple(l, TOKEN_OROR, 2) : push_simple(l, TOKEN_UNSUPPORTED, 1);
        case '?':
                if (c1 == '?')
                        return push_simple(l, TOKEN_COALESCE, 2);
                if (c1 == '.')
                        return push_simple(l, TOKEN_UNSUPPORTED, 2);
                return push_simple(l, TOKEN_QUESTION, 1);
        case '.':
                if (c1 >= '0' && c1 <= '9')
                        return lex_number(l);
                if (c1 == '.')
                        return push_simple(l, TOKEN_UNSUPPORTED, 2);
                return push_simple(l, TOKEN_DOT, 1);
        case '#': {
                size_t end = l->pos + 1;

                while ((n = ident_char_at(l, end)))
                        end += n;
                return push_simple(l, TOKEN_HASH, end - l->pos);
        }
        case '\'':
        case '"':
        case '`':
                return lex_string(l);
        default:
                break;
        }
        if (c >= '0' && c <= '9')
                return lex_number(l);
        if (ident_char_at(l, l->pos))
                return lex_word(l);
        {
                uint32_t cp;
                char ch[EXPR_CLIP_BUF];

                n = utf8_decode(t, l->len - l->pos, &cp);
                if (n == 0)
                        return lexer_error(l, l->pos, "Expression is not valid UTF-8");
                expr_clip(t, n, EXPR_CLIP_MAX, ch, sizeof ch);
                return lexer_error(l, l->pos, "Unrecognized character '%s'", ch);
        }
}

int lexer_tokenize(const struct expr_source *src, struct arena *arena, struct token_list *ret,
                   struct ferry_error *err)
{
        struct lexer l = {
                .src = src,
                .text = src->text,
                .len = src->len,
                .arena = arena,
                .err = err,
        };
        int r;

        while (l.pos < l.len) {
                size_t n = space_at(&l, l.pos);

                if (n) {
                        l.pos += n;
                        continue;
                }
                r = lex_one(&l);
                if (r < 0) {
                        token_list_done(&l.out);
                        return r;
                }
        }
        if (!lexer_push(&l, TOKEN_EOF, l.len, 0)) {
                token_list_done(&l.out);
                return lexer_oom(&l);
        }
        *ret = l.out;
        return 0;
}

void token_list_done(struct token_list *l)
{
        free(l->tokens);
        *l = (struct token_list) {};
}
