/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ferry CLI's entity commands against the built ferryd: every entity
 * round-trips create, show, update, list (in every output format) and
 * remove; edit works with $EDITOR on a terminal and with YAML on stdin;
 * secrets never show in anything ferry or ferryd prints.  Needs no lab.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "common/json.h"
#include "common/macros.h"
#include "common/strbuf.h"
#include "common/yaml.h"
#include "ferryd-fixture.h"
#include "seed.h"

#ifndef FERRYD_PATH
#error "FERRYD_PATH must name the ferryd binary under test"
#endif
#ifndef FERRY_PATH
#error "FERRY_PATH must name the ferry binary under test"
#endif

#define RUN_TIMEOUT_MS 20000

/* Secrets the tests send; no output may ever contain them. */
#define PASSWORD "S3cret-pw-never-printed"
#define PASSWORD_STDIN "An0ther-pw-from-stdin"
#define PASSWORD_TYPED "Typ3d-pw-at-the-prompt"
/* An Incus trust token (base64 JSON): ferryd checks the form when it arrives. */
#define TOKEN \
        "eyJjbGllbnRfbmFtZSI6ImZlcnJ5IiwiZmluZ2VycHJpbnQiOiJhYWFhYWFh" \
        "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh" \
        "YWFhYWFhYWFhYWFhIiwiYWRkcmVzc2VzIjpbIjEyNy4wLjAuMTo4NDQzIl0s" \
        "InNlY3JldCI6ImJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJi" \
        "YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmIiLCJleHBpcmVzX2F0IjoiMDAwMS0wMS0wMVQwMDowMDowMFoifQ=="

struct fixture {
        struct ferryd_fixture *server;
        struct strbuf transcript;       /* everything every ferry run printed */
};

struct run {
        int status;
        char *out;
        char *err;
};

static void run_done(struct run *r)
{
        free(r->out);
        free(r->err);
        *r = (struct run) {};
}

#define _cleanup_run_ _cleanup_(run_done)

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->server = ferryd_fixture_new(FERRYD_PATH);
        ferryd_fixture_start(f->server);
        *state = f;
        return 0;
}

/* ferryd on a database with what sync and the queue engine would have stored (seed.h). */
static int setup_seeded(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->server = ferryd_fixture_new(FERRYD_PATH);
        seed_lab_inventory(f->server->data_dir);
        ferryd_fixture_start(f->server);
        *state = f;
        return 0;
}

static void assert_no_secrets(const char *text, const char *where)
{
        static const char *const secrets[] = { PASSWORD, PASSWORD_STDIN, PASSWORD_TYPED, TOKEN, SEED_PASSWORD };

        for (size_t i = 0; i < ELEMENTSOF(secrets); i++)
                if (strstr(text, secrets[i]))
                        fail_msg("The secret '%s' shows in %s:\n%s", secrets[i], where, text);
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *log = proc_stderr(&f->server->ferryd);
        int r;

        unsetenv("EDITOR");
        unsetenv("VISUAL");
        assert_no_secrets(strbuf_str(&f->transcript), "the output of ferry");
        assert_no_secrets(log, "the log of ferryd");
        r = ferryd_fixture_stop(f->server);
        ferryd_fixture_free(f->server);
        strbuf_done(&f->transcript);
        free(f);
        return r;
}

static int capture_new(const char *name)
{
        int fd = memfd_create(name, MFD_CLOEXEC);

        if (fd < 0)
                fail_msg("memfd_create(): %s", strerror(errno));
        return fd;
}

static char *capture_read(int fd)
{
        struct stat st;
        char *buf;

        assert_int_equal(fstat(fd, &st), 0);
        buf = calloc(1, (size_t) st.st_size + 1);
        assert_non_null(buf);
        assert_int_equal(pread(fd, buf, (size_t) st.st_size, 0), st.st_size);
        return buf;
}

/* fork and exec ferry --socket <ferryd's> args... on the given descriptors. */
static pid_t spawn_ferry(struct fixture *f, int in_fd, int out_fd, int err_fd, const char *const *args)
{
        char *argv[64] = { (char *) FERRY_PATH, (char *) "--socket", f->server->socket_path };
        size_t n = 3;
        pid_t pid;

        for (; *args; args++) {
                assert_true(n < ELEMENTSOF(argv) - 1);
                argv[n++] = (char *) *args;
        }
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
                    dup2(err_fd, STDERR_FILENO) < 0)
                        _exit(126);
                execv(FERRY_PATH, argv);
                _exit(127);
        }
        return pid;
}

static int wait_exit(pid_t pid)
{
        struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
        int status;

        for (int waited = 0; waited < RUN_TIMEOUT_MS; waited += 10) {
                pid_t r = waitpid(pid, &status, WNOHANG);

                if (r == pid)
                        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                assert_int_equal(r, 0);
                nanosleep(&tick, NULL);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("ferry did not exit within %d ms", RUN_TIMEOUT_MS);
        return -1;
}

static void transcript_add(struct fixture *f, const struct run *r)
{
        assert_int_equal(strbuf_append(&f->transcript, r->out), 0);
        assert_int_equal(strbuf_append(&f->transcript, r->err), 0);
}

/* Run ferry with input on stdin (NULL: /dev/null, which is not a terminal). */
static void ferry_run(struct fixture *f, const char *input, const char *const *args, struct run *ret)
{
        int in = input ? capture_new("stdin") : open("/dev/null", O_RDONLY | O_CLOEXEC);
        int out = capture_new("stdout"), err = capture_new("stderr");
        pid_t pid;

        assert_true(in >= 0);
        if (input) {
                assert_int_equal(write(in, input, strlen(input)), (ssize_t) strlen(input));
                assert_int_equal(lseek(in, 0, SEEK_SET), 0);
        }
        pid = spawn_ferry(f, in, out, err, args);
        ret->status = wait_exit(pid);
        ret->out = capture_read(out);
        ret->err = capture_read(err);
        close(in);
        close(out);
        close(err);
        transcript_add(f, ret);
}

#define ARGS(...) ((const char *const[]) { __VA_ARGS__, NULL })

static void print_args(const char *const *args)
{
        for (; *args; args++)
                print_error(" %s", *args);
        print_error("\n");
}

/* Run, expect success and silence on stderr; return stdout. */
static char *ferry_input_ok(struct fixture *f, const char *input, const char *const *args)
{
        _cleanup_run_ struct run r = {};

        ferry_run(f, input, args, &r);
        if (r.status != 0 || *r.err) {
                print_error("ferry");
                print_args(args);
                fail_msg("exited with %d, stderr:\n%s", r.status, r.err);
        }
        return TAKE_PTR(r.out);
}

static char *ferry_ok(struct fixture *f, const char *const *args)
{
        return ferry_input_ok(f, NULL, args);
}

/* Run, expect status and nothing on stdout; return stderr. */
static char *ferry_fails(struct fixture *f, int status, const char *const *args)
{
        _cleanup_run_ struct run r = {};

        ferry_run(f, NULL, args, &r);
        if (r.status != status || *r.out) {
                print_error("ferry");
                print_args(args);
                fail_msg("exited with %d (not %d), stdout:\n%s\nstderr:\n%s", r.status, status, r.out, r.err);
        }
        return TAKE_PTR(r.err);
}

/* ferry on a terminal: stdin is a pseudo-terminal the test types into. */
struct session {
        pid_t pid;
        int master;
        int out_fd, err_fd;
};

/* stderr_on_tty: stderr goes to the terminal too (progress lines), else to a capture. */
static void session_start_full(struct fixture *f, struct session *s, bool stderr_on_tty, const char *const *args)
{
        int slave;

        s->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        assert_true(s->master >= 0);
        assert_int_equal(grantpt(s->master), 0);
        assert_int_equal(unlockpt(s->master), 0);
        slave = open(ptsname(s->master), O_RDWR | O_NOCTTY | O_CLOEXEC);
        assert_true(slave >= 0);
        s->out_fd = capture_new("stdout");
        s->err_fd = capture_new("stderr");
        s->pid = spawn_ferry(f, slave, s->out_fd, stderr_on_tty ? slave : s->err_fd, args);
        close(slave);
}

static void session_start(struct fixture *f, struct session *s, const char *const *args)
{
        session_start_full(f, s, false, args);
}

/* Wait until ferry has written needle to stderr. */
static void session_expect(struct session *s, const char *needle)
{
        struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };

        for (int waited = 0; waited < RUN_TIMEOUT_MS; waited += 10) {
                _cleanup_free_ char *err = capture_read(s->err_fd);

                if (strstr(err, needle))
                        return;
                nanosleep(&tick, NULL);
        }
        fail_msg("ferry did not write '%s' to stderr within %d ms", needle, RUN_TIMEOUT_MS);
}

