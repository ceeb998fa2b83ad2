/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry-worker: the disk mover.  This release only describes itself; its
 * copy and agent commands come with the copy engine (src/disk/).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#define EXIT_USAGE 2

static void help(FILE *f)
{
        fprintf(f,
                "Usage: ferry-worker --help | --version\n"
                "\n"
                "ferry-worker copies virtual machine disks for ferry. In a migration it\n"
                "runs inside the new Incus virtual machine and writes that machine's disks\n"
                "from the source over NBD; on its own it copies from an NBD source to a\n"
                "file or block device.\n"
                "\n"
                "This release can only describe itself: its commands, 'copy' and 'agent',\n"
                "arrive with ferry's disk copy engine.\n"
                "\n"
                "Options:\n"
                "  -h, --help     Show this help and exit\n"
                "  -V, --version  Show the version and exit\n"
                "\n"
                "See 'man ferry-worker' for details.\n");
}

int main(int argc, char *argv[])
{
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        int c;

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

        if (optind < argc)
                fprintf(stderr, "ferry-worker: Unknown command '%s': this release has no commands yet\n\n",
                        argv[optind]);
        else
                fputs("ferry-worker: A command is required, and this release has none yet\n\n", stderr);
        help(stderr);
        return EXIT_USAGE;
}
