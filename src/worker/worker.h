/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry-worker's commands.  Each gets its own argv (argv[0] is the command
 * name) and returns the exit status: 0, EXIT_FAILURE, or EXIT_USAGE.
 */
#ifndef FERRY_WORKER_WORKER_H
#define FERRY_WORKER_WORKER_H

#define EXIT_USAGE 2

int worker_copy(int argc, char *argv[]);
int worker_agent(int argc, char *argv[]);

#endif
