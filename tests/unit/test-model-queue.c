/* SPDX-License-Identifier: Apache-2.0 */
/* src/model/queue.c: the rules of the batch and queue entry state machines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/duration.h"
#include "common/json.h"
#include "model/queue.h"

static json_t *parse(const char *text)
{
        json_error_t e;
        json_t *v = json_loads(text, 0, &e);

        if (!v)
                fail_msg("Bad test JSON: %s", e.text);
        return v;
}

static void status_names_round_trip(void **state)
{
        (void) state;
        for (int s = 0; s < _QUEUE_STATUS_MAX; s++)
                assert_int_equal(queue_status_from_string(queue_status_to_string(s)), s);
        for (int s = 0; s < _BATCH_STATUS_MAX; s++)
                assert_int_equal(batch_status_from_string(batch_status_to_string(s)), s);
        assert_string_equal(queue_status_to_string(QUEUE_BACKGROUND_IMPORT), "Background import");
        assert_string_equal(queue_status_to_string(QUEUE_POST_IMPORT), "Post-import");
        assert_int_equal(queue_status_from_string("waiting"), -EINVAL);
        assert_int_equal(queue_status_from_string(NULL), -EINVAL);
        assert_null(queue_status_to_string(_QUEUE_STATUS_MAX));
        assert_null(batch_status_to_string(-1));
}

static void only_settled_entries_can_be_retried(void **state)
{
        static const struct {
                enum queue_status s;
                bool ok;
        } rows[] = {
                { QUEUE_BLOCKED, true },          { QUEUE_WAITING, false },   { QUEUE_CREATING, false },
                { QUEUE_BACKGROUND_IMPORT, false }, { QUEUE_IDLE, false },    { QUEUE_FINAL_IMPORT, false },
                { QUEUE_POST_IMPORT, false },     { QUEUE_FINISHED, false },  { QUEUE_ERROR, true },
                { QUEUE_CANCELED, true },         { QUEUE_CONFLICT, true },
        };

        (void) state;
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                struct ferry_error err = {};

                assert_int_equal(queue_check_retry(rows[i].s, "web1", &err), rows[i].ok ? 0 : -EBUSY);
        }
}

static void retry_refusal_names_the_state(void **state)
{
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(queue_check_retry(QUEUE_CREATING, "web1", &err), -EBUSY);
        assert_string_equal(ferry_error_message(&err),
                            "Queue entry of 'web1' is Creating: only Blocked, Error, Canceled and Conflict entries can be retried");
}

static void finished_and_canceled_entries_cannot_be_canceled(void **state)
{
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(queue_check_cancel(QUEUE_WAITING, "web1", &err), 0);
        assert_int_equal(queue_check_cancel(QUEUE_FINAL_IMPORT, "web1", &err), 0);
        assert_int_equal(queue_check_cancel(QUEUE_ERROR, "web1", &err), 0);
        assert_int_equal(queue_check_cancel(QUEUE_FINISHED, "web1", &err), -EBUSY);
        assert_string_equal(ferry_error_message(&err),
                            "Queue entry of 'web1' is Finished: the VM runs on its target and there is nothing to cancel");
        assert_int_equal(queue_check_cancel(QUEUE_CANCELED, "web1", &err), -EBUSY);
        assert_string_equal(ferry_error_message(&err), "Queue entry of 'web1' is already Canceled");
        assert_int_equal(queue_check_cancel(_QUEUE_STATUS_INVALID, "web1", &err), -EINVAL);
}

static void batch_actions_follow_the_state_machine(void **state)
{
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(batch_check_start(BATCH_DEFINED, "w", &err), 0);
        assert_int_equal(batch_check_start(BATCH_STOPPED, "w", &err), 0);
        assert_int_equal(batch_check_start(BATCH_RUNNING, "w", &err), -EBUSY);
        assert_string_equal(ferry_error_message(&err), "Batch 'w' is already Running");
        assert_int_equal(batch_check_start(BATCH_FINISHED, "w", &err), -EBUSY);
        assert_string_equal(ferry_error_message(&err), "Batch 'w' is Finished: retry its entries, or reset it to start it again");

        assert_int_equal(batch_check_stop(BATCH_RUNNING, "w", &err), 0);
        assert_int_equal(batch_check_stop(BATCH_DEFINED, "w", &err), -EBUSY);
        assert_string_equal(ferry_error_message(&err), "Batch 'w' is Defined: only a Running batch can be stopped");

        assert_int_equal(batch_check_reset(BATCH_STOPPED, "w", &err), 0);
        assert_int_equal(batch_check_reset(BATCH_FINISHED, "w", &err), 0);
        assert_int_equal(batch_check_reset(BATCH_ERROR, "w", &err), 0);
        assert_int_equal(batch_check_reset(BATCH_RUNNING, "w", &err), -EBUSY);
        assert_string_equal(ferry_error_message(&err), "Batch 'w' is Running: stop it before resetting it");
        assert_int_equal(batch_check_reset(BATCH_DEFINED, "w", &err), -EBUSY);
        assert_int_equal(batch_check_reset(_BATCH_STATUS_INVALID, "w", &err), -EINVAL);
}

static void batch_settles_when_every_entry_has(void **state)
{
        const enum queue_status moving[] = { QUEUE_FINISHED, QUEUE_IDLE };
        const enum queue_status done[] = { QUEUE_FINISHED, QUEUE_CANCELED, QUEUE_FINISHED };
        const enum queue_status failed[] = { QUEUE_FINISHED, QUEUE_ERROR };
        const enum queue_status blocked[] = { QUEUE_BLOCKED };
        const enum queue_status conflict[] = { QUEUE_CANCELED, QUEUE_CONFLICT };

        (void) state;
        assert_int_equal(batch_status_settle(NULL, 0), BATCH_RUNNING);
        assert_int_equal(batch_status_settle(moving, 2), BATCH_RUNNING);
        assert_int_equal(batch_status_settle(done, 3), BATCH_FINISHED);
        assert_int_equal(batch_status_settle(failed, 2), BATCH_ERROR);
        assert_int_equal(batch_status_settle(blocked, 1), BATCH_ERROR);
        assert_int_equal(batch_status_settle(conflict, 2), BATCH_ERROR);
}

static char *restriction(const char *instance, const char *batch)
{
        _cleanup_json_ json_t *i = parse(instance), *b = parse(batch);
        struct ferry_error err = {};
        char *reason = NULL;

        if (queue_restrictions(i, b, &reason, &err) < 0)
                fail_msg("queue_restrictions failed: %s", ferry_error_message(&err));
        return reason;
}

#define GOOD_VM                                                                                                  \
        "\"name\": \"web1\", \"os_type\": \"linux\", \"running\": true, \"background_import\": true, "           \
        "\"nics\": [{\"ipv4_address\": \"10.0.0.5\"}], \"disks\": [{\"name\": \"d0\", \"supported\": true}]"

static void an_instance_without_restrictions_passes(void **state)
{
        (void) state;
        assert_null(restriction("{" GOOD_VM "}", "{}"));
        /* A powered-off VM needs neither CBT nor an address. */
        assert_null(restriction("{\"name\": \"db\", \"os_type\": \"linux\", \"running\": false, \"nics\": []}", "{}"));
}

