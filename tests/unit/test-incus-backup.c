/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tar stream of a backup import (src/target/incus/backup.c), without
 * Incus: headers GNU tar reads, sizes past the octal limit, the stream's
 * length and the index Incus reads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "common/yaml.h"
#include "target/incus/backup.h"

static char *run(const char *command)
{
        static char out[4096];
        size_t n;
        FILE *f = popen(command, "r");

        assert_non_null(f);
        n = fread(out, 1, sizeof(out) - 1, f);
        out[n] = '\0';
        assert_int_equal(pclose(f), 0);
        return out;
}

static void test_gnu_tar_reads_what_the_headers_describe(void **state)
{
        char path[] = "/tmp/ferry-tar-XXXXXX", block[INCUS_TAR_BLOCK], cmd[128];
        static const char index[] = "name: v\n";
        static const char data[700] = { 'x' };
        static const char zeros[2 * INCUS_TAR_BLOCK];
        int fd = mkstemp(path);
        FILE *f;

        (void) state;
        assert_true(fd >= 0);
        f = fdopen(fd, "w");
        assert_non_null(f);
        assert_int_equal(incus_tar_header(block, "backup/index.yaml", strlen(index), 0644, 1700000000), 0);
        fwrite(block, 1, sizeof(block), f);
        fwrite(index, 1, strlen(index), f);
        fwrite(zeros, 1, INCUS_TAR_BLOCK - strlen(index), f);
        assert_int_equal(incus_tar_header(block, "backup/volume.img", sizeof(data), 0600, 1700000000), 0);
        fwrite(block, 1, sizeof(block), f);
        fwrite(data, 1, sizeof(data), f);
        fwrite(zeros, 1, 2 * INCUS_TAR_BLOCK - sizeof(data), f);
        fwrite(zeros, 1, sizeof(zeros), f);
        assert_int_equal(ftell(f), (long) incus_backup_tar_size(strlen(index), sizeof(data)));
        fclose(f);

        snprintf(cmd, sizeof(cmd), "tar -tvf %s | awk '{print $1, $2, $3, $6}'", path);
        assert_string_equal(run(cmd), "-rw-r--r-- root/root 8 backup/index.yaml\n"
                                      "-rw------- root/root 700 backup/volume.img\n");
        snprintf(cmd, sizeof(cmd), "tar -xOf %s backup/index.yaml", path);
        assert_string_equal(run(cmd), index);
        unlink(path);
}

static void test_sizes_past_eight_gib_use_base_256(void **state)
{
        char block[INCUS_TAR_BLOCK];
        uint64_t size = (UINT64_C(9) << 30) + 5, back = 0;

        (void) state;
        assert_int_equal(incus_tar_header(block, "backup/volume.img", size, 0600, 0), 0);
        assert_int_equal((unsigned char) block[124], 0x80);
        for (int i = 125; i < 136; i++)
                back = back << 8 | (unsigned char) block[i];
        assert_int_equal(back, size);

        assert_int_equal(incus_tar_header(block, "backup/volume.img", UINT64_C(077777777777), 0600, 0), 0);
        assert_memory_equal(block + 124, "77777777777", 12);
}

static void test_names_must_fit_the_header(void **state)
{
        char block[INCUS_TAR_BLOCK], name[102];

        (void) state;
        memset(name, 'n', sizeof(name) - 1);
        name[sizeof(name) - 1] = '\0';
        assert_int_equal(incus_tar_header(block, name, 1, 0644, 0), -ENAMETOOLONG);
        assert_int_equal(incus_tar_header(block, "", 1, 0644, 0), -ENAMETOOLONG);
}

static void test_stream_length_counts_padding_and_the_end_blocks(void **state)
{
        (void) state;
        assert_int_equal(incus_backup_tar_size(300, 10000003), 512 + 512 + 512 + 10000384 + 1024);
        assert_int_equal(incus_backup_tar_size(512, 0), 512 + 512 + 512 + 0 + 1024);
}

static void test_index_names_the_block_volume_and_its_size(void **state)
{
        _cleanup_free_ char *text = incus_backup_index("web01-disk1", "lab", "default", "dir", 10000003);
        _cleanup_json_ json_t *v = NULL;
        struct ferry_error err = {};
        const json_t *vol;

        (void) state;
        assert_non_null(text);
        if (yaml_parse_to_json(text, strlen(text), &v, &err) < 0)
                fail_msg("%s", err.message);
        assert_string_equal(json_string_value(json_object_get(v, "name")), "web01-disk1");
        assert_string_equal(json_string_value(json_object_get(v, "backend")), "dir");
        assert_string_equal(json_string_value(json_object_get(v, "type")), "custom");
        assert_true(json_is_false(json_object_get(v, "optimized")));
        vol = json_object_get(json_object_get(v, "config"), "volume");
        assert_string_equal(json_string_value(json_object_get(vol, "content_type")), "block");
        assert_string_equal(json_string_value(json_object_get(vol, "project")), "lab");
        assert_string_equal(json_string_value(json_object_get(json_object_get(vol, "config"), "size")), "10000003B");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_gnu_tar_reads_what_the_headers_describe),
                cmocka_unit_test(test_sizes_past_eight_gib_use_base_256),
                cmocka_unit_test(test_names_must_fit_the_header),
                cmocka_unit_test(test_stream_length_counts_padding_and_the_end_blocks),
                cmocka_unit_test(test_index_names_the_block_volume_and_its_size),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
