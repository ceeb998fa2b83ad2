/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VMware source: a session per connect, the inventory through one
 * container view, and the operations a warm migration needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "source/disk.h"
#include "source/vmware/inventory.h"
#include "source/vmware/tags.h"
#include "source/vmware/vddk.h"
#include "source/vmware/vmware.h"

struct vmware_source {
        struct source base;             /* first: a struct source * is a struct vmware_source * */
        struct vmware_client *client;
        char *name;
        json_t *datacenters;
        json_t *disk_access;            /* properties.disk_access, or NULL */
        char *endpoint;
        char *username;
        char *password;
        char *fingerprint;
        int max_objects;
        size_t changed_areas_calls;     /* QueryChangedDiskAreas calls of the last changed_areas() */
};

static struct vmware_source *to_vmware(struct source *s)
{
        return (struct vmware_source *) s;
}

struct vmware_client *vmware_source_client(struct source *s)
{
        return to_vmware(s)->client;
}

size_t vmware_source_changed_areas_calls(struct source *s)
{
        return to_vmware(s)->changed_areas_calls;
}

void vmware_source_set_page_size(struct source *s, int max_objects)
{
        to_vmware(s)->max_objects = max_objects;
}

static void vmware_disconnect(struct source *s)
{
        struct vmware_source *v = to_vmware(s);

        if (!v)
                return;
        vmware_client_free(v->client);
        json_decref(v->datacenters);
        json_decref(v->disk_access);
        free(v->endpoint);
        free(v->username);
        if (v->password)
                explicit_bzero(v->password, strlen(v->password));
        free(v->password);
        free(v->fingerprint);
        free(v->name);
        free(v);
}

static int vmware_connect(const json_t *source, struct source **ret, struct source_connect_result *res,
                          struct ferry_error *err)
{
        const json_t *props = json_object_get(source, "properties");
        const char *name = json_string_value(json_object_get(source, "name"));
        const char *fingerprint = json_string_value(json_object_get(props, "trusted_server_certificate_fingerprint"));
        const char *peer;
        struct vmware_source *v;
        int r;

        *res = (struct source_connect_result) { .status = SOURCE_STATUS_CANNOT_CONNECT };
        if (!name || !props)
                return ferry_error_set(err, -EINVAL, "Source has no name or properties");

        v = calloc(1, sizeof(*v));
        if (!v)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        v->base.ops = &vmware_source_ops;
        v->name = strdup(name);
        v->datacenters = json_incref(json_object_get(props, "datacenters"));
        v->disk_access = json_incref(json_object_get(props, "disk_access"));
        v->endpoint = strdup(json_string_value(json_object_get(props, "endpoint")) ?: "");
        v->username = strdup(json_string_value(json_object_get(props, "username")) ?: "");
        v->password = strdup(json_string_value(json_object_get(props, "password")) ?: "");
        v->fingerprint = strdup(fingerprint ? fingerprint : "");
        if (!v->name || !v->endpoint || !v->username || !v->password || !v->fingerprint) {
                vmware_disconnect(&v->base);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }

        r = vmware_client_new(&(struct vmware_client_config) {
                                      .endpoint = json_string_value(json_object_get(props, "endpoint")),
                                      .username = json_string_value(json_object_get(props, "username")),
                                      .password = json_string_value(json_object_get(props, "password")),
                                      .fingerprint = fingerprint,
                              },
                              &v->client, err);
        if (r < 0) {
                vmware_disconnect(&v->base);
                return r;
        }

        r = vmware_client_login(v->client, err);
        if (r < 0) {
                peer = vmware_client_peer_fingerprint(v->client);
                if (peer)
                        snprintf(res->fingerprint, sizeof(res->fingerprint), "%s", peer);
                if (r == -EACCES)
                        res->status = SOURCE_STATUS_AUTH_ERROR;
                else if (r == -EPERM && vmware_client_transport_failed(v->client) && peer) {
                        res->status = SOURCE_STATUS_CONFIRM_FINGERPRINT;
                        ferry_error_set(err, r,
                                        "The server's TLS certificate is not trusted: if its fingerprint '%s' is "
                                        "right, confirm it with 'ferry source update %s --fingerprint %s'",
                                        peer, name, peer);
                } else if (r == -EPERM && vmware_client_transport_failed(v->client))
                        res->status = SOURCE_STATUS_TLS_ERROR;
                vmware_disconnect(&v->base);
                return r;
        }
        peer = vmware_client_peer_fingerprint(v->client);
        if (peer)
                snprintf(res->fingerprint, sizeof(res->fingerprint), "%s", peer);
        res->status = SOURCE_STATUS_OK;
        *ret = &v->base;
        return 0;
}

