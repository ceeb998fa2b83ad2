/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The objects the expression tests evaluate on: one instance and one
 * network as ferryd's REST API shows them (docs/rest-api.md).  The
 * instance has no "description": a missing field, which reads as nil.
 */
#ifndef FERRY_TESTS_EXPR_SAMPLE_H
#define FERRY_TESTS_EXPR_SAMPLE_H

#define EXPR_SAMPLE_INSTANCE                                                                            \
        "{\"uuid\": \"4216a1b2-0004-4c1d-9e00-000000000004\","                                        \
        " \"source\": \"vc01\","                                                                      \
        " \"location\": \"/dc-east/vm/Windows/Win2016/win2016-sql\","                                 \
        " \"name\": \"win2016-sql\","                                                                 \
        " \"cpus\": 4,"                                                                               \
        " \"memory\": 8589934592,"                                                                    \
        " \"architecture\": \"x86_64\","                                                              \
        " \"os\": \"Windows Server 2016\","                                                           \
        " \"os_version\": \"2016\","                                                                  \
        " \"os_type\": \"windows\","                                                                  \
        " \"secure_boot\": true,"                                                                     \
        " \"legacy_boot\": false,"                                                                    \
        " \"tpm\": false,"                                                                            \
        " \"running\": true,"                                                                         \
        " \"background_import\": true,"                                                               \
        " \"config\": {\"tag.env\": \"prod\", \"tag.team\": \"data, dba\", \"owner\": \"team-data\","  \
        "              \"vmware.resource_pool\": \"/dc-east/host/prod-east/Resources\"},"             \
        " \"disks\": ["                                                                               \
        "   {\"name\": \"disk0\", \"capacity\": 107374182400, \"shared\": false, \"supported\": true," \
        "    \"change_tracking\": true},"                                                             \
        "   {\"name\": \"disk1\", \"capacity\": 214748364800, \"shared\": false, \"supported\": true," \
        "    \"change_tracking\": true},"                                                             \
        "   {\"name\": \"log\", \"capacity\": 17179869184, \"shared\": false, \"supported\": false,"   \
        "    \"change_tracking\": false}],"                                                           \
        " \"nics\": [{\"hardware_address\": \"00:50:56:01:00:04\", \"network\": \"dvportgroup-12\","   \
        "            \"ipv4_address\": \"10.0.30.14\", \"ipv6_address\": \"\"}],"                      \
        " \"snapshots\": [{\"name\": \"before-patch\", \"description\": \"monthly patches\"}]}"

#define EXPR_SAMPLE_NETWORK                                                                             \
        "{\"uuid\": \"dvportgroup-12\", \"source\": \"vc01\","                                         \
        " \"location\": \"/dc-east/network/dvpg-app-200\", \"type\": \"distributed\", \"vlan\": 200,"  \
        " \"name\": \"dvpg-app-200\"}"

#endif
