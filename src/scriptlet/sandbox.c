/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "scriptlet/sandbox-internal.h"

/* The count hook runs every this many VM instructions. */
#define HOOK_INTERVAL 1000
/* Chunk name of every script: messages start "script:LINE: ". */
#define CHUNK_NAME "script"
/* Bounds of a Lua value turned into JSON. */
#define TO_JSON_DEPTH_MAX 32
#define TO_JSON_ITEMS_MAX 100000

enum stop_reason {
        STOP_NONE,
        STOP_INSTRUCTIONS,
        STOP_TIME,
        STOP_MEMORY,
        STOP_REQUESTED,
};

struct scriptlet {
        lua_State *L;
        char *name;
        size_t memory_used, memory_max;
        uint64_t instructions, instructions_max;
        uint64_t time_max_ms;
        struct timespec started;
        bool running;
        enum stop_reason stop;
        char *stop_message;
        int error_line;
        scriptlet_log_fn log;
        void *log_userdata;
        unsigned log_lines;
        json_t *pending;        /* a builtin's result while it is pushed */
};

struct builtin_closure {
        scriptlet_builtin_fn fn;
        void *userdata;
};

static struct scriptlet *from_lua(lua_State *L)
{
        return *(struct scriptlet **) lua_getextraspace(L);
}

static uint64_t elapsed_ms(const struct scriptlet *s)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (uint64_t) (now.tv_sec - s->started.tv_sec) * 1000 +
               (uint64_t) ((now.tv_nsec - s->started.tv_nsec) / 1000000);
}

uint64_t scriptlet_time_left_ms(const struct scriptlet *s)
{
        uint64_t e;

        if (!s->running)
                return 0;
        e = elapsed_ms(s);
        return e >= s->time_max_ms ? 0 : s->time_max_ms - e;
}

const char *scriptlet_name(const struct scriptlet *s)
{
        return s->name;
}

/* --- limits ---------------------------------------------------------------------------- */

static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
        struct scriptlet *s = ud;
        size_t old = ptr ? osize : 0;
        void *p;

        if (nsize == 0) {
                free(ptr);
                s->memory_used -= old;
                return NULL;
        }
        /* Lua retries a failed allocation after a full collection, then
         * raises LUA_ERRMEM: that is how the cap is enforced. */
        if (nsize > old && s->memory_used - old + nsize > s->memory_max)
                return NULL;
        p = realloc(ptr, nsize);
        if (!p)
                return NULL;
        s->memory_used = s->memory_used - old + nsize;
        return p;
}

static void sandbox_hook(lua_State *L, lua_Debug *ar)
{
        struct scriptlet *s = from_lua(L);

        (void) ar;
        if (s->stop == STOP_NONE) {
                s->instructions += HOOK_INTERVAL;
                if (s->instructions > s->instructions_max)
                        s->stop = STOP_INSTRUCTIONS;
                else if (elapsed_ms(s) >= s->time_max_ms)
                        s->stop = STOP_TIME;
        }
        /* Once stopped, every turn of the hook raises again: nothing runs on. */
        if (s->stop != STOP_NONE) {
                lua_pushliteral(L, "limit reached");
                lua_error(L);
        }
}

/* --- the safe replacements of base functions ------------------------------------------ */

/* Errors a script must not catch: the limits, and a builtin's stop. */
static bool error_is_final(struct scriptlet *s, int status)
{
        if (status == LUA_ERRMEM && s->stop == STOP_NONE)
                s->stop = STOP_MEMORY;
        return s->stop != STOP_NONE;
}

static int finish_protected_call(lua_State *L, int status, int base)
{
        struct scriptlet *s = from_lua(L);

        if (status != LUA_OK) {
                if (error_is_final(s, status))
                        return lua_error(L);
                lua_pushboolean(L, 0);
                lua_insert(L, -2);
                return 2;
        }
        lua_pushboolean(L, 1);
        lua_insert(L, base);
        return lua_gettop(L) - base + 1;
}

