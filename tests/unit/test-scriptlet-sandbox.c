/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Lua sandbox: what scripts may use, the three limits, and the
 * hostile scripts of issue 7, each with the message an admin sees.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "scriptlet/sandbox.h"

struct captured {
        char lines[8][256];
        enum log_level levels[8];
        char last[256];
        int n;
};

static void capture(enum log_level level, const char *message, void *userdata)
{
        struct captured *c = userdata;

        if (c->n < 8) {
                snprintf(c->lines[c->n], sizeof(c->lines[0]), "%s", message);
                c->levels[c->n] = level;
        }
        snprintf(c->last, sizeof(c->last), "%s", message);
        c->n++;
}

/* Load source in a sandbox named "t" with small limits; the load's result. */
static int run_source(const char *source, struct ferry_error *err)
{
        _cleanup_scriptlet_ struct scriptlet *s = NULL;
        int r;

        r = scriptlet_new(&(struct scriptlet_options) { .name = "t", .memory_max = 4 * 1024 * 1024,
                                                        .instructions_max = 2000000, .time_max_ms = 30000 },
                          &s, err);
        assert_int_equal(r, 0);
        return scriptlet_load(s, source, strlen(source), err);
}

static void assert_fails(const char *source, int code, const char *message)
{
        struct ferry_error err = {};
        int r = run_source(source, &err);

        if (r >= 0)
                fail_msg("script ran, expected: %s\n%s", message, source);
        if (!streq(err.message, message))
                fail_msg("script failed with:\n%s\nexpected:\n%s", err.message, message);
        assert_int_equal(r, code);
}

static void assert_runs(const char *source)
{
        struct ferry_error err = {};

        if (run_source(source, &err) < 0)
                fail_msg("script failed: %s\n%s", err.message, source);
}

/* --- what is there and what is not ----------------------------------------------------- */

static void test_string_table_math_utf8_are_there(void **state)
{
        (void) state;
        assert_runs("assert(string.upper('a') == 'A')\n"
                    "assert(table.concat({1, 2}, ',') == '1,2')\n"
                    "assert(math.max(1, 5) == 5)\n"
                    "assert(utf8.len('h\\u{e9}') == 2)\n"
                    "assert(('x'):rep(3) == 'xxx')\n");
}

static void test_dangerous_globals_are_absent(void **state)
{
        (void) state;
        assert_runs("for _, n in ipairs({'io', 'os', 'debug', 'package', 'require', 'dofile', 'loadfile',\n"
                    "                    'coroutine', 'warn'}) do\n"
                    "  assert(_G[n] == nil, n .. ' is there')\n"
                    "end\n"
                    "assert(string.dump == nil)\n"
                    "assert(('').dump == nil)\n");
}

static void test_os_execute_is_an_error_naming_the_line(void **state)
{
        (void) state;
        assert_fails("local x = 1\nos.execute('touch /tmp/ferry-pwned')\n", -EINVAL,
                     "Scriptlet 't' failed at line 2: attempt to index a nil value (global 'os')");
}

static void test_io_open_is_an_error(void **state)
{
        (void) state;
        assert_fails("local f = io.open('/etc/passwd')\n", -EINVAL,
                     "Scriptlet 't' failed at line 1: attempt to index a nil value (global 'io')");
}

static void test_require_is_an_error(void **state)
{
        (void) state;
        assert_fails("require('os')\n", -EINVAL,
                     "Scriptlet 't' failed at line 1: attempt to call a nil value (global 'require')");
}

static void test_load_of_dumped_bytecode_is_refused(void **state)
{
        (void) state;
        /* string.dump is gone, so the attempt fails there already. */
        assert_fails("local f = load(string.dump(function() return 1 end))\n", -EINVAL,
                     "Scriptlet 't' failed at line 1: attempt to call a nil value (field 'dump')");
}

