/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "vcsim-model.h"

static const char *const folders[] = { "Linux/web", "Linux/db", "Windows/apps", "Appliances" };
static const struct {
        const char *id, *name;
} guests[] = {
        { "ubuntu64Guest", "Ubuntu Linux (64-bit)" },
        { "rhel9_64Guest", "Red Hat Enterprise Linux 9 (64-bit)" },
        { "windows2019srv_64Guest", "Microsoft Windows Server 2019 (64-bit)" },
        { "debian12_64Guest", "Debian GNU/Linux 12 (64-bit)" },
        { "otherGuest64", "" },
};

static json_t *datacenter(const char *dc)
{
        char cluster[32], h1[64], h2[64], ds[32], n1[32], n2[32], dvs[32], pg1[32], pg2[32];

        snprintf(cluster, sizeof(cluster), "cl-%s", dc);
        snprintf(h1, sizeof(h1), "esx-%s-01.lab.local", dc);
        snprintf(h2, sizeof(h2), "esx-%s-02.lab.local", dc);
        snprintf(ds, sizeof(ds), "ds-%s", dc);
        snprintf(n1, sizeof(n1), "lan-%s-100", dc);
        snprintf(n2, sizeof(n2), "lan-%s-101", dc);
        snprintf(dvs, sizeof(dvs), "dvs-%s", dc);
        snprintf(pg1, sizeof(pg1), "dvpg-%s-200", dc);
        snprintf(pg2, sizeof(pg2), "dvpg-%s-trunk", dc);
        return json_pack("{s:s, s:[{s:s, s:[s,s]}], s:[s], s:[{s:s, s:i}, {s:s, s:i}],"
                         " s:[{s:s, s:[{s:s, s:i}, {s:s, s:[{s:i, s:i}]}]}], s:[s,s,s,s], s:[]}",
                         "name", dc, "clusters", "name", cluster, "hosts", h1, h2, "datastores", ds, "networks",
                         "name", n1, "vlan", 100, "name", n2, "vlan", 101, "dvswitches", "name", dvs, "portgroups",
                         "name", pg1, "vlan", 200, "name", pg2, "trunk", "start", 300, "end", 399, "folders",
                         folders[0], folders[1], folders[2], folders[3], "vms");
}

json_t *vcsim_model_generate(unsigned n_vms)
{
        const char *dcs[] = { "dc-a", "dc-b" };
        json_t *model = json_pack("{s:[o,o]}", "datacenters", datacenter(dcs[0]), datacenter(dcs[1]));

        for (unsigned i = 0; model && i < n_vms; i++) {
                const char *dc = dcs[i % 2];
                json_t *vms = json_object_get(json_array_get(json_object_get(model, "datacenters"), i % 2), "vms");
                unsigned g = (i / 2) % (sizeof(guests) / sizeof(guests[0]));
                char name[32], net[32], mac[32], env[16];
                json_t *vm;

                snprintf(name, sizeof(name), "gen-%05u", i);
                if (i % 3 == 0)
                        snprintf(net, sizeof(net), "dvpg-%s-200", dc);
                else
                        snprintf(net, sizeof(net), "lan-%s-%u", dc, 100 + i % 2);
                snprintf(mac, sizeof(mac), "00:50:56:%02x:%02x:%02x", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
                snprintf(env, sizeof(env), "%s", i % 4 == 0 ? "prod" : "test");
                vm = json_pack("{s:s, s:s, s:s, s:s, s:b, s:i, s:I, s:s, s:b, s:[{s:i}], s:[{s:s, s:s}],"
                               " s:{s:[s]}}",
                               "name", name, "folder", folders[(i / 2) % 4], "guest_id", guests[g].id,
                               "guest_full_name", guests[g].name, "tools_running", i % 5 != 0, "cpus",
                               (int) (1 + i % 4), "memory_mib", (json_int_t) (512 * (1 + i % 8)), "power_state",
                               i % 7 == 0 ? "poweredOff" : "poweredOn", "change_tracking", i % 2 == 0, "disks",
                               "capacity_mib", (int) (16 + 16 * (i % 3)), "nics", "network", net, "mac", mac,
                               "tags", "env", env);
                if (!vm || json_array_append_new(vms, vm) < 0) {
                        json_decref(model);
                        return NULL;
                }
        }
        return model;
}