static int sandbox_pcall(lua_State *L)
{
        int status;

        luaL_checkany(L, 1);
        status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
        return finish_protected_call(L, status, 1);
}

static int sandbox_xpcall(lua_State *L)
{
        int n = lua_gettop(L), status;

        luaL_checktype(L, 2, LUA_TFUNCTION);
        lua_pushvalue(L, 1);    /* f */
        lua_copy(L, 2, 1);      /* the handler at 1, under f */
        lua_replace(L, 2);      /* f at 2, then its arguments */
        status = lua_pcall(L, n - 2, LUA_MULTRET, 1);
        return finish_protected_call(L, status, 2);
}

/* load(chunk [, chunkname [, mode [, env]]]): text chunks only. */
static int sandbox_load(lua_State *L)
{
        size_t len;
        const char *chunk = lua_tolstring(L, 1, &len);
        const char *chunkname = luaL_optstring(L, 2, "=load");
        const char *mode = luaL_optstring(L, 3, "t");
        int env = !lua_isnone(L, 4) ? 4 : 0;

        if (!chunk || lua_type(L, 1) != LUA_TSTRING)
                return luaL_error(L, "load takes only a string here");
        if (!streq(mode, "t"))
                return luaL_error(L, "load takes only text chunks (mode 't'), not mode '%s'", mode);
        if (luaL_loadbufferx(L, chunk, len, chunkname, "t") != LUA_OK) {
                luaL_pushfail(L);
                lua_insert(L, -2);
                return 2;
        }
        if (env) {
                lua_pushvalue(L, env);
                if (!lua_setupvalue(L, -2, 1))
                        lua_pop(L, 1);
        }
        return 1;
}

/* collectgarbage(["collect" | "count"]): no tuning. */
static int sandbox_collectgarbage(lua_State *L)
{
        const char *opt = luaL_optstring(L, 1, "collect");

        if (streq(opt, "count")) {
                int k = lua_gc(L, LUA_GCCOUNT), b = lua_gc(L, LUA_GCCOUNTB);

                lua_pushnumber(L, (lua_Number) k + ((lua_Number) b / 1024));
                return 1;
        }
        if (streq(opt, "collect")) {
                lua_gc(L, LUA_GCCOLLECT);
                lua_pushinteger(L, 0);
                return 1;
        }
        return luaL_error(L, "collectgarbage('%s') is not available to scriptlets", opt);
}

/* setmetatable without __gc: finalizers run outside the limits. */
static int sandbox_setmetatable(lua_State *L)
{
        int t = lua_type(L, 2);

        luaL_checktype(L, 1, LUA_TTABLE);
        luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
        if (t == LUA_TTABLE) {
                if (lua_getfield(L, 2, "__gc") != LUA_TNIL)
                        return luaL_error(L, "setmetatable: __gc metamethods are not available to scriptlets");
                lua_pop(L, 1);
        }
        if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
                return luaL_error(L, "cannot change a protected metatable");
        lua_settop(L, 2);
        lua_setmetatable(L, 1);
        return 1;
}

static void emit_log(struct scriptlet *s, enum log_level level, const char *message)
{
        char line[SCRIPTLET_LOG_LINE_MAX];

        s->log_lines++;
        if (s->log_lines > SCRIPTLET_LOG_LINES_MAX)
                return;
        snprintf(line, sizeof(line), "%s", message);
        utf8_trim_partial(line);
        if (s->log_lines == SCRIPTLET_LOG_LINES_MAX)
                snprintf(line, sizeof(line), "Scriptlet '%s' logs too much: further lines are dropped", s->name);
        if (s->log)
                s->log(level, line, s->log_userdata);
        else
                log_debug("Scriptlet '%s': %s", s->name, line);
}

/* print(...) and log_*(...): the arguments as tostring() shows them, tab-separated.
 * Built in a Lua buffer: a __tostring may raise, and nothing C-owned may leak then. */