static void test_load_refuses_binary_chunks(void **state)
{
        (void) state;
        /* A binary chunk starts with ESC "Lua". */
        assert_runs("local f, msg = load('\\27Lua\\84\\0')\n"
                    "assert(f == nil)\n"
                    "assert(msg:find('attempt to load a binary chunk'), msg)\n");
}

static void test_load_refuses_mode_b(void **state)
{
        (void) state;
        assert_fails("load('return 1', 'x', 'b')\n", -EINVAL,
                     "Scriptlet 't' failed at line 1: load takes only text chunks (mode 't'), not mode 'b'");
}

static void test_load_of_text_works_and_sees_the_sandbox(void **state)
{
        (void) state;
        assert_runs("local f = assert(load('return os == nil and 41 + 1'))\n"
                    "assert(f() == 42)\n"
                    "local g = assert(load('return x', 'chunk', 't', {x = 7}))\n"
                    "assert(g() == 7)\n");
}

static void test_collectgarbage_tuning_is_refused(void **state)
{
        (void) state;
        assert_runs("assert(type(collectgarbage('count')) == 'number')\n"
                    "collectgarbage()\n");
        assert_fails("collectgarbage('generational')\n", -EINVAL,
                     "Scriptlet 't' failed at line 1: collectgarbage('generational') is not available to scriptlets");
        assert_fails("collectgarbage('stop')\n", -EINVAL,
                     "Scriptlet 't' failed at line 1: collectgarbage('stop') is not available to scriptlets");
}

static void test_gc_metamethods_are_refused(void **state)
{
        (void) state;
        assert_fails("setmetatable({}, {__gc = function() while true do end end})\n", -EINVAL,
                     "Scriptlet 't' failed at line 1: setmetatable: __gc metamethods are not available to scriptlets");
        assert_runs("local t = setmetatable({}, {__index = function() return 5 end})\nassert(t.x == 5)\n");
}

static void test_syntax_errors_name_the_line(void **state)
{
        (void) state;
        assert_fails("local x = 1\nif x then\n  x = \nend\n", -EINVAL,
                     "Scriptlet 't' has a syntax error at line 4: unexpected symbol near 'end'");
}

static void test_error_with_a_table_says_so(void **state)
{
        (void) state;
        assert_fails("error({code = 1})\n", -EINVAL,
                     "Scriptlet 't' failed at line 1: (an error object of type table)");
}

static void test_print_and_log_functions_reach_the_callback(void **state)
{
        _cleanup_scriptlet_ struct scriptlet *s = NULL;
        struct captured c = {};
        struct ferry_error err = {};
        const char *src = "print('a', 1, nil)\nlog_warn('w')\nlog_error('e')\nlog_info('i')\n";

        (void) state;
        assert_int_equal(scriptlet_new(&(struct scriptlet_options) { .name = "t", .log = capture, .log_userdata = &c },
                                       &s, &err),
                         0);
        assert_int_equal(scriptlet_load(s, src, strlen(src), &err), 0);
        assert_int_equal(c.n, 4);
        assert_string_equal(c.lines[0], "a\t1\tnil");
        assert_int_equal(c.levels[0], LOG_LEVEL_INFO);
        assert_string_equal(c.lines[1], "w");
        assert_int_equal(c.levels[1], LOG_LEVEL_WARNING);
        assert_int_equal(c.levels[2], LOG_LEVEL_ERROR);
        assert_int_equal(c.levels[3], LOG_LEVEL_INFO);
}

static void test_a_chatty_script_is_cut_off_with_a_note(void **state)
{
        _cleanup_scriptlet_ struct scriptlet *s = NULL;
        struct captured c = {};
        struct ferry_error err = {};
        const char *src = "for i = 1, 1000 do print(i) end\n";

        (void) state;
        assert_int_equal(scriptlet_new(&(struct scriptlet_options) { .name = "t", .log = capture, .log_userdata = &c },
                                       &s, &err),
                         0);
        assert_int_equal(scriptlet_load(s, src, strlen(src), &err), 0);
        /* The callback saw exactly the limit, the last line being the note. */
        assert_int_equal(c.n, SCRIPTLET_LOG_LINES_MAX);
        assert_string_equal(c.last, "Scriptlet 't' logs too much: further lines are dropped");
}

