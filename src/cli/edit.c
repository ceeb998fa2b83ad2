/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `ferry ... edit`: an object as YAML in the user's editor, sent back
 * with If-Match so that a concurrent change is never overwritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/yaml.h"

static const char *editor_command(void)
{
        const char *e = getenv("EDITOR");

        if (e && *e)
                return e;
        e = getenv("VISUAL");
        if (e && *e)
                return e;
        return "vi";
}

/* Run the editor the way git does: through the shell, which splits "code --wait". */
static int run_editor(const char *file)
{
        const char *editor = editor_command();
        _cleanup_free_ char *script = strjoin(editor, " \"$1\"", NULL);
        int status;
        pid_t pid;

        if (!script)
                return log_error_errno(ENOMEM, "Out of memory");

        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "Cannot start the editor: %m");
        if (pid == 0) {
                execl("/bin/sh", "sh", "-c", script, "sh", file, (char *) NULL);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return log_error_errno(errno, "Cannot wait for the editor: %m");

        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status))
                return log_error_errno(ECANCELED, "The editor '%s' failed with exit status %d", editor,
                                       WEXITSTATUS(status));
        return log_error_errno(ECANCELED, "The editor '%s' was killed by signal %d", editor, WTERMSIG(status));
}

static int write_file(const char *path, const char *text)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        size_t len = strlen(text);

        if (fd < 0)
                return log_error_errno(errno, "Cannot open '%s': %m", path);
        while (len > 0) {
                ssize_t n = write(fd, text, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "Cannot write '%s': %m", path);
                }
                text += n;
                len -= (size_t) n;
        }
        return 0;
}

/* Show why the text was refused and wait for enter; -ECANCELED if no one answers. */
static int ask_to_edit_again(const char *message)
{
        _cleanup_free_ char *line = NULL;
        size_t size = 0;

        fprintf(stderr, "Config parsing error: %s\n", message);
        fprintf(stderr, "Press enter to open the editor again or ctrl+c to abort change\n");
        fflush(stderr);
        if (getline(&line, &size, stdin) < 0)
                return log_error_errno(ECANCELED, "Aborted: %s", message);
        return 0;
}

static int edit_from_stdin(struct client *c, const char *path)
{
        _cleanup_json_ json_t *obj = NULL, *metadata = NULL;
        _cleanup_free_ char *text = NULL;
        struct ferry_error err = {};
        size_t len;
        int r;

        r = cli_read_file("-", &text, &len);
        if (r < 0)
                return r;
        r = yaml_parse_to_json(text, len, &obj, &err);
        if (r < 0)
                return cli_log_error(&err);
        if (!json_is_object(obj))
                return log_error_errno(EINVAL, "The YAML on stdin is not a mapping of fields");

        r = client_request(c, "PUT", path, obj, &metadata, &err);
        if (r < 0)
                return cli_log_error(&err);
        return 0;
}

int cli_edit(struct cli *cli, const char *path, const char *header)
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *current = NULL;
        _cleanup_free_ char *etag = NULL, *yaml = NULL, *text = NULL;
        char file[] = "/tmp/ferry-edit-XXXXXX.yaml";
        _cleanup_close_ int fd = -EBADF;
        struct ferry_error err = {};
        int r;

        r = cli_connect(cli, &c);
        if (r < 0)
                return r;

        if (!cli_is_interactive())
                return edit_from_stdin(c, path);

        r = client_request_etag(c, "GET", path, NULL, NULL, &current, &etag, &err);
        if (r < 0)
                return cli_log_error(&err);
        r = json_to_yaml(current, &yaml);
        if (r < 0)
                return log_error_errno(r, "Failed to format the object as YAML: %m");
        text = strjoin(header, yaml, NULL);
        if (!text)
                return log_error_errno(ENOMEM, "Out of memory");

        fd = mkstemps(file, strlen(".yaml"));
        if (fd < 0)
                return log_error_errno(errno, "Cannot create a temporary file: %m");

        for (;;) {
                _cleanup_json_ json_t *edited = NULL, *metadata = NULL;
                _cleanup_free_ char *new_text = NULL;
                size_t len;

                r = write_file(file, text);
                if (r >= 0)
                        r = run_editor(file);
                if (r >= 0)
                        r = cli_read_file(file, &new_text, &len);
                if (r < 0)
                        break;
                free(text);
                text = TAKE_PTR(new_text);

                ferry_error_clear(&err);
                r = yaml_parse_to_json(text, len, &edited, &err);
                if (r >= 0 && !json_is_object(edited))
                        r = ferry_error_set(&err, -EINVAL, "The YAML is not a mapping of fields");
                if (r < 0) {
                        r = ask_to_edit_again(ferry_error_message(&err));
                        if (r < 0)
                                break;
                        continue;
                }

                if (json_equal(edited, current)) {
                        r = 0;
                        break;
                }

                r = client_request_etag(c, "PUT", path, edited, etag, &metadata, NULL, &err);
                if (r == -EINVAL) {
                        r = ask_to_edit_again(ferry_error_message(&err));
                        if (r < 0)
                                break;
                        continue;
                }
                if (r == -ESTALE)
                        r = log_error_errno(r, "The object changed while you were editing it (%s): run the command "
                                               "again to edit its current version",
                                            ferry_error_message(&err));
                else if (r < 0)
                        r = cli_log_error(&err);
                break;
        }

        unlink(file);
        return r;
}
