/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fileio.h"
#include "common/strbuf.h"
#include "vcsim-proc.h"

#ifndef VCSIM_PATH
#error "VCSIM_PATH must name the lab's simulator binary"
#endif

/* KEY='value' lines (values without quotes inside, as the simulator writes them). */
static json_t *parse_env(const char *text)
{
        json_t *env = json_object();

        for (const char *line = text; line && *line;) {
                const char *eq = strchr(line, '='), *nl = strchr(line, '\n');
                const char *end = nl ? nl : line + strlen(line);

                if (eq && eq < end) {
                        char *key = strndup(line, (size_t) (eq - line));
                        const char *v = eq + 1, *ve = end;

                        if (ve > v && *v == '\'' && ve[-1] == '\'') {
                                v++;
                                ve--;
                        }
                        json_object_set_new(env, key, json_stringn(v, (size_t) (ve - v)));
                        free(key);
                }
                line = nl ? nl + 1 : NULL;
        }
        return env;
}

void vcsim_proc_start(struct vcsim_proc *v, const char *model_path, const char *const *extra)
{
        char *argv[32];
        size_t n = 0;
        _cleanup_free_ char *env_path = NULL, *ds = NULL, *changes = NULL;
        struct timespec ts = { 0, 20 * 1000000L };

        if (access(VCSIM_PATH, X_OK) < 0)
                fail_msg("No simulator at '%s': run the test under tests/lab/lab run, which builds it", VCSIM_PATH);
        *v = (struct vcsim_proc) {};
        v->dir = tmpdir_new();
        env_path = strjoin(v->dir, "/vcsim.env", NULL);
        ds = strjoin(v->dir, "/datastores", NULL);
        changes = strjoin(v->dir, "/changes", NULL);
        assert_int_equal(mkdir(changes, 0755), 0);
        argv[n++] = (char *) VCSIM_PATH;
        argv[n++] = (char *) "-listen";
        argv[n++] = (char *) "127.0.0.1:0";
        argv[n++] = (char *) "-model";
        argv[n++] = (char *) model_path;
        argv[n++] = (char *) "-datastore-dir";
        argv[n++] = ds;
        argv[n++] = (char *) "-changes";
        argv[n++] = changes;
        argv[n++] = (char *) "-env";
        argv[n++] = env_path;
        for (const char *const *e = extra; e && *e && n < ELEMENTSOF(argv) - 1; e++)
                argv[n++] = (char *) *e;
        argv[n] = NULL;
        proc_start(&v->proc, argv);

        for (int i = 0; i < 3000; i++) {
                _cleanup_free_ char *text = NULL;
                size_t len;

                if (fileio_read(env_path, 1 << 20, &text, &len) == 0 && len > 0) {
                        v->env = parse_env(text);
                        return;
                }
                if (!proc_running(&v->proc)) {
                        _cleanup_free_ char *err = proc_stderr(&v->proc);

                        fail_msg("The simulator exited: %s", err);
                }
                nanosleep(&ts, NULL);
        }
        fail_msg("The simulator did not start within 60 s");
}

const char *vcsim_proc_env(const struct vcsim_proc *v, const char *key)
{
        const char *s = json_string_value(json_object_get(v->env, key));

        if (!s)
                fail_msg("The simulator's env file has no '%s'", key);
        return s;
}

json_t *vcsim_proc_disks(const struct vcsim_proc *v)
{
        json_error_t jerr;
        json_t *disks = json_load_file(vcsim_proc_env(v, "VCSIM_DISKS"), 0, &jerr);

        if (!json_is_array(disks))
                fail_msg("Cannot read the simulator's disk list: %s", jerr.text);
        return disks;
}

void vcsim_proc_stop(struct vcsim_proc *v)
{
        if (v->proc.pid > 0)
                (void) proc_terminate(&v->proc, 30000);
        proc_cleanup(&v->proc);
        if (v->dir)
                tmpdir_remove(v->dir);
        free(v->dir);
        json_decref(v->env);
        *v = (struct vcsim_proc) {};
}
