/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry artifact upload|download|list|show|remove: /1.0/artifacts.
 * Files stream from and to disk: never whole in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cli/cli.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"

#define SHA256_HEX_SIZE 65

static const struct column artifact_columns[] = {
        COLUMN("NAME", "name"),
        COLUMN("TYPE", "type"),
        COLUMN("DESCRIPTION", "description"),
        COLUMN_AS("SIZE", "file.size", COLUMN_SIZE),
        COLUMN("SHA256", "file.sha256"),
        COLUMN("UPLOADED AT", "file.uploaded_at"),
};

static const struct cli_option artifact_upload_options[] = {
        { "type", 't', "TYPE", "vddk, virtio-win, worker-image or other (default: other)" },
        { "description", 'd', "TEXT", "What the file is" },
        {}
};

static const struct cli_option artifact_list_options[] = {
        CLI_OPTION_FORMAT,
        {}
};

/* The SHA-256 of what fd holds from its start, read in chunks; leaves fd at 0. */
static int sha256_fd(int fd, const char *name, char ret[static SHA256_HEX_SIZE])
{
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int digest_len = 0;
        EVP_MD_CTX *ctx;
        int r = 0;

        if (lseek(fd, 0, SEEK_SET) < 0)
                return log_error_errno(errno, "Cannot seek in '%s': %m", name);
        ctx = EVP_MD_CTX_new();
        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(ctx);
                return log_error_errno(ENOMEM, "Cannot compute a SHA-256");
        }
        for (;;) {
                char buf[1 << 16];
                ssize_t n = read(fd, buf, sizeof buf);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = log_error_errno(errno, "Cannot read '%s': %m", name);
                        break;
                }
                if (n == 0)
                        break;
                EVP_DigestUpdate(ctx, buf, (size_t) n);
        }
        if (r >= 0 && EVP_DigestFinal_ex(ctx, digest, &digest_len) != 1)
                r = log_error_errno(EIO, "Cannot compute a SHA-256");
        EVP_MD_CTX_free(ctx);
        if (r < 0)
                return r;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return log_error_errno(errno, "Cannot seek in '%s': %m", name);
        return hex_encode(digest, digest_len, ret, SHA256_HEX_SIZE);
}

/* A progress line on stderr, redrawn at most five times a second. */
struct progress {
        const char *verb;       /* "Uploading" */
        const char *name;
        uint64_t last_ms;
        bool shown;
};

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static void show_progress(uint64_t done, uint64_t total, void *userdata)
{
        struct progress *p = userdata;
        char done_text[FORMAT_SIZE_MAX], total_text[FORMAT_SIZE_MAX];
        uint64_t now = now_ms();

        if (p->shown && now - p->last_ms < 200 && done != total)
                return;
        p->last_ms = now;
        p->shown = true;
        format_size(done, done_text);
        if (total > 0) {
                format_size(total, total_text);
                fprintf(stderr, "\r\033[K%s %s: %3u%% (%s of %s)", p->verb, p->name,
                        (unsigned) (done * 100 / total), done_text, total_text);
        } else
                fprintf(stderr, "\r\033[K%s %s: %s", p->verb, p->name, done_text);
        fflush(stderr);
}

static void progress_done(struct progress *p)
{
        if (p->shown)
                fputs("\r\033[K", stderr);
}

