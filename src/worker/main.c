/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry-worker: the disk mover.  Today it has one command, copy (the
 * standalone copier); the agent command (the worker inside a migrating VM)
 * comes with ferryd's worker endpoints.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "worker/worker.h"

static void help(FILE *f)
{
        fprintf(f,
                "Usage: ferry-worker COMMAND [OPTIONS] [ARGS]\n"
                "       ferry-worker --help | --version\n"
                "\n"
                "ferry-worker copies virtual machine disks for ferry. In a migration it\n"
                "runs inside the new Incus virtual machine and writes that machine's disks\n"
                "from the source over NBD; on its own it copies from an NBD source to a\n"
                "file, a block device or standard output.\n"
                "\n"
                "Commands:\n"
                "  copy SRC DST   Copy the disk at the NBD source SRC to DST: only allocated\n"
                "                 data, zeros as holes, resumable, optionally verified\n"
                "\n"
                "The 'agent' command, which runs inside a migrating VM, is not there yet.\n"
                "\n"
                "Options:\n"
                "  -h, --help     Show this help and exit\n"
                "  -V, --version  Show the version and exit\n"
                "\n"
                "Example:\n"
                "  ferry-worker copy --verify 'nbd+unix:///?socket=/run/disk0.sock' disk0.img\n"
                "\n"
                "Run 'ferry-worker copy --help' for the copy options, or see 'man ferry-worker'.\n");
}

int main(int argc, char *argv[])
{
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        int c;

        log_set_ident("ferry-worker");

        /* "+": stop at the command, whose options are its own. */
        while ((c = getopt_long(argc, argv, "+hV", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help(stdout);
                        return EXIT_SUCCESS;
                case 'V':
                        printf("ferry-worker %s\n", FERRY_VERSION);
                        return EXIT_SUCCESS;
                default:
                        fputs("Try 'ferry-worker --help' for more information.\n", stderr);
                        return EXIT_USAGE;
                }

        if (optind >= argc) {
                fputs("ferry-worker: A command is required\n\n", stderr);
                help(stderr);
                return EXIT_USAGE;
        }
        if (streq(argv[optind], "copy")) {
                int first = optind;

                optind = 0;     /* glibc: start getopt over, on the command's argv */
                return worker_copy(argc - first, argv + first);
        }
        fprintf(stderr, "ferry-worker: Unknown command '%s'\n\n", argv[optind]);
        help(stderr);
        return EXIT_USAGE;
}