static void session_type(struct session *s, const char *text)
{
        assert_int_equal(write(s->master, text, strlen(text)), (ssize_t) strlen(text));
}

/* Wait for the exit; *ret_echo (if not NULL) gets what the terminal showed of the typing. */
static void session_finish(struct fixture *f, struct session *s, struct run *ret, char **ret_echo)
{
        _cleanup_strbuf_ struct strbuf echo = STRBUF_INIT;
        char buf[4096];
        ssize_t n;

        ret->status = wait_exit(s->pid);
        ret->out = capture_read(s->out_fd);
        ret->err = capture_read(s->err_fd);
        assert_int_equal(fcntl(s->master, F_SETFL, O_NONBLOCK), 0);
        while ((n = read(s->master, buf, sizeof buf)) > 0)
                assert_int_equal(strbuf_append_len(&echo, buf, (size_t) n), 0);
        close(s->master);
        close(s->out_fd);
        close(s->err_fd);
        transcript_add(f, ret);
        assert_no_secrets(strbuf_str(&echo), "the terminal echo");
        if (ret_echo)
                *ret_echo = strbuf_steal(&echo);
}

static json_t *parse_json(const char *text)
{
        struct ferry_error err = {};
        json_t *v = NULL;

        if (json_parse_strict(text, strlen(text), &v, &err) < 0)
                fail_msg("Not JSON (%s):\n%s", err.message, text);
        return v;
}

static json_t *parse_yaml(const char *text)
{
        struct ferry_error err = {};
        json_t *v = NULL;

        if (yaml_parse_to_json(text, strlen(text), &v, &err) < 0)
                fail_msg("Not YAML (%s):\n%s", err.message, text);
        return v;
}

/* ferry <args> printing YAML: the parsed object. */
static json_t *ferry_yaml(struct fixture *f, const char *const *args)
{
        _cleanup_free_ char *out = ferry_ok(f, args);

        return parse_yaml(out);
}

/* The value at a '.'-separated path of obj, or NULL. */
static json_t *at(const json_t *obj, const char *path)
{
        _cleanup_free_ char *copy = strdup(path);
        char *save = NULL;
        json_t *v = (json_t *) obj;

        assert_non_null(copy);
        for (char *key = strtok_r(copy, ".", &save); key && v; key = strtok_r(NULL, ".", &save))
                v = json_is_array(v) ? json_array_get(v, strtoul(key, NULL, 10)) : json_object_get(v, key);
        return v;
}

static void assert_string_at(const json_t *obj, const char *path, const char *expected)
{
        json_t *v = at(obj, path);

        if (!json_is_string(v))
                fail_msg("'%s' is not a string", path);
        assert_string_equal(json_string_value(v), expected);
}

static void assert_int_at(const json_t *obj, const char *path, json_int_t expected)
{
        json_t *v = at(obj, path);

        if (!json_is_integer(v))
                fail_msg("'%s' is not an integer", path);
        assert_int_equal(json_integer_value(v), expected);
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, len), (ssize_t) len);
        close(fd);
}

static char *path_in(struct fixture *f, const char *name)
{
        char *p = strjoin(f->server->dir, "/", name, NULL);

        assert_non_null(p);
        return p;
}

/* An $EDITOR: a shell script whose body gets the file as "$1". */
static void set_editor(struct fixture *f, const char *body)
{
        _cleanup_free_ char *script = strjoin("#!/bin/sh\nset -e\n", body, "\n", NULL);
        _cleanup_free_ char *path = path_in(f, "editor.sh");

        assert_non_null(script);
        write_file(path, script, strlen(script), 0755);
        assert_int_equal(setenv("EDITOR", path, 1), 0);
}

/*
 * The list of entity in every format.  json and yaml are the full objects
 * (equal to each other) and hold key == value; csv is exactly csv (the
 * list has one object); table and compact show each of its fields.
 * Returns the listed object whose key is value.
 */
static json_t *assert_list_formats(struct fixture *f, const char *entity, const char *key, const char *value,
                                   const char *csv)
{
        _cleanup_free_ char *json_text = ferry_ok(f, ARGS(entity, "list", "-f", "json"));
        _cleanup_free_ char *yaml_text = ferry_ok(f, ARGS(entity, "list", "--format", "yaml"));
        _cleanup_free_ char *csv_text = ferry_ok(f, ARGS(entity, "list", "--format=csv"));
        _cleanup_free_ char *table = ferry_ok(f, ARGS(entity, "list"));
        _cleanup_free_ char *table2 = ferry_ok(f, ARGS(entity, "list", "-f", "table"));
        _cleanup_free_ char *compact = ferry_ok(f, ARGS(entity, "list", "-fcompact"));
        _cleanup_free_ char *fields = strdup(csv);
        _cleanup_json_ json_t *list = parse_json(json_text), *from_yaml = parse_yaml(yaml_text);
        json_t *found = NULL, *obj;
        char *save = NULL;
        size_t i;

        assert_true(json_is_array(list));
        assert_true(json_equal(list, from_yaml));
        json_array_foreach (list, i, obj)
                if (json_is_string(json_object_get(obj, key)) && streq(json_string_value(json_object_get(obj, key)), value))
                        found = obj;
        if (!found)
                fail_msg("No %s with %s '%s' in:\n%s", entity, key, value, json_text);

        assert_string_equal(csv_text, csv);
        assert_string_equal(table, table2);
        assert_true(startswith(table, "+-"));
        assert_null(strchr(compact, '|'));
        assert_non_null(fields);
        fields[strcspn(fields, "\n")] = '\0';
        for (char *field = strtok_r(fields, ",", &save); field; field = strtok_r(NULL, ",", &save)) {
                _cleanup_free_ char *cell = strjoin("| ", field, " ", NULL);

                assert_contains(table, cell);
                assert_contains(compact, field);
        }
        return json_incref(found);
}

static void assert_list_empty(struct fixture *f, const char *entity)
{
        _cleanup_free_ char *out = ferry_ok(f, ARGS(entity, "list", "-f", "json"));

        assert_string_equal(out, "[]\n");
}

static char *sha256_hex(const void *data, size_t len)
{
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        char *hex = calloc(1, 65);

        assert_non_null(hex);
        assert_int_equal(EVP_Digest(data, len, digest, &n, EVP_sha256(), NULL), 1);
        assert_int_equal(hex_encode(digest, n, hex, 65), 0);
        return hex;
}

static char *read_whole(const char *path, size_t *ret_len)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        char *buf;

        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        buf = malloc((size_t) st.st_size + 1);
        assert_non_null(buf);
        assert_int_equal(read(fd, buf, (size_t) st.st_size), st.st_size);
        close(fd);
        *ret_len = (size_t) st.st_size;
        return buf;
}

/* ---- sources ---- */

