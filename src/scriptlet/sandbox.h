/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Lua sandbox every scriptlet runs in (DESIGN §7): one lua_State per
 * script with only the string, table, math and utf8 libraries, a print
 * and log functions that go to a callback, and the builtins the caller
 * adds.  There is no io, os, debug, package, require, dofile, loadfile,
 * string.dump, collectgarbage tuning, warn or coroutine; load() takes
 * only text; setmetatable() refuses __gc (finalizers run without hooks).
 *
 * Each run (scriptlet_load() running the chunk, each scriptlet_call())
 * has an instruction budget and a wall-clock limit; the state has a
 * memory cap.  Hitting one ends the run with an error naming the limit:
 *
 *     Scriptlet 'wave1' exceeded its memory limit of 16 MiB
 *     Scriptlet 'wave1' exceeded its instruction limit of 10000000, at line 3
 *     Scriptlet 'wave1' exceeded its time limit of 1 s, at line 3
 *
 * and a script cannot catch those with pcall().  Other errors name the
 * script line, builtins' errors included:
 *
 *     Scriptlet 'wave1' failed at line 7: set_pool: instance 'web1' has no disk 'data'
 *     Scriptlet 'wave1' has a syntax error at line 2: '=' expected near 'x'
 *
 *     _cleanup_scriptlet_ struct scriptlet *s = NULL;
 *
 *     r = scriptlet_new(&(struct scriptlet_options) { .name = "wave1" }, &s, err);
 *     if (r >= 0)
 *             r = scriptlet_load(s, source, strlen(source), err);
 *     if (r >= 0)
 *             r = scriptlet_call(s, "placement", args, 2, NULL, err);
 *
 * A struct scriptlet is used by one thread at a time.  C code that
 * blocks inside a builtin (a webhook) is not interrupted: it gets its own
 * timeout, and the time it took counts against the run's limit.
 */
#ifndef FERRY_SCRIPTLET_SANDBOX_H
#define FERRY_SCRIPTLET_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"

#define SCRIPTLET_MEMORY_MAX_DEFAULT ((size_t) 16 * 1024 * 1024)
#define SCRIPTLET_INSTRUCTIONS_MAX_DEFAULT UINT64_C(10000000)
#define SCRIPTLET_TIME_MAX_MS_DEFAULT UINT64_C(1000)

/* Lines print() and log_*() may keep per run; more are counted, not kept. */
#define SCRIPTLET_LOG_LINES_MAX 100
#define SCRIPTLET_LOG_LINE_MAX 1024

typedef void (*scriptlet_log_fn)(enum log_level level, const char *message, void *userdata);

struct scriptlet_options {
        const char *name;               /* for messages: "Scriptlet '<name>' ..." */
        size_t memory_max;              /* bytes for the whole state; 0: the default */
        uint64_t instructions_max;      /* per run; 0: the default */
        uint64_t time_max_ms;           /* per run; 0: the default */
        /* print() (info), log_info(), log_warn(), log_error(); NULL: debug log. */
        scriptlet_log_fn log;
        void *log_userdata;
};

struct scriptlet;

/* A fresh sandbox; -ENOMEM. */
int scriptlet_new(const struct scriptlet_options *options, struct scriptlet **ret, struct ferry_error *err);
/* NULL is fine. */
void scriptlet_free(struct scriptlet *s);
DEFINE_CLEANUP_FUNC(struct scriptlet, scriptlet_free);
#define _cleanup_scriptlet_ _cleanup_(scriptlet_free_p)

/* The name given in the options; borrowed for the life of s. */
const char *scriptlet_name(const struct scriptlet *s);

/*
 * A builtin: called with the Lua arguments as a JSON array (nil is null,
 * tables become objects or arrays), it may put one result in *ret (a new
 * value, or leave NULL for none).  A negative return raises a Lua error
 * with err's message, which the script may catch with pcall.
 */
typedef int (*scriptlet_builtin_fn)(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                                    struct ferry_error *err);

struct scriptlet_builtin {
        const char *name;
        scriptlet_builtin_fn fn;
};

/*
 * Add builtins, as globals (table NULL) or as fields of the global table
 * table ("ferry"), created if missing.  list ends with a NULL name.
 * Call before scriptlet_load(); userdata must outlive s.
 */
int scriptlet_add_builtins(struct scriptlet *s, const char *table, const struct scriptlet_builtin *list,
                           void *userdata, struct ferry_error *err);

/* Compile source (text only) and run its main chunk within the limits. */
int scriptlet_load(struct scriptlet *s, const char *source, size_t len, struct ferry_error *err);

/* Whether the script defined a global function name. */
bool scriptlet_has_function(struct scriptlet *s, const char *name);

/*
 * Call the global function name with args (each pushed as Lua values; may
 * be NULL for none) within the limits.  *ret (may be NULL) gets its first
 * result as JSON (null for nil).  -ENOENT "Scriptlet 'x' does not define
 * a function 'f'"; -ECANCELED after scriptlet_stop(); -E2BIG, -ETIMEDOUT,
 * -ENOMEM for the limits; -EINVAL for errors of the script.
 */
int scriptlet_call(struct scriptlet *s, const char *name, const json_t *const *args, size_t n_args,
                   json_t **ret, struct ferry_error *err);

/*
 * From inside a builtin: end the run now, uncatchably; scriptlet_call()
 * returns -ECANCELED with err set to message.  (fail() of placement.)
 * The builtin then returns a negative errno, as for an error.
 */
void scriptlet_stop(struct scriptlet *s, const char *message);

/* The time left in the current run, in ms (0 when out, or outside a run). */
uint64_t scriptlet_time_left_ms(const struct scriptlet *s);

/*
 * Check a script when it is saved: it compiles, its main chunk runs
 * within the limits of options (name included), and it defines function.
 * Errors are those above, or -EINVAL "Scriptlet 'x' does not define a
 * function 'placement'".
 */
int scriptlet_check(const struct scriptlet_options *options, const char *source, const char *function,
                    struct ferry_error *err);

#endif