static int artifact_upload(struct cli *cli, int argc, char *argv[])
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *record = NULL, *patch = NULL, *metadata = NULL;
        _cleanup_free_ char *path = NULL, *file_path = NULL, *sha_header = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *name = argv[1], *file = argv[2];
        const char *type = cli_args_get(cli->args, "type"), *description = cli_args_get(cli->args, "description");
        struct http_transfer transfer = HTTP_TRANSFER_INIT;
        struct progress progress = { .verb = "Uploading", .name = name };
        char sha[SHA256_HEX_SIZE], size_text[FORMAT_SIZE_MAX];
        struct ferry_error err = {};
        bool created = false;
        struct stat st;
        int r;

        (void) argc;
        fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Cannot open '%s': %m", file);
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Cannot stat '%s': %m", file);
        if (!S_ISREG(st.st_mode))
                return log_error_errno(EINVAL, "'%s' is not a regular file", file);

        path = cli_path("/1.0/artifacts", name, NULL);
        file_path = cli_path("/1.0/artifacts", name, "/file");
        record = json_object();
        patch = json_object();
        if (!path || !file_path || !record || !patch)
                return log_error_errno(ENOMEM, "Out of memory");
        if (cli_json_set_string(record, "name", name, "NAME") < 0 ||
            cli_json_set_string(record, "type", type ?: "other", "--type") < 0 ||
            (description && cli_json_set_string(record, "description", description, "--description") < 0))
                return -EINVAL;

        /* The checksum first: ferryd checks it against what arrives. */
        r = sha256_fd(fd, file, sha);
        if (r < 0)
                return r;
        sha_header = strjoin("X-Ferry-SHA256: ", sha, NULL);
        if (!sha_header)
                return log_error_errno(ENOMEM, "Out of memory");

        r = cli_connect(cli, &c);
        if (r < 0)
                return r;

        /* A new artifact gets its record; an existing one gets a new file (and type or description). */
        r = client_request(c, "POST", "/1.0/artifacts", record, &metadata, &err);
        if (r >= 0)
                created = true;
        else if (r == -EEXIST) {
                if (type && cli_json_set_string(patch, "type", type, "--type") < 0)
                        return -EINVAL;
                if (description && cli_json_set_string(patch, "description", description, "--description") < 0)
                        return -EINVAL;
                if (json_object_size(patch) > 0) {
                        json_decref(metadata);
                        metadata = NULL;
                        r = client_request(c, "PATCH", path, patch, &metadata, &err);
                        if (r < 0)
                                return cli_log_error(&err);
                }
        } else
                return cli_log_error(&err);

        transfer.upload_fd = fd;
        transfer.upload_size = (uint64_t) st.st_size;
        if (isatty(STDERR_FILENO)) {
                transfer.progress = show_progress;
                transfer.userdata = &progress;
        }
        json_decref(metadata);
        metadata = NULL;
        r = client_transfer(c, "PUT", file_path, &transfer, (const char *const[]) { sha_header, NULL }, &metadata,
                            &err);
        progress_done(&progress);
        if (r < 0) {
                struct ferry_error ignored = {};
                _cleanup_json_ json_t *gone = NULL;

                cli_log_error(&err);
                /* No record without its file when this upload made the record. */
                if (created)
                        (void) client_request(c, "DELETE", path, NULL, &gone, &ignored);
                return r;
        }

        format_size((uint64_t) st.st_size, size_text);
        printf("Artifact %s uploaded: %s, sha256 %s\n", name, size_text, sha);
        return 0;
}

/* Download into a temporary file next to dest, check its SHA-256, then rename it into place. */
static int download_to_file(struct client *c, const char *name, const char *file_path, const char *dest,
                            const char *want_sha)
{
        _cleanup_free_ char *tmp = strjoin(dest, ".ferry-XXXXXX", NULL);
        _cleanup_close_ int fd = -EBADF;
        struct http_transfer transfer = HTTP_TRANSFER_INIT;
        struct progress progress = { .verb = "Downloading", .name = name };
        char sha[SHA256_HEX_SIZE];
        struct ferry_error err = {};
        int r;

        if (!tmp)
                return log_error_errno(ENOMEM, "Out of memory");
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Cannot create a file next to '%s': %m", dest);

        transfer.download_fd = fd;
        if (isatty(STDERR_FILENO)) {
                transfer.progress = show_progress;
                transfer.userdata = &progress;
        }
        r = client_transfer(c, "GET", file_path, &transfer, NULL, NULL, &err);
        progress_done(&progress);
        if (r < 0)
                r = cli_log_error(&err);
        if (r >= 0)
                r = sha256_fd(fd, tmp, sha);
        if (r >= 0 && want_sha && !streq(sha, want_sha))
                r = log_error_errno(EBADMSG, "The download of '%s' is corrupt: its SHA-256 is %s, not %s", name, sha,
                                    want_sha);
        if (r >= 0 && fchmod(fd, 0644) < 0)
                r = log_error_errno(errno, "Cannot set the mode of '%s': %m", tmp);
        if (r >= 0 && rename(tmp, dest) < 0)
                r = log_error_errno(errno, "Cannot rename '%s' to '%s': %m", tmp, dest);
        if (r < 0)
                unlink(tmp);
        return r;
}

