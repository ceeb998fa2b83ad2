/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "common/strbuf.h"

static ssize_t find_long(const struct cli_args *a, const char *name, size_t len)
{
        for (size_t i = 0; i < a->n_options; i++)
                if (strlen(a->options[i].name) == len && strncmp(a->options[i].name, name, len) == 0)
                        return (ssize_t) i;
        return -1;
}

static ssize_t find_short(const struct cli_args *a, char c)
{
        for (size_t i = 0; i < a->n_options; i++)
                if (a->options[i].short_name && a->options[i].short_name == c)
                        return (ssize_t) i;
        return -1;
}

static ssize_t find_name(const struct cli_args *a, const char *name)
{
        return name ? find_long(a, name, strlen(name)) : -1;
}

static int add_value(struct cli_args *a, size_t option, char *value)
{
        size_t n = a->count[option];

        if (value) {
                size_t nv = 0;
                char **v;

                while (a->values[option] && a->values[option][nv])
                        nv++;
                v = reallocarray(a->values[option], nv + 2, sizeof(char *));
                if (!v)
                        return -ENOMEM;
                v[nv] = value;
                v[nv + 1] = NULL;
                a->values[option] = v;
        }
        a->count[option] = n + 1;
        return 0;
}

void cli_args_done(struct cli_args *a)
{
        if (!a)
                return;
        for (size_t i = 0; a->values && i < a->n_options; i++)
                free(a->values[i]);
        free(a->values);
        free(a->count);
        free(a->positional);
        *a = (struct cli_args) {};
}

int cli_args_parse(const struct cli_option *options, int argc, char *argv[], struct cli_args *ret,
                   struct ferry_error *err)
{
        struct cli_args a = { .options = options };
        bool only_positional = false;
        int r = 0;

        while (options && options[a.n_options].name)
                a.n_options++;
        a.values = calloc(a.n_options + 1, sizeof(char **));
        a.count = calloc(a.n_options + 1, sizeof(size_t));
        a.positional = calloc((size_t) argc + 1, sizeof(char *));
        if (!a.values || !a.count || !a.positional) {
                r = ferry_error_set(err, -ENOMEM, "Out of memory");
                goto finish;
        }

        for (int i = 0; i < argc; i++) {
                char *arg = argv[i], *value = NULL;
                ssize_t o;

                if (only_positional || arg[0] != '-' || streq(arg, "-")) {
                        a.positional[a.n_positional++] = arg;
                        continue;
                }
                if (streq(arg, "--")) {
                        only_positional = true;
                        continue;
                }

                if (arg[1] == '-') {
                        const char *name = arg + 2, *eq = strchr(name, '=');

                        o = find_long(&a, name, eq ? (size_t) (eq - name) : strlen(name));
                        if (o < 0) {
                                r = ferry_error_set(err, -EINVAL, "Unknown option '--%.*s'",
                                                    (int) (eq ? eq - name : (ptrdiff_t) strlen(name)), name);
                                goto finish;
                        }
                        if (eq) {
                                if (!options[o].value_name) {
                                        r = ferry_error_set(err, -EINVAL, "Option '--%s' takes no value",
                                                            options[o].name);
                                        goto finish;
                                }
                                value = (char *) eq + 1;
                        }
                } else {
                        o = find_short(&a, arg[1]);
                        if (o < 0) {
                                r = ferry_error_set(err, -EINVAL, "Unknown option '-%c'", arg[1]);
                                goto finish;
                        }
                        if (arg[2]) {
                                if (!options[o].value_name) {
                                        r = ferry_error_set(err, -EINVAL, "Option '-%c' takes no value", arg[1]);
                                        goto finish;
                                }
                                value = arg + 2;
                        }
                }

                if (options[o].value_name && !value) {
                        if (i + 1 >= argc) {
                                r = ferry_error_set(err, -EINVAL, "Option '--%s' needs a value", options[o].name);
                                goto finish;
                        }
                        value = argv[++i];
                }
                if (add_value(&a, (size_t) o, value) < 0) {
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
                        goto finish;
                }
        }

        *ret = a;
        return 0;

finish:
        cli_args_done(&a);
        return r;
}

const char *cli_args_get(const struct cli_args *a, const char *name)
{
        ssize_t o = find_name(a, name);
        const char *last = NULL;

        if (o < 0 || !a->values[o])
                return NULL;
        for (char **v = a->values[o]; *v; v++)
                last = *v;
        return last;
}

char *const *cli_args_get_all(const struct cli_args *a, const char *name, size_t *ret_n)
{
        static char *const none[] = { NULL };
        ssize_t o = find_name(a, name);
        size_t n = 0;

        if (o < 0 || !a->values[o]) {
                if (ret_n)
                        *ret_n = 0;
                return none;
        }
        while (a->values[o][n])
                n++;
        if (ret_n)
                *ret_n = n;
        return a->values[o];
}

bool cli_args_has(const struct cli_args *a, const char *name)
{
        ssize_t o = find_name(a, name);

        return o >= 0 && a->count[o] > 0;
}

static int option_synopsis(const struct cli_option *o, struct strbuf *out)
{
        if (o->short_name)
                return strbuf_appendf(out, "  -%c, --%s%s%s", o->short_name, o->name, o->value_name ? " " : "",
                                      o->value_name ?: "");
        return strbuf_appendf(out, "      --%s%s%s", o->name, o->value_name ? " " : "", o->value_name ?: "");
}

char *cli_options_help(const struct cli_option *options)
{
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT, synopsis = STRBUF_INIT;
        size_t width = 0;

        for (const struct cli_option *o = options; o && o->name; o++) {
                strbuf_reset(&synopsis);
                if (option_synopsis(o, &synopsis) < 0)
                        goto oom;
                if (synopsis.len > width)
                        width = synopsis.len;
        }

        for (const struct cli_option *o = options; o && o->name; o++) {
                strbuf_reset(&synopsis);
                if (option_synopsis(o, &synopsis) < 0 ||
                    strbuf_appendf(&out, "%-*s  %s\n", (int) width, strbuf_str(&synopsis), o->help ?: "") < 0)
                        goto oom;
        }
        return strbuf_steal(&out);

oom:
        errno = ENOMEM;
        return NULL;
}
