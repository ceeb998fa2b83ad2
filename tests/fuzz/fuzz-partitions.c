/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the partition table reader and the file system probe
 * (worker/partitions.h, worker/fsprobe.h): their input is whatever the
 * migrated VM wrote on its disks.  The input is a disk's first bytes. */
#include <stddef.h>
#include <stdint.h>

#include "worker/fsprobe.h"
#include "worker/partitions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct partition_memory m = { data, size };
        struct partition_reader rd = { partition_read_memory, &m, size };
        struct partition_table t = {};
        struct ferry_error err = {};
        enum fs_type fs;

        if (partition_table_read(&rd, &t, &err) == 0) {
                for (size_t i = 0; i < t.n; i++)
                        (void) fs_probe(&rd, t.v[i].offset, t.v[i].length, &fs);
                partition_table_done(&t);
        }
        return 0;
}