static int artifact_download(struct cli *cli, int argc, char *argv[])
{
        _cleanup_client_ struct client *c = NULL;
        _cleanup_json_ json_t *record = NULL;
        _cleanup_free_ char *path = NULL, *file_path = NULL, *in_dir = NULL;
        const char *name = argv[1], *dest = argc > 2 ? argv[2] : argv[1], *want_sha;
        struct stat st;
        struct http_transfer transfer = HTTP_TRANSFER_INIT;
        struct ferry_error err = {};
        json_t *file;
        int r;

        path = cli_path("/1.0/artifacts", name, NULL);
        file_path = cli_path("/1.0/artifacts", name, "/file");
        if (!path || !file_path)
                return -ENOMEM;

        r = cli_connect(cli, &c);
        if (r < 0)
                return r;
        r = client_request(c, "GET", path, NULL, &record, &err);
        if (r < 0)
                return cli_log_error(&err);
        file = json_object_get(record, "file");
        if (!json_is_object(file))
                return log_error_errno(ENOENT, "Artifact '%s' has no file yet: upload one with 'ferry artifact upload %s FILE'",
                                       name, name);
        want_sha = json_string_value(json_object_get(file, "sha256"));

        if (streq(dest, "-")) {
                fflush(stdout);
                transfer.download_fd = STDOUT_FILENO;
                r = client_transfer(c, "GET", file_path, &transfer, NULL, NULL, &err);
                return r < 0 ? cli_log_error(&err) : 0;
        }

        /* Into a directory: as NAME there. */
        if (stat(dest, &st) == 0 && S_ISDIR(st.st_mode)) {
                in_dir = strjoin(dest, endswith(dest, "/") ? "" : "/", name, NULL);
                if (!in_dir)
                        return log_error_errno(ENOMEM, "Out of memory");
                dest = in_dir;
        }

        r = download_to_file(c, name, file_path, dest, want_sha);
        if (r < 0)
                return r;
        printf("Artifact %s downloaded to %s\n", name, dest);
        return 0;
}

static int artifact_list(struct cli *cli, int argc, char *argv[])
{
        (void) argc;
        (void) argv;
        return cli_list(cli, "/1.0/artifacts", NULL, artifact_columns, ELEMENTSOF(artifact_columns));
}

static int artifact_show(struct cli *cli, int argc, char *argv[])
{
        _cleanup_free_ char *path = cli_path("/1.0/artifacts", argv[1], NULL);

        (void) argc;
        return path ? cli_show(cli, path) : -ENOMEM;
}

static int artifact_remove(struct cli *cli, int argc, char *argv[])
{
        (void) argc;
        return cli_remove(cli, "/1.0/artifacts", "Artifact", argv[1]);
}

const struct cli_command cli_artifact_commands[] = {
        {
                .name = "upload",
                .args = "NAME FILE",
                .summary = "Upload a file as an artifact",
                .description =
                        "Create the artifact NAME if it does not exist, then stream FILE to ferryd\n"
                        "with its SHA-256, which ferryd checks.  Uploading to an existing artifact\n"
                        "replaces its file.  On a terminal, a progress line shows on stderr.",
                .min_args = 2,
                .max_args = 2,
                .run = artifact_upload,
                .options = artifact_upload_options,
                .examples = "ferry artifact upload vddk VMware-vix-disklib-8.0.3.x86_64.tar.gz --type vddk \\\n"
                            "    --description 'VDDK 8.0.3'\n"
                            "ferry artifact upload virtio-win virtio-win-0.1.262.iso --type virtio-win",
        },
        {
                .name = "download",
                .args = "NAME [FILE]",
                .summary = "Download the file of an artifact",
                .description = "Download the file of artifact NAME to FILE (default: NAME in the current\n"
                               "directory; a directory: NAME in it; '-' for stdout).  The file appears\n"
                               "only once complete and its SHA-256 matches.",
                .min_args = 1,
                .max_args = 2,
                .run = artifact_download,
                .options = cli_no_options,
                .examples = "ferry artifact download vddk /tmp/vddk.tar.gz\n"
                            "ferry artifact download vddk - | tar tz",
        },
        {
                .name = "list",
                .args = "",
                .summary = "List artifacts",
                .description = "List the artifacts.  Columns: NAME, TYPE, DESCRIPTION, SIZE, SHA256,\n"
                               "UPLOADED AT.",
                .run = artifact_list,
                .options = artifact_list_options,
                .examples = "ferry artifact list\nferry artifact list -f csv",
        },
        {
                .name = "show",
                .args = "NAME",
                .summary = "Show an artifact as YAML",
                .description = "Show the record of an artifact as YAML.",
                .min_args = 1,
                .max_args = 1,
                .run = artifact_show,
                .options = cli_no_options,
                .examples = "ferry artifact show vddk",
        },
        {
                .name = "remove",
                .args = "NAME",
                .summary = "Remove an artifact and its file",
                .description = "Remove an artifact and its file.",
                .min_args = 1,
                .max_args = 1,
                .run = artifact_remove,
                .options = cli_no_options,
                .examples = "ferry artifact remove vddk",
        },
        {}
};