/* --- the limits ------------------------------------------------------------------------ */

static void test_an_infinite_loop_hits_the_instruction_limit(void **state)
{
        (void) state;
        assert_fails("local n = 0\nwhile true do\n  n = n + 1\nend\n", -E2BIG,
                     "Scriptlet 't' exceeded its instruction limit of 2000000, at line 3");
}

static void test_an_infinite_loop_under_pcall_cannot_catch_the_limit(void **state)
{
        (void) state;
        assert_fails("while true do\n  pcall(function() while true do end end)\nend\n", -E2BIG,
                     "Scriptlet 't' exceeded its instruction limit of 2000000, at line 2");
}

static void test_xpcall_cannot_catch_the_limit_either(void **state)
{
        (void) state;
        assert_fails("local ok = xpcall(function() while true do end end, function(e) return e end)\n"
                     "print('escaped')\n",
                     -E2BIG, "Scriptlet 't' exceeded its instruction limit of 2000000, at line 1");
}

static void test_a_slow_script_hits_the_time_limit(void **state)
{
        _cleanup_scriptlet_ struct scriptlet *s = NULL;
        struct ferry_error err = {};
        /* Each turn sorts a big table: few instructions, much time. */
        const char *src = "local t = {}\nfor i = 1, 20000 do t[i] = (i * 7919) % 20000 end\n"
                          "while true do\n  table.sort(t, function(a, b) return a > b end)\n  table.sort(t)\nend\n";
        struct timespec a, b;
        long ms;

        (void) state;
        assert_int_equal(scriptlet_new(&(struct scriptlet_options) { .name = "t", .instructions_max = UINT64_C(1) << 60,
                                                                     .time_max_ms = 300 },
                                       &s, &err),
                         0);
        clock_gettime(CLOCK_MONOTONIC, &a);
        assert_int_equal(scriptlet_load(s, src, strlen(src), &err), -ETIMEDOUT);
        clock_gettime(CLOCK_MONOTONIC, &b);
        ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
        assert_true(startswith(err.message, "Scriptlet 't' exceeded its time limit of 300 ms, at line "));
        assert_true(ms >= 300 && ms < 3000);
}

static void test_a_memory_bomb_hits_the_memory_limit(void **state)
{
        (void) state;
        assert_fails("local t = {}\nlocal i = 0\nwhile true do\n  i = i + 1\n  t[i] = {i, i, i, i}\nend\n", -ENOMEM,
                     "Scriptlet 't' exceeded its memory limit of 4 MiB");
}

static void test_a_string_rep_bomb_hits_the_memory_limit(void **state)
{
        (void) state;
        assert_fails("local s = string.rep('x', 1 << 30)\n", -ENOMEM,
                     "Scriptlet 't' exceeded its memory limit of 4 MiB");
}

static void test_a_doubling_string_bomb_hits_the_memory_limit(void **state)
{
        (void) state;
        assert_fails("local s = 'x'\nwhile true do s = s .. s end\n", -ENOMEM,
                     "Scriptlet 't' exceeded its memory limit of 4 MiB");
}

static void test_pcall_cannot_swallow_the_memory_limit(void **state)
{
        (void) state;
        assert_fails("local ok = pcall(string.rep, 'x', 1 << 30)\nprint('escaped', ok)\n", -ENOMEM,
                     "Scriptlet 't' exceeded its memory limit of 4 MiB");
}

static void test_deep_recursion_is_an_error_not_a_crash(void **state)
{
        (void) state;
        /* Lua's stack grows on the heap: the memory cap comes before its own limit. */
        assert_fails("local function f(n) return 1 + f(n + 1) end\nf(1)\n", -ENOMEM,
                     "Scriptlet 't' exceeded its memory limit of 4 MiB");
}