/* ferryd syncs a new source at once: wait until no sync runs any more. */
static void wait_for_syncs(struct fixture *f)
{
        for (int tries = 0; tries < 3000; tries++) {
                _cleanup_free_ char *text = ferry_ok(f, ARGS("query", "/1.0/operations?recursion=1"));

                if (!strstr(text, "\"Running\""))
                        return;
                usleep(10 * 1000);
        }
        fail_msg("A sync is still running after 30 s");
}

static void add_source_vc01(struct fixture *f)
{
        _cleanup_free_ char *out =
                ferry_ok(f, ARGS("source", "add", "vc01", "https://127.0.0.1:9/sdk", "--username", "admin",
                                 "--password", PASSWORD, "--datacenter", "dc1", "--disk-access", "datastore",
                                 "--datastore-mount", "ds1=/mnt/ds1"));

        assert_string_equal(out, "Source vc01 added\n");
        wait_for_syncs(f);
}

static void test_source_round_trips_through_every_command(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *shown = NULL, *updated = NULL, *listed = NULL;
        _cleanup_free_ char *out = NULL, *err = NULL;

        add_source_vc01(f);

        shown = ferry_yaml(f, ARGS("source", "show", "vc01"));
        assert_string_at(shown, "name", "vc01");
        assert_string_at(shown, "type", "vmware");
        assert_string_at(shown, "properties.endpoint", "https://127.0.0.1:9/sdk");
        assert_string_at(shown, "properties.username", "admin");
        assert_string_at(shown, "properties.datacenters.0", "dc1");
        assert_string_at(shown, "properties.disk_access.mode", "datastore");
        assert_string_at(shown, "properties.disk_access.datastore_mounts.ds1", "/mnt/ds1");
        assert_int_at(shown, "properties.import_limit", 50);
        assert_null(at(shown, "properties.password"));

        out = ferry_ok(f, ARGS("source", "update", "vc01", "--import-limit", "20", "--datastore-mount",
                               "ds2=/mnt/ds2"));
        assert_string_equal(out, "Source vc01 updated\n");
        updated = ferry_yaml(f, ARGS("source", "show", "vc01"));
        assert_int_at(updated, "properties.import_limit", 20);
        assert_string_at(updated, "properties.disk_access.datastore_mounts.ds1", "/mnt/ds1");
        assert_string_at(updated, "properties.disk_access.datastore_mounts.ds2", "/mnt/ds2");
        assert_string_at(updated, "properties.username", "admin");

        listed = assert_list_formats(f, "source", "name", "vc01",
                                     "vc01,vmware,https://127.0.0.1:9/sdk,admin,datastore,20,Cannot connect\n");
        assert_true(json_equal(listed, updated));

        free(out);
        out = ferry_ok(f, ARGS("source", "remove", "vc01"));
        assert_string_equal(out, "Source vc01 removed\n");
        assert_list_empty(f, "source");
        err = ferry_fails(f, 1, ARGS("source", "show", "vc01"));
        assert_true(startswith(err, "Error: "));
        assert_contains(err, "vc01");
}

static void test_source_update_removes_a_datastore_mount(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *shown = NULL;
        _cleanup_free_ char *out = NULL;

        add_source_vc01(f);
        out = ferry_ok(f, ARGS("source", "update", "vc01", "--datastore-mount", "ds1=", "--datastore-mount",
                               "ds3=/mnt/ds3", "--datacenter", "dc7", "--datacenter", "dc8"));
        shown = ferry_yaml(f, ARGS("source", "show", "vc01"));
        assert_null(at(shown, "properties.disk_access.datastore_mounts.ds1"));
        assert_string_at(shown, "properties.disk_access.datastore_mounts.ds3", "/mnt/ds3");
        assert_string_at(shown, "properties.datacenters.0", "dc7");
        assert_string_at(shown, "properties.datacenters.1", "dc8");
        assert_int_equal(json_array_size(at(shown, "properties.datacenters")), 2);

        free(ferry_ok(f, ARGS("source", "update", "vc01", "--datacenter", "")));
        json_decref(shown);
        shown = ferry_yaml(f, ARGS("source", "show", "vc01"));
        assert_int_equal(json_array_size(at(shown, "properties.datacenters")), 0);
}

static void test_source_password_can_come_from_stdin(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL;
        _cleanup_json_ json_t *shown = NULL;

        out = ferry_input_ok(f, PASSWORD_STDIN "\n",
                             ARGS("source", "add", "vc02", "--endpoint", "https://127.0.0.2:9/sdk", "-u",
                                  "admin", "--password-stdin"));
        assert_string_equal(out, "Source vc02 added\n");
        shown = ferry_yaml(f, ARGS("source", "show", "vc02"));
        assert_string_at(shown, "properties.endpoint", "https://127.0.0.2:9/sdk");
        free(ferry_input_ok(f, PASSWORD_STDIN "\n", ARGS("source", "update", "vc02", "--password-stdin")));
}

static void test_source_add_in_a_script_refuses_what_is_missing(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *no_endpoint = NULL, *no_user = NULL, *both = NULL, *twice = NULL;

        no_endpoint = ferry_fails(f, 1, ARGS("source", "add", "vc01", "--username", "admin"));
        assert_string_equal(no_endpoint, "Error: Missing --endpoint\n");
        no_user = ferry_fails(f, 1, ARGS("source", "add", "vc01", "https://127.0.0.1:9/sdk"));
        assert_string_equal(no_user, "Error: Missing --username\n");
        both = ferry_fails(f, 1, ARGS("source", "add", "vc01", "https://vc01/sdk", "-u", "a", "-p", "x",
                                      "--password-stdin"));
        assert_string_equal(both, "Error: Give --password or --password-stdin, not both\n");
        twice = ferry_fails(f, 2, ARGS("source", "add", "vc01", "https://a/sdk", "--endpoint", "https://b/sdk"));
        assert_string_equal(twice, "ferry: Give the endpoint once: as ENDPOINT or with --endpoint\n"
                                   "Try 'ferry source add --help' for more information.\n");
        assert_list_empty(f, "source");
}

static void test_source_add_on_a_terminal_asks_and_hides_the_password(void **state)
{
        struct fixture *f = *state;
        _cleanup_run_ struct run r = {};
        _cleanup_free_ char *echo = NULL;
        _cleanup_json_ json_t *shown = NULL;
        struct session s = {};

        session_start(f, &s, ARGS("source", "add", "vc03"));
        session_expect(&s, "Endpoint (https://vcenter.example.org/sdk): ");
        session_type(&s, "https://127.0.0.3:9/sdk\n");
        session_expect(&s, "Username: ");
        session_type(&s, "operator\n");
        session_expect(&s, "Password: ");
        session_type(&s, PASSWORD_TYPED "\n");
        session_finish(f, &s, &r, &echo);

        assert_int_equal(r.status, 0);
        assert_string_equal(r.out, "Source vc03 added\n");
        assert_contains(echo, "https://127.0.0.3:9/sdk");      /* typed text shows ... */
        assert_contains(echo, "operator");                          /* ... but not the password */
        shown = ferry_yaml(f, ARGS("source", "show", "vc03"));
        assert_string_at(shown, "properties.endpoint", "https://127.0.0.3:9/sdk");
        assert_string_at(shown, "properties.username", "operator");
}

static void test_source_errors_of_ferryd_name_the_field(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL, *dup = NULL, *bad_int = NULL;

        err = ferry_fails(f, 1, ARGS("source", "add", "vc01", "https://vc01/sdk", "-u", "a", "--import-limit", "0"));
        assert_true(startswith(err, "Error: "));
        assert_contains(err, "import_limit");
        add_source_vc01(f);
        dup = ferry_fails(f, 1, ARGS("source", "add", "vc01", "https://vc01/sdk", "-u", "a"));
        assert_true(startswith(dup, "Error: "));
        assert_contains(dup, "vc01");
        bad_int = ferry_fails(f, 1, ARGS("source", "update", "vc01", "--import-limit", "ten"));
        assert_string_equal(bad_int, "Error: Invalid --import-limit 'ten': not an integer\n");
}

