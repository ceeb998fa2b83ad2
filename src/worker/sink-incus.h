/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Incus volume push sink (DESIGN §5, sink 2) as a struct sink_ops of
 * the copy engine: a stream sink (no random writes) that feeds a custom
 * block volume through the migration push protocol
 * (target/incus/volume.h).  It lives with the programs because it joins
 * two driver modules (disk/ and target/incus/) that may not include each
 * other.
 *
 *   start(size, keep)  incus_push_begin() of size bytes; keep refreshes the
 *                      existing volume (the engine gives streams no keep)
 *   write(), zero()    incus_push_write(), incus_push_write_zeros(), each at
 *                      the offset the push has reached, else -EINVAL
 *   finish()           incus_push_finish(): Incus has the volume
 *   free()             a push that did not finish is aborted: Incus
 *                      removes the volume it was making
 */
#ifndef FERRY_WORKER_SINK_INCUS_H
#define FERRY_WORKER_SINK_INCUS_H

#include "common/error.h"
#include "disk/sink.h"
#include "target/incus/client.h"

/*
 * A sink pushing into volume in pool and project (NULL: default) of c (borrowed,
 * must outlive the sink).  Its name, for messages, is "incus:POOL/VOLUME".
 */
int sink_incus_new(struct incus_client *c, const char *project, const char *pool, const char *volume,
                   struct sink **ret, struct ferry_error *err);

#endif