static void unknown_os_blocks_unless_allowed(void **state)
{
        _cleanup_free_ char *r1 = NULL, *r2 = NULL, *r3 = NULL, *r4 = NULL;

        (void) state;
        r1 = restriction("{" GOOD_VM ", \"os_type\": \"\"}", "{}");
        assert_non_null(r1);
        assert_string_equal(r1, "The guest OS of 'web1' is unknown: set overrides.os_type, or allow_unknown_os in the "
                                "batch's config.instance_restriction_overrides");
        r2 = restriction("{" GOOD_VM ", \"os_type\": \"\"}",
                         "{\"config\": {\"instance_restriction_overrides\": {\"allow_unknown_os\": true}}}");
        assert_null(r2);
        r3 = restriction("{" GOOD_VM ", \"os_type\": \"\", \"overrides\": {\"os_type\": \"linux\"}}", "{}");
        assert_null(r3);
        r4 = restriction("{" GOOD_VM ", \"os_type\": \"\", \"overrides\": {\"ignore_restrictions\": true}}", "{}");
        assert_null(r4);
}

static void running_without_cbt_blocks_unless_allowed(void **state)
{
        _cleanup_free_ char *r1 = NULL, *r2 = NULL;

        (void) state;
        r1 = restriction("{" GOOD_VM ", \"background_import\": false}", "{}");
        assert_non_null(r1);
        assert_true(strstr(r1, "'web1' is running and change block tracking is off") == r1);
        r2 = restriction("{" GOOD_VM ", \"background_import\": false}",
                         "{\"config\": {\"instance_restriction_overrides\": {\"allow_no_background_import\": true}}}");
        assert_null(r2);
}