static int sandbox_log(lua_State *L, enum log_level level)
{
        struct scriptlet *s = from_lua(L);
        int n = lua_gettop(L);
        luaL_Buffer b;

        luaL_buffinit(L, &b);
        for (int i = 1; i <= n; i++) {
                if (i > 1)
                        luaL_addchar(&b, '\t');
                luaL_tolstring(L, i, NULL);
                luaL_addvalue(&b);
        }
        luaL_pushresult(&b);
        emit_log(s, level, lua_tostring(L, -1));
        return 0;
}

static int sandbox_print(lua_State *L)
{
        return sandbox_log(L, LOG_LEVEL_INFO);
}

static int sandbox_log_info(lua_State *L)
{
        return sandbox_log(L, LOG_LEVEL_INFO);
}

static int sandbox_log_warn(lua_State *L)
{
        return sandbox_log(L, LOG_LEVEL_WARNING);
}

static int sandbox_log_error(lua_State *L)
{
        return sandbox_log(L, LOG_LEVEL_ERROR);
}

static void set_global_nil(lua_State *L, const char *name)
{
        lua_pushnil(L);
        lua_setglobal(L, name);
}

static int sandbox_open(lua_State *L)
{
        static const luaL_Reg libs[] = {
                { LUA_GNAME, luaopen_base },
                { LUA_STRLIBNAME, luaopen_string },
                { LUA_TABLIBNAME, luaopen_table },
                { LUA_MATHLIBNAME, luaopen_math },
                { LUA_UTF8LIBNAME, luaopen_utf8 },
        };
        static const luaL_Reg replaced[] = {
                { "pcall", sandbox_pcall },
                { "xpcall", sandbox_xpcall },
                { "load", sandbox_load },
                { "collectgarbage", sandbox_collectgarbage },
                { "setmetatable", sandbox_setmetatable },
                { "print", sandbox_print },
                { "log_info", sandbox_log_info },
                { "log_warn", sandbox_log_warn },
                { "log_error", sandbox_log_error },
        };
        static const char *const removed[] = { "dofile", "loadfile", "warn", "require", "io", "os", "debug",
                                               "package", "coroutine" };

        for (size_t i = 0; i < ELEMENTSOF(libs); i++) {
                luaL_requiref(L, libs[i].name, libs[i].func, 1);
                lua_pop(L, 1);
        }
        for (size_t i = 0; i < ELEMENTSOF(removed); i++)
                set_global_nil(L, removed[i]);
        for (size_t i = 0; i < ELEMENTSOF(replaced); i++) {
                lua_pushcfunction(L, replaced[i].func);
                lua_setglobal(L, replaced[i].name);
        }

        /* string.dump would hand out bytecode; the table is also strings' __index. */
        lua_getglobal(L, LUA_STRLIBNAME);
        lua_pushnil(L);
        lua_setfield(L, -2, "dump");
        lua_pop(L, 1);

        /* requiref registered the libraries in package.loaded: drop that too. */
        lua_pushnil(L);
        lua_setfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
        return 0;
}

/* --- life ------------------------------------------------------------------------------ */

int scriptlet_new(const struct scriptlet_options *options, struct scriptlet **ret, struct ferry_error *err)
{
        _cleanup_scriptlet_ struct scriptlet *s = NULL;

        s = calloc(1, sizeof(*s));
        if (!s)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        s->name = strdup(options->name ? options->name : "scriptlet");
        s->memory_max = options->memory_max ? options->memory_max : SCRIPTLET_MEMORY_MAX_DEFAULT;
        s->instructions_max = options->instructions_max ? options->instructions_max
                                                        : SCRIPTLET_INSTRUCTIONS_MAX_DEFAULT;
        s->time_max_ms = options->time_max_ms ? options->time_max_ms : SCRIPTLET_TIME_MAX_MS_DEFAULT;
        s->log = options->log;
        s->log_userdata = options->log_userdata;
        if (!s->name)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        s->L = lua_newstate(sandbox_alloc, s);
        if (!s->L)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        *(struct scriptlet **) lua_getextraspace(s->L) = s;

        lua_pushcfunction(s->L, sandbox_open);
        if (lua_pcall(s->L, 0, 0, 0) != LUA_OK)
                return ferry_error_set(err, -ENOMEM, "Cannot set up the scriptlet sandbox: %s",
                                       lua_tostring(s->L, -1) ? lua_tostring(s->L, -1) : "?");
        lua_sethook(s->L, sandbox_hook, LUA_MASKCOUNT, HOOK_INTERVAL);

        *ret = TAKE_PTR(s);
        return 0;
}

