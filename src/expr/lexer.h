/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The expression lexer: turns the text into tokens, each with its byte
 * position for error messages.  Literals are decoded here: numbers into
 * int64/double, strings with their escapes resolved (into the arena).
 *
 * The syntax is expr-lang's: 'single' and "double" quoted strings with Go
 * escapes, `raw` strings, 42 0x2A 0o52 0b101010 1_000 integers, 0.5 .5 1e3
 * floats, // and slash-star comments.
 */
#ifndef FERRY_EXPR_LEXER_H
#define FERRY_EXPR_LEXER_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "expr/arena.h"
#include "expr/diag.h"

enum token_kind {
        TOKEN_EOF,
        TOKEN_INT,
        TOKEN_FLOAT,
        TOKEN_STRING,
        TOKEN_IDENT,
        TOKEN_TRUE,
        TOKEN_FALSE,
        TOKEN_NIL,
        TOKEN_LPAREN,
        TOKEN_RPAREN,
        TOKEN_LBRACKET,
        TOKEN_RBRACKET,
        TOKEN_LBRACE,
        TOKEN_RBRACE,
        TOKEN_COMMA,
        TOKEN_DOT,
        TOKEN_HASH,       /* '#', or '#name' (len > 1) */
        TOKEN_QUESTION,
        TOKEN_COLON,
        TOKEN_NOT,        /* not */
        TOKEN_BANG,       /* ! */
        TOKEN_AND,        /* and */
        TOKEN_ANDAND,     /* && */
        TOKEN_OR,         /* or */
        TOKEN_OROR,       /* || */
        TOKEN_EQ,
        TOKEN_NE,
        TOKEN_LT,
        TOKEN_LE,
        TOKEN_GT,
        TOKEN_GE,
        TOKEN_PLUS,
        TOKEN_MINUS,
        TOKEN_STAR,
        TOKEN_SLASH,
        TOKEN_PERCENT,
        TOKEN_IN,
        TOKEN_MATCHES,
        TOKEN_CONTAINS,
        TOKEN_STARTSWITH,
        TOKEN_ENDSWITH,
        TOKEN_COALESCE,    /* ?? */
        TOKEN_UNSUPPORTED, /* expr-lang syntax ferry does not have: ** ^ .. ?. | ; = & let if else */
        _TOKEN_KIND_MAX,
};

struct token {
        enum token_kind kind;
        size_t pos; /* byte offset in the text */
        size_t len; /* bytes of the text the token covers */
        union {
                int64_t i;                        /* TOKEN_INT */
                double f;                         /* TOKEN_FLOAT */
                struct {
                        const char *s;            /* TOKEN_STRING: decoded, NUL-terminated, in the arena */
                        size_t n;
                } str;
        };
};

struct token_list {
        struct token *tokens; /* the last one is TOKEN_EOF */
        size_t n;
};

/*
 * Tokenize the whole text.  Errors ("Unterminated string", "Invalid escape
 * sequence '\q'", ...) point at the offending character.
 */
int lexer_tokenize(const struct expr_source *src, struct arena *arena, struct token_list *ret,
                   struct ferry_error *err);

void token_list_done(struct token_list *l);

/* True for identifier characters (ASCII letters, digits, '_', '$', any non-ASCII character). */
static inline int lexer_is_ident_char(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '$' || c >= 0x80;
}

#endif
