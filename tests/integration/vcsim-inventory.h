/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lab simulator's VMs as instance JSON, in the shape of
 * docs/rest-api.md, read the way a VMware inventory sync reads them: one
 * RetrievePropertiesEx through a ContainerView over SOAP, and the vSphere
 * tags through the vAPI REST endpoint.  Until ferry's own sync exists,
 * integration tests that need instances build them with this.
 *
 * The mapping: uuid = config.uuid; location = the inventory path
 * /<datacenter>/vm/<folders>/<name>; os = distroName of VMware Tools'
 * guestinfo.detailed.data, else config.guestFullName; running = powered
 * on; secure_boot, legacy_boot (BIOS firmware), tpm (a vTPM device),
 * background_import (change tracking); config['tag.<category>'] = the
 * VM's tags of that category, sorted and comma-separated; disks with
 * capacity in bytes, shared (multi-writer), supported (neither
 * independent nor multi-writer), change_tracking (a changeId); NICs with
 * their MAC, network name and IP.
 */
#ifndef FERRY_TESTS_VCSIM_INVENTORY_H
#define FERRY_TESTS_VCSIM_INVENTORY_H

#include <jansson.h>

/* A JSON array of instance objects whose source is source_name; fails the test on error. */
json_t *vcsim_instances(const char *source_name);

#endif
