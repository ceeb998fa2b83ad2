/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What integration tests know of the lab: its variables (tests/lab/lab env).
 */
#ifndef FERRY_TESTS_LAB_H
#define FERRY_TESTS_LAB_H

#include <stdint.h>

/* The value of a lab variable such as "LAB_INCUS_SOCKET".  A missing
 * variable fails the running test loudly: the lab is not up. */
const char *lab_env(const char *name);

/* Same, parsed as an unsigned integer. */
uint64_t lab_env_u64(const char *name);

/* Read a whole small file (a PEM, a JSON list); fails the test on error.
 * Free the result. */
char *lab_read_file(const char *path, size_t *ret_len);

#endif