static void test_update_without_options_is_a_usage_error(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = ferry_fails(f, 2, ARGS("source", "update", "vc01"));

        assert_string_equal(err, "ferry: Nothing to update: give at least one option\n"
                                 "Try 'ferry source update --help' for more information.\n");
}

/* ---- targets ---- */

static void test_target_round_trips_through_every_command(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *shown = NULL, *updated = NULL, *listed = NULL;
        _cleanup_free_ char *out = NULL, *updated_out = NULL, *removed = NULL, *err = NULL;

        out = ferry_ok(f, ARGS("target", "add", "incus1", "https://127.0.0.1:9", "--token", TOKEN,
                               "--create-limit", "4", "--connection-timeout", "2m"));
        assert_string_equal(out, "Target incus1 added\n");
        /* ferryd tries to register at once, and cannot reach the host. */
        wait_for_syncs(f);

        shown = ferry_yaml(f, ARGS("target", "show", "incus1"));
        assert_string_at(shown, "name", "incus1");
        assert_string_at(shown, "type", "incus");
        assert_string_at(shown, "properties.endpoint", "https://127.0.0.1:9");
        assert_int_at(shown, "properties.create_limit", 4);
        assert_int_at(shown, "properties.import_limit", 50);
        assert_string_at(shown, "properties.connection_timeout", "2m");
        assert_null(at(shown, "properties.trust_token"));

        updated_out = ferry_ok(f, ARGS("target", "update", "incus1", "--import-limit", "7"));
        assert_string_equal(updated_out, "Target incus1 updated\n");
        updated = ferry_yaml(f, ARGS("target", "show", "incus1"));
        assert_int_at(updated, "properties.import_limit", 7);
        assert_int_at(updated, "properties.create_limit", 4);

        listed = assert_list_formats(f, "target", "name", "incus1",
                                     "incus1,incus,https://127.0.0.1:9,7,4,2m,Cannot connect\n");
        assert_string_at(listed, "properties.endpoint", "https://127.0.0.1:9");

        removed = ferry_ok(f, ARGS("target", "remove", "incus1"));
        assert_string_equal(removed, "Target incus1 removed\n");
        assert_list_empty(f, "target");
        err = ferry_fails(f, 1, ARGS("target", "remove", "incus1"));
        assert_true(startswith(err, "Error: "));
}

static void test_target_token_can_come_from_stdin(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL;

        out = ferry_input_ok(f, TOKEN "\n", ARGS("target", "add", "incus2", "https://127.0.0.2:9", "--token-stdin"));
        assert_string_equal(out, "Target incus2 added\n");
        free(ferry_input_ok(f, TOKEN "\n", ARGS("target", "update", "incus2", "--token-stdin")));
}

static void test_target_add_in_a_script_needs_an_endpoint(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = ferry_fails(f, 1, ARGS("target", "add", "incus1", "--token", TOKEN));

        assert_string_equal(err, "Error: Missing --endpoint\n");
}

static void test_target_add_on_a_terminal_asks_for_a_hidden_token(void **state)
{
        struct fixture *f = *state;
        _cleanup_run_ struct run r = {};
        _cleanup_free_ char *echo = NULL;
        struct session s = {};

        session_start(f, &s, ARGS("target", "add", "incus3"));
        session_expect(&s, "Endpoint (");
        session_type(&s, "https://127.0.0.3:9\n");
        session_expect(&s, "Trust token (");
        session_type(&s, TOKEN "\n");
        session_finish(f, &s, &r, &echo);
        assert_int_equal(r.status, 0);
        assert_string_equal(r.out, "Target incus3 added\n");
        assert_contains(echo, "https://127.0.0.3:9");
}

/* ---- batches ---- */

static void add_batch_wave1(struct fixture *f)
{
        _cleanup_free_ char *out = ferry_ok(
                f, ARGS("batch", "add", "wave1", "cpus >= 2", "--window",
                        "sat-night,2026-11-28T22:00:00Z,2026-11-29T04:00:00Z,20", "-w",
                        "sun-night,2026-11-29T22:00:00Z,2026-11-30T04:00:00Z", "--target", "incus1", "--project",
                        "default", "--pool", "default", "--profile", "default", "--profile", "extra"));

        assert_string_equal(out, "Batch wave1 added\n");
}

static void test_batch_round_trips_through_every_command(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *shown = NULL, *listed = NULL, *edited = NULL;
        _cleanup_free_ char *show_text = NULL, *new_text = NULL, *out = NULL, *err = NULL;
        char *p;

        add_batch_wave1(f);
        show_text = ferry_ok(f, ARGS("batch", "show", "wave1"));
        shown = parse_yaml(show_text);
        assert_string_at(shown, "name", "wave1");
        assert_string_at(shown, "include_expression", "cpus >= 2");
        assert_string_at(shown, "status", "Defined");
        assert_string_at(shown, "migration_windows.0.name", "sat-night");
        assert_string_at(shown, "migration_windows.0.start", "2026-11-28T22:00:00Z");
        assert_string_at(shown, "migration_windows.0.end", "2026-11-29T04:00:00Z");
        assert_int_at(shown, "migration_windows.0.capacity", 20);
        assert_string_at(shown, "migration_windows.1.name", "sun-night");
        assert_string_at(shown, "defaults.placement.target", "incus1");
        assert_string_at(shown, "defaults.placement.target_project", "default");
        assert_string_at(shown, "defaults.placement.storage_pool", "default");
        assert_string_at(shown, "defaults.placement.profiles.1", "extra");

        /* edit with YAML on stdin: what `ferry batch show | sed | ferry batch edit` does */
        new_text = strdup(show_text);
        assert_non_null(p = strstr(new_text, "cpus >= 2"));
        p[8] = '4';
        out = ferry_input_ok(f, new_text, ARGS("batch", "edit", "wave1"));
        assert_string_equal(out, "");
        edited = ferry_yaml(f, ARGS("batch", "show", "wave1"));
        assert_string_at(edited, "include_expression", "cpus >= 4");

        listed = assert_list_formats(f, "batch", "name", "wave1", "wave1,Defined,cpus >= 4,incus1,default,2\n");
        assert_true(json_equal(listed, edited));

        free(out);
        out = ferry_ok(f, ARGS("batch", "remove", "wave1"));
        assert_string_equal(out, "Batch wave1 removed\n");
        assert_list_empty(f, "batch");
        err = ferry_fails(f, 1, ARGS("batch", "edit", "wave1"));
        assert_true(startswith(err, "Error: "));
}

static void test_batch_edit_opens_the_editor_on_a_terminal(void **state)
{
        struct fixture *f = *state;
        _cleanup_run_ struct run r = {};
        _cleanup_json_ json_t *shown = NULL;
        _cleanup_free_ char *seen = path_in(f, "seen.yaml"), *body = NULL, *text = NULL;
        struct session s = {};
        size_t len;

        add_batch_wave1(f);
        body = strjoin("cp \"$1\" '", seen, "'\nsed -i 's/cpus >= 2/cpus >= 3/; s/capacity: 20/capacity: 5/' \"$1\"",
                       NULL);
        set_editor(f, body);
        session_start(f, &s, ARGS("batch", "edit", "wave1"));
        session_finish(f, &s, &r, NULL);
        assert_int_equal(r.status, 0);
        assert_string_equal(r.err, "");

        shown = ferry_yaml(f, ARGS("batch", "show", "wave1"));
        assert_string_at(shown, "include_expression", "cpus >= 3");
        assert_int_at(shown, "migration_windows.0.capacity", 5);

        /* The editor saw a commented header, then the batch. */
        text = read_whole(seen, &len);
        text[len] = '\0';
        assert_true(startswith(text, "### This is a YAML representation of a batch."));
        assert_contains(text, "\nname: wave1\n");
        assert_contains(text, "\ninclude_expression: cpus >= 2\n");
}

