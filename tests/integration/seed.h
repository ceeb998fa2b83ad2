/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What source sync and the queue engine would have stored, written into a
 * data directory's database before ferryd starts, for tests of the API and
 * CLI routes that only show or edit such objects:
 *
 *   source   vc01 (password SEED_PASSWORD)
 *   instance SEED_WEB01 /dc1/vm/web/web01  2 CPUs, 4 GiB, Ubuntu, tag.env=prod, one 16 GiB disk
 *   instance SEED_DB01  /dc1/vm/db/db01    8 CPUs, 16 GiB, OS unknown
 *   network  network-1  /dc1/network/VM Network, standard
 *   warning  "Could not determine instance OS" about db01
 *   batch    seeded (include_expression "cpus >= 1") and its queue entry for web01
 */
#ifndef FERRY_TESTS_SEED_H
#define FERRY_TESTS_SEED_H

#define SEED_PASSWORD "hunter2-never-shown"
#define SEED_SOURCE_BODY                                                                                  \
        "{\"name\": \"vc01\", \"type\": \"vmware\", \"properties\": {\"endpoint\": \"https://127.0.0.1:9/sdk\", " \
        "\"username\": \"administrator@vsphere.local\", \"password\": \"" SEED_PASSWORD "\"}}"
#define SEED_WEB01 "4a3c5e0e-0000-4000-8000-000000000001"
#define SEED_DB01 "4a3c5e0e-0000-4000-8000-000000000002"

/* Create data_dir (it must not exist) and its database with the above. */
void seed_lab_inventory(const char *data_dir);

#endif