void scriptlet_free(struct scriptlet *s)
{
        if (!s)
                return;
        if (s->L)
                lua_close(s->L);
        json_decref(s->pending);
        free(s->name);
        free(s->stop_message);
        free(s);
}

void scriptlet_stop(struct scriptlet *s, const char *message)
{
        if (s->stop != STOP_NONE)
                return;
        s->stop = STOP_REQUESTED;
        free(s->stop_message);
        s->stop_message = strdup(message ? message : "");
}

/* --- runs and their errors ------------------------------------------------------------ */

/* Message handler: remember the line of the innermost Lua function. */
static int message_handler(lua_State *L)
{
        struct scriptlet *s = from_lua(L);
        lua_Debug ar;

        s->error_line = 0;
        for (int level = 0; lua_getstack(L, level, &ar); level++) {
                if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0 && streq(ar.short_src, CHUNK_NAME)) {
                        s->error_line = ar.currentline;
                        break;
                }
        }
        return 1;
}

/* "script:12: rest" -> line 12 and "rest"; anything else as it is. */
static const char *strip_position(const char *msg, int *line)
{
        const char *p;
        char *end;
        long l;

        if (!startswith(msg, CHUNK_NAME ":"))
                return msg;
        p = msg + strlen(CHUNK_NAME ":");
        l = strtol(p, &end, 10);
        if (end == p || !startswith(end, ": "))
                return msg;
        *line = (int) l;
        return end + 2;
}

static void format_size(size_t bytes, char *buf, size_t size)
{
        if (bytes % (1024 * 1024) == 0)
                snprintf(buf, size, "%zu MiB", bytes / (1024 * 1024));
        else if (bytes % 1024 == 0)
                snprintf(buf, size, "%zu KiB", bytes / 1024);
        else
                snprintf(buf, size, "%zu bytes", bytes);
}

static void format_ms(uint64_t ms, char *buf, size_t size)
{
        if (ms % 1000 == 0)
                snprintf(buf, size, "%" PRIu64 " s", ms / 1000);
        else
                snprintf(buf, size, "%" PRIu64 " ms", ms);
}

static int run_error(struct scriptlet *s, int status, bool syntax, struct ferry_error *err)
{
        const char *msg = lua_type(s->L, -1) == LUA_TSTRING ? lua_tostring(s->L, -1) : NULL;
        char what[64], at[32] = "";
        int line = s->error_line;

        if (msg)
                msg = strip_position(msg, &line);
        if (line > 0)
                snprintf(at, sizeof(at), ", at line %d", line);

        (void) error_is_final(s, status);
        switch (s->stop) {
        case STOP_MEMORY:
                format_size(s->memory_max, what, sizeof(what));
                return ferry_error_set(err, -ENOMEM, "Scriptlet '%s' exceeded its memory limit of %s%s", s->name,
                                       what, at);
        case STOP_INSTRUCTIONS:
                return ferry_error_set(err, -E2BIG, "Scriptlet '%s' exceeded its instruction limit of %" PRIu64 "%s",
                                       s->name, s->instructions_max, at);
        case STOP_TIME:
                format_ms(s->time_max_ms, what, sizeof(what));
                return ferry_error_set(err, -ETIMEDOUT, "Scriptlet '%s' exceeded its time limit of %s%s", s->name,
                                       what, at);
        case STOP_REQUESTED:
                return ferry_error_set(err, -ECANCELED, "%s", s->stop_message ? s->stop_message : "");
        case STOP_NONE:
                break;
        }

        if (!msg) {
                snprintf(what, sizeof(what), "(an error object of type %s)", luaL_typename(s->L, -1));
                msg = what;
        }
        if (syntax)
                return ferry_error_set(err, -EINVAL, "Scriptlet '%s' has a syntax error%s: %s", s->name,
                                       line > 0 ? at + 1 : "", msg);
        if (line > 0)
                return ferry_error_set(err, -EINVAL, "Scriptlet '%s' failed at line %d: %s", s->name, line, msg);
        return ferry_error_set(err, -EINVAL, "Scriptlet '%s' failed: %s", s->name, msg);
}