static void test_batch_edit_reopens_the_editor_on_a_refused_change(void **state)
{
        struct fixture *f = *state;
        _cleanup_run_ struct run r = {};
        _cleanup_json_ json_t *shown = NULL;
        _cleanup_free_ char *counter = path_in(f, "count"), *body = NULL;
        struct session s = {};

        add_batch_wave1(f);
        /* First a capacity ferryd refuses, then a good one; the second run sees the first's text. */
        body = strjoin("if [ -e '", counter, "' ]; then\n"
                       "  grep -q 'capacity: 0' \"$1\"\n"
                       "  sed -i 's/capacity: 0/capacity: 9/' \"$1\"\n"
                       "else\n"
                       "  touch '", counter, "'\n"
                       "  sed -i 's/capacity: 20/capacity: 0/' \"$1\"\n"
                       "fi", NULL);
        set_editor(f, body);
        session_start(f, &s, ARGS("batch", "edit", "wave1"));
        session_expect(&s, "Press enter to open the editor again or ctrl+c to abort change\n");
        session_type(&s, "\n");
        session_finish(f, &s, &r, NULL);

        assert_int_equal(r.status, 0);
        assert_true(startswith(r.err, "Config parsing error: "));
        assert_contains(r.err, "capacity");
        shown = ferry_yaml(f, ARGS("batch", "show", "wave1"));
        assert_int_at(shown, "migration_windows.0.capacity", 9);
}

static void test_batch_edit_with_broken_yaml_can_be_abandoned(void **state)
{
        struct fixture *f = *state;
        _cleanup_run_ struct run r = {};
        _cleanup_json_ json_t *shown = NULL;
        struct session s = {};

        add_batch_wave1(f);
        set_editor(f, "echo 'include_expression: [unclosed' >> \"$1\"");
        session_start(f, &s, ARGS("batch", "edit", "wave1"));
        session_expect(&s, "Press enter to open the editor again or ctrl+c to abort change\n");
        session_type(&s, "\x04");       /* ctrl+d: no more input */
        session_finish(f, &s, &r, NULL);

        assert_int_equal(r.status, 1);
        assert_true(startswith(r.err, "Config parsing error: Invalid YAML at line "));
        assert_contains(r.err, "\nError: Aborted: Invalid YAML at line ");
        shown = ferry_yaml(f, ARGS("batch", "show", "wave1"));
        assert_string_at(shown, "include_expression", "cpus >= 2");
}

static void test_batch_edit_refuses_to_overwrite_a_concurrent_change(void **state)
{
        struct fixture *f = *state;
        _cleanup_run_ struct run r = {};
        _cleanup_json_ json_t *shown = NULL;
        _cleanup_free_ char *body = NULL;
        struct session s = {};

        add_batch_wave1(f);
        /* While "the admin" edits, someone else changes the batch. */
        body = strjoin("'" FERRY_PATH "' --socket '", f->server->socket_path,
                       "' query -X PATCH /1.0/batches/wave1 --data '{\"include_expression\": \"cpus >= 8\"}' "
                       ">/dev/null\n"
                       "sed -i 's/cpus >= 2/cpus >= 3/' \"$1\"",
                       NULL);
        set_editor(f, body);
        session_start(f, &s, ARGS("batch", "edit", "wave1"));
        session_finish(f, &s, &r, NULL);

        assert_int_equal(r.status, 1);
        assert_true(startswith(r.err, "Error: The object changed while you were editing it ("));
        assert_contains(r.err, "): run the command again to edit its current version\n");
        shown = ferry_yaml(f, ARGS("batch", "show", "wave1"));
        assert_string_at(shown, "include_expression", "cpus >= 8");
}

static void test_batch_edit_from_stdin_reports_a_refused_change(void **state)
{
        struct fixture *f = *state;
        _cleanup_run_ struct run bad_yaml = {}, bad_value = {};
        _cleanup_json_ json_t *shown = NULL;

        add_batch_wave1(f);
        ferry_run(f, "include_expression: [unclosed\n", ARGS("batch", "edit", "wave1"), &bad_yaml);
        assert_int_equal(bad_yaml.status, 1);
        assert_true(startswith(bad_yaml.err, "Error: Invalid YAML at line "));
        ferry_run(f,
                  "name: wave1\ninclude_expression: cpus >= 3\nmigration_windows:\n- name: w\n"
                  "  start: '2026-01-01T00:00:00Z'\n  end: '2026-01-02T00:00:00Z'\n  capacity: 0\n",
                  ARGS("batch", "edit", "wave1"), &bad_value);
        assert_int_equal(bad_value.status, 1);
        assert_true(startswith(bad_value.err, "Error: "));
        assert_contains(bad_value.err, "capacity");
        shown = ferry_yaml(f, ARGS("batch", "show", "wave1"));
        assert_string_at(shown, "include_expression", "cpus >= 2");
}

static void test_batch_add_reads_yaml_from_a_file_or_stdin(void **state)
{
        struct fixture *f = *state;
        static const char yaml[] = "include_expression: os_type == 'linux'\n"
                                   "migration_windows:\n"
                                   "- name: w1\n"
                                   "  start: '2026-12-01T20:00:00Z'\n"
                                   "  end: '2026-12-02T02:00:00Z'\n";
        _cleanup_free_ char *file = path_in(f, "wave2.yaml"), *out = NULL, *out2 = NULL;
        _cleanup_json_ json_t *from_file = NULL, *from_stdin = NULL;

        write_file(file, yaml, strlen(yaml), 0644);
        out = ferry_ok(f, ARGS("batch", "add", "wave2", "--file", file, "--target", "incus9"));
        assert_string_equal(out, "Batch wave2 added\n");
        from_file = ferry_yaml(f, ARGS("batch", "show", "wave2"));
        assert_string_at(from_file, "include_expression", "os_type == 'linux'");
        assert_string_at(from_file, "migration_windows.0.name", "w1");
        assert_string_at(from_file, "defaults.placement.target", "incus9");

        out2 = ferry_input_ok(f, yaml, ARGS("batch", "add", "wave3"));
        assert_string_equal(out2, "Batch wave3 added\n");
        from_stdin = ferry_yaml(f, ARGS("batch", "show", "wave3"));
        assert_string_at(from_stdin, "include_expression", "os_type == 'linux'");
}

static void test_batch_add_refuses_bad_windows_and_missing_expressions(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *bad_window = NULL, *bad_capacity = NULL, *no_expr = NULL, *server = NULL;
        _cleanup_free_ char *expression = NULL;

        bad_window = ferry_fails(f, 1, ARGS("batch", "add", "w", "true", "--window", "only-a-name"));
        assert_string_equal(bad_window, "Error: Invalid --window 'only-a-name': use NAME,START,END[,CAPACITY]\n");
        bad_capacity = ferry_fails(f, 1, ARGS("batch", "add", "w", "true", "--window", "a,2026-01-01T00:00:00Z,"
                                                                                         "2026-01-02T00:00:00Z,many"));
        assert_string_equal(bad_capacity, "Error: Invalid --window 'a,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,many': "
                                          "the capacity 'many' is not an integer\n");
        no_expr = ferry_fails(f, 1, ARGS("batch", "add", "w"));
        assert_string_equal(no_expr, "Error: Missing EXPRESSION (or a YAML batch with --file or on stdin)\n");
        server = ferry_fails(f, 1, ARGS("batch", "add", "w", "true", "--window",
                                        "a,2026-01-02T00:00:00Z,2026-01-01T00:00:00Z"));
        assert_true(startswith(server, "Error: "));
        assert_contains(server, "migration_windows");
        expression = ferry_fails(f, 1, ARGS("batch", "add", "w", "cpus >=>= 2"));
        assert_true(startswith(expression, "Error: Field 'include_expression' is not a valid expression"));
        assert_list_empty(f, "batch");
}

