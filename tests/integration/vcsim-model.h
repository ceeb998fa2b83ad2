/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Generated lab models (tests/lab/vcsim/README.md, "Model format") of any
 * size, for tests and benchmarks that start a simulator of their own.
 */
#ifndef FERRY_TESTS_VCSIM_MODEL_H
#define FERRY_TESTS_VCSIM_MODEL_H

#include <jansson.h>

/*
 * A model with 2 datacenters ("dc-a", "dc-b"), each with a cluster of two
 * hosts, a datastore, two standard portgroups, a distributed switch with
 * an access and a trunk portgroup, and nested folders; n_vms VMs
 * ("gen-00000", ...) spread over both, with sizes, guest OSes, power
 * states, CBT, NICs and tags that vary with the index.  Deterministic.
 */
json_t *vcsim_model_generate(unsigned n_vms);

#endif