static void running_without_ipv4_blocks_unless_allowed(void **state)
{
        _cleanup_free_ char *r1 = NULL, *r2 = NULL;

        (void) state;
        r1 = restriction("{" GOOD_VM ", \"nics\": [{\"ipv4_address\": \"\"}]}", "{}");
        assert_non_null(r1);
        assert_true(strstr(r1, "'web1' has no IPv4 address reported by VMware Tools") == r1);
        r2 = restriction("{" GOOD_VM ", \"nics\": []}",
                         "{\"config\": {\"instance_restriction_overrides\": {\"allow_no_ipv4\": true}}}");
        assert_null(r2);
}

static void shared_and_unsupported_disks_always_block(void **state)
{
        _cleanup_free_ char *r1 = NULL, *r2 = NULL;

        (void) state;
        r1 = restriction("{" GOOD_VM ", \"disks\": [{\"name\": \"d0\", \"supported\": true}, "
                         "{\"name\": \"d1\", \"shared\": true, \"supported\": false}], "
                         "\"overrides\": {\"ignore_restrictions\": true}}",
                         "{}");
        assert_non_null(r1);
        assert_string_equal(r1, "Disk 'd1' of 'web1' is shared between VMs: ferry cannot migrate shared disks");
        r2 = restriction("{" GOOD_VM ", \"disks\": [{\"name\": \"d0\", \"supported\": false, "
                         "\"unsupported_reason\": \"raw device mappings cannot be migrated\"}]}",
                         "{}");
        assert_non_null(r2);
        assert_string_equal(r2, "Disk 'd0' of 'web1' is not supported: raw device mappings cannot be migrated");
}

static void windows_must_leave_time(void **state)
{
        _cleanup_json_ json_t *none = parse("[]");
        _cleanup_json_ json_t *windows = parse("[{\"name\": \"night1\", \"start\": \"2026-01-01T00:00:00Z\", "
                                               "\"end\": \"2026-01-01T02:00:00Z\"}, "
                                               "{\"name\": \"night2\", \"start\": \"2026-01-02T00:00:00Z\", "
                                               "\"end\": \"2026-01-02T02:00:00Z\"}]");
        struct ferry_error err = {};
        int64_t t;

        (void) state;
        assert_int_equal(batch_check_windows(none, "w", 0, &err), 0);
        assert_int_equal(timestamp_parse_rfc3339("2026-01-01T12:00:00Z", &t), 0);
        assert_int_equal(batch_check_windows(windows, "w", t, &err), 0);
        assert_int_equal(timestamp_parse_rfc3339("2026-01-03T00:00:00Z", &t), 0);
        assert_int_equal(batch_check_windows(windows, "w", t, &err), -EINVAL);
        assert_string_equal(ferry_error_message(&err),
                            "Every migration window of batch 'w' has ended (the last, 'night2', at 2026-01-02T02:00:00Z): add a window");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(status_names_round_trip),
                cmocka_unit_test(only_settled_entries_can_be_retried),
                cmocka_unit_test(retry_refusal_names_the_state),
                cmocka_unit_test(finished_and_canceled_entries_cannot_be_canceled),
                cmocka_unit_test(batch_actions_follow_the_state_machine),
                cmocka_unit_test(batch_settles_when_every_entry_has),
                cmocka_unit_test(an_instance_without_restrictions_passes),
                cmocka_unit_test(unknown_os_blocks_unless_allowed),
                cmocka_unit_test(running_without_cbt_blocks_unless_allowed),
                cmocka_unit_test(running_without_ipv4_blocks_unless_allowed),
                cmocka_unit_test(shared_and_unsupported_disks_always_block),
                cmocka_unit_test(windows_must_leave_time),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