static void run_begin(struct scriptlet *s)
{
        s->instructions = 0;
        s->error_line = 0;
        clock_gettime(CLOCK_MONOTONIC, &s->started);
        s->running = true;
}

/* Call the function under nargs arguments on the stack, keeping nresults. */
static int run_protected(struct scriptlet *s, int nargs, int nresults, struct ferry_error *err)
{
        int base = lua_gettop(s->L) - nargs, status;

        if (s->stop != STOP_NONE)
                return ferry_error_set(err, -ECANCELED, "Scriptlet '%s' was stopped already", s->name);

        lua_pushcfunction(s->L, message_handler);
        lua_insert(s->L, base);
        run_begin(s);
        status = lua_pcall(s->L, nargs, nresults, base);
        s->running = false;
        lua_remove(s->L, base);
        if (status != LUA_OK) {
                int r = run_error(s, status, false, err);

                lua_pop(s->L, 1);
                return r;
        }
        return 0;
}

int scriptlet_load(struct scriptlet *s, const char *source, size_t len, struct ferry_error *err)
{
        int status;

        status = luaL_loadbufferx(s->L, source, len, "=" CHUNK_NAME, "t");
        if (status != LUA_OK) {
                int r;

                s->error_line = 0;
                r = run_error(s, status, status == LUA_ERRSYNTAX, err);
                lua_pop(s->L, 1);
                return r;
        }
        return run_protected(s, 0, 0, err);
}

bool scriptlet_has_function(struct scriptlet *s, const char *name)
{
        bool found = lua_getglobal(s->L, name) == LUA_TFUNCTION;

        lua_pop(s->L, 1);
        return found;
}

int scriptlet_call(struct scriptlet *s, const char *name, const json_t *const *args, size_t n_args, json_t **ret,
                   struct ferry_error *err)
{
        int r;

        if (!lua_checkstack(s->L, (int) n_args + 4))
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (lua_getglobal(s->L, name) != LUA_TFUNCTION) {
                lua_pop(s->L, 1);
                return ferry_error_set(err, -ENOENT, "Scriptlet '%s' does not define a function '%s'", s->name, name);
        }
        for (size_t i = 0; i < n_args; i++) {
                r = scriptlet_push_json(s, args[i], err);
                if (r < 0) {
                        lua_pop(s->L, (int) i + 1);
                        return r;
                }
        }
        r = run_protected(s, (int) n_args, 1, err);
        if (r < 0)
                return r;
        if (ret) {
                json_t *v = NULL;

                r = scriptlet_to_json(s->L, -1, &v, err);
                if (r < 0) {
                        lua_pop(s->L, 1);
                        return ferry_error_prefix(err, "Scriptlet '%s': the result of %s()", s->name, name);
                }
                *ret = v;
        }
        lua_pop(s->L, 1);
        return 0;
}

int scriptlet_check(const struct scriptlet_options *options, const char *source, const char *function,
                    struct ferry_error *err)
{
        _cleanup_scriptlet_ struct scriptlet *s = NULL;
        int r;