static void test_batch_info_shows_the_batch_and_its_instances(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL, *csv = NULL, *json_text = NULL;
        _cleanup_json_ json_t *both = NULL;

        add_batch_wave1(f);
        out = ferry_ok(f, ARGS("batch", "info", "wave1"));
        assert_true(startswith(out, "Name: wave1\nStatus: Defined\nInclude expression: cpus >= 2\n"
                                    "Target: incus1 (project 'default', pool 'default')\n"
                                    "Migration windows: 2\n"
                                    "  sat-night: 2026-11-28T22:00:00Z to 2026-11-29T04:00:00Z (capacity 20)\n"
                                    "  sun-night: 2026-11-29T22:00:00Z to 2026-11-30T04:00:00Z\n"
                                    "Instances: 0\n"));
        assert_contains(out, "| NAME | UUID | SOURCE |");
        csv = ferry_ok(f, ARGS("batch", "info", "wave1", "-f", "csv"));
        assert_string_equal(csv, "");
        json_text = ferry_ok(f, ARGS("batch", "info", "wave1", "-f", "json"));
        both = parse_json(json_text);
        assert_string_at(both, "batch.name", "wave1");
        assert_true(json_is_array(at(both, "instances")));
}

/* ---- artifacts ---- */

static char *pattern(size_t size, unsigned seed)
{
        char *buf = malloc(size);

        assert_non_null(buf);
        for (size_t i = 0; i < size; i++)
                buf[i] = (char) ((i * 31 + seed + i / 7919) & 0xff);
        return buf;
}

static void test_artifact_round_trips_a_file(void **state)
{
        struct fixture *f = *state;
        const size_t size = 3 * 1024 * 1024 + 123;
        _cleanup_free_ char *data = pattern(size, 1), *data2 = pattern(4096, 2);
        _cleanup_free_ char *file = path_in(f, "payload.bin"), *file2 = path_in(f, "payload2.bin");
        _cleanup_free_ char *dest = path_in(f, "downloaded.bin"), *sha = sha256_hex(data, size);
        _cleanup_free_ char *sha2 = sha256_hex(data2, 4096), *out = NULL, *expected = NULL, *csv = NULL;
        _cleanup_free_ char *got = NULL, *removed = NULL, *err = NULL, *in_dir = path_in(f, "a1");
        _cleanup_json_ json_t *shown = NULL, *listed = NULL, *replaced = NULL;
        _cleanup_run_ struct run to_stdout = {};
        size_t got_len;

        write_file(file, data, size, 0644);
        write_file(file2, data2, 4096, 0644);

        out = ferry_ok(f, ARGS("artifact", "upload", "a1", file, "--type", "other", "--description", "Test file"));
        assert_non_null(expected = strjoin("Artifact a1 uploaded: 3.00MiB, sha256 ", sha, "\n", NULL));
        assert_string_equal(out, expected);

        shown = ferry_yaml(f, ARGS("artifact", "show", "a1"));
        assert_string_at(shown, "name", "a1");
        assert_string_at(shown, "type", "other");
        assert_string_at(shown, "description", "Test file");
        assert_int_at(shown, "file.size", (json_int_t) size);
        assert_string_at(shown, "file.sha256", sha);

        assert_non_null(csv = strjoin("a1,other,Test file,3.00MiB,", sha, ",",
                                      json_string_value(at(shown, "file.uploaded_at")), "\n", NULL));
        listed = assert_list_formats(f, "artifact", "name", "a1", csv);
        assert_true(json_equal(listed, shown));

        free(out);
        out = ferry_ok(f, ARGS("artifact", "download", "a1", dest));
        free(expected);
        assert_non_null(expected = strjoin("Artifact a1 downloaded to ", dest, "\n", NULL));
        assert_string_equal(out, expected);
        got = read_whole(dest, &got_len);
        assert_int_equal(got_len, size);
        assert_memory_equal(got, data, size);

        free(out);
        out = ferry_ok(f, ARGS("artifact", "download", "a1", f->server->dir));
        free(got);
        got = read_whole(in_dir, &got_len);
        assert_int_equal(got_len, size);
        assert_memory_equal(got, data, size);

        ferry_run(f, NULL, ARGS("artifact", "download", "a1", "-"), &to_stdout);
        assert_int_equal(to_stdout.status, 0);
        assert_memory_equal(to_stdout.out, data, 1024);         /* stdout is a string here: its start */

        /* Uploading again replaces the file and keeps the record. */
        free(out);
        out = ferry_ok(f, ARGS("artifact", "upload", "a1", file2, "--description", "Smaller"));
        replaced = ferry_yaml(f, ARGS("artifact", "show", "a1"));
        assert_int_at(replaced, "file.size", 4096);
        assert_string_at(replaced, "file.sha256", sha2);
        assert_string_at(replaced, "description", "Smaller");
        assert_string_at(replaced, "type", "other");

        removed = ferry_ok(f, ARGS("artifact", "remove", "a1"));
        assert_string_equal(removed, "Artifact a1 removed\n");
        assert_list_empty(f, "artifact");
        err = ferry_fails(f, 1, ARGS("artifact", "download", "a1", dest));
        assert_true(startswith(err, "Error: "));
}

static void test_artifact_upload_shows_progress_on_a_terminal(void **state)
{
        struct fixture *f = *state;
        const size_t size = 2 * 1024 * 1024;
        _cleanup_free_ char *data = pattern(size, 3), *file = path_in(f, "big.bin"), *screen = NULL;
        _cleanup_run_ struct run r = {};
        struct session s = {};

        write_file(file, data, size, 0644);
        session_start_full(f, &s, true, ARGS("artifact", "upload", "big", file));
        session_finish(f, &s, &r, &screen);
        assert_int_equal(r.status, 0);
        assert_true(startswith(r.out, "Artifact big uploaded: 2.00MiB, sha256 "));
        assert_contains(screen, "Uploading big: 100% (2.00MiB of 2.00MiB)");
        assert_true(endswith(screen, "\r\033[K"));    /* the line is cleared at the end */
}

static void test_artifact_upload_of_a_missing_file_creates_nothing(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = ferry_fails(f, 1, ARGS("artifact", "upload", "a1", "/nonexistent/vddk.tar.gz"));

        assert_string_equal(err, "Error: Cannot open '/nonexistent/vddk.tar.gz': No such file or directory\n");
        assert_list_empty(f, "artifact");
}

static void test_artifact_download_without_a_file_says_so(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *dest = path_in(f, "nothing.bin"), *err = NULL;

        free(ferry_ok(f, ARGS("query", "-X", "POST", "/1.0/artifacts", "--data",
                              "{\"name\": \"a2\", \"type\": \"vddk\"}")));
        err = ferry_fails(f, 1, ARGS("artifact", "download", "a2", dest));
        assert_string_equal(err, "Error: Artifact 'a2' has no file yet: upload one with 'ferry artifact upload a2 "
                                 "FILE'\n");
        assert_int_equal(access(dest, F_OK), -1);
}

/* ---- query ---- */

static void test_query_prints_the_metadata_as_json(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *info = NULL, *created = NULL, *raw = NULL, *deleted = NULL;
        _cleanup_json_ json_t *info_json = NULL, *raw_json = NULL;

        info = ferry_ok(f, ARGS("query", "/1.0"));
        info_json = parse_json(info);
        assert_string_at(info_json, "api_version", "1.0");

        created = ferry_ok(f, ARGS("query", "-X", "POST", "/1.0/batches", "--data",
                                   "{\"name\": \"q1\", \"include_expression\": \"true\"}"));
        raw = ferry_ok(f, ARGS("query", "--raw", "/1.0/batches/q1"));
        raw_json = parse_json(raw);
        assert_string_at(raw_json, "type", "sync");
        assert_string_at(raw_json, "metadata.name", "q1");
        deleted = ferry_ok(f, ARGS("query", "-X", "delete", "/1.0/batches/q1"));
        assert_list_empty(f, "batch");
}

