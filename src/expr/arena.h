/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bump allocator: many small allocations, freed all at once.  The
 * compiler keeps an expression's syntax tree in one; the evaluator keeps
 * the strings and arrays one evaluation produces in another, which starts
 * in a buffer on the caller's stack so that most evaluations never call
 * malloc().
 *
 *     char buf[1024];
 *     struct arena a;
 *
 *     arena_init(&a, buf, sizeof buf);
 *     p = arena_alloc(&a, n);
 *     ...
 *     arena_done(&a);
 */
#ifndef FERRY_EXPR_ARENA_H
#define FERRY_EXPR_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
        struct arena_chunk *chunks; /* malloc()ed chunks, newest first */
        char *next;                 /* free space of the current chunk */
        size_t left;                /* bytes free at next */
};

/* Start empty, or with a caller-owned first buffer (buf may be NULL). */
void arena_init(struct arena *a, void *buf, size_t size);

/* size bytes aligned for any type; NULL with errno ENOMEM on failure. */
void *arena_alloc(struct arena *a, size_t size);
void *arena_zalloc(struct arena *a, size_t size);

/* A NUL-terminated copy of s[0..len). */
char *arena_strndup(struct arena *a, const char *s, size_t len);

/* Free every chunk; the arena is empty afterwards and may be reused. */
void arena_done(struct arena *a);

#endif
