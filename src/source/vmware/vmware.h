/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VMware source driver (vCenter or ESXi over SOAP): the source_ops
 * table, and the same operations by name for tests and the queue engine.
 */
#ifndef FERRY_SOURCE_VMWARE_VMWARE_H
#define FERRY_SOURCE_VMWARE_VMWARE_H

#include "source/source.h"
#include "source/vmware/client.h"

extern const struct source_ops vmware_source_ops;

/* The client under a connected VMware source (borrowed). */
struct vmware_client *vmware_source_client(struct source *s);

/* How many QueryChangedDiskAreas calls the last changed_areas() made (its pages; for tests). */
size_t vmware_source_changed_areas_calls(struct source *s);

/* At most this many objects per property page (0: the server's choice); for tests of paging. */
void vmware_source_set_page_size(struct source *s, int max_objects);

/*
 * Wait for a task (moref "task-N") to end, polling its info.state, at
 * most timeout_s seconds.  On success *ret_result (may be NULL; free() it)
 * gets the text of info.result ("" when none).  A failed task is -EIO with
 * its fault's message: "Task 'task-N' failed: <message>"; a timeout is
 * -ETIMEDOUT "Task 'task-N' did not finish within N s".
 */
int vmware_task_wait(struct vmware_client *c, const char *task, int timeout_s, char **ret_result,
                     struct ferry_error *err);

/* The moref of the VM with this instance uuid: -ENOENT "No virtual machine with instance uuid 'u'". */
int vmware_find_vm(struct vmware_client *c, const char *instance_uuid, char **ret_moref, struct ferry_error *err);

/* Disk access: ops->disk_open (vddk.h builds the nbdkit vddk command line). */

#endif