static void test_query_reports_an_error_answer(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = NULL, *bad_path = NULL;
        _cleanup_run_ struct run raw = {};
        _cleanup_json_ json_t *envelope = NULL;

        err = ferry_fails(f, 1, ARGS("query", "/1.0/bogus"));
        assert_true(startswith(err, "Error: "));
        ferry_run(f, NULL, ARGS("query", "--raw", "-X", "POST", "/1.0/batches", "--data", "{"), &raw);
        assert_int_equal(raw.status, 1);
        envelope = parse_json(raw.out);
        assert_string_at(envelope, "type", "error");
        assert_int_at(envelope, "error_code", 400);
        assert_true(startswith(raw.err, "Error: "));
        bad_path = ferry_fails(f, 2, ARGS("query", "1.0"));
        assert_true(startswith(bad_path, "ferry: The path must start with '/': '1.0'\n"));
}

/* ---- instances, networks, queue entries and warnings (seeded: sync makes them) ---- */

static void test_instance_list_shows_synced_instances_in_every_format(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *web01 = NULL;
        _cleanup_free_ char *csv = NULL, *table = NULL;

        csv = ferry_ok(f, ARGS("instance", "list", "-f", "csv"));
        assert_string_equal(csv, "db01," SEED_DB01 ",vc01,/dc1/vm/db/db01,,8,16.00GiB,,\n"
                                 "web01," SEED_WEB01 ",vc01,/dc1/vm/web/web01,Ubuntu Linux (64-bit),2,4.00GiB,16.00GiB,\n");
        web01 = ferry_yaml(f, ARGS("instance", "show", SEED_WEB01));
        assert_string_at(web01, "name", "web01");
        assert_string_at(web01, "location", "/dc1/vm/web/web01");
        assert_int_at(web01, "disks.0.capacity", 17179869184);
        table = ferry_ok(f, ARGS("instance", "list"));
        assert_contains(table, "| web01 | " SEED_WEB01 " | vc01   | /dc1/vm/web/web01 |");
}

static void test_instance_list_filters_with_an_expression(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *big = ferry_ok(f, ARGS("instance", "list", "cpus >= 4", "-f", "csv"));
        _cleanup_free_ char *none = ferry_ok(f, ARGS("instance", "list", "-f", "json", "name == 'nothing'"));
        _cleanup_free_ char *web = ferry_ok(f, ARGS("instance", "list", "-f", "compact",
                                                    "config['tag.env'] == 'prod'"));

        assert_true(startswith(big, "db01,"));
        assert_null(strstr(big, "web01"));
        assert_string_equal(none, "[]\n");
        assert_contains(web, "\nweb01 ");
        assert_null(strstr(web, "db01"));
}

static void test_instance_list_refuses_a_bad_filter(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *err = ferry_fails(f, 1, ARGS("instance", "list", "cpus >"));

        assert_true(startswith(err, "Error: Invalid filter"));
        assert_contains(err, "cpus >");
}

static void test_instance_override_round_trips(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *override = NULL, *effective = NULL, *after_editor = NULL, *cleared = NULL;
        _cleanup_free_ char *out = NULL, *removed = NULL, *csv = NULL;
        _cleanup_run_ struct run r = {};
        struct session s = {};

        out = ferry_input_ok(f, "cpus: 4\ncomment: more CPUs on Incus\n",
                             ARGS("instance", "override", "edit", SEED_WEB01));
        assert_string_equal(out, "");
        override = ferry_yaml(f, ARGS("instance", "override", "show", SEED_WEB01));
        assert_int_at(override, "cpus", 4);
        assert_string_at(override, "comment", "more CPUs on Incus");
        /* show has both values; the list shows what wins */
        effective = ferry_yaml(f, ARGS("instance", "show", SEED_WEB01));
        assert_int_at(effective, "cpus", 2);
        assert_int_at(effective, "overrides.cpus", 4);
        csv = ferry_ok(f, ARGS("instance", "list", "-f", "csv"));
        assert_contains(csv, "\nweb01," SEED_WEB01 ",vc01,/dc1/vm/web/web01,Ubuntu Linux (64-bit),4,4.00GiB,");

        set_editor(f, "sed -i 's/cpus: 4/cpus: 6/' \"$1\"");
        session_start(f, &s, ARGS("instance", "override", "edit", SEED_WEB01));
        session_finish(f, &s, &r, NULL);
        assert_int_equal(r.status, 0);
        after_editor = ferry_yaml(f, ARGS("instance", "override", "show", SEED_WEB01));
        assert_int_at(after_editor, "cpus", 6);

        removed = ferry_ok(f, ARGS("instance", "override", "remove", SEED_WEB01));
        assert_string_equal(removed, "Overrides of instance " SEED_WEB01 " removed\n");
        cleared = ferry_yaml(f, ARGS("instance", "override", "show", SEED_WEB01));
        assert_int_equal(json_object_size(cleared), 0);
}

static void test_instance_override_refuses_a_bad_value(void **state)
{
        struct fixture *f = *state;
        _cleanup_run_ struct run r = {};

        ferry_run(f, "cpus: 0\n", ARGS("instance", "override", "edit", SEED_WEB01), &r);
        assert_int_equal(r.status, 1);
        assert_true(startswith(r.err, "Error: "));
        assert_contains(r.err, "cpus");
}

static void test_network_list_show_and_edit(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *listed = NULL, *shown = NULL, *mapped = NULL, *edited = NULL;
        _cleanup_free_ char *out = NULL, *csv = NULL;
        _cleanup_run_ struct run r = {}, bad = {};
        struct session s = {};

        listed = assert_list_formats(f, "network", "uuid", "network-1",
                                     "network-1,vc01,/dc1/network/VM Network,standard,,\n");
        shown = ferry_yaml(f, ARGS("network", "show", "network-1"));
        assert_true(json_equal(listed, shown));

        out = ferry_input_ok(f, "mappings:\n  incus1:\n    network: incusbr0\n    nictype: bridged\n",
                             ARGS("network", "edit", "network-1"));
        mapped = ferry_yaml(f, ARGS("network", "show", "network-1"));
        assert_string_at(mapped, "mappings.incus1.network", "incusbr0");
        assert_string_at(mapped, "mappings.incus1.nictype", "bridged");
        csv = ferry_ok(f, ARGS("network", "list", "-f", "csv"));
        assert_string_equal(csv, "network-1,vc01,/dc1/network/VM Network,standard,,incus1\n");

        set_editor(f, "sed -i 's/nictype: bridged/nictype: macvlan/' \"$1\"");
        session_start(f, &s, ARGS("network", "edit", "network-1"));
        session_finish(f, &s, &r, NULL);
        assert_int_equal(r.status, 0);
        edited = ferry_yaml(f, ARGS("network", "show", "network-1"));
        assert_string_at(edited, "mappings.incus1.nictype", "macvlan");

        ferry_run(f, "mappings:\n  incus1:\n    network: x\n    nictype: teleport\n",
                  ARGS("network", "edit", "network-1"), &bad);
        assert_int_equal(bad.status, 1);
        assert_true(startswith(bad.err, "Error: "));
        assert_contains(bad.err, "nictype");
}

static void test_queue_list_and_show(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *listed = NULL, *shown = NULL;

        listed = assert_list_formats(f, "queue", "instance_uuid", SEED_WEB01,
                                     SEED_WEB01 ",web01,seeded,Background import,background,,1.00GiB/16.00GiB (6%),"
                                                "Copying disk0\n");
        shown = ferry_yaml(f, ARGS("queue", "show", SEED_WEB01));
        assert_string_at(shown, "batch", "seeded");
        assert_int_at(shown, "progress.0.done", 1073741824);
        assert_true(json_equal(listed, shown));
}

