/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small language helpers used everywhere: cleanup attributes, ownership
 * transfer and array sizes.  Knows nothing of ferry.
 *
 * Every resource type gets a _cleanup_*_ helper so that functions can
 * return early without leaking; TAKE_PTR() hands ownership on.
 */
#ifndef FERRY_COMMON_MACROS_H
#define FERRY_COMMON_MACROS_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _warn_unused_result_ __attribute__((warn_unused_result))

/* Return the pointer and leave NULL behind: ownership moves to the caller. */
#define TAKE_PTR(p)                          \
        ({                                   \
                __typeof__(p) _tp_ = (p);    \
                (p) = NULL;                  \
                _tp_;                        \
        })

/* Same for file descriptors. */
#define TAKE_FD(fd)                          \
        ({                                   \
                int _tf_ = (fd);             \
                (fd) = -EBADF;               \
                _tf_;                        \
        })

/*
 * DEFINE_CLEANUP_FUNC(type, func) defines func_p(type **) which calls
 * func(*p) when *p is not NULL, for use with __attribute__((cleanup)).
 */
#define DEFINE_CLEANUP_FUNC(type, func)                 \
        static inline void func##_p(type **p)           \
        {                                               \
                if (*p)                                 \
                        func(*p);                       \
        }

static inline void freep(void *p)
{
        free(*(void **)p);
}

static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

#endif
