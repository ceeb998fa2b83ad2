/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/tls-cert.h"
#include "common/trust-token.h"
#include "daemon/targets.h"
#include "db/db.h"
#include "db/target.h"
#include "model/model.h"
#include "target/incus/inventory.h"
#include "target/incus/trust.h"

int target_identity_load(const char *data_dir, struct target_identity *ret, struct ferry_error *err)
{
        _cleanup_free_ char *cert = NULL, *key = NULL, *pem = NULL, *cn = NULL;
        char host[HOST_NAME_MAX + 1] = "";
        bool generated = false;
        int r;

        cert = strjoin(data_dir, "/" TARGETS_CLIENT_CERT_NAME, NULL);
        key = strjoin(data_dir, "/" TARGETS_CLIENT_KEY_NAME, NULL);
        if (!cert || !key)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (gethostname(host, sizeof(host) - 1) < 0 || !*host)
                snprintf(host, sizeof(host), "localhost");
        /* Incus shows this name in `incus config trust list` (cut at 64 characters). */
        cn = strjoin("ferry@", host, NULL);
        if (!cn)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        r = tls_cert_load_or_generate(cert, key, cn, &pem, &generated, err);
        if (r < 0)
                return r;
        r = fingerprint_from_pem(pem, strlen(pem), ret->fingerprint, err);
        if (r < 0)
                return ferry_error_prefix(err, "Certificate '%s'", cert);
        if (generated)
                log_info("Generated ferry's client certificate for targets '%s' (fingerprint %s)", cert,
                         ret->fingerprint);
        ret->cert_path = TAKE_PTR(cert);
        ret->key_path = TAKE_PTR(key);
        return 0;
}

void target_identity_done(struct target_identity *id)
{
        if (!id)
                return;
        free(id->cert_path);
        free(id->key_path);
        *id = (struct target_identity) {};
}

static const char *prop_string(const json_t *target, const char *key)
{
        return json_string_value(json_object_get(json_object_get(target, "properties"), key));
}

static long connect_timeout_ms(const json_t *target)
{
        const char *s = prop_string(target, "connection_timeout");
        uint64_t usec;

        if (!s || duration_parse(s, &usec) < 0 || usec == 0)
                return 0;
        return usec / 1000 > LONG_MAX ? LONG_MAX : (long) (usec / 1000);
}

int target_client_config(const json_t *target, const struct target_identity *id,
                         struct incus_client_config *ret, struct ferry_error *err)
{
        const char *name = json_string_value(json_object_get(target, "name"));
        const char *endpoint = prop_string(target, "endpoint");
        const char *fp = prop_string(target, "trusted_server_certificate_fingerprint");

        if (!endpoint)
                return ferry_error_set(err, -EINVAL, "Target '%s' has no endpoint", name ? name : "");
        if (startswith(endpoint, "unix://")) {
                *ret = (struct incus_client_config) { .endpoint = endpoint,
                                                      .connect_timeout_ms = connect_timeout_ms(target) };
                return 0;
        }
        if (!fp || !*fp)
                return ferry_error_set(err, -EACCES,
                                       "Target '%s' is not registered: give it a trust token from "
                                       "'incus config trust add ferry' with 'ferry target update %s --token TOKEN'",
                                       name, name);
        *ret = (struct incus_client_config) {
                .endpoint = endpoint,
                .client_cert = id->cert_path,
                .client_key = id->key_path,
                .server_fingerprint = fp,
                .connect_timeout_ms = connect_timeout_ms(target),
        };
        return 0;
}

bool target_is_registered(const json_t *target)
{
        const char *endpoint = prop_string(target, "endpoint");
        const char *fp = prop_string(target, "trusted_server_certificate_fingerprint");

        if (startswith(endpoint, "unix://"))
                return true;
        return startswith(endpoint, "https://") && fp && *fp && !prop_string(target, "trust_token");
}

const char *target_status_from_errno(int r)
{
        switch (r) {
        case -EPERM:
                return MODEL_CONNECTIVITY_TLS_ERROR;
        case -EACCES:
                return MODEL_CONNECTIVITY_AUTH_ERROR;
        default:
                return MODEL_CONNECTIVITY_CANNOT_CONNECT;
        }
}

/* Change target name's properties with fn inside one transaction; store only what changed. */
typedef int (*target_change_fn)(json_t *target, json_t *props, const void *userdata);

