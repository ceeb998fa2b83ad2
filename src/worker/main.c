/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry-worker: the disk mover.  Two commands: copy (the standalone
 * copier) and agent (the worker inside a migrating VM, driven by ferryd).
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
                "  agent          Run as ferry's worker inside a migrating VM: take commands\n"
                "                 from ferryd, copy the VM's disks, report progress\n"
                "\n"
                "Options:\n"
                "  -h, --help     Show this help and exit\n"
                "  -V, --version  Show the version and exit\n"
                "\n"
                "Example:\n"
                "  ferry-worker copy --verify 'nbd+unix:///?socket=/run/disk0.sock' disk0.img\n"
                "\n"
                "Run 'ferry-worker COMMAND --help' for a command's options, or see 'man ferry-worker'.\n");
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
        if (streq(argv[optind], "agent")) {
                int first = optind;

                optind = 0;
                return worker_agent(argc - first, argv + first);
        }
        fprintf(stderr, "ferry-worker: Unknown command '%s'\n\n", argv[optind]);
        help(stderr);
        return EXIT_USAGE;
}
