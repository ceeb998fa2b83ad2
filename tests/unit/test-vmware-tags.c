/* SPDX-License-Identifier: Apache-2.0 */
/* vSphere tags into instance config (src/source/vmware/tags.c, the pure part). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/json.h"
#include "source/vmware/tags.h"

static json_t *load(const char *text)
{
        json_t *v = json_loads(text, 0, NULL);

        assert_non_null(v);
        return v;
}

static const char *config_of(const json_t *instances, size_t i, const char *key)
{
        return json_string_value(json_object_get(json_object_get(json_array_get(instances, i), "config"), key));
}

static void test_tags_become_sorted_comma_separated_config_per_category(void **state)
{
        _cleanup_json_ json_t *instances = load("[{\"config\": {\"vmware.moref\": \"vm-1\"}},"
                                                " {\"config\": {\"vmware.moref\": \"vm-2\"}}]");
        _cleanup_json_ json_t *attachments = load("[{\"object_id\": {\"id\": \"vm-1\"}, \"tag_ids\": [\"t2\", \"t1\", \"t3\"]},"
                                                  " {\"object_id\": {\"id\": \"vm-2\"}, \"tag_ids\": null}]");
        _cleanup_json_ json_t *tags = load("{\"t1\": {\"name\": \"dba\", \"category_id\": \"c1\"},"
                                           " \"t2\": {\"name\": \"data\", \"category_id\": \"c1\"},"
                                           " \"t3\": {\"name\": \"prod\", \"category_id\": \"c2\"}}");
        _cleanup_json_ json_t *categories = load("{\"c1\": {\"name\": \"team\"}, \"c2\": {\"name\": \"env\"}}");
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(vmware_tags_apply(instances, attachments, tags, categories, &err), 0);
        assert_string_equal(config_of(instances, 0, "tag.team"), "data,dba");
        assert_string_equal(config_of(instances, 0, "tag.env"), "prod");
        assert_null(config_of(instances, 1, "tag.team"));
        assert_int_equal(json_object_size(json_object_get(json_array_get(instances, 1), "config")), 1);
}

static void test_a_tag_without_category_is_a_malformed_answer(void **state)
{
        _cleanup_json_ json_t *instances = load("[{\"config\": {\"vmware.moref\": \"vm-1\"}}]");
        _cleanup_json_ json_t *attachments = load("[{\"object_id\": {\"id\": \"vm-1\"}, \"tag_ids\": [\"t9\"]}]");
        _cleanup_json_ json_t *tags = load("{\"t9\": {\"name\": \"lost\", \"category_id\": \"c9\"}}");
        _cleanup_json_ json_t *categories = load("{}");
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(vmware_tags_apply(instances, attachments, tags, categories, &err), -EBADMSG);
        assert_string_equal(err.message, "vAPI tag 't9' has no name or category");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tags_become_sorted_comma_separated_config_per_category),
                cmocka_unit_test(test_a_tag_without_category_is_a_malformed_answer),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