static int target_change(struct db *db, const char *name, target_change_fn fn, const void *userdata,
                         bool *ret_changed, struct ferry_error *err)
{
        _cleanup_json_ json_t *target = NULL, *before = NULL;
        json_t *props;
        bool changed = false;
        int r;

        r = db_begin(db, err);
        if (r < 0)
                return r;
        r = db_target_get(db, name, &target, err);
        if (r >= 0) {
                before = json_deep_copy(target);
                props = json_object_get(target, "properties");
                if (!before || !json_is_object(props))
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
                else
                        r = fn(target, props, userdata);
                if (r < 0 && !ferry_error_message(err)[0])
                        ferry_error_set(err, r, "Out of memory");
        }
        if (r >= 0) {
                json_object_del(before, "updated_at");
                json_object_del(target, "updated_at");
                changed = !json_equal(before, target);
                if (changed)
                        r = db_target_update(db, name, target, err);
        }
        if (r < 0) {
                db_rollback(db);
                return r;
        }
        r = db_commit(db, err);
        if (r < 0)
                return r;
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}

struct inventory_change {
        const json_t *inventory;
        const json_t *restricted_projects;
};

static int change_inventory(json_t *target, json_t *props, const void *userdata)
{
        const struct inventory_change *c = userdata;

        if (json_object_set(target, "inventory", (json_t *) c->inventory) < 0 ||
            json_object_set_new(props, "connectivity_status", json_string(MODEL_CONNECTIVITY_OK)) < 0)
                return -ENOMEM;
        if (c->restricted_projects &&
            json_object_set(props, "restricted_projects", (json_t *) c->restricted_projects) < 0)
                return -ENOMEM;
        return 0;
}

int target_store_inventory(struct db *db, const char *name, const json_t *inventory,
                           const json_t *restricted_projects, bool *ret_changed, struct ferry_error *err)
{
        struct inventory_change c = { inventory, restricted_projects };

        return target_change(db, name, change_inventory, &c, ret_changed, err);
}

static int change_status(json_t *target, json_t *props, const void *userdata)
{
        (void) target;
        return json_object_set_new(props, "connectivity_status", json_string(userdata)) < 0 ? -ENOMEM : 0;
}

void target_store_status(struct db *db, const char *name, const char *status)
{
        struct ferry_error err = {};

        if (target_change(db, name, change_status, status, NULL, &err) < 0)
                log_warning("Cannot record the state of target '%s': %s", name, ferry_error_message(&err));
}

struct registration {
        const char *fingerprint;        /* NULL: keep the token (a failure worth retrying) */
        const char *status;
        const json_t *restricted_projects;
        bool drop_token;
};

static int change_registration(json_t *target, json_t *props, const void *userdata)
{
        const struct registration *g = userdata;

        (void) target;
        if (g->drop_token)
                json_object_del(props, "trust_token");
        if (g->fingerprint &&
            json_object_set_new(props, "trusted_server_certificate_fingerprint", json_string(g->fingerprint)) < 0)
                return -ENOMEM;
        if (g->restricted_projects &&
            json_object_set(props, "restricted_projects", (json_t *) g->restricted_projects) < 0)
                return -ENOMEM;
        return json_object_set_new(props, "connectivity_status", json_string(g->status)) < 0 ? -ENOMEM : 0;
}

