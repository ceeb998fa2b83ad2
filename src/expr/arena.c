/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expr/arena.h"

#define ARENA_ALIGN alignof(max_align_t)
#define ARENA_CHUNK_MIN 4096

struct arena_chunk {
        struct arena_chunk *next;
        alignas(max_align_t) char data[];
};

void arena_init(struct arena *a, void *buf, size_t size)
{
        uintptr_t p = (uintptr_t) buf, aligned;

        *a = (struct arena) {};
        if (!buf)
                return;
        aligned = (p + ARENA_ALIGN - 1) & ~(uintptr_t) (ARENA_ALIGN - 1);
        if (aligned - p >= size)
                return;
        a->next = (char *) aligned;
        a->left = size - (aligned - p);
}

void *arena_alloc(struct arena *a, size_t size)
{
        size_t rounded;
        void *p;

        if (size > SIZE_MAX - ARENA_ALIGN - sizeof(struct arena_chunk)) {
                errno = ENOMEM;
                return NULL;
        }
        rounded = (size + ARENA_ALIGN - 1) & ~(size_t) (ARENA_ALIGN - 1);
        if (rounded == 0)
                rounded = ARENA_ALIGN;

        if (rounded > a->left) {
                size_t chunk_size = rounded > ARENA_CHUNK_MIN ? rounded : ARENA_CHUNK_MIN;
                struct arena_chunk *c = malloc(sizeof(*c) + chunk_size);

                if (!c)
                        return NULL;
                c->next = a->chunks;
                a->chunks = c;
                a->next = c->data;
                a->left = chunk_size;
        }

        p = a->next;
        a->next += rounded;
        a->left -= rounded;
        return p;
}

void *arena_zalloc(struct arena *a, size_t size)
{
        void *p = arena_alloc(a, size);

        if (p)
                memset(p, 0, size);
        return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
        char *p = len < SIZE_MAX ? arena_alloc(a, len + 1) : NULL;

        if (!p)
                return NULL;
        if (len > 0)
                memcpy(p, s, len);
        p[len] = '\0';
        return p;
}

void arena_done(struct arena *a)
{
        struct arena_chunk *c = a->chunks;

        while (c) {
                struct arena_chunk *next = c->next;

                free(c);
                c = next;
        }
        *a = (struct arena) {};
}
