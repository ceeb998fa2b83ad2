/* SPDX-License-Identifier: Apache-2.0 */
/* src/worker/state.c: the agent's command in progress and checkpoints. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/fileio.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "../integration/proc.h" /* tmpdir_new(), tmpdir_remove() */
#include "worker/state.h"

#define IMPORT "{\"id\": 7, \"command\": \"import\", \"mode\": \"full\", \"disks\": [{\"name\": \"disk0\", " \
               "\"source\": \"nbd://proxy/d0\", \"sink\": \"/dev/sdb\"}]}"

struct fixture {
        char *tmp;
        char *dir;      /* <tmp>/state: not there until prepared */
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->tmp = tmpdir_new();
        assert_non_null(f->dir = strjoin(f->tmp, "/state", NULL));
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        tmpdir_remove(f->tmp);
        free(f->tmp);
        free(f->dir);
        free(f);
        return 0;
}

static void write_in(const struct fixture *f, const char *name, const char *text)
{
        _cleanup_free_ char *p = strjoin(f->dir, "/", name, NULL);
        struct ferry_error err = {};

        assert_non_null(p);
        if (fileio_write_atomic(p, text, strlen(text), 0600, &err) < 0)
                fail_msg("%s", ferry_error_message(&err));
}

static void test_a_saved_command_loads_back_and_is_gone_once_cleared(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *in = json_loads(IMPORT, 0, NULL), *out = NULL;
        _cleanup_worker_command_ struct worker_command *c = NULL;
        struct ferry_error err = {};
        struct stat st;

        assert_int_equal(worker_state_prepare(f->dir, &err), 0);
        assert_int_equal(stat(f->dir, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        assert_int_equal(worker_state_load(f->dir, &c, &out, &err), 0);

        assert_int_equal(worker_state_save(f->dir, in, &err), 0);
        assert_int_equal(worker_state_load(f->dir, &c, &out, &err), 1);
        assert_int_equal(c->id, 7);
        assert_string_equal(c->disks[0].sink, "/dev/sdb");
        assert_true(json_equal(in, out));

        assert_int_equal(worker_state_clear(f->dir, &err), 0);
        worker_command_free(TAKE_PTR(c));
        json_decref(TAKE_PTR(out));
        assert_int_equal(worker_state_load(f->dir, &c, &out, &err), 0);
        assert_int_equal(worker_state_clear(f->dir, &err), 0);
}

static void test_a_damaged_state_file_is_an_error_that_names_it(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *want = NULL;
        struct worker_command *c = NULL;
        json_t *out = NULL;
        struct ferry_error err = {};

        assert_int_equal(worker_state_prepare(f->dir, &err), 0);
        write_in(f, "command.json", "{\"command\": \"import\"");
        assert_int_equal(worker_state_load(f->dir, &c, &out, &err), -EINVAL);
        assert_non_null(want = strjoin("State file '", f->dir, "/command.json' is damaged: Invalid JSON", NULL));
        assert_true(startswith(ferry_error_message(&err), want));

        write_in(f, "command.json", "{\"command\": \"import\", \"mode\": \"full\", \"disks\": []}");
        assert_int_equal(worker_state_load(f->dir, &c, &out, &err), -EINVAL);
        assert_non_null(strstr(ferry_error_message(&err), "is damaged: Missing required field 'id'"));
        assert_null(c);
        assert_null(out);
}

static void test_a_state_dir_that_is_a_file_is_refused(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *want = NULL;
        struct ferry_error err = {};

        assert_int_equal(fileio_write_atomic(f->dir, "x", 1, 0600, &err), 0);
        assert_int_equal(worker_state_prepare(f->dir, &err), -ENOTDIR);
        assert_non_null(want = strjoin("The state directory '", f->dir, "' is not a directory", NULL));
        assert_string_equal(ferry_error_message(&err), want);
}

static void test_checkpoints_are_named_by_disk_and_change_list(void **state)
{
        struct fixture *f = *state;
        struct worker_disk d = { .name = "disk0" };
        _cleanup_free_ char *full = NULL, *delta = NULL, *own = NULL;

        assert_non_null(full = worker_state_checkpoint_path("/s", &d, NULL));
        assert_string_equal(full, "/s/disk0.full.ckpt");
        assert_non_null(delta = worker_state_checkpoint_path(
                                "/s", &d, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
        assert_string_equal(delta, "/s/disk0.delta-9f86d081884c7d65.ckpt");
        d.checkpoint = (char *) "/elsewhere/d0.ckpt";
        assert_non_null(own = worker_state_checkpoint_path("/s", &d, NULL));
        assert_string_equal(own, "/elsewhere/d0.ckpt");
        (void) f;
}

static void test_removing_checkpoints_keeps_everything_else(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *kept = NULL, *gone = NULL;
        struct ferry_error err = {};

        assert_int_equal(worker_state_prepare(f->dir, &err), 0);
        write_in(f, "disk0.full.ckpt", "{}");
        write_in(f, "disk1.delta-0123456789abcdef.ckpt", "{}");
        write_in(f, "command.json", IMPORT);
        assert_int_equal(worker_state_remove_checkpoints(f->dir, &err), 2);
        assert_int_equal(worker_state_remove_checkpoints(f->dir, &err), 0);
        assert_non_null(kept = strjoin(f->dir, "/command.json", NULL));
        assert_non_null(gone = strjoin(f->dir, "/disk0.full.ckpt", NULL));
        assert_int_equal(access(kept, F_OK), 0);
        assert_int_equal(access(gone, F_OK), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_a_saved_command_loads_back_and_is_gone_once_cleared, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_a_damaged_state_file_is_an_error_that_names_it, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_state_dir_that_is_a_file_is_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_checkpoints_are_named_by_disk_and_change_list, setup, teardown),
                cmocka_unit_test_setup_teardown(test_removing_checkpoints_keeps_everything_else, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