static void test_deep_recursion_through_c_is_an_error(void **state)
{
        (void) state;
        /* Metamethods recursing through the C stack hit Lua's C-call limit. */
        assert_fails("local t = setmetatable({}, {})\ngetmetatable(t).__index = function(t, k) return t[k] end\n"
                     "local x = t.y\n",
                     -EINVAL, "Scriptlet 't' failed at line 2: C stack overflow");
}

static void test_limits_apply_per_run(void **state)
{
        _cleanup_scriptlet_ struct scriptlet *s = NULL;
        struct ferry_error err = {};
        const char *src = "function f() local n = 0 for i = 1, 300000 do n = n + i end return n end\n";
        _cleanup_json_ json_t *v = NULL;

        (void) state;
        assert_int_equal(scriptlet_new(&(struct scriptlet_options) { .name = "t", .instructions_max = 1500000 }, &s,
                                       &err),
                         0);
        assert_int_equal(scriptlet_load(s, src, strlen(src), &err), 0);
        /* Each call takes about a million instructions: the budget is per call. */
        for (int i = 0; i < 3; i++) {
                json_decref(v);
                v = NULL;
                assert_int_equal(scriptlet_call(s, "f", NULL, 0, &v, &err), 0);
        }
        assert_int_equal(json_integer_value(v), 300000LL * 300001 / 2);
}

/* --- calls, JSON and builtins ---------------------------------------------------------- */

static int builtin_add(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                       struct ferry_error *err)
{
        int *calls = userdata;

        (void) s;
        (*calls)++;
        if (!json_is_integer(json_array_get(args, 0)) || !json_is_integer(json_array_get(args, 1)))
                return ferry_error_set(err, -EINVAL, "both arguments must be integers");
        *ret = json_integer(json_integer_value(json_array_get(args, 0)) + json_integer_value(json_array_get(args, 1)));
        return 0;
}

static int builtin_echo(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                        struct ferry_error *err)
{
        (void) s, (void) userdata, (void) err;
        *ret = json_deep_copy(json_array_get(args, 0));
        return 0;
}

static int builtin_stop(struct scriptlet *s, void *userdata, const json_t *args, json_t **ret,
                        struct ferry_error *err)
{
        (void) userdata, (void) ret;
        scriptlet_stop(s, json_string_value(json_array_get(args, 0)));
        return ferry_error_set(err, -ECANCELED, "stopped");
}

static const struct scriptlet_builtin test_builtins[] = {
        { "add", builtin_add },
        { "echo", builtin_echo },
        { "stop", builtin_stop },
        {}
};

static struct scriptlet *sandbox_with_builtins(const char *table, int *calls)
{
        struct scriptlet *s = NULL;
        struct ferry_error err = {};

        assert_int_equal(scriptlet_new(&(struct scriptlet_options) { .name = "t" }, &s, &err), 0);
        assert_int_equal(scriptlet_add_builtins(s, table, test_builtins, calls, &err), 0);
        return s;
}

static void test_an_error_inside_a_builtin_names_the_builtin_and_the_line(void **state)
{
        _cleanup_scriptlet_ struct scriptlet *s = NULL;
        struct ferry_error err = {};
        int calls = 0;
        const char *src = "local a = add(1, 2)\nassert(a == 3)\n\nlocal b = add(1, 'two')\n";

        (void) state;
        s = sandbox_with_builtins(NULL, &calls);
        assert_int_equal(scriptlet_load(s, src, strlen(src), &err), -EINVAL);
        assert_string_equal(err.message,
                            "Scriptlet 't' failed at line 4: add: both arguments must be integers");
        assert_int_equal(calls, 2);
}