static int get_properties(struct vmware_client *c, const char *type, const char *moref, const char *const *paths,
                          struct vmware_objects *objs, struct ferry_error *err);

/* source_inventory_done(), which lives above this library. */
static void inventory_drop(struct source_inventory *inv)
{
        json_decref(inv->instances);
        json_decref(inv->networks);
        json_decref(inv->warnings);
        *inv = (struct source_inventory) {};
}

static int vmware_sync_inventory(struct source *s, struct source_inventory *ret, struct ferry_error *err)
{
        struct vmware_source *v = to_vmware(s);
        struct vmware_objects objs = {}, fields = {};
        struct source_inventory inv = {};
        const struct vmware_service_content *sc = vmware_client_service(v->client);
        int r;

        r = vmware_client_retrieve(v->client, vmware_inventory_specs, vmware_inventory_n_specs, v->max_objects,
                                   &objs, err);
        if (r >= 0 && sc && *sc->custom_fields_manager) {
                static const char *const field_paths[] = { "field", NULL };

                r = get_properties(v->client, "CustomFieldsManager", sc->custom_fields_manager, field_paths,
                                   &fields, err);
        }
        if (r >= 0)
                r = vmware_inventory_build(&objs,
                                           &(struct vmware_inventory_options) {
                                                   .source = v->name,
                                                   .server_uuid = sc ? sc->instance_uuid : "",
                                                   .datacenters = v->datacenters,
                                                   .custom_fields = fields.n > 0 ? vmware_object_prop(
                                                                                           &fields.items[0], "field")
                                                                                 : NULL,
                                           },
                                           &inv.instances, &inv.networks, &inv.warnings, err);
        vmware_objects_done(&objs);
        vmware_objects_done(&fields);
        if (r < 0) {
                inventory_drop(&inv);
                return r;
        }

        /* Tags live in vAPI, not SOAP: without them the inventory is still good, with a warning. */
        if (sc && streq_ptr(sc->api_type, "VirtualCenter")) {
                struct ferry_error tag_err = {};

                r = vmware_tags_sync(&(struct vmware_tags_config) {
                                             .endpoint = v->endpoint,
                                             .username = v->username,
                                             .password = v->password,
                                             .fingerprint = v->fingerprint,
                                     },
                                     inv.instances, &tag_err);
                if (r == -ECANCELED) {
                        inventory_drop(&inv);
                        return ferry_error_set(err, r, "%s", ferry_error_message(&tag_err));
                }
        if (r < 0 && json_array_append_new(inv.warnings,
                                                   json_pack("{s:s, s:s, s:s, s:s}", "entity_type", "source", "entity",
                                                             v->name, "type", "Tags unavailable", "message",
                                                             ferry_error_message(&tag_err))) < 0) {
                        inventory_drop(&inv);
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                }
        }
        *ret = inv;
        return 0;
}

/* --- single objects and tasks ------------------------------------------------------------ */

/* The properties paths of one object; objs gets one object (or none if it vanished). */
static int get_properties(struct vmware_client *c, const char *type, const char *moref, const char *const *paths,
                          struct vmware_objects *objs, struct ferry_error *err)
{
        const struct vmware_service_content *sc = vmware_client_service(c);
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        xmlDoc *doc = NULL;
        int r;

