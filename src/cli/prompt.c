/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Questions on the terminal for what a command still needs.  Prompts go
 * to stderr, so that they show even when stdout is redirected; answers
 * come from stdin, which is a terminal whenever these are called.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/strbuf.h"

/* One line from stdin without its line end; -ENODATA at end of input. */
static int read_line(char **ret)
{
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        ssize_t n;

        errno = 0;
        n = getline(&line, &size, stdin);
        if (n < 0)
                return errno ? -errno : -ENODATA;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
        *ret = TAKE_PTR(line);
        return 0;
}

int cli_prompt(const char *question, char **ret)
{
        int r;

        fprintf(stderr, "%s", question);
        fflush(stderr);
        r = read_line(ret);
        if (r == -ENODATA)
                return log_error_errno(ECANCELED, "No answer: aborted");
        if (r < 0)
                return log_error_errno(r, "Cannot read the answer: %m");
        return 0;
}

/* Restored by the signal handler if ctrl+c hits while echo is off. */
static struct termios saved_termios;
static volatile sig_atomic_t echo_off;

static void restore_echo(int sig)
{
        if (echo_off)
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
        signal(sig, SIG_DFL);
        raise(sig);
}

int cli_prompt_secret(const char *question, char **ret)
{
        struct sigaction sa = { .sa_handler = restore_echo }, old_int, old_term;
        struct termios quiet;
        int r;

        if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
                return log_error_errno(errno, "Cannot read the terminal settings: %m");
        quiet = saved_termios;
        quiet.c_lflag &= ~(tcflag_t) ECHO;
        quiet.c_lflag |= ECHONL;

        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);

        /* Echo goes off before the question shows: whatever is typed after it stays hidden. */
        echo_off = 1;
        if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0) {
                r = log_error_errno(errno, "Cannot turn off the terminal echo: %m");
                echo_off = 0;
                goto finish;
        }
        fprintf(stderr, "%s", question);
        fflush(stderr);

        r = read_line(ret);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
        echo_off = 0;
        if (r == -ENODATA)
                r = log_error_errno(ECANCELED, "No answer: aborted");
        else if (r < 0)
                r = log_error_errno(r, "Cannot read the answer: %m");

finish:
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        return r;
}

int cli_read_secret_line(char **ret)
{
        int r = read_line(ret);

        if (r == -ENODATA)
                return log_error_errno(ENODATA, "Nothing to read on stdin");
        if (r < 0)
                return log_error_errno(r, "Cannot read stdin: %m");
        return 0;
}