static void test_a_script_may_catch_a_builtin_error(void **state)
{
        _cleanup_scriptlet_ struct scriptlet *s = NULL;
        struct ferry_error err = {};
        int calls = 0;
        const char *src = "local ok, msg = pcall(add, 1, {})\nassert(not ok)\n"
                          "assert(msg == 'add: both arguments must be integers', msg)\n";

        (void) state;
        s = sandbox_with_builtins(NULL, &calls);
        assert_int_equal(scriptlet_load(s, src, strlen(src), &err), 0);
}

static void test_builtins_go_into_a_table_when_asked(void **state)
{
        _cleanup_scriptlet_ struct scriptlet *s = NULL;
        struct ferry_error err = {};
        int calls = 0;
        const char *src = "assert(add == nil)\nassert(ferry.add(2, 3) == 5)\n";

        (void) state;
        s = sandbox_with_builtins("ferry", &calls);
        assert_int_equal(scriptlet_load(s, src, strlen(src), &err), 0);
}

static void test_stop_from_a_builtin_ends_the_run_uncatchably(void **state)
{
        _cleanup_scriptlet_ struct scriptlet *s = NULL;
        struct ferry_error err = {};
        int calls = 0;
        const char *src = "pcall(stop, 'enough')\nprint('escaped')\nwhile true do end\n";

        (void) state;
        s = sandbox_with_builtins(NULL, &calls);
        assert_int_equal(scriptlet_load(s, src, strlen(src), &err), -ECANCELED);
        assert_string_equal(err.message, "enough");
}

static void test_json_round_trips_through_lua(void **state)
{
        _cleanup_scriptlet_ struct scriptlet *s = NULL;
        _cleanup_json_ json_t *in = NULL, *out = NULL;
        struct ferry_error err = {};
        int calls = 0;
        const char *src = "function f(x) return echo(x) end\n";
        const char *text = "{\"a\": [1, 2.5, \"three\", true, false], \"b\": {\"c\": \"d\"}, \"e\": \"\"}";
        const json_t *args[1];

        (void) state;
        s = sandbox_with_builtins(NULL, &calls);
        assert_int_equal(scriptlet_load(s, src, strlen(src), &err), 0);
        assert_int_equal(json_parse_strict(text, strlen(text), &in, &err), 0);
        args[0] = in;
        assert_int_equal(scriptlet_call(s, "f", args, 1, &out, &err), 0);
        assert_true(json_equal(in, out));
}

static void test_values_json_cannot_hold_are_refused(void **state)
{
        _cleanup_scriptlet_ struct scriptlet *s = NULL;
        struct ferry_error err = {};
        int calls = 0;
        const char *cases[][2] = {
                { "echo(function() end)", "echo: argument 1: a function cannot be turned into JSON" },
                { "echo({[true] = 1})", "echo: argument 1: a table mixes keys that are not strings with others: "
                                        "JSON objects need string keys, arrays keys 1 to n" },
                { "echo(0/0)", "echo: argument 1: JSON has no infinite numbers or NaN" },
                { "echo('\\255')", "echo: argument 1: a string is not valid UTF-8" },
                { "local t = {} t.t = t echo(t)", "echo: argument 1: a table is nested more than 32 deep (a cycle?)" },
        };

        (void) state;
        s = sandbox_with_builtins(NULL, &calls);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *src = NULL;

                assert_true(asprintf(&src, "local ok, msg = pcall(function() %s end)\nassert(not ok)\n"
                                           "assert(msg == \"%s\", msg)\n",
                                     cases[i][0], cases[i][1]) > 0);
                if (scriptlet_load(s, src, strlen(src), &err) < 0)
                        fail_msg("%s: %s", cases[i][0], err.message);
        }
}

static void test_calling_a_missing_function_says_which(void **state)
{
        _cleanup_scriptlet_ struct scriptlet *s = NULL;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(scriptlet_new(&(struct scriptlet_options) { .name = "t" }, &s, &err), 0);
        assert_int_equal(scriptlet_load(s, "x = 1", 5, &err), 0);
        assert_int_equal(scriptlet_call(s, "placement", NULL, 0, NULL, &err), -ENOENT);
        assert_string_equal(err.message, "Scriptlet 't' does not define a function 'placement'");
}

