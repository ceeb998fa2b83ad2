/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-expr: how long the filter expression evaluator takes over a large
 * inventory.  Builds 100,000 synthetic instances in the JSON shape of the
 * REST API (names, locations, OS strings, 1-4 disks, 1-2 NICs, tags in
 * config), compiles each expression once, and times expr_match() over all
 * instances; the best of several rounds is reported.  Two cases:
 *
 *   resident  all instances built first, then evaluated: 100,000 jansson
 *             objects take ~700 MB, so every instance comes from memory,
 *             not from the CPU's caches;
 *   fresh     instances built 256 at a time and evaluated right away, as
 *             when rows are read from SQLite and turned into JSON: the
 *             evaluator's own cost (only expr_match() is timed).
 *
 *     bench-expr [COUNT] [EXPRESSION...]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "expr/expr.h"

#define DEFAULT_COUNT 100000
#define ROUNDS 5
#define FRESH_ROUNDS 3
#define FRESH_BATCH 256

static const char *const default_expressions[] = {
        "(location matches 'Win2016' or location matches 'CentOS') and len(disks) == 1",
        "hasPrefix(os, 'Windows') and cpus >= 4",
        "len(filter(disks, .capacity > 100 * 1024 * 1024 * 1024)) > 0",
        "config['tag.env'] == 'prod'",
        "path_base(location) == 'ubuntu2404' and source == 'esxi01'",
        "has_tag('team', 'dba') or matches_tag('*', '^web')",
};

static const char *const folders[] = {
        "Linux/web", "Linux/db", "Windows/Win2016", "Windows/Win2022", "CentOS", "Appliances",
};
static const char *const oses[] = {
        "Ubuntu 24.04", "CentOS 7", "Windows Server 2016", "Windows Server 2022", "Debian 12", "",
};
static const char *const envs[] = { "prod", "staging", "dev" };
static const char *const teams[] = { "web", "dba", "data", "infra", "apps" };

/* A small deterministic generator: every run builds the same inventory. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rng(void)
{
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return (uint32_t) rng_state;
}

static json_t *make_instance(size_t i)
{
        char name[64], location[160], uuid[64], tags[64];
        const char *folder = folders[rng() % ELEMENTSOF(folders)];
        json_t *disks = json_array(), *nics = json_array(), *config = json_object();
        unsigned n_disks = 1 + rng() % 4, n_nics = 1 + rng() % 2;

        snprintf(name, sizeof name, "vm%06zu", i);
        snprintf(location, sizeof location, "/dc%u/vm/%s/%s", 1 + rng() % 3, folder, name);
        snprintf(uuid, sizeof uuid, "4216a1b2-%04x-4c1d-9e00-%012zx", (unsigned) (i >> 16), i);
        snprintf(tags, sizeof tags, "%s,%s", teams[rng() % ELEMENTSOF(teams)], teams[rng() % ELEMENTSOF(teams)]);

        for (unsigned d = 0; d < n_disks; d++) {
                char dname[32];

                snprintf(dname, sizeof dname, "disk%u", d);
                json_array_append_new(disks, json_pack("{s:s, s:I, s:b, s:b, s:b}", "name", dname, "capacity",
                                                       (json_int_t) (1 + rng() % 400) << 30, "shared", 0,
                                                       "supported", 1, "change_tracking", 1));
        }
        for (unsigned n = 0; n < n_nics; n++) {
                char mac[32], ip[32];

                snprintf(mac, sizeof mac, "00:50:56:%02x:%02x:%02x", (unsigned) (i >> 16) & 0xff,
                         (unsigned) (i >> 8) & 0xff, (unsigned) (i & 0xff));
                snprintf(ip, sizeof ip, "10.%u.%u.%u", n, (unsigned) (i >> 8) & 0xff, (unsigned) i & 0xff);
                json_array_append_new(nics, json_pack("{s:s, s:s, s:s, s:s}", "hardware_address", mac, "network",
                                                      "dvportgroup-12", "ipv4_address", ip, "ipv6_address", ""));
        }
        json_object_set_new(config, "tag.env", json_string(envs[rng() % ELEMENTSOF(envs)]));
        json_object_set_new(config, "tag.team", json_string(tags));
        json_object_set_new(config, "vmware.resource_pool", json_string("/dc1/host/prod/Resources"));

        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b,"
                         " s:o, s:o, s:o, s:[]}",
                         "uuid", uuid, "source", rng() % 2 ? "vc01" : "esxi01", "location", location, "name", name,
                         "description", "", "cpus", 1 << (rng() % 4), "memory", (json_int_t) (1 + rng() % 32) << 30,
                         "architecture", "x86_64", "os", oses[rng() % ELEMENTSOF(oses)], "os_version", "",
                         "os_type", "", "secure_boot", rng() % 2, "legacy_boot", 0, "tpm", 0, "running", 1,
                         "background_import", 1, "config", config, "disks", disks, "nics", nics, "snapshots");
}

static double clock_ms(clockid_t clock)
{
        struct timespec ts;

        clock_gettime(clock, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
        return clock_ms(CLOCK_MONOTONIC);
}

/* Evaluate e over count fresh instances, FRESH_BATCH at a time; only expr_match() is timed. */
static int time_fresh(const struct expr *e, size_t count, double *ret_ms, size_t *ret_matches)
{
        json_t *batch[FRESH_BATCH];
        double total = 0;
        size_t matches = 0;

        rng_state = 0x9E3779B97F4A7C15ull;
        for (size_t base = 0; base < count; base += FRESH_BATCH) {
                size_t n = count - base < FRESH_BATCH ? count - base : FRESH_BATCH;
                struct ferry_error err = {};
                double start;

                for (size_t i = 0; i < n; i++)
                        if (!(batch[i] = make_instance(base + i)))
                                return -1;
                start = now_ms();
                for (size_t i = 0; i < n; i++) {
                        bool match;

                        if (expr_match(e, batch[i], &match, &err) < 0) {
                                fprintf(stderr, "%s\n", err.message);
                                return -1;
                        }
                        matches += match;
                }
                total += now_ms() - start;
                for (size_t i = 0; i < n; i++)
                        json_decref(batch[i]);
        }
        *ret_ms = total;
        *ret_matches = matches;
        return 0;
}

