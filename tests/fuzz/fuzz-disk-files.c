/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the files the copy engine reads: change lists (written by ferryd
 * from vSphere answers, or by hand) and checkpoints (left on disk by an
 * earlier run), then the range arithmetic on what they hold. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "disk/changes.h"
#include "disk/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_disk_ranges_ struct disk_ranges changes = DISK_RANGES_INIT, left = DISK_RANGES_INIT,
                                                 both = DISK_RANGES_INIT;
        _cleanup_disk_checkpoint_ struct disk_checkpoint c = DISK_CHECKPOINT_INIT;
        char digest[DISK_CHANGES_DIGEST_SIZE];
        struct ferry_error err = {};

        if (disk_changes_parse((const char *) data, size, &changes, &err) == 0) {
                (void) disk_changes_check_size(&changes, UINT64_C(1) << 40, &err);
                (void) disk_changes_digest(&changes, digest);
        }
        if (disk_checkpoint_parse((const char *) data, size, &c, &err) == 0) {
                free(disk_checkpoint_format(&c));
                (void) disk_checkpoint_check(&c, "fuzz", c.source_size, "", c.sink, &err);
                (void) disk_ranges_subtract(&changes, &c.done, &left);
                (void) disk_ranges_intersect(&changes, &c.done, &both);
        }
        return 0;
}
