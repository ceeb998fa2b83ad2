/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry, the command line client: the command table and what commands
 * share.  A command is one entry in cli_commands[] (main.c) and one
 * function here; main.c checks the argument count and answers
 * "ferry COMMAND --help" from the table, so a command only does its work.
 *
 * A command with .subcommands is a group ("ferry source ..."): its table
 * (ended by an entry without a name) is searched for the next word, to any
 * depth ("ferry instance override show").  A command with .options has
 * them parsed by main.c from the table: run() then gets only the
 * positional arguments in argv (argv[0] is still the command's name), the
 * options in cli->args, and min_args/max_args count the positional
 * arguments.  A command without .options gets its raw arguments.
 */
#ifndef FERRY_CLI_CLI_H
#define FERRY_CLI_CLI_H

#include <stdbool.h>

#include "cli/args.h"
#include "cli/client.h"
#include "cli/format.h"
#include "common/fingerprint.h"

#define CLI_DEFAULT_DIR "/var/lib/ferry"
#define CLI_SOCKET_NAME "unix.socket"

/* What run() returns (instead of a negative errno) after cli_usage_error(). */
#define CLI_EXIT_USAGE 2

struct cli {
        const char *socket_path;        /* --socket, $FERRY_DIR/unix.socket or the default */
        const struct cli_args *args;    /* the running command's options, if it has a table */
        const char *command;            /* "ferry source add", for messages */
        const char *remote;             /* --remote NAME ("local" with --socket), NULL: the default */
};

struct cli_command {
        const char *name;
        const char *args;               /* synopsis after the name, "" for none */
        const char *summary;            /* one line for "ferry --help" */
        const char *description;        /* "ferry NAME --help", may be NULL */
        int min_args;                   /* arguments after the name */
        int max_args;
        /* argv[0] is the command name.  Returns 0, or a negative errno
         * after logging the error once, or CLI_EXIT_USAGE. */
        int (*run)(struct cli *cli, int argc, char *argv[]);
        const struct cli_command *subcommands;  /* a group: run is not used */
        const struct cli_option *options;       /* ended by an entry without a name */
        const char *examples;                   /* lines shown under "Examples:" */
};

/* For commands that take no options but want them refused. */
extern const struct cli_option cli_no_options[];

#define CLI_OPTION_FORMAT \
        { "format", 'f', "FORMAT", "Output format: table (default), compact, csv, json or yaml" }

/* Connect to ferryd; logs the error. */
int cli_connect(struct cli *cli, struct client **ret);

/* remote.c: a client of cli->remote, or of the default remote (cli/remotes.h). */
int cli_remote_connect(struct cli *cli, struct client **ret, struct ferry_error *err);

/* Where that remote is: the unix socket (socket_path set, borrowed from
 * cli), or an HTTPS address with its pinned fingerprint and this client's
 * certificate and key files. */
struct cli_remote {
        const char *socket_path;
        char *addr;
        char fingerprint[FINGERPRINT_HEX_SIZE];
        char *cert_path;
        char *key_path;
};
int cli_remote_resolve(struct cli *cli, struct cli_remote *ret, struct ferry_error *err);
void cli_remote_done(struct cli_remote *r);

/* Log err ("Error: <message>" on stderr) and return its code. */
int cli_log_error(const struct ferry_error *err);

/* Print "ferry: <message>" and "Try '<command> --help' ..." on stderr;
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli *cli, const char *fmt, ...) _printf_(2, 3);

/* Whether a person is at the keyboard: stdin is a terminal. */
bool cli_is_interactive(void);

/* "/1.0/sources/<name escaped><suffix>"; suffix may be NULL.  Logs on failure. */
char *cli_path(const char *collection, const char *name, const char *suffix);

/* DELETE <collection>/NAME and say so: "<What> NAME removed". */
int cli_remove(struct cli *cli, const char *collection, const char *what, const char *name);

/* operation.c: syncs of sources and targets, which ferryd runs as operations. */
struct cli_sync_kind {
        const char *collection;         /* "/1.0/sources" */
        const char *resource_type;      /* "sources": where operations list the resource */
        const char *what;               /* "source", for messages */
        const char *title;              /* "Source", at the start of one */
        /* Print what a successful sync did, from its operation's metadata. */
        void (*report)(const char *name, const json_t *metadata);
};

/* Wait (GET …/wait, in rounds) for operation id to end; *ret_op its last state. */
int cli_operation_wait(struct client *c, const char *id, json_t **ret_op, struct ferry_error *err);
/* POST path with {}, wait for the operation it starts; *ret_metadata its metadata (may be NULL).
 * A failed operation is logged with its error: -EIO. */
int cli_run_operation(struct cli *cli, const char *path, json_t **ret_metadata);
/* POST <collection>/NAME/sync, then wait and report unless --no-wait was given. */
int cli_sync(struct cli *cli, const struct cli_sync_kind *kind, const char *name);
/* After an add: wait for the sync ferryd started on its own, if any, and report it. */
int cli_wait_first_sync(struct cli *cli, const struct cli_sync_kind *kind, const char *name);

/* The --format option (default table); a bad value is a usage error. */
int cli_output_format(struct cli *cli, enum output_format *ret);

/* GET collection?recursion=1[&filter=...] and print it in --format. */
int cli_list(struct cli *cli, const char *collection, const char *filter, const struct column *columns,
             size_t n_columns);

/*
 * The same, with each object passed through view (a new object, NULL on
 * ENOMEM) before it becomes a table row; JSON and YAML stay as ferryd
 * sent them.  Instances use it to show their values with the overrides.
 */
typedef json_t *(*cli_view_fn)(const json_t *object);
int cli_list_with_view(struct cli *cli, const char *collection, const char *filter, const struct column *columns,
                       size_t n_columns, cli_view_fn view);

/* A list of objects in format, each row through view (may be NULL); prints it. */
int cli_print_list(const json_t *list, const struct column *columns, size_t n_columns, enum output_format format,
                   cli_view_fn view);

/* GET path and print the metadata as YAML. */
int cli_show(struct cli *cli, const char *path);

/* One request whose answer is not printed; body may be NULL. */
int cli_send(struct cli *cli, const char *method, const char *path, const json_t *body);

/* Read a whole file ("-" for stdin) into a NUL-terminated buffer; logs. */
int cli_read_file(const char *path, char **ret, size_t *ret_len);

/* Parse an integer option ("--import-limit 20"); absent leaves *ret. */
int cli_option_int(struct cli *cli, const char *name, json_int_t *ret, bool *ret_given);

/*
 * JSON building for request bodies; each logs its failure.  Strings from
 * the command line must be UTF-8: "Invalid --username: not valid UTF-8"
 * names the option (what).  cli_json_child() returns the object at key,
 * adding an empty one if there is none (borrowed).
 */
int cli_json_set_string(json_t *obj, const char *key, const char *value, const char *what);
int cli_json_set(json_t *obj, const char *key, json_t *value);
json_t *cli_json_child(json_t *obj, const char *key);
/* Set obj[key] from the string option of the same meaning, if given; 1 if it was. */
int cli_json_set_option(struct cli *cli, json_t *obj, const char *key, const char *option);
/* Set obj[key] from an integer option, if given. */
int cli_json_set_int_option(struct cli *cli, json_t *obj, const char *key, const char *option);

/* The columns of `ferry instance list`, shared with `ferry batch info`. */
extern const struct column cli_instance_columns[];
extern const size_t cli_instance_n_columns;

/*
 * The edit loop of `incus edit` (edit.c): GET path with its ETag, show the
 * object as YAML under header (lines that each start with "### ") in
 * $EDITOR, $VISUAL or vi, and PUT what comes back with If-Match.  A YAML
 * or validation error shows "Config parsing error: ..." and re-opens the
 * editor on the text as it was left.  When stdin is not a terminal, its
 * YAML is PUT instead, without asking.
 */
int cli_edit(struct cli *cli, const char *path, const char *header);

/* prompt.c: ask on the terminal.  The answer has no newline; free() it. */
int cli_prompt(const char *question, char **ret);
/* Without echo, for passwords and tokens. */
int cli_prompt_secret(const char *question, char **ret);
/* Read one line from stdin (a piped password); the newline is dropped. */
int cli_read_secret_line(char **ret);

int cli_info(struct cli *cli, int argc, char *argv[]);
int cli_query(struct cli *cli, int argc, char *argv[]);
int cli_monitor(struct cli *cli, int argc, char *argv[]);

/* The command groups, one file each. */
extern const struct cli_command cli_source_commands[];
extern const struct cli_command cli_target_commands[];
extern const struct cli_command cli_instance_commands[];
extern const struct cli_command cli_network_commands[];
extern const struct cli_command cli_batch_commands[];
extern const struct cli_command cli_queue_commands[];
extern const struct cli_command cli_warning_commands[];
extern const struct cli_command cli_artifact_commands[];
extern const struct cli_command cli_hook_commands[];
extern const struct cli_option cli_query_options[];
extern const struct cli_command cli_remote_commands[];  /* remote.c */
extern const struct cli_command cli_config_commands[];  /* trust.c */
extern const struct cli_option cli_monitor_options[];

#endif
