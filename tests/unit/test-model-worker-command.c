/* SPDX-License-Identifier: Apache-2.0 */
/* src/model/worker-command.c: the messages of the worker protocol. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/json.h"
#include "model/worker-command.h"

static json_t *parse(const char *text)
{
        json_error_t e;
        json_t *v = json_loads(text, 0, &e);

        if (!v)
                fail_msg("Bad test JSON: %s", e.text);
        return v;
}

static struct worker_command *command_ok(const char *text, bool need_id)
{
        _cleanup_json_ json_t *v = parse(text);
        struct worker_command *c = NULL;
        struct ferry_error err = {};

        if (worker_command_parse(v, need_id, &c, &err) < 0)
                fail_msg("Refused: %s", ferry_error_message(&err));
        return c;
}

static void command_refused(const char *text, bool need_id, int code, const char *message)
{
        _cleanup_json_ json_t *v = parse(text);
        struct worker_command *c = NULL;
        struct ferry_error err = {};

        assert_int_equal(worker_command_parse(v, need_id, &c, &err), code);
        assert_string_equal(ferry_error_message(&err), message);
        assert_null(c);
}

static void update_refused(const char *text, const char *message)
{
        _cleanup_json_ json_t *v = parse(text);
        struct worker_update u = {};
        struct ferry_error err = {};

        assert_true(worker_update_parse(v, &u, &err) < 0);
        assert_string_equal(ferry_error_message(&err), message);
}

#define SRC "\"source\": \"nbd+unix:///?socket=/run/d0.sock\""

static void test_a_full_import_parses_into_its_disks(_unused_ void **state)
{
        _cleanup_worker_command_ struct worker_command *c = command_ok(
                "{\"id\": 3, \"command\": \"import\", \"mode\": \"full\", \"disks\": ["
                "{\"name\": \"disk0\", " SRC ", \"sink\": \"/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_disk0\"},"
                "{\"name\": \"disk1\", \"source\": \"nbd://proxy:10809/d1\", \"sink\": \"/dev/sdc\", "
                "\"checkpoint\": \"/var/lib/ferry-worker/d1.ckpt\"}]}",
                true);

        assert_int_equal(c->id, 3);
        assert_int_equal(c->type, WORKER_COMMAND_IMPORT);
        assert_int_equal(c->mode, WORKER_IMPORT_FULL);
        assert_int_equal(c->n_disks, 2);
        assert_string_equal(c->disks[0].name, "disk0");
        assert_string_equal(c->disks[0].source, "nbd+unix:///?socket=/run/d0.sock");
        assert_string_equal(c->disks[0].sink, "/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_disk0");
        assert_null(c->disks[0].changes);
        assert_null(c->disks[0].checkpoint);
        assert_string_equal(c->disks[1].checkpoint, "/var/lib/ferry-worker/d1.ckpt");
}

static void test_a_delta_keeps_its_change_list_as_json_text(_unused_ void **state)
{
        _cleanup_worker_command_ struct worker_command *c = command_ok(
                "{\"id\": 4, \"command\": \"import\", \"mode\": \"delta\", \"disks\": [{\"name\": \"disk0\", " SRC
                ", \"sink\": \"/dev/sdb\", \"changes\": [{\"start\": 0, \"length\": 65536}, "
                "{\"start\": 1048576, \"length\": 4096}]}]}",
                true);

        assert_int_equal(c->mode, WORKER_IMPORT_DELTA);
        assert_string_equal(c->disks[0].changes,
                            "[{\"start\":0,\"length\":65536},{\"start\":1048576,\"length\":4096}]");
}

static void test_finalize_takes_sinks_and_the_sha256_flag(_unused_ void **state)
{
        _cleanup_worker_command_ struct worker_command *c = command_ok(
                "{\"command\": \"finalize\", \"sha256\": true, \"disks\": [{\"name\": \"disk0\", \"sink\": \"/dev/sdb\"}]}",
                false);

        assert_int_equal(c->id, 0);
        assert_int_equal(c->type, WORKER_COMMAND_FINALIZE);
        assert_true(c->sha256);
        assert_null(c->disks[0].source);
}

static void test_an_id_is_required_by_the_worker_and_refused_when_queued(_unused_ void **state)
{
        const char *text = "{\"command\": \"finalize\", \"disks\": [{\"name\": \"d\", \"sink\": \"/dev/sdb\"}]}";
        const char *with_id = "{\"id\": 9, \"command\": \"finalize\", \"disks\": [{\"name\": \"d\", \"sink\": \"/x\"}]}";

        command_refused(text, true, -EINVAL, "Missing required field 'id'");
        command_refused(with_id, false, -EINVAL, "Field 'id' is read-only: ferryd numbers the commands");
        command_refused("{\"id\": 0, \"command\": \"finalize\", \"disks\": []}", true, -ERANGE,
                        "Field 'id' must be at least 1");
}

static void test_unknown_commands_modes_and_fields_are_named(_unused_ void **state)
{
        command_refused("{\"command\": \"reboot\", \"disks\": []}", false, -EINVAL,
                        "Unknown command 'reboot' (import, finalize, post-import)");
        command_refused("{\"command\": \"import\", \"mode\": \"warm\", \"disks\": []}", false, -EINVAL,
                        "Field 'mode' must be 'full' or 'delta', not 'warm'");
        command_refused("{\"command\": \"import\", \"disks\": []}", false, -EINVAL, "Missing required field 'mode'");
        command_refused("{\"command\": \"finalize\", \"mode\": \"full\", \"disks\": []}", false, -EINVAL,
                        "Field 'mode' is only for import");
        command_refused("{\"command\": \"import\", \"mode\": \"full\", \"sha256\": true, \"disks\": []}", false,
                        -EINVAL, "Field 'sha256' is only for finalize");
        command_refused("{\"command\": \"finalize\", \"reboot\": true, \"disks\": []}", false, -EINVAL,
                        "Unknown field 'reboot' in a worker command");
        command_refused("[]", false, -EINVAL, "A worker command must be a JSON object");
}

static void test_disks_must_be_listed_named_and_unique(_unused_ void **state)
{
        command_refused("{\"command\": \"finalize\", \"disks\": []}", false, -EINVAL,
                        "Field 'disks' must list at least one disk");
        command_refused("{\"command\": \"finalize\", \"disks\": [{\"sink\": \"/dev/sdb\"}]}", false, -EINVAL,
                        "Disk 0: Missing required field 'name'");
        command_refused("{\"command\": \"finalize\", \"disks\": [{\"name\": \"../etc\", \"sink\": \"/dev/sdb\"}]}",
                        false, -EINVAL,
                        "Disk 0: name '../etc' must be 1 to 63 letters, digits, '.', '_' or '-', starting with a "
                        "letter or digit");
        command_refused("{\"command\": \"finalize\", \"disks\": [{\"name\": \"d\", \"sink\": \"/a\"}, "
                        "{\"name\": \"d\", \"sink\": \"/b\"}]}",
                        false, -EINVAL, "Disk name 'd' appears twice");
        command_refused("{\"command\": \"finalize\", \"disks\": [{\"name\": \"a\", \"sink\": \"/x\"}, "
                        "{\"name\": \"b\", \"sink\": \"/x\"}]}",
                        false, -EINVAL, "Disks 'a' and 'b' have the same sink '/x'");
        command_refused("{\"command\": \"finalize\", \"disks\": [\"disk0\"]}", false, -EINVAL,
                        "Disk 0: must be an object");
}

static void test_a_source_may_be_a_server_to_start(_unused_ void **state)
{
        _cleanup_worker_command_ struct worker_command *c = command_ok(
                "{\"command\": \"import\", \"mode\": \"full\", \"disks\": [{\"name\": \"disk0\", "
                "\"source_command\": [\"nbdkit\", \"--readonly\", \"vddk\", \"file=[ds1] vm/vm.vmdk\"], "
                "\"sink\": \"/dev/sdb\"}]}",
                false);

        assert_null(c->disks[0].source);
        assert_string_equal(c->disks[0].source_argv[0], "nbdkit");
        assert_string_equal(c->disks[0].source_argv[3], "file=[ds1] vm/vm.vmdk");
        assert_null(c->disks[0].source_argv[4]);
}

static void test_disk_fields_are_checked_and_name_the_disk(_unused_ void **state)
{
        command_refused("{\"command\": \"import\", \"mode\": \"full\", \"disks\": [{\"name\": \"disk0\", "
                        "\"source\": \"/images/disk0.img\", \"sink\": \"/dev/sdb\"}]}",
                        false, -EINVAL,
                        "Disk 'disk0': source '/images/disk0.img' is not an NBD URI (nbd://, nbds://, nbd+unix://...)");
        command_refused("{\"command\": \"import\", \"mode\": \"full\", \"disks\": [{\"name\": \"disk0\", " SRC
                        ", \"sink\": \"sdb\"}]}",
                        false, -EINVAL, "Disk 'disk0': sink 'sdb' must be an absolute path");
        command_refused("{\"command\": \"import\", \"mode\": \"full\", \"disks\": [{\"name\": \"disk0\", \"sink\": "
                        "\"/dev/sdb\"}]}",
                        false, -EINVAL,
                        "Disk 'disk0': give either 'source' (an NBD URI) or 'source_command' (an NBD server to "
                        "start), not neither");
        command_refused("{\"command\": \"import\", \"mode\": \"full\", \"disks\": [{\"name\": \"disk0\", " SRC
                        ", \"source_command\": [\"nbdkit\"], \"sink\": \"/dev/sdb\"}]}",
                        false, -EINVAL,
                        "Disk 'disk0': give either 'source' (an NBD URI) or 'source_command' (an NBD server to "
                        "start), not both");
        command_refused("{\"command\": \"import\", \"mode\": \"full\", \"disks\": [{\"name\": \"disk0\", "
                        "\"source_command\": [\"nbdkit\", \"\"], \"sink\": \"/dev/sdb\"}]}",
                        false, -EINVAL, "Disk 'disk0': source_command[1] must be a non-empty string");
        command_refused("{\"command\": \"import\", \"mode\": \"full\", \"disks\": [{\"name\": \"disk0\", "
                        "\"source_command\": [], \"sink\": \"/dev/sdb\"}]}",
                        false, -EINVAL, "Disk 'disk0': source_command must be an array of 1 to 64 strings");
        command_refused("{\"command\": \"finalize\", \"disks\": [{\"name\": \"disk0\", " SRC
                        ", \"sink\": \"/dev/sdb\"}]}",
                        false, -EINVAL, "Disk 0: Unknown field 'source'");
        command_refused("{\"command\": \"import\", \"mode\": \"full\", \"disks\": [{\"name\": \"disk0\", " SRC
                        ", \"sink\": \"/dev/sdb\", \"checkpoint\": \"d.ckpt\"}]}",
                        false, -EINVAL, "Disk 'disk0': checkpoint 'd.ckpt' must be an absolute path");
}

static void test_change_lists_go_with_deltas_only_and_have_the_right_shape(_unused_ void **state)
{
        command_refused("{\"command\": \"import\", \"mode\": \"full\", \"disks\": [{\"name\": \"disk0\", " SRC
                        ", \"sink\": \"/dev/sdb\", \"changes\": []}]}",
                        false, -EINVAL, "Disk 'disk0': a full import takes no 'changes'");
        command_refused("{\"command\": \"import\", \"mode\": \"delta\", \"disks\": [{\"name\": \"disk0\", " SRC
                        ", \"sink\": \"/dev/sdb\"}]}",
                        false, -EINVAL, "Disk 'disk0': a delta import needs 'changes'");
        command_refused("{\"command\": \"import\", \"mode\": \"delta\", \"disks\": [{\"name\": \"disk0\", " SRC
                        ", \"sink\": \"/dev/sdb\", \"changes\": [{\"start\": 0, \"length\": 0}]}]}",
                        false, -ERANGE, "Disk 'disk0': Area 0 of 'changes': Field 'length' must be at least 1");
        command_refused("{\"command\": \"import\", \"mode\": \"delta\", \"disks\": [{\"name\": \"disk0\", " SRC
                        ", \"sink\": \"/dev/sdb\", \"changes\": {\"areas\": []}}]}",
                        false, -EINVAL, "Disk 'disk0': Field 'changes' must be an array of areas");
}

static void test_an_update_parses_with_progress_and_result(_unused_ void **state)
{
        _cleanup_json_ json_t *v = parse(
                "{\"id\": 3, \"status\": \"running\", \"message\": \"Importing\", \"progress\": "
                "[{\"disk\": \"disk0\", \"done\": 10, \"total\": 20, \"rate\": 2.5}], \"result\": {\"disks\": []}}");
        struct worker_update u = {};
        struct ferry_error err = {};

        assert_int_equal(worker_update_parse(v, &u, &err), 0);
        assert_int_equal(u.id, 3);
        assert_int_equal(u.status, WORKER_UPDATE_RUNNING);
        assert_string_equal(u.message, "Importing");
        assert_int_equal(json_array_size(u.progress), 1);
        assert_true(json_is_object(u.result));
}

static void test_bad_updates_are_refused_naming_the_field(_unused_ void **state)
{
        char big[WORKER_MESSAGE_MAX + 64];

        update_refused("{\"status\": \"done\"}", "Missing required field 'id'");
        update_refused("{\"id\": 1, \"status\": \"finished\"}", "Field 'status' must be one of running, done, failed");
        update_refused("{\"id\": 1, \"status\": \"done\", \"eta\": 3}", "Unknown field 'eta' in a worker update");
        update_refused("{\"id\": 1, \"status\": \"running\", \"progress\": [{\"disk\": \"d\", \"done\": 30, "
                       "\"total\": 20}]}",
                       "Progress 0: 'done' is larger than 'total'");
        update_refused("{\"id\": 1, \"status\": \"running\", \"progress\": [{\"disk\": \"d\", \"done\": 1, "
                       "\"total\": 20, \"rate\": -1}]}",
                       "Progress 0: 'rate' must be a number of bytes per second, at least 0");
        update_refused("{\"id\": 1, \"status\": \"running\", \"progress\": [{\"done\": 1, \"total\": 2}]}",
                       "Progress 0: Missing required field 'disk'");
        update_refused("{\"id\": 1, \"status\": \"done\", \"result\": []}", "Field 'result' must be an object");

        snprintf(big, sizeof big, "{\"id\": 1, \"status\": \"failed\", \"message\": \"%0*d\"}", WORKER_MESSAGE_MAX + 1,
                 0);
        update_refused(big, "Field 'message' is longer than 1024 bytes");
}

#define PI_DISK "\"disks\": [{\"name\": \"disk0\", \"sink\": \"/dev/sdb\"}]"

static void test_post_import_takes_the_os_type_disks_and_nics(_unused_ void **state)
{
        _cleanup_worker_command_ struct worker_command *c = command_ok(
                "{\"id\": 9, \"command\": \"post-import\", \"os_type\": \"linux\", " PI_DISK
                ", \"nics\": [{\"hardware_address\": \"00:50:56:01:00:01\"}, {\"hardware_address\": "
                "\"00:50:56:AB:cd:EF\"}]}",
                true);

        assert_int_equal(c->type, WORKER_COMMAND_POST_IMPORT);
        assert_int_equal(c->os_type, WORKER_OS_LINUX);
        assert_int_equal(c->n_disks, 1);
        assert_string_equal(c->disks[0].sink, "/dev/sdb");
        assert_int_equal(c->n_nics, 2);
        assert_string_equal(c->nics[0].hardware_address, "00:50:56:01:00:01");
        assert_string_equal(c->nics[1].hardware_address, "00:50:56:ab:cd:ef");
}

static void test_post_import_may_have_no_nics(_unused_ void **state)
{
        _cleanup_worker_command_ struct worker_command *c =
                command_ok("{\"command\": \"post-import\", \"os_type\": \"windows\", " PI_DISK "}", false);

        assert_int_equal(c->os_type, WORKER_OS_WINDOWS);
        assert_int_equal(c->n_nics, 0);
}

static void test_post_import_fields_are_checked(_unused_ void **state)
{
        command_refused("{\"command\": \"post-import\", " PI_DISK "}", false, -EINVAL,
                        "Missing required field 'os_type'");
        command_refused("{\"command\": \"post-import\", \"os_type\": \"bsd\", " PI_DISK "}", false, -EINVAL,
                        "Field 'os_type' must be 'linux' or 'windows', not 'bsd'");
        command_refused("{\"command\": \"finalize\", \"os_type\": \"linux\", " PI_DISK "}", false, -EINVAL,
                        "Field 'os_type' is only for post-import");
        command_refused("{\"command\": \"finalize\", \"nics\": [], " PI_DISK "}", false, -EINVAL,
                        "Field 'nics' is only for post-import");
        command_refused("{\"command\": \"post-import\", \"os_type\": \"linux\", \"mode\": \"full\", " PI_DISK "}",
                        false, -EINVAL, "Field 'mode' is only for import");
        command_refused("{\"command\": \"post-import\", \"os_type\": \"linux\", \"disks\": [{\"name\": "
                        "\"disk0\", \"sink\": \"/dev/sdb\", \"source\": \"nbd://x/y\"}]}",
                        false, -EINVAL, "Disk 0: Unknown field 'source'");
}

static void test_post_import_nics_are_mac_addresses_listed_once(_unused_ void **state)
{
        command_refused("{\"command\": \"post-import\", \"os_type\": \"linux\", " PI_DISK ", \"nics\": {}}", false,
                        -EINVAL, "Field 'nics' must be an array");
        command_refused("{\"command\": \"post-import\", \"os_type\": \"linux\", " PI_DISK ", \"nics\": [7]}",
                        false, -EINVAL, "NIC 0 must be an object");
        command_refused("{\"command\": \"post-import\", \"os_type\": \"linux\", " PI_DISK
                        ", \"nics\": [{\"hardware_address\": \"00:50\"}]}",
                        false, -EINVAL, "NIC 0: 'hardware_address' '00:50' is not a MAC address (00:50:56:01:00:01)");
        command_refused("{\"command\": \"post-import\", \"os_type\": \"linux\", " PI_DISK
                        ", \"nics\": [{\"hardware_address\": \"00:50:56:01:00:0g\"}]}",
                        false, -EINVAL,
                        "NIC 0: 'hardware_address' '00:50:56:01:00:0g' is not a MAC address (00:50:56:01:00:01)");
        command_refused("{\"command\": \"post-import\", \"os_type\": \"linux\", " PI_DISK
                        ", \"nics\": [{\"hardware_address\": \"00:50:56:01:00:01\", \"model\": \"e1000\"}]}",
                        false, -EINVAL, "NIC 0: Unknown field 'model'");
        command_refused("{\"command\": \"post-import\", \"os_type\": \"linux\", " PI_DISK
                        ", \"nics\": [{\"hardware_address\": \"00:50:56:01:00:01\"}, "
                        "{\"hardware_address\": \"00:50:56:01:00:01\"}]}",
                        false, -EINVAL, "NICs 0 and 1 have the same address '00:50:56:01:00:01'");
}

static void test_names_map_to_enums_and_back(_unused_ void **state)
{
        assert_int_equal(worker_command_type_from_string("finalize"), WORKER_COMMAND_FINALIZE);
        assert_string_equal(worker_command_type_to_string(WORKER_COMMAND_IMPORT), "import");
        assert_int_equal(worker_import_mode_from_string("delta"), WORKER_IMPORT_DELTA);
        assert_int_equal(worker_update_status_from_string("failed"), WORKER_UPDATE_FAILED);
        assert_int_equal(worker_command_type_from_string("post-import"), WORKER_COMMAND_POST_IMPORT);
        assert_string_equal(worker_os_type_to_string(WORKER_OS_WINDOWS), "windows");
        assert_int_equal(worker_os_type_from_string("Linux"), -EINVAL);
        assert_int_equal(worker_update_status_from_string(NULL), -EINVAL);
        assert_null(worker_update_status_to_string(_WORKER_UPDATE_STATUS_MAX));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_a_full_import_parses_into_its_disks),
                cmocka_unit_test(test_a_delta_keeps_its_change_list_as_json_text),
                cmocka_unit_test(test_finalize_takes_sinks_and_the_sha256_flag),
                cmocka_unit_test(test_an_id_is_required_by_the_worker_and_refused_when_queued),
                cmocka_unit_test(test_unknown_commands_modes_and_fields_are_named),
                cmocka_unit_test(test_disks_must_be_listed_named_and_unique),
                cmocka_unit_test(test_a_source_may_be_a_server_to_start),
                cmocka_unit_test(test_disk_fields_are_checked_and_name_the_disk),
                cmocka_unit_test(test_change_lists_go_with_deltas_only_and_have_the_right_shape),
                cmocka_unit_test(test_an_update_parses_with_progress_and_result),
                cmocka_unit_test(test_bad_updates_are_refused_naming_the_field),
                cmocka_unit_test(test_post_import_takes_the_os_type_disks_and_nics),
                cmocka_unit_test(test_post_import_may_have_no_nics),
                cmocka_unit_test(test_post_import_fields_are_checked),
                cmocka_unit_test(test_post_import_nics_are_mac_addresses_listed_once),
                cmocka_unit_test(test_names_map_to_enums_and_back),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
