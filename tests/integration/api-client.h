/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests' raw access to ferryd's REST API over its unix socket: one call,
 * the parsed envelope back, failures fail the test.
 */
#ifndef FERRY_TESTS_API_CLIENT_H
#define FERRY_TESTS_API_CLIENT_H

#include <jansson.h>

struct api_answer {
        long status;
        char *etag;             /* NULL if none */
        char *text;             /* the raw body */
        json_t *envelope;
};

/* method path with body (may be NULL) and extra headers (NULL-terminated
 * "Name: value" list, may be NULL). */
void api_call(const char *socket_path, const char *method, const char *path, const char *body,
              const char *const *headers, struct api_answer *ret);

/* api_call() expecting status; returns the metadata (borrowed from ret). */
json_t *api_expect(const char *socket_path, const char *method, const char *path, const char *body, long status,
                   struct api_answer *ret);

/* Assert an error envelope with this code and message. */
void api_assert_error(const struct api_answer *a, long status, const char *message);

void api_answer_done(struct api_answer *a);

#endif