        r = scriptlet_new(options, &s, err);
        if (r < 0)
                return r;
        r = scriptlet_load(s, source, strlen(source), err);
        if (r < 0)
                return r;
        if (!scriptlet_has_function(s, function))
                return ferry_error_set(err, -EINVAL, "Scriptlet '%s' does not define a function '%s'", s->name,
                                       function);
        return 0;
}

/* --- JSON <-> Lua ---------------------------------------------------------------------- */

static int push_json(lua_State *L, const json_t *v, int depth)
{
        const char *key;
        json_t *item;
        size_t i;

        if (depth > TO_JSON_DEPTH_MAX || !lua_checkstack(L, 3))
                return -E2BIG;
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                lua_createtable(L, 0, (int) json_object_size(v));
                json_object_foreach((json_t *) v, key, item) {
                        if (json_is_null(item))
                                continue;
                        if (push_json(L, item, depth + 1) < 0)
                                return -E2BIG;
                        lua_setfield(L, -2, key);
                }
                return 0;
        case JSON_ARRAY:
                lua_createtable(L, (int) json_array_size(v), 0);
                json_array_foreach(v, i, item) {
                        if (push_json(L, item, depth + 1) < 0)
                                return -E2BIG;
                        lua_rawseti(L, -2, (lua_Integer) i + 1);
                }
                return 0;
        case JSON_STRING:
                lua_pushlstring(L, json_string_value(v), json_string_length(v));
                return 0;
        case JSON_INTEGER:
                lua_pushinteger(L, (lua_Integer) json_integer_value(v));
                return 0;
        case JSON_REAL:
                lua_pushnumber(L, json_real_value(v));
                return 0;
        case JSON_TRUE:
        case JSON_FALSE:
                lua_pushboolean(L, json_is_true(v));
                return 0;
        case JSON_NULL:
        default:
                lua_pushnil(L);
                return 0;
        }
}

static int push_json_protected(lua_State *L)
{
        const json_t *v = lua_touserdata(L, 1);

        lua_pop(L, 1);
        if (push_json(L, v, 0) < 0)
                return luaL_error(L, "the value is nested too deeply");
        return 1;
}

int scriptlet_push_json(struct scriptlet *s, const json_t *v, struct ferry_error *err)
{
        int status;

        if (!v) {
                lua_pushnil(s->L);
                return 0;
        }
        /* Protected: pushing allocates, and the memory cap may say no. */
        lua_pushcfunction(s->L, push_json_protected);
        lua_pushlightuserdata(s->L, (void *) v);
        status = lua_pcall(s->L, 1, 1, 0);
        if (status != LUA_OK) {
                lua_pop(s->L, 1);
                if (status == LUA_ERRMEM) {
                        char what[32];

                        format_size(s->memory_max, what, sizeof(what));
                        return ferry_error_set(err, -ENOMEM, "Scriptlet '%s' exceeded its memory limit of %s",
                                               s->name, what);
                }
                return ferry_error_set(err, -E2BIG, "Scriptlet '%s': a value is nested too deeply", s->name);
        }
        return 0;
}

int scriptlet_lua_push_json(lua_State *L, const json_t *v)
{
        if (!v) {
                lua_pushnil(L);
                return 0;
        }
        if (push_json(L, v, 0) < 0)
                return luaL_error(L, "the value is nested too deeply");
        return 0;
}

struct to_json {
        size_t items;
        struct ferry_error *err;
};

static int to_json(lua_State *L, int idx, int depth, struct to_json *t, json_t **ret);