        if (!sc)
                return ferry_error_set(err, -ENOTCONN, "Not logged in");
        r = soap_append_moref(&sb, "_this", "PropertyCollector", sc->property_collector);
        if (r >= 0)
                r = strbuf_append(&sb, "<vim25:specSet><vim25:propSet>");
        if (r >= 0)
                r = soap_append_element(&sb, "type", type);
        for (const char *const *p = paths; r >= 0 && *p; p++)
                r = soap_append_element(&sb, "pathSet", *p);
        if (r >= 0)
                r = strbuf_append(&sb, "</vim25:propSet><vim25:objectSet>");
        if (r >= 0)
                r = soap_append_moref(&sb, "obj", type, moref);
        if (r >= 0)
                r = strbuf_append(&sb, "</vim25:objectSet></vim25:specSet><vim25:options/>");
        if (r < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = vmware_client_call(c, "RetrievePropertiesEx", strbuf_str(&sb), &doc, err);
        if (r < 0)
                return r;
        return vmware_objects_add_page(objs, doc, NULL, err);
}

/* The text of one property of one object (free() it). */
static int get_property_text(struct vmware_client *c, const char *type, const char *moref, const char *path,
                             char **ret, struct ferry_error *err)
{
        const char *paths[] = { path, NULL };
        struct vmware_objects objs = {};
        const char *t;
        int r;

        r = get_properties(c, type, moref, paths, &objs, err);
        if (r >= 0) {
                t = objs.n > 0 ? vmware_object_prop_text(&objs.items[0], path) : NULL;
                *ret = strdup(t ? t : "");
                if (!*ret)
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        vmware_objects_done(&objs);
        return r;
}

static void sleep_ms(long ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vmware_task_wait(struct vmware_client *c, const char *task, int timeout_s, char **ret_result,
                     struct ferry_error *err)
{
        static const char *const paths[] = { "info", NULL };
        int64_t deadline = now_ms() + (int64_t) timeout_s * 1000;
        long delay = 50;

        for (;;) {
                struct vmware_objects objs = {};
                xmlNode *info;
                const char *state;
                int r;

                r = get_properties(c, "Task", task, paths, &objs, err);
                if (r < 0)
                        return r;
                info = objs.n > 0 ? vmware_object_prop(&objs.items[0], "info") : NULL;
                state = xml_path_text(info, "state");
                if (streq_ptr(state, "success")) {
                        if (ret_result) {
                                const char *t = xml_path_text(info, "result");

                                *ret_result = strdup(t ? t : "");
                                if (!*ret_result)
                                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
                        }
                        vmware_objects_done(&objs);
                        return r;
                }
                if (streq_ptr(state, "error")) {
                        const char *msg = xml_path_text(info, "error/localizedMessage");
                        const char *kind = xml_xsi_type(xml_path(info, "error/fault"));

                        r = ferry_error_set(err, -EIO, "Task '%s' failed: %s%s%s%s", task,
                                            msg && *msg ? msg : "no reason given", kind ? " (" : "",
                                            kind ? kind : "", kind ? ")" : "");
                        vmware_objects_done(&objs);
                        return r;
                }
                vmware_objects_done(&objs);
                if (!state)
                        return ferry_error_set(err, -EBADMSG, "Task '%s' has no state", task);
                if (now_ms() >= deadline)
                        return ferry_error_set(err, -ETIMEDOUT, "Task '%s' did not finish within %d s", task,
                                               timeout_s);
                sleep_ms(delay);
                if (delay < 1000)
                        delay *= 2;
        }
}

/* Call a *_Task method and wait for its task; *ret_result as vmware_task_wait(). */
static int call_task(struct vmware_client *c, const char *method, const char *body, int timeout_s,
                     char **ret_result, struct ferry_error *err)
{
        _cleanup_xmldoc_ xmlDoc *doc = NULL;
        const char *task;
        int r;

        r = vmware_client_call(c, method, body, &doc, err);
        if (r < 0)
                return r;
        task = xml_path_text(soap_body_response(doc), "returnval");
        if (!task || !*task)
                return ferry_error_set(err, -EBADMSG, "Answer of '%s' has no task", method);
        r = vmware_task_wait(c, task, timeout_s, ret_result, err);
        if (r < 0)
                return ferry_error_prefix(err, "%s", method);
        return 0;
}

int vmware_find_vm(struct vmware_client *c, const char *instance_uuid, char **ret_moref, struct ferry_error *err)
{
        const struct vmware_service_content *sc = vmware_client_service(c);
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        _cleanup_xmldoc_ xmlDoc *doc = NULL;
        const char *moref;
        int r;

        if (!sc)
                return ferry_error_set(err, -ENOTCONN, "Not logged in");
        if (soap_append_moref(&sb, "_this", "SearchIndex", sc->search_index) < 0 ||
            soap_append_element(&sb, "uuid", instance_uuid) < 0 || soap_append_bool(&sb, "vmSearch", true) < 0 ||
            soap_append_bool(&sb, "instanceUuid", true) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = vmware_client_call(c, "FindByUuid", strbuf_str(&sb), &doc, err);
        if (r < 0)
                return r;
        moref = xml_path_text(soap_body_response(doc), "returnval");
        if (!moref || !*moref)
                return ferry_error_set(err, -ENOENT, "No virtual machine with instance uuid '%s'", instance_uuid);
        *ret_moref = strdup(moref);
        return *ret_moref ? 0 : ferry_error_set(err, -ENOMEM, "Out of memory");
}

static int vm_call_simple(struct vmware_client *c, const char *method, const char *vm_moref, const char *extra,
                          int timeout_s, char **ret_result, struct ferry_error *err)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

        if (soap_append_moref(&sb, "_this", "VirtualMachine", vm_moref) < 0 ||
            (extra && strbuf_append(&sb, extra) < 0))
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return call_task(c, method, strbuf_str(&sb), timeout_s, ret_result, err);
}

static int power_state(struct vmware_client *c, const char *moref, char **ret, struct ferry_error *err)
{
        return get_property_text(c, "VirtualMachine", moref, "runtime.powerState", ret, err);
}

static int vmware_power_on(struct source *s, const char *vm, int timeout_s, struct ferry_error *err)
{
        struct vmware_client *c = to_vmware(s)->client;
        _cleanup_free_ char *moref = NULL, *state = NULL;
        int r;

        r = vmware_find_vm(c, vm, &moref, err);
        if (r < 0)
                return r;
        r = power_state(c, moref, &state, err);
        if (r < 0)
                return r;
        if (streq(state, "poweredOn"))
                return 0;
        return vm_call_simple(c, "PowerOnVM_Task", moref, NULL, timeout_s, NULL, err);
}

static int vmware_power_off(struct source *s, const char *vm, int timeout_s, struct ferry_error *err)
{
        struct vmware_client *c = to_vmware(s)->client;
        _cleanup_free_ char *moref = NULL, *state = NULL;
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        _cleanup_xmldoc_ xmlDoc *doc = NULL;
        struct ferry_error guest_err = {};
        int64_t deadline;
        int r;

        r = vmware_find_vm(c, vm, &moref, err);
        if (r < 0)
                return r;
        r = power_state(c, moref, &state, err);
        if (r < 0)
                return r;
        if (streq(state, "poweredOff"))
                return 0;

        /* Ask the guest first; without tools (or if it will not stop in time), pull the plug. */
        if (soap_append_moref(&sb, "_this", "VirtualMachine", moref) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = streq(state, "poweredOn") ? vmware_client_call(c, "ShutdownGuest", strbuf_str(&sb), &doc, &guest_err)
                                      : -EOPNOTSUPP;
        if (r >= 0) {
                deadline = now_ms() + (int64_t) timeout_s * 1000;
                for (;;) {
                        free(state);
                        state = NULL;
                        r = power_state(c, moref, &state, err);
                        if (r < 0)
                                return r;
                        if (streq(state, "poweredOff"))
                                return 0;
                        if (now_ms() >= deadline)
                                break;
                        sleep_ms(200);
                }
                log_debug("VM '%s' did not shut down within %d s, powering it off", vm, timeout_s);
        } else
                log_debug("Guest shutdown of '%s' failed (%s), powering it off", vm, ferry_error_message(&guest_err));

        return vm_call_simple(c, "PowerOffVM_Task", moref, NULL, timeout_s, NULL, err);
}

static int vmware_snapshot_create(struct source *s, const char *vm, const char *name, bool quiesce, int timeout_s,
                                  char **ret_snapshot, struct ferry_error *err)
{
        struct vmware_client *c = to_vmware(s)->client;
        _cleanup_free_ char *moref = NULL, *result = NULL;
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        int r;

        r = vmware_find_vm(c, vm, &moref, err);
        if (r < 0)
                return r;
        if (soap_append_element(&sb, "name", name) < 0 ||
            soap_append_element(&sb, "description", "Created by ferry for a migration") < 0 ||
            soap_append_bool(&sb, "memory", false) < 0 || soap_append_bool(&sb, "quiesce", quiesce) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = vm_call_simple(c, "CreateSnapshot_Task", moref, strbuf_str(&sb), timeout_s, &result, err);
        if (r < 0)
                return r;
        if (!*result)
                return ferry_error_set(err, -EBADMSG, "CreateSnapshot_Task returned no snapshot");
        *ret_snapshot = TAKE_PTR(result);
        return 0;
}

static int vmware_snapshot_remove(struct source *s, const char *vm, const char *snapshot, int timeout_s,
                                  struct ferry_error *err)
{
        struct vmware_client *c = to_vmware(s)->client;
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

        (void) vm;
        if (soap_append_moref(&sb, "_this", "VirtualMachineSnapshot", snapshot) < 0 ||
            soap_append_bool(&sb, "removeChildren", false) < 0 || soap_append_bool(&sb, "consolidate", true) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return call_task(c, "RemoveSnapshot_Task", strbuf_str(&sb), timeout_s, NULL, err);
}

static int vmware_cbt_enable(struct source *s, const char *vm, int timeout_s, struct ferry_error *err)
{
        static const char *const paths[] = { "config.hardware.device", NULL };
        struct vmware_client *c = to_vmware(s)->client;
        _cleanup_free_ char *moref = NULL;
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct vmware_objects objs = {};
        xmlNode *devices;
        int r;

        r = vmware_find_vm(c, vm, &moref, err);
        if (r < 0)
                return r;
        r = get_properties(c, "VirtualMachine", moref, paths, &objs, err);
        if (r < 0)
                return r;

        /* Per disk "scsiB:U.ctkEnabled" (the bus of its controller), then the VM's switch. */
        r = strbuf_append(&sb, "<vim25:spec>");
        devices = objs.n > 0 ? vmware_object_prop(&objs.items[0], "config.hardware.device") : NULL;
        for (xmlNode *d = devices ? devices->children : NULL; r >= 0 && d; d = d->next) {
                int64_t ctrl = -1, unit = -1, bus = -1;
                const char *prefix = NULL;

                if (d->type != XML_ELEMENT_NODE || !streq_ptr(xml_xsi_type(d), "VirtualDisk"))
                        continue;
                (void) xml_int(xml_child(d, "controllerKey"), &ctrl);
                (void) xml_int(xml_child(d, "unitNumber"), &unit);
                for (xmlNode *k = devices->children; k; k = k->next) {
                        int64_t key = -2;
                        const char *t = xml_xsi_type(k);

                        if (k->type != XML_ELEMENT_NODE || xml_int(xml_child(k, "key"), &key) <= 0 || key != ctrl)
                                continue;
                        (void) xml_int(xml_child(k, "busNumber"), &bus);
                        prefix = t && strstr(t, "IDE") ? "ide" : t && strstr(t, "AHCI") ? "sata"
                                                         : t && strstr(t, "NVME")  ? "nvme"
                                                                                   : "scsi";
                }
                if (!prefix || bus < 0 || unit < 0)
                        continue;
                r = strbuf_appendf(&sb,
                                   "<vim25:extraConfig><vim25:key>%s%" PRId64 ":%" PRId64 ".ctkEnabled</vim25:key>"
                                   "<vim25:value xsi:type=\"xsd:string\" "
                                   "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">TRUE</vim25:value>"
                                   "</vim25:extraConfig>",
                                   prefix, bus, unit);
        }
        vmware_objects_done(&objs);
        if (r >= 0)
                r = strbuf_append(&sb, "<vim25:changeTrackingEnabled>true</vim25:changeTrackingEnabled></vim25:spec>");
        if (r < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return vm_call_simple(c, "ReconfigVM_Task", moref, strbuf_str(&sb), timeout_s, NULL, err);
}

static int vmware_disk_change_id(struct source *s, const char *vm, const char *snapshot, int64_t device_key,
                                 char **ret_change_id, struct ferry_error *err)
{
        static const char *const snap_paths[] = { "config.hardware.device", NULL };
        struct vmware_client *c = to_vmware(s)->client;
        _cleanup_free_ char *moref = NULL;
        struct vmware_objects objs = {};
        xmlNode *devices;
        int r;

        if (snapshot && *snapshot)
                r = get_properties(c, "VirtualMachineSnapshot", snapshot, snap_paths, &objs, err);
        else {
                r = vmware_find_vm(c, vm, &moref, err);
                if (r >= 0)
                        r = get_properties(c, "VirtualMachine", moref, snap_paths, &objs, err);
        }
        if (r < 0)
                return r;
        devices = objs.n > 0 ? vmware_object_prop(&objs.items[0], "config.hardware.device") : NULL;
        r = ferry_error_set(err, -ENOENT, "No disk with device key %" PRId64 " in '%s'", device_key,
                            snapshot && *snapshot ? snapshot : vm);
        for (xmlNode *d = devices ? devices->children : NULL; d; d = d->next) {
                int64_t key = -1;

                if (d->type != XML_ELEMENT_NODE || xml_int(xml_child(d, "key"), &key) <= 0 || key != device_key)
                        continue;
                const char *id = xml_path_text(d, "backing/changeId");

                if (!id || !*id) {
                        r = ferry_error_set(err, -ENODATA,
                                            "Disk %" PRId64 " of '%s' has no changeId: change block tracking is off",
                                            device_key, vm);
                        break;
                }
                *ret_change_id = strdup(id);
                ferry_error_clear(err);
                r = *ret_change_id ? 0 : ferry_error_set(err, -ENOMEM, "Out of memory");
                break;
        }
        vmware_objects_done(&objs);
        return r;
}

static int vmware_changed_areas(struct source *s, const char *vm, const char *snapshot, int64_t device_key,
                                uint64_t capacity, const char *change_id, struct source_extent **ret_extents,
                                size_t *ret_n, struct ferry_error *err)
{
        struct vmware_client *c = to_vmware(s)->client;
        _cleanup_free_ char *moref = NULL;
        _cleanup_free_ struct source_extent *extents = NULL;
        size_t n = 0, alloc = 0;
        uint64_t offset = 0;
        int r;

        to_vmware(s)->changed_areas_calls = 0;
        r = vmware_find_vm(c, vm, &moref, err);
        if (r < 0)
                return r;

        /* One answer holds a bounded number of areas: continue after what it covered. */
        while (offset < capacity) {
                _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
                _cleanup_xmldoc_ xmlDoc *doc = NULL;
                xmlNode *rv;
                int64_t start = -1, length = -1;

                if (soap_append_moref(&sb, "_this", "VirtualMachine", moref) < 0 ||
                    (snapshot && *snapshot && soap_append_moref(&sb, "snapshot", "VirtualMachineSnapshot", snapshot) < 0) ||
                    soap_append_int(&sb, "deviceKey", device_key) < 0 ||
                    soap_append_int(&sb, "startOffset", (int64_t) offset) < 0 ||
                    soap_append_element(&sb, "changeId", change_id) < 0)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                to_vmware(s)->changed_areas_calls++;
                r = vmware_client_call(c, "QueryChangedDiskAreas", strbuf_str(&sb), &doc, err);
                if (r < 0)
                        return r;
                rv = xml_child(soap_body_response(doc), "returnval");
                if (xml_int(xml_child(rv, "startOffset"), &start) <= 0 || xml_int(xml_child(rv, "length"), &length) <= 0 ||
                    start != (int64_t) offset || length <= 0)
                        return ferry_error_set(err, -EBADMSG,
                                               "QueryChangedDiskAreas answered a range that does not continue at %" PRIu64,
                                               offset);
                for (xmlNode *a = xml_child(rv, "changedArea"); a; a = xml_next_same(a)) {
                        int64_t as = 0, al = 0;

                        if (xml_int(xml_child(a, "start"), &as) <= 0 || xml_int(xml_child(a, "length"), &al) <= 0 ||
                            as < 0 || al <= 0)
                                return ferry_error_set(err, -EBADMSG, "QueryChangedDiskAreas answered a malformed area");
                        if (n == alloc) {
                                size_t na = alloc ? alloc * 2 : 256;
                                struct source_extent *p = realloc(extents, na * sizeof(*p));

                                if (!p)
                                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                                extents = p;
                                alloc = na;
                        }
                        extents[n++] = (struct source_extent) { (uint64_t) as, (uint64_t) al };
                }
                offset = (uint64_t) start + (uint64_t) length;
        }
        *ret_extents = TAKE_PTR(extents);
        *ret_n = n;
        return 0;
}

/* --- disk access ------------------------------------------------------------------------- */

/* The backing file ("[ds] vm/vm.vmdk") of the disk with device_key, as in snapshot or now. */
static int disk_backing_file(struct vmware_client *c, const char *vm_moref, const char *snapshot, int64_t device_key,
                             char **ret, struct ferry_error *err)
{
        static const char *const paths[] = { "config.hardware.device", NULL };
        struct vmware_objects objs = {};
        xmlNode *devices;
        int r;

        if (snapshot && *snapshot)
                r = get_properties(c, "VirtualMachineSnapshot", snapshot, paths, &objs, err);
        else
                r = get_properties(c, "VirtualMachine", vm_moref, paths, &objs, err);
        if (r < 0)
                return r;
        devices = objs.n > 0 ? vmware_object_prop(&objs.items[0], "config.hardware.device") : NULL;
        if (!devices) {
                vmware_objects_done(&objs);
                return ferry_error_set(err, -ENOENT, "No devices in '%s'", snapshot && *snapshot ? snapshot : vm_moref);
        }
        r = ferry_error_set(err, -ENOENT, "No disk with device key %" PRId64 " in '%s'", device_key,
                            snapshot && *snapshot ? snapshot : vm_moref);
        for (xmlNode *d = devices->children; d; d = d->next) {
                int64_t key = -1;
                const char *file;

                if (d->type != XML_ELEMENT_NODE || xml_int(xml_child(d, "key"), &key) <= 0 || key != device_key)
                        continue;
                file = xml_path_text(d, "backing/fileName");
                if (!file || !*file) {
                        r = ferry_error_set(err, -ENODATA, "Disk %" PRId64 " of '%s' has no backing file", device_key,
                                            vm_moref);
                        break;
                }
                ferry_error_clear(err);
                *ret = strdup(file);
                r = *ret ? 0 : ferry_error_set(err, -ENOMEM, "Out of memory");
                break;
        }
        vmware_objects_done(&objs);
        return r;
}

/* A fresh name in dir for one disk's socket or secret. */
static char *runtime_file(const char *dir, const char *suffix)
{
        static unsigned counter;
        char name[64];

        snprintf(name, sizeof(name), "/ferry-%d-%u%s", (int) getpid(), __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED),
                 suffix);
        return strjoin(dir, name, NULL);
}

static const json_t *spec_disk(const struct source_disk_spec *spec)
{
        size_t i;
        json_t *d;

        json_array_foreach(json_object_get(spec->instance, "disks"), i, d)
                if (json_integer_value(json_object_get(d, "device_key")) == spec->device_key)
                        return d;
        return NULL;
}

static int open_nbd_template(struct vmware_source *v, const struct source_disk_spec *spec, const char *vm_moref,
                             const char *file, struct source_disk **ret, struct ferry_error *err)
{
        const char *tmpl = json_string_value(json_object_get(v->disk_access, "uri_template"));
        const json_t *disk = spec_disk(spec);
        _cleanup_free_ char *ds = NULL, *path = NULL, *uri = NULL;
        char key[32];
        int r;

        r = source_datastore_path_split(file, &ds, &path, err);
        if (r < 0)
                return r;
        snprintf(key, sizeof(key), "%" PRId64, spec->device_key);
        const struct source_uri_var vars[] = {
                { "vm", json_string_value(json_object_get(spec->instance, "name")) },
                { "uuid", json_string_value(json_object_get(spec->instance, "uuid")) },
                { "location", json_string_value(json_object_get(spec->instance, "location")) },
                { "moref", vm_moref },
                { "disk", json_string_value(json_object_get(disk, "name")) },
                { "device_key", key },
                { "datastore", ds },
                { "path", path },
                { "file", file },
                { "snapshot", spec->snapshot ? spec->snapshot : "" },
        };
        r = source_uri_template_expand(tmpl, vars, ELEMENTSOF(vars), &uri, err);
        if (r < 0)
                return r;
        return source_disk_new_uri(uri, ret, err);
}

static int open_datastore(struct vmware_source *v, const struct source_disk_spec *spec, const char *file,
                          struct source_disk **ret, struct ferry_error *err)
{
        _cleanup_free_ char *local = NULL, *sock = NULL, *log = NULL;
        _cleanup_argv_ char **argv = NULL;
        int r;

        r = source_datastore_map(json_object_get(v->disk_access, "datastore_mounts"), file, &local, err);
        if (r < 0)
                return r;
        if (access(local, R_OK) < 0)
                return ferry_error_set(err, -errno, "Cannot read '%s' (the disk '%s'): %s", local, file,
                                       strerror(errno));
        sock = runtime_file(spec->runtime_dir, ".sock");
        log = runtime_file(spec->runtime_dir, ".log");
        if (!sock || !log)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = source_qemu_nbd_argv(local, sock, &argv, err);
        if (r < 0)
                return r;
        return source_disk_serve(argv, sock, log, 30000, ret, err);
}

static int open_vddk(struct vmware_source *v, const struct source_disk_spec *spec, const char *vm_moref,
                     const char *file, struct source_disk **ret, struct ferry_error *err)
{
        _cleanup_free_ char *host = NULL, *sock = NULL, *log = NULL, *pw = NULL;
        _cleanup_argv_ char **argv = NULL;
        _cleanup_close_ int fd = -1;
        const char *thumbprint = vmware_client_peer_sha1_thumbprint(v->client);
        size_t len = strlen(v->password);
        int port = 0, r;

        r = vmware_endpoint_host_port(v->endpoint, &host, &port, err);
        if (r < 0)
                return r;
        sock = runtime_file(spec->runtime_dir, ".sock");
        log = runtime_file(spec->runtime_dir, ".log");
        pw = runtime_file(spec->runtime_dir, ".pw");
        if (!sock || !log || !pw)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = vmware_vddk_argv(&(struct vmware_vddk_params) {
                                     .libdir = spec->vddk_libdir,
                                     .server = host,
                                     .port = port,
                                     .user = v->username,
                                     .password_file = pw,
                                     .thumbprint = thumbprint,
                                     .vm_moref = vm_moref,
                                     .snapshot = spec->snapshot,
                                     .file = file,
                                     .socket_path = sock,
                             },
                             &argv, err);
        if (r < 0)
                return r;

        fd = open(pw, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return ferry_error_set(err, -errno, "Cannot create the password file '%s': %s", pw, strerror(errno));
        if (write(fd, v->password, len) != (ssize_t) len) {
                r = ferry_error_set(err, -EIO, "Cannot write the password file '%s'", pw);
                (void) unlink(pw);
                return r;
        }
        /* nbdkit reads the file while it starts: gone once it listens, or failed. */
        r = source_disk_serve(argv, sock, log, 60000, ret, err);
        (void) unlink(pw);
        return r;
}

static int vmware_disk_open(struct source *s, const struct source_disk_spec *spec, struct source_disk **ret,
                            struct ferry_error *err)
{
        struct vmware_source *v = to_vmware(s);
        const char *mode = json_string_value(json_object_get(v->disk_access, "mode"));
        const char *uuid = json_string_value(json_object_get(spec->instance, "uuid"));
        _cleanup_free_ char *moref = NULL, *file = NULL;
        int r;

        if (!uuid)
                return ferry_error_set(err, -EINVAL, "The instance has no uuid");
        if (!streq_ptr(mode, "nbd") && (!spec->runtime_dir || !*spec->runtime_dir))
                return ferry_error_set(err, -EINVAL, "No runtime directory for the disk's NBD server");
        r = vmware_find_vm(v->client, uuid, &moref, err);
        if (r < 0)
                return r;
        r = disk_backing_file(v->client, moref, spec->snapshot, spec->device_key, &file, err);
        if (r < 0)
                return r;
        if (streq_ptr(mode, "datastore"))
                r = open_datastore(v, spec, file, ret, err);
        else if (streq_ptr(mode, "nbd"))
                r = open_nbd_template(v, spec, moref, file, ret, err);
        else
                r = open_vddk(v, spec, moref, file, ret, err);
        if (r < 0)
                return ferry_error_prefix(err, "Disk %" PRId64 " of '%s'", spec->device_key,
                                          json_string_value(json_object_get(spec->instance, "name")) ?: uuid);
        return 0;
}

const struct source_ops vmware_source_ops = {
        .type = "vmware",
        .connect = vmware_connect,
        .disconnect = vmware_disconnect,
        .sync_inventory = vmware_sync_inventory,
        .power_on = vmware_power_on,
        .power_off = vmware_power_off,
        .snapshot_create = vmware_snapshot_create,
        .snapshot_remove = vmware_snapshot_remove,
        .cbt_enable = vmware_cbt_enable,
        .disk_change_id = vmware_disk_change_id,
        .changed_areas = vmware_changed_areas,
        .disk_open = vmware_disk_open,
        .disk_close = source_disk_free,
};