static void test_warning_list_show_and_ack(void **state)
{
        struct fixture *f = *state;
        _cleanup_json_ json_t *list = NULL, *shown = NULL, *acked = NULL;
        _cleanup_free_ char *json_text = NULL, *out = NULL, *expected = NULL, *acked_csv = NULL;
        const char *uuid;

        json_text = ferry_ok(f, ARGS("warning", "list", "-f", "json"));
        list = parse_json(json_text);
        assert_int_equal(json_array_size(list), 1);
        uuid = json_string_value(at(list, "0.uuid"));
        assert_non_null(uuid);
        assert_non_null(expected = strjoin(uuid, ",Could not determine instance OS,new,sync,instance," SEED_DB01 ",1,",
                                          json_string_value(at(list, "0.last_seen")), "\n", NULL));
        json_decref(assert_list_formats(f, "warning", "uuid", uuid, expected));

        shown = ferry_yaml(f, ARGS("warning", "show", uuid));
        assert_string_at(shown, "messages.0", "Could not determine instance OS, check if guest agent is running");

        out = ferry_ok(f, ARGS("warning", "ack", uuid));
        free(expected);
        assert_non_null(expected = strjoin("Warning ", uuid, " acknowledged\n", NULL));
        assert_string_equal(out, expected);
        acked = ferry_yaml(f, ARGS("warning", "show", uuid));
        assert_string_at(acked, "status", "acknowledged");
        acked_csv = ferry_ok(f, ARGS("warning", "list", "-f", "csv"));
        assert_contains(acked_csv, ",acknowledged,sync,");
}

static void test_batch_info_lists_the_selected_instances(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL, *csv = NULL;

        free(ferry_ok(f, ARGS("batch", "add", "big", "cpus >= 4")));
        out = ferry_ok(f, ARGS("batch", "info", "big"));
        assert_contains(out, "Instances: 1\n");
        assert_contains(out, "| db01 | " SEED_DB01 " |");
        csv = ferry_ok(f, ARGS("batch", "info", "seeded", "-f", "csv"));
        assert_contains(csv, "web01,");
        assert_contains(csv, "db01,");
}

/* ---- every command answers --help ---- */

static void test_every_command_has_help_with_examples(void **state)
{
        static const char *const leaves[] = {
                "info", "query", "source add", "source list", "source show", "source update", "source remove",
                "target add", "target list", "target show", "target update", "target remove", "instance list",
                "instance show", "instance override show", "instance override edit", "instance override remove",
                "network list", "network show", "network edit", "batch add", "batch list", "batch show",
                "batch edit", "batch remove", "batch info", "queue list", "queue show", "warning list",
                "warning show", "warning ack", "artifact upload", "artifact download", "artifact list",
                "artifact show", "artifact remove",
        };
        static const char *const groups[] = {
                "source", "target", "instance", "instance override", "network", "batch", "queue", "warning",
                "artifact",
        };
        struct fixture *f = *state;

        for (size_t i = 0; i < ELEMENTSOF(leaves) + ELEMENTSOF(groups); i++) {
                bool leaf = i < ELEMENTSOF(leaves);
                const char *name = leaf ? leaves[i] : groups[i - ELEMENTSOF(leaves)];
                _cleanup_free_ char *words = strdup(name), *out = NULL, *usage = NULL;
                const char *args[8] = {};
                char *save = NULL;
                size_t n = 0;

                for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
                        args[n++] = w;
                args[n] = "--help";
                out = ferry_ok(f, args);
                assert_non_null(usage = strjoin("Usage: ferry ", name, NULL));
                assert_true(startswith(out, usage));
                assert_true(out[strlen(usage)] == ' ' || out[strlen(usage)] == '\n');
                assert_contains(out, leaf ? "\nExamples:\n  ferry " : "\nCommands:\n");
                if (leaf)
                        assert_contains(out, "  -h, --help ");
        }
}

static void test_unknown_subcommands_are_usage_errors(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *unknown = ferry_fails(f, 2, ARGS("source", "refresh", "vc01"));
        _cleanup_free_ char *missing = ferry_fails(f, 2, ARGS("instance", "override"));
        _cleanup_free_ char *option = ferry_fails(f, 2, ARGS("batch", "list", "--colour"));
        _cleanup_free_ char *format = ferry_fails(f, 2, ARGS("warning", "list", "-f", "xml"));
        _cleanup_free_ char *args = ferry_fails(f, 2, ARGS("queue", "show"));

        assert_true(startswith(unknown, "ferry: Unknown command 'ferry source refresh'\n\nUsage: ferry source COMMAND"));
        assert_true(startswith(missing, "ferry: 'ferry instance override' needs a command\n\n"));
        assert_contains(missing, "\n  edit ");
        assert_string_equal(option, "ferry: Unknown option '--colour'\n"
                                    "Try 'ferry batch list --help' for more information.\n");
        assert_string_equal(format, "ferry: Invalid format 'xml': use table, compact, csv, json or yaml\n"
                                    "Try 'ferry warning list --help' for more information.\n");
        assert_string_equal(args, "ferry: Missing arguments: ferry queue show INSTANCE-UUID\n"
                                  "Try 'ferry queue show --help' for more information.\n");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_source_round_trips_through_every_command),
                T(test_source_update_removes_a_datastore_mount),
                T(test_source_password_can_come_from_stdin),
                T(test_source_add_in_a_script_refuses_what_is_missing),
                T(test_source_add_on_a_terminal_asks_and_hides_the_password),
                T(test_source_errors_of_ferryd_name_the_field),
                T(test_update_without_options_is_a_usage_error),
                T(test_target_round_trips_through_every_command),
                T(test_target_token_can_come_from_stdin),
                T(test_target_add_in_a_script_needs_an_endpoint),
                T(test_target_add_on_a_terminal_asks_for_a_hidden_token),
                T(test_batch_round_trips_through_every_command),
                T(test_batch_edit_opens_the_editor_on_a_terminal),
                T(test_batch_edit_reopens_the_editor_on_a_refused_change),
                T(test_batch_edit_with_broken_yaml_can_be_abandoned),
                T(test_batch_edit_refuses_to_overwrite_a_concurrent_change),
                T(test_batch_edit_from_stdin_reports_a_refused_change),
                T(test_batch_add_reads_yaml_from_a_file_or_stdin),
                T(test_batch_add_refuses_bad_windows_and_missing_expressions),
                T(test_batch_info_shows_the_batch_and_its_instances),
                T(test_artifact_round_trips_a_file),
                T(test_artifact_upload_shows_progress_on_a_terminal),
                T(test_artifact_upload_of_a_missing_file_creates_nothing),
                T(test_artifact_download_without_a_file_says_so),
                T(test_query_prints_the_metadata_as_json),
                T(test_query_reports_an_error_answer),
                cmocka_unit_test_setup_teardown(test_instance_list_shows_synced_instances_in_every_format,
                                                setup_seeded, teardown),
                cmocka_unit_test_setup_teardown(test_instance_list_filters_with_an_expression, setup_seeded, teardown),
                cmocka_unit_test_setup_teardown(test_instance_list_refuses_a_bad_filter, setup_seeded, teardown),
                cmocka_unit_test_setup_teardown(test_instance_override_round_trips, setup_seeded, teardown),
                cmocka_unit_test_setup_teardown(test_instance_override_refuses_a_bad_value, setup_seeded, teardown),
                cmocka_unit_test_setup_teardown(test_network_list_show_and_edit, setup_seeded, teardown),
                cmocka_unit_test_setup_teardown(test_queue_list_and_show, setup_seeded, teardown),
                cmocka_unit_test_setup_teardown(test_warning_list_show_and_ack, setup_seeded, teardown),
                cmocka_unit_test_setup_teardown(test_batch_info_lists_the_selected_instances, setup_seeded, teardown),
                T(test_every_command_has_help_with_examples),
                T(test_unknown_subcommands_are_usage_errors),
        };
#undef T

        return cmocka_run_group_tests(tests, NULL, NULL);
}