static json_t *projects_array(const struct incus_trust_status *st)
{
        json_t *a = json_array();

        if (!a)
                return NULL;
        for (char **p = st->restricted ? st->projects : NULL; p && *p; p++)
                if (json_array_append_new(a, json_string(*p)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

/* Step 1 for https:// with a token.  Stores the outcome, token consumed on success or refusal. */
static int register_with_token(struct db *db, const struct target_identity *id, const json_t *target,
                               const char *name, json_t **ret_projects, struct ferry_error *err)
{
        _cleanup_trust_token_ struct trust_token *token = NULL;
        _cleanup_(incus_trust_status_done) struct incus_trust_status st = {};
        _cleanup_json_ json_t *projects = NULL;
        const char *text = prop_string(target, "trust_token");
        const char *pinned = prop_string(target, "trusted_server_certificate_fingerprint");
        struct incus_client_config config;
        struct ferry_error store_err = {};
        int r;

        r = trust_token_decode(text, &token, err);
        if (r < 0) {
                struct registration g = { .status = MODEL_CONNECTIVITY_NOT_REGISTERED, .drop_token = true };

                if (target_change(db, name, change_registration, &g, NULL, &store_err) < 0)
                        log_warning("Cannot record the state of target '%s': %s", name,
                                    ferry_error_message(&store_err));
                return r;
        }
        if (pinned && *pinned && !fingerprint_equal(pinned, token->fingerprint)) {
                target_store_status(db, name, MODEL_CONNECTIVITY_TLS_ERROR);
                return ferry_error_set(err, -EPERM,
                                       "The trust token names server certificate %s, but target '%s' pins %s",
                                       token->fingerprint, name, pinned);
        }

        config = (struct incus_client_config) {
                .endpoint = prop_string(target, "endpoint"),
                .client_cert = id->cert_path,
                .client_key = id->key_path,
                .server_fingerprint = token->fingerprint,
                .connect_timeout_ms = connect_timeout_ms(target),
        };
        r = incus_trust_register(&config, text, &st, err);
        if (r < 0) {
                /* Incus refused the token: it is of no further use.  Anything
                 * else (no answer) may work on the next sync. */
                struct registration g = { .status = target_status_from_errno(r), .drop_token = r == -EACCES };

                if (target_change(db, name, change_registration, &g, NULL, &store_err) < 0)
                        log_warning("Cannot record the state of target '%s': %s", name,
                                    ferry_error_message(&store_err));
                return r;
        }

        projects = projects_array(&st);
        if (!projects)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        {
                struct registration g = { .fingerprint = token->fingerprint, .status = MODEL_CONNECTIVITY_OK,
                                          .restricted_projects = projects, .drop_token = true };

                r = target_change(db, name, change_registration, &g, NULL, err);
                if (r < 0)
                        return r;
        }
        log_info("Registered with target '%s' (%s, Incus %s)%s", name, config.endpoint,
                 st.server_version ? st.server_version : "?", st.restricted ? ", restricted to projects" : "");
        *ret_projects = TAKE_PTR(projects);
        return 0;
}

static size_t count(const json_t *inventory, const char *key)
{
        return json_array_size(json_object_get(inventory, key));
}

int target_sync(struct db *db, const struct target_identity *id, const char *name, json_t **ret_summary,
                struct ferry_error *err)
{
        _cleanup_json_ json_t *target = NULL, *projects = NULL, *inventory = NULL;
        _cleanup_incus_client_ struct incus_client *c = NULL;
        _cleanup_(incus_trust_status_done) struct incus_trust_status st = {};
        struct incus_client_config config;
        bool registered = false;
        const char *endpoint;
        int r;

        r = db_target_get(db, name, &target, err);
        if (r < 0)
                return r;
        endpoint = prop_string(target, "endpoint");

        if (startswith(endpoint, "https://") && prop_string(target, "trust_token")) {
                r = register_with_token(db, id, target, name, &projects, err);
                if (r < 0)
                        return ferry_error_prefix(err, "Registering with target '%s'", name);
                registered = true;
                json_decref(target);
                target = NULL;
                r = db_target_get(db, name, &target, err);
                if (r < 0)
                        return r;
        }

        r = target_client_config(target, id, &config, err);
        if (r < 0) {
                target_store_status(db, name, MODEL_CONNECTIVITY_NOT_REGISTERED);
                return r;
        }
        c = incus_client_new(&config, err);
        if (!c)
                return -errno;

        if (!projects) {
                r = incus_trust_get_status(c, &st, err);
                if (r < 0) {
                        target_store_status(db, name, target_status_from_errno(r));
                        return ferry_error_prefix(err, "Target '%s'", name);
                }
                if (!st.trusted) {
                        target_store_status(db, name, MODEL_CONNECTIVITY_NOT_REGISTERED);
                        return ferry_error_set(err, -EACCES,
                                               "Target '%s' does not trust ferry's certificate: give it a trust "
                                               "token from 'incus config trust add ferry' with "
                                               "'ferry target update %s --token TOKEN'",
                                               name, name);
                }
                projects = projects_array(&st);
                if (!projects)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }

        log_debug("Reading the inventory of target '%s'", name);
        r = incus_inventory_read(c, &inventory, err);
        if (r < 0) {
                target_store_status(db, name, target_status_from_errno(r));
                return ferry_error_prefix(err, "Reading the inventory of target '%s'", name);
        }
        r = target_store_inventory(db, name, inventory, projects, NULL, err);
        if (r < 0)
                return ferry_error_prefix(err, "Storing the inventory of target '%s'", name);

        log_info("Synced target '%s': %zu projects, %zu networks, %zu storage pools, %zu profiles, "
                 "%zu cluster members",
                 name, count(inventory, "projects"), count(inventory, "networks"), count(inventory, "storage_pools"),
                 count(inventory, "profiles"), count(inventory, "cluster_members"));
        if (ret_summary) {
                *ret_summary = json_pack("{s:b, s:O, s:I, s:I, s:I, s:I, s:I}", "registered", registered,
                                         "restricted_projects", projects, "projects",
                                         (json_int_t) count(inventory, "projects"), "networks",
                                         (json_int_t) count(inventory, "networks"), "storage_pools",
                                         (json_int_t) count(inventory, "storage_pools"), "profiles",
                                         (json_int_t) count(inventory, "profiles"), "cluster_members",
                                         (json_int_t) count(inventory, "cluster_members"));
                if (!*ret_summary)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        return 0;
}