static void test_check_wants_the_function_defined(void **state)
{
        /* A wall clock generous enough for valgrind: the budget must stop it first. */
        const struct scriptlet_options b1 = { .name = "b1", .instructions_max = 1000000, .time_max_ms = 60000 };
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(scriptlet_check(&b1, "function placement(i, b) end", "placement", &err), 0);
        assert_int_equal(scriptlet_check(&b1, "function place(i, b) end", "placement", &err), -EINVAL);
        assert_string_equal(err.message, "Scriptlet 'b1' does not define a function 'placement'");
        assert_int_equal(scriptlet_check(&b1, "function placement(i, b)", "placement", &err), -EINVAL);
        assert_string_equal(err.message, "Scriptlet 'b1' has a syntax error at line 1: 'end' expected near <eof>");
        assert_int_equal(scriptlet_check(&b1, "while true do end", "placement", &err), -E2BIG);
        assert_string_equal(err.message, "Scriptlet 'b1' exceeded its instruction limit of 1000000, at line 1");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_string_table_math_utf8_are_there),
                cmocka_unit_test(test_dangerous_globals_are_absent),
                cmocka_unit_test(test_os_execute_is_an_error_naming_the_line),
                cmocka_unit_test(test_io_open_is_an_error),
                cmocka_unit_test(test_require_is_an_error),
                cmocka_unit_test(test_load_of_dumped_bytecode_is_refused),
                cmocka_unit_test(test_load_refuses_binary_chunks),
                cmocka_unit_test(test_load_refuses_mode_b),
                cmocka_unit_test(test_load_of_text_works_and_sees_the_sandbox),
                cmocka_unit_test(test_collectgarbage_tuning_is_refused),
                cmocka_unit_test(test_gc_metamethods_are_refused),
                cmocka_unit_test(test_syntax_errors_name_the_line),
                cmocka_unit_test(test_error_with_a_table_says_so),
                cmocka_unit_test(test_print_and_log_functions_reach_the_callback),
                cmocka_unit_test(test_a_chatty_script_is_cut_off_with_a_note),
                cmocka_unit_test(test_an_infinite_loop_hits_the_instruction_limit),
                cmocka_unit_test(test_an_infinite_loop_under_pcall_cannot_catch_the_limit),
                cmocka_unit_test(test_xpcall_cannot_catch_the_limit_either),
                cmocka_unit_test(test_a_slow_script_hits_the_time_limit),
                cmocka_unit_test(test_a_memory_bomb_hits_the_memory_limit),
                cmocka_unit_test(test_a_string_rep_bomb_hits_the_memory_limit),
                cmocka_unit_test(test_a_doubling_string_bomb_hits_the_memory_limit),
                cmocka_unit_test(test_pcall_cannot_swallow_the_memory_limit),
                cmocka_unit_test(test_deep_recursion_is_an_error_not_a_crash),
                cmocka_unit_test(test_deep_recursion_through_c_is_an_error),
                cmocka_unit_test(test_limits_apply_per_run),
                cmocka_unit_test(test_an_error_inside_a_builtin_names_the_builtin_and_the_line),
                cmocka_unit_test(test_a_script_may_catch_a_builtin_error),
                cmocka_unit_test(test_builtins_go_into_a_table_when_asked),
                cmocka_unit_test(test_stop_from_a_builtin_ends_the_run_uncatchably),
                cmocka_unit_test(test_json_round_trips_through_lua),
                cmocka_unit_test(test_values_json_cannot_hold_are_refused),
                cmocka_unit_test(test_calling_a_missing_function_says_which),
                cmocka_unit_test(test_check_wants_the_function_defined),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