/* An array when the keys are exactly 1..n (n > 0), else an object with string keys. */
static int table_to_json(lua_State *L, int idx, int depth, struct to_json *t, json_t **ret)
{
        _cleanup_json_ json_t *out = NULL;
        lua_Integer n = (lua_Integer) lua_rawlen(L, idx), count = 0;
        bool array = n > 0;

        if (depth >= TO_JSON_DEPTH_MAX)
                return ferry_error_set(t->err, -E2BIG, "a table is nested more than %d deep (a cycle?)",
                                       TO_JSON_DEPTH_MAX);
        if (!lua_checkstack(L, 4))
                return ferry_error_set(t->err, -ENOMEM, "Out of memory");

        lua_pushnil(L);
        while (lua_next(L, idx)) {
                count++;
                if (array && (!lua_isinteger(L, -2) || lua_tointeger(L, -2) < 1 || lua_tointeger(L, -2) > n))
                        array = false;
                if (!array && lua_type(L, -2) != LUA_TSTRING) {
                        lua_pop(L, 2);
                        return ferry_error_set(t->err, -EINVAL,
                                               "a table mixes keys that are not strings with others: JSON objects "
                                               "need string keys, arrays keys 1 to n");
                }
                lua_pop(L, 1);
        }
        if (array && count != n)
                array = false;

        out = array ? json_array() : json_object();
        if (!out)
                return ferry_error_set(t->err, -ENOMEM, "Out of memory");

        if (array) {
                for (lua_Integer i = 1; i <= n; i++) {
                        json_t *item = NULL;
                        int r;

                        lua_rawgeti(L, idx, i);
                        r = to_json(L, lua_gettop(L), depth + 1, t, &item);
                        lua_pop(L, 1);
                        if (r < 0)
                                return r;
                        if (json_array_append_new(out, item) < 0)
                                return ferry_error_set(t->err, -ENOMEM, "Out of memory");
                }
        } else {
                lua_pushnil(L);
                while (lua_next(L, idx)) {
                        json_t *item = NULL;
                        const char *key;
                        int r;

                        /* The key is a string (checked above): tostring would not change it. */
                        key = lua_tostring(L, -2);
                        r = to_json(L, lua_gettop(L), depth + 1, t, &item);
                        lua_pop(L, 1);
                        if (r < 0) {
                                lua_pop(L, 1);
                                return r;
                        }
                        if (json_object_set_new(out, key, item) < 0) {
                                lua_pop(L, 1);
                                return ferry_error_set(t->err, -EINVAL, "the key '%s' is not valid UTF-8", key);
                        }
                }
        }
        *ret = TAKE_PTR(out);
        return 0;
}

static int to_json(lua_State *L, int idx, int depth, struct to_json *t, json_t **ret)
{
        json_t *v = NULL;

        if (++t->items > TO_JSON_ITEMS_MAX)
                return ferry_error_set(t->err, -E2BIG, "a value has more than %d items", TO_JSON_ITEMS_MAX);

        switch (lua_type(L, idx)) {
        case LUA_TNIL:
        case LUA_TNONE:
                v = json_null();
                break;
        case LUA_TBOOLEAN:
                v = json_boolean(lua_toboolean(L, idx));
                break;
        case LUA_TNUMBER:
                if (lua_isinteger(L, idx))
                        v = json_integer((json_int_t) lua_tointeger(L, idx));
                else {
                        lua_Number n = lua_tonumber(L, idx);

                        if (!isfinite(n))
                                return ferry_error_set(t->err, -EINVAL, "JSON has no infinite numbers or NaN");
                        v = json_real(n);
                }
                break;
        case LUA_TSTRING: {
                size_t len;
                const char *s = lua_tolstring(L, idx, &len);

                v = json_stringn(s, len);
                if (!v)
                        return ferry_error_set(t->err, -EINVAL, "a string is not valid UTF-8");
                break;
        }
        case LUA_TTABLE:
                return table_to_json(L, idx, depth, t, ret);
        default:
                return ferry_error_set(t->err, -EINVAL, "a %s cannot be turned into JSON", luaL_typename(L, idx));
        }
        if (!v)
                return ferry_error_set(t->err, -ENOMEM, "Out of memory");
        *ret = v;
        return 0;
}

