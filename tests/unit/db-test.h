/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the src/db tests share: a fresh database in a temporary directory
 * per test, sample objects in the shape of docs/rest-api.md, and asserts
 * on JSON and errors.  Every helper fails the running test (cmocka) rather
 * than returning an error.
 */
#ifndef FERRY_TESTS_DB_TEST_H
#define FERRY_TESTS_DB_TEST_H

#include <jansson.h>

#include "common/error.h"
#include "db/db.h"

struct db_test {
        char *dir;      /* the temporary directory, removed by the teardown */
        char *path;     /* <dir>/ferry.db */
        struct db *db;  /* open at the latest schema */
        const void *param; /* the cmocka prestate */
};

/* cmocka setup/teardown: *state becomes a struct db_test. */
int db_test_setup(void **state);
/* The same with db NULL and no file yet. */
int db_test_setup_unopened(void **state);
int db_test_teardown(void **state);

/* Parse JSON text (an object or array) or fail the test. */
json_t *json_from(const char *text);

/* Fail, showing both, unless a and b are equal JSON. */
void assert_json_equal(const json_t *a, const json_t *b);

/* Fail unless r and err are the error code with exactly this message. */
void assert_error(int r, const struct ferry_error *err, int code, const char *message);

/* Fail unless r is not negative, showing err's message if it is. */
void assert_ok(int r, const struct ferry_error *err);

/* The string obj[key], failing the test if it is not one; borrowed from obj. */
const char *string_at(const json_t *obj, const char *key);

/* Copy of obj without the timestamps the repositories add. */
json_t *json_without_timestamps(const json_t *obj);

/* Sample objects (free with json_decref()). */
json_t *sample_source(const char *name);
json_t *sample_target(const char *name);
json_t *sample_batch(const char *name);
json_t *sample_instance(const char *uuid, const char *source, const char *name);
json_t *sample_network(const char *uuid, const char *source);
json_t *sample_queue_entry(const char *instance_uuid, const char *batch, const char *target);

/*
 * A source "vc01" with instance "i-1" queued in batch "wave1" on target
 * "incus1": what the in-use rules are about.
 */
void db_test_add_queued_instance(struct db *db);

#endif