int main(int argc, char **argv)
{
        size_t count = argc > 1 ? strtoul(argv[1], NULL, 10) : DEFAULT_COUNT;
        const char *const *expressions = argc > 2 ? (const char *const *) argv + 2 : default_expressions;
        size_t n_expressions = argc > 2 ? (size_t) argc - 2 : ELEMENTSOF(default_expressions);
        json_t **instances;
        double t0;
        int failed = 0;

        if (count == 0)
                count = DEFAULT_COUNT;
        instances = calloc(count, sizeof(*instances));
        if (!instances)
                return 1;
        t0 = now_ms();
        for (size_t i = 0; i < count; i++)
                if (!(instances[i] = make_instance(i)))
                        return 1;
        fprintf(stderr, "built %zu instances in %.0f ms\n", count, now_ms() - t0);

        for (size_t x = 0; x < n_expressions; x++) {
                _cleanup_expr_ struct expr *e = NULL;
                struct ferry_error err = {};
                double best = 0, best_cpu = 0;
                size_t matches = 0;

                if (expr_compile(expressions[x], EXPR_SCHEMA_INSTANCE, &e, &err) < 0) {
                        fprintf(stderr, "%s: %s\n", expressions[x], err.message);
                        failed = 1;
                        continue;
                }
                for (int round = 0; round < ROUNDS; round++) {
                        double start = now_ms(), start_cpu = clock_ms(CLOCK_THREAD_CPUTIME_ID), elapsed, cpu;

                        matches = 0;
                        for (size_t i = 0; i < count; i++) {
                                bool match;

                                if (expr_match(e, instances[i], &match, &err) < 0) {
                                        fprintf(stderr, "%s: %s\n", expressions[x], err.message);
                                        return 1;
                                }
                                matches += match;
                        }
                        elapsed = now_ms() - start;
                        cpu = clock_ms(CLOCK_THREAD_CPUTIME_ID) - start_cpu;
                        if (round == 0 || elapsed < best)
                                best = elapsed;
                        if (round == 0 || cpu < best_cpu)
                                best_cpu = cpu;
                }
                printf("expr resident %zu instances: %.1f ms (%.0f ns each; CPU %.1f ms), %zu match: %s\n", count,
                       best, best * 1e6 / (double) count, best_cpu, matches, expressions[x]);
                fflush(stdout);
        }

        for (size_t x = 0; x < n_expressions; x++) {
                _cleanup_expr_ struct expr *e = NULL;
                struct ferry_error err = {};
                double best = 0, ms;
                size_t matches = 0;

                if (expr_compile(expressions[x], EXPR_SCHEMA_INSTANCE, &e, &err) < 0)
                        continue;
                for (int round = 0; round < FRESH_ROUNDS; round++) {
                        if (time_fresh(e, count, &ms, &matches) < 0)
                                return 1;
                        if (round == 0 || ms < best)
                                best = ms;
                }
                printf("expr fresh %zu instances: %.1f ms (%.0f ns each), %zu match: %s\n", count, best,
                       best * 1e6 / (double) count, matches, expressions[x]);
        }

        for (size_t i = 0; i < count; i++)
                json_decref(instances[i]);
        free(instances);
        return failed;
}