int scriptlet_to_json(lua_State *L, int idx, json_t **ret, struct ferry_error *err)
{
        struct to_json t = { .err = err };

        return to_json(L, lua_absindex(L, idx), 0, &t, ret);
}

/* --- builtins -------------------------------------------------------------------------- */

int scriptlet_raise(lua_State *L, const char *fmt, ...)
{
        char msg[FERRY_ERROR_MESSAGE_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        utf8_trim_partial(msg);
        lua_pushstring(L, msg);
        return lua_error(L);
}

/* Everything C-owned is released before a Lua error can unwind past it. */
static int builtin_run(lua_State *L, struct scriptlet *s, const struct builtin_closure *c, json_t **ret_result,
                       struct ferry_error *err)
{
        _cleanup_json_ json_t *args = json_array();
        int n = lua_gettop(L), r;

        if (!args)
                return ferry_error_set(err, -ENOMEM, "out of memory");
        for (int i = 1; i <= n; i++) {
                json_t *v = NULL;

                r = scriptlet_to_json(L, i, &v, err);
                if (r < 0)
                        return ferry_error_prefix(err, "argument %d", i);
                if (json_array_append_new(args, v) < 0)
                        return ferry_error_set(err, -ENOMEM, "out of memory");
        }
        return c->fn(s, c->userdata, args, ret_result, err);
}

static int builtin_trampoline(lua_State *L)
{
        struct scriptlet *s = from_lua(L);
        const struct builtin_closure *c = lua_touserdata(L, lua_upvalueindex(1));
        const char *name = lua_tostring(L, lua_upvalueindex(2));
        struct ferry_error err = {};
        json_t *result = NULL;
        int r;

        r = builtin_run(L, s, c, &result, &err);
        if (r < 0) {
                json_decref(result);
                /* After scriptlet_stop() the run's error is the stop's
                 * message; this one only unwinds. */
                return scriptlet_raise(L, "%s: %s", name, ferry_error_message(&err));
        }
        if (!result)
                return 0;
        /* Pushing may fail on the memory cap: the next run or free() drops it then. */
        json_decref(s->pending);
        s->pending = result;
        scriptlet_lua_push_json(L, result);
        s->pending = NULL;
        json_decref(result);
        return 1;
}

static int add_builtins_protected(lua_State *L)
{
        const char *table = lua_touserdata(L, 1);
        const struct scriptlet_builtin *list = lua_touserdata(L, 2);
        void *userdata = lua_touserdata(L, 3);

        lua_settop(L, 0);
        if (table) {
                if (lua_getglobal(L, table) != LUA_TTABLE) {
                        lua_pop(L, 1);
                        lua_newtable(L);
                        lua_pushvalue(L, -1);
                        lua_setglobal(L, table);
                }
        } else
                lua_pushglobaltable(L);

        for (const struct scriptlet_builtin *b = list; b->name; b++) {
                struct builtin_closure *c = lua_newuserdatauv(L, sizeof(*c), 0);

                c->fn = b->fn;
                c->userdata = userdata;
                lua_pushstring(L, b->name);
                lua_pushcclosure(L, builtin_trampoline, 2);
                lua_setfield(L, -2, b->name);
        }
        return 0;
}

int scriptlet_add_builtins(struct scriptlet *s, const char *table, const struct scriptlet_builtin *list,
                           void *userdata, struct ferry_error *err)
{
        lua_pushcfunction(s->L, add_builtins_protected);
        lua_pushlightuserdata(s->L, (void *) table);
        lua_pushlightuserdata(s->L, (void *) list);
        lua_pushlightuserdata(s->L, userdata);
        if (lua_pcall(s->L, 3, 0, 0) != LUA_OK) {
                lua_pop(s->L, 1);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        return 0;
}

lua_State *scriptlet_lua(struct scriptlet *s)
{
        return s->L;
}

struct scriptlet *scriptlet_from_lua(lua_State *L)
{
        return from_lua(L);
}
