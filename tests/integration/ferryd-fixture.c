/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cmocka.h>

#include "common/macros.h"
#include "common/strbuf.h"
#include "ferryd-fixture.h"

struct ferryd_fixture *ferryd_fixture_new(const char *ferryd_path)
{
        struct ferryd_fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->ferryd_path = ferryd_path;
        f->dir = tmpdir_new();
        ferryd_fixture_set_data_dir(f, "data");
        return f;
}

void ferryd_fixture_set_data_dir(struct ferryd_fixture *f, const char *relative)
{
        free(f->data_dir);
        free(f->socket_path);
        assert_non_null(f->data_dir = strjoin(f->dir, "/", relative, NULL));
        assert_non_null(f->socket_path = strjoin(f->data_dir, "/unix.socket", NULL));
}

void ferryd_fixture_start(struct ferryd_fixture *f)
{
        ferryd_fixture_start_with(f, NULL);
}

void ferryd_fixture_start_with(struct ferryd_fixture *f, const char *const *extra)
{
        char *argv[32] = { (char *) f->ferryd_path, (char *) "--data-dir", f->data_dir };
        size_t n = 3;

        for (; extra && *extra; extra++) {
                assert_true(n < ELEMENTSOF(argv) - 1);
                argv[n++] = (char *) *extra;
        }
        proc_start(&f->ferryd, argv);
        proc_wait_for_socket(&f->ferryd, f->socket_path, FERRYD_START_TIMEOUT_MS);
}

int ferryd_fixture_bind_socket(struct ferryd_fixture *f)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        assert_int_equal(mkdir(f->data_dir, 0700), 0);
        assert_true(strlen(f->socket_path) < sizeof(sa.sun_path));
        memcpy(sa.sun_path, f->socket_path, strlen(f->socket_path));
        assert_true((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        return fd;
}

int ferryd_fixture_stop(struct ferryd_fixture *f)
{
        return proc_terminate(&f->ferryd, FERRYD_STOP_TIMEOUT_MS) == 0 ? 0 : -1;
}

void ferryd_fixture_free(struct ferryd_fixture *f)
{
        if (!f)
                return;
        proc_cleanup(&f->ferryd);
        tmpdir_remove(f->dir);
        free(f->socket_path);
        free(f->data_dir);
        free(f->dir);
        free(f);
}

int ferryd_fixture_setup(void **state)
{
        *state = ferryd_fixture_new(FERRYD_PATH);
        return 0;
}

int ferryd_fixture_teardown(void **state)
{
        struct ferryd_fixture *f = *state;
        int r = ferryd_fixture_stop(f);

        ferryd_fixture_free(f);
        return r;
}
