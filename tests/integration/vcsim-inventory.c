/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <openssl/evp.h>

#include "common/http.h"
#include "common/json.h"
#include "common/macros.h"
#include "common/strbuf.h"
#include "lab.h"
#include "vcsim-inventory.h"

DEFINE_CLEANUP_FUNC(xmlDoc, xmlFreeDoc);
#define _cleanup_xmldoc_ _cleanup_(xmlFreeDoc_p)
DEFINE_CLEANUP_FUNC(xmlXPathObject, xmlXPathFreeObject);
#define _cleanup_xpathobj_ _cleanup_(xmlXPathFreeObject_p)

struct inventory {
        struct http_client *soap;
        struct http_client *rest;
        xmlDoc *content;
        xmlDoc *objects;
        json_t *tags_by_vm; /* moref -> {category: [tag, ...]} */
};

/* https://host:port of the simulator, without the /sdk its URL ends in. */
static char *vcsim_base(void)
{
        const char *url = lab_env("LAB_VCSIM_URL");
        size_t len = strlen(url);

        if (len >= 4 && streq(url + len - 4, "/sdk"))
                len -= 4;
        return strndup(url, len);
}

static struct http_client *vcsim_http_client(void)
{
        _cleanup_free_ char *base = vcsim_base();
        struct ferry_error err = {};
        struct http_client *c;

        assert_non_null(base);
        c = http_client_new(&(struct http_client_config) {
                                    .endpoint = base,
                                    .pinned_fingerprint = lab_env("LAB_VCSIM_FINGERPRINT"),
                                    .cookies = true,
                            },
                            &err);
        if (!c)
                fail_msg("%s", err.message);
        return c;
}

static xmlDoc *soap(struct inventory *inv, const char *body)
{
        static const char *const headers[] = { "SOAPAction: \"urn:vim25/7.0\"", NULL };
        _cleanup_free_ char *envelope = NULL;
        struct http_response resp = {};
        struct ferry_error err = {};
        xmlDoc *doc;

        assert_non_null(envelope = strjoin(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:vim25=\"urn:vim25\">"
                "<soapenv:Body>", body, "</soapenv:Body></soapenv:Envelope>", NULL));
        if (http_request(inv->soap, "POST", "/sdk", "text/xml; charset=utf-8", envelope, strlen(envelope), headers,
                         &resp, &err) < 0)
                fail_msg("SOAP call failed: %s", err.message);
        if (resp.status != 200)
                fail_msg("SOAP call answered %ld: %s", resp.status, resp.body);
        doc = xmlReadMemory(resp.body, (int) resp.body_len, "soap.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
        if (!doc)
                fail_msg("SOAP answer is not XML: %s", resp.body);
        http_response_done(&resp);
        return doc;
}

/* The nodes matching xpath below node (or the document when node is NULL). */
static xmlXPathObject *xpath(xmlDoc *doc, xmlNode *node, const char *expr)
{
        xmlXPathContext *ctx = xmlXPathNewContext(doc);
        xmlXPathObject *obj;

        assert_non_null(ctx);
        xmlXPathRegisterNs(ctx, BAD_CAST "soapenv", BAD_CAST "http://schemas.xmlsoap.org/soap/envelope/");
        xmlXPathRegisterNs(ctx, BAD_CAST "vim", BAD_CAST "urn:vim25");
        xmlXPathRegisterNs(ctx, BAD_CAST "xsi", BAD_CAST "http://www.w3.org/2001/XMLSchema-instance");
        if (node)
                ctx->node = node;
        obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
        xmlXPathFreeContext(ctx);
        if (!obj)
                fail_msg("Bad XPath '%s'", expr);
        return obj;
}

static size_t nodes_count(const xmlXPathObject *o)
{
        return o->nodesetval ? (size_t) o->nodesetval->nodeNr : 0;
}

static xmlNode *node_at(const xmlXPathObject *o, size_t i)
{
        return o->nodesetval->nodeTab[i];
}

/* The text of the first node matching expr below node, or NULL; free() it. */
static char *text_of(xmlDoc *doc, xmlNode *node, const char *expr)
{
        _cleanup_xpathobj_ xmlXPathObject *o = xpath(doc, node, expr);
        xmlChar *t;
        char *s;

        if (nodes_count(o) == 0)
                return NULL;
        t = xmlNodeGetContent(node_at(o, 0));
        assert_non_null(s = strdup((const char *) t));
        xmlFree(t);
        return s;
}

static char *required_text(xmlDoc *doc, xmlNode *node, const char *expr)
{
        char *s = text_of(doc, node, expr);

        if (!s)
                fail_msg("No '%s' in the simulator's answer", expr);
        return s;
}

static void login(struct inventory *inv)
{
        _cleanup_free_ char *sm = NULL, *body = NULL;

        inv->content = soap(inv, "<vim25:RetrieveServiceContent><vim25:_this type=\"ServiceInstance\">ServiceInstance"
                                 "</vim25:_this></vim25:RetrieveServiceContent>");
        sm = required_text(inv->content, NULL, "//vim:returnval/vim:sessionManager");
        assert_non_null(body = strjoin("<vim25:Login><vim25:_this type=\"SessionManager\">", sm,
                                       "</vim25:_this><vim25:userName>", lab_env("LAB_VCSIM_USERNAME"),
                                       "</vim25:userName><vim25:password>", lab_env("LAB_VCSIM_PASSWORD"),
                                       "</vim25:password></vim25:Login>", NULL));
        xmlFreeDoc(soap(inv, body));
}

/* Every VM, folder and datacenter with the properties the mapping needs. */
static void retrieve_objects(struct inventory *inv)
{
        _cleanup_free_ char *vm = NULL, *root = NULL, *pc = NULL, *body = NULL, *view = NULL, *token = NULL;
        _cleanup_xmldoc_ xmlDoc *created = NULL;

        vm = required_text(inv->content, NULL, "//vim:returnval/vim:viewManager");
        root = required_text(inv->content, NULL, "//vim:returnval/vim:rootFolder");
        pc = required_text(inv->content, NULL, "//vim:returnval/vim:propertyCollector");

        assert_non_null(body = strjoin(
                "<vim25:CreateContainerView><vim25:_this type=\"ViewManager\">", vm, "</vim25:_this>"
                "<vim25:container type=\"Folder\">", root, "</vim25:container>"
                "<vim25:type>VirtualMachine</vim25:type><vim25:type>Folder</vim25:type>"
                "<vim25:type>Datacenter</vim25:type><vim25:recursive>true</vim25:recursive>"
                "</vim25:CreateContainerView>", NULL));
        created = soap(inv, body);
        view = required_text(created, NULL, "//vim:returnval");
        free(TAKE_PTR(body));

        assert_non_null(body = strjoin(
                "<vim25:RetrievePropertiesEx><vim25:_this type=\"PropertyCollector\">", pc, "</vim25:_this>"
                "<vim25:specSet>"
                "<vim25:propSet><vim25:type>VirtualMachine</vim25:type>"
                "<vim25:pathSet>name</vim25:pathSet><vim25:pathSet>parent</vim25:pathSet>"
                "<vim25:pathSet>config.uuid</vim25:pathSet><vim25:pathSet>config.annotation</vim25:pathSet>"
                "<vim25:pathSet>config.hardware.numCPU</vim25:pathSet>"
                "<vim25:pathSet>config.hardware.memoryMB</vim25:pathSet>"
                "<vim25:pathSet>config.hardware.device</vim25:pathSet>"
                "<vim25:pathSet>config.guestFullName</vim25:pathSet><vim25:pathSet>config.extraConfig</vim25:pathSet>"
                "<vim25:pathSet>config.firmware</vim25:pathSet>"
                "<vim25:pathSet>config.bootOptions</vim25:pathSet>"
                "<vim25:pathSet>config.changeTrackingEnabled</vim25:pathSet>"
                "<vim25:pathSet>runtime.powerState</vim25:pathSet>"
                "</vim25:propSet>"
                "<vim25:propSet><vim25:type>Folder</vim25:type><vim25:pathSet>name</vim25:pathSet>"
                "<vim25:pathSet>parent</vim25:pathSet></vim25:propSet>"
                "<vim25:propSet><vim25:type>Datacenter</vim25:type><vim25:pathSet>name</vim25:pathSet>"
                "<vim25:pathSet>parent</vim25:pathSet></vim25:propSet>"
                "<vim25:objectSet><vim25:obj type=\"ContainerView\">", view, "</vim25:obj>"
                "<vim25:skip>true</vim25:skip><vim25:selectSet xsi:type=\"vim25:TraversalSpec\">"
                "<vim25:name>view</vim25:name><vim25:type>ContainerView</vim25:type><vim25:path>view</vim25:path>"
                "<vim25:skip>false</vim25:skip></vim25:selectSet></vim25:objectSet>"
                "</vim25:specSet><vim25:options/></vim25:RetrievePropertiesEx>", NULL));
        inv->objects = soap(inv, body);
        /* The lab's inventory fits one answer; paging would need ContinueRetrievePropertiesEx. */
        token = text_of(inv->objects, NULL, "//vim:returnval/vim:token");
        if (token)
                fail_msg("RetrievePropertiesEx paged its answer (token '%s')", token);
}

/* The propSet value node of property name in an objects element, or NULL. */
static xmlNode *prop(struct inventory *inv, xmlNode *object, const char *name)
{
        _cleanup_free_ char *expr = NULL;
        _cleanup_xpathobj_ xmlXPathObject *o = NULL;

        assert_non_null(expr = strjoin("vim:propSet[vim:name='", name, "']/vim:val", NULL));
        o = xpath(inv->objects, object, expr);
        return nodes_count(o) > 0 ? node_at(o, 0) : NULL;
}

static char *prop_text(struct inventory *inv, xmlNode *object, const char *name)
{
        xmlNode *n = prop(inv, object, name);
        xmlChar *t;
        char *s;

        if (!n)
                return NULL;
        t = xmlNodeGetContent(n);
        assert_non_null(s = strdup((const char *) t));
        xmlFree(t);
        return s;
}

/* The objects element of the object with this moref value, or NULL. */
static xmlNode *object_by_moref(struct inventory *inv, const char *moref)
{
        _cleanup_free_ char *expr = NULL;
        _cleanup_xpathobj_ xmlXPathObject *o = NULL;

        assert_non_null(expr = strjoin("//vim:returnval/vim:objects[vim:obj='", moref, "']", NULL));
        o = xpath(inv->objects, NULL, expr);
        return nodes_count(o) > 0 ? node_at(o, 0) : NULL;
}

/* /<datacenter>/vm/<folders>/<name>: the names up to the datacenter. */
static char *location_of(struct inventory *inv, xmlNode *vm)
{
        char *names[32];
        size_t n = 0;
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        xmlNode *o = vm;

        for (;;) {
                _cleanup_free_ char *type = NULL, *parent = NULL;

                assert_true(n < ELEMENTSOF(names));
                names[n++] = prop_text(inv, o, "name");
                type = text_of(inv->objects, o, "vim:obj/@type");
                if (type && streq(type, "Datacenter"))
                        break;
                parent = prop_text(inv, o, "parent");
                if (!parent || !(o = object_by_moref(inv, parent)))
                        fail_msg("'%s' has no datacenter above it", names[0]);
        }
        while (n > 0) {
                assert_int_equal(strbuf_appendf(&sb, "/%s", names[n - 1]), 0);
                free(names[--n]);
        }
        return strbuf_steal(&sb);
}

/* distroName='...' of guestinfo.detailed.data, as VMware Tools report the OS. */
static char *detailed_distro_name(struct inventory *inv, xmlNode *vm)
{
        _cleanup_free_ char *data = NULL;
        xmlNode *extra = prop(inv, vm, "config.extraConfig");
        const char *start, *end;

        if (!extra)
                return NULL;
        data = text_of(inv->objects, extra, "vim:OptionValue[vim:key='guestinfo.detailed.data']/vim:value");
        if (!data || !(start = strstr(data, "distroName='")))
                return NULL;
        start += strlen("distroName='");
        end = strchr(start, '\'');
        return end ? strndup(start, (size_t) (end - start)) : NULL;
}

static bool text_is(struct inventory *inv, xmlNode *node, const char *expr, const char *value)
{
        _cleanup_free_ char *t = text_of(inv->objects, node, expr);

        return t && streq(t, value);
}

static json_t *disks_and_nics(struct inventory *inv, xmlNode *vm, json_t **ret_nics, bool *ret_tpm)
{
        xmlNode *devices = prop(inv, vm, "config.hardware.device");
        _cleanup_xpathobj_ xmlXPathObject *list = NULL;
        json_t *disks = json_array(), *nics = json_array();

        assert_non_null(disks);
        assert_non_null(nics);
        *ret_tpm = false;
        if (!devices)
                goto done;
        list = xpath(inv->objects, devices, "vim:VirtualDevice");
        for (size_t i = 0; i < nodes_count(list); i++) {
                xmlNode *d = node_at(list, i);
                _cleanup_free_ char *type = text_of(inv->objects, d, "@xsi:type");
                _cleanup_free_ char *label = text_of(inv->objects, d, "vim:deviceInfo/vim:label");

                if (type && streq(type, "VirtualTPM"))
                        *ret_tpm = true;
                else if (type && streq(type, "VirtualDisk")) {
                        _cleanup_free_ char *kb = required_text(inv->objects, d, "vim:capacityInKB");
                        _cleanup_free_ char *mode = text_of(inv->objects, d, "vim:backing/vim:diskMode");
                        _cleanup_free_ char *change_id = text_of(inv->objects, d, "vim:backing/vim:changeId");
                        bool shared = text_is(inv, d, "vim:backing/vim:sharing", "sharingMultiWriter");
                        bool independent = mode && startswith(mode, "independent");

                        assert_int_equal(json_array_append_new(disks, json_pack(
                                "{s:s, s:I, s:b, s:b, s:b}", "name", label ? label : "", "capacity",
                                (json_int_t) strtoll(kb, NULL, 10) * 1024, "shared", shared, "supported",
                                !shared && !independent, "change_tracking", change_id && *change_id)), 0);
                } else {
                        _cleanup_free_ char *mac = text_of(inv->objects, d, "vim:macAddress");
                        _cleanup_free_ char *network = text_of(inv->objects, d, "vim:deviceInfo/vim:summary");

                        if (!mac)
                                continue;
                        assert_int_equal(json_array_append_new(nics, json_pack(
                                "{s:s, s:s, s:s, s:s}", "hardware_address", mac, "network", network ? network : "",
                                "ipv4_address", "", "ipv6_address", "")), 0);
                }
        }
done:
        *ret_nics = nics;
        return disks;
}

/* --- vAPI: tags ------------------------------------------------------------------ */

static json_t *rest(struct inventory *inv, const char *method, const char *path, const char *body)
{
        _cleanup_json_ json_t *answer = NULL;
        struct http_response resp = {};
        struct ferry_error err = {};
        json_t *value;

        if (http_request(inv->rest, method, path, body ? "application/json" : NULL, body, body ? strlen(body) : 0,
                         NULL, &resp, &err) < 0)
                fail_msg("vAPI %s %s failed: %s", method, path, err.message);
        if (resp.status != 200)
                fail_msg("vAPI %s %s answered %ld: %s", method, path, resp.status, resp.body ? resp.body : "");
        if (json_parse_strict(resp.body, resp.body_len, &answer, &err) < 0)
                fail_msg("vAPI %s %s: %s", method, path, err.message);
        http_response_done(&resp);
        value = json_object_get(answer, "value");
        if (!value)
                fail_msg("vAPI %s %s answered no value", method, path);
        return json_incref(value);
}

static void rest_login(struct inventory *inv)
{
        _cleanup_free_ char *credentials = NULL, *header = NULL;
        unsigned char encoded[512];
        struct http_response resp = {};
        struct ferry_error err = {};
        const char *headers[2];

        assert_non_null(credentials = strjoin(lab_env("LAB_VCSIM_USERNAME"), ":", lab_env("LAB_VCSIM_PASSWORD"),
                                              NULL));
        assert_true(strlen(credentials) < 300);
        EVP_EncodeBlock(encoded, (const unsigned char *) credentials, (int) strlen(credentials));
        assert_non_null(header = strjoin("Authorization: Basic ", (char *) encoded, NULL));
        headers[0] = header;
        headers[1] = NULL;
        /* The session cookie (vmware-api-session-id) goes with every later request. */
        if (http_request(inv->rest, "POST", "/rest/com/vmware/cis/session", NULL, NULL, 0, headers, &resp, &err) < 0)
                fail_msg("vAPI login failed: %s", err.message);
        if (resp.status != 200)
                fail_msg("vAPI login answered %ld", resp.status);
        http_response_done(&resp);
}

static const char *name_of(struct inventory *inv, json_t *cache, const char *kind, const char *id)
{
        _cleanup_free_ char *path = NULL;
        json_t *entity;

        if (!json_object_get(cache, id)) {
                assert_non_null(path = strjoin("/rest/com/vmware/cis/tagging/", kind, "/id:", id, NULL));
                entity = rest(inv, "GET", path, NULL);
                assert_int_equal(json_object_set_new(cache, id, entity), 0);
        }
        return json_string_value(json_object_get(json_object_get(cache, id), "name"));
}

/* moref -> {category: [sorted tag names]} for every VM. */
static void retrieve_tags(struct inventory *inv, json_t *vm_morefs)
{
        _cleanup_json_ json_t *request = json_pack("{s:[]}", "object_ids"), *answer = NULL;
        _cleanup_json_ json_t *tags = json_object(), *categories = json_object();
        _cleanup_free_ char *body = NULL;
        json_t *item;
        size_t i;

        inv->rest = vcsim_http_client();
        rest_login(inv);
        json_array_foreach(vm_morefs, i, item)
                assert_int_equal(json_array_append_new(json_object_get(request, "object_ids"),
                                                       json_pack("{s:O, s:s}", "id", item, "type", "VirtualMachine")),
                                 0);
        assert_non_null(body = json_dump_compact(request));
        answer = rest(inv, "POST",
                      "/rest/com/vmware/cis/tagging/tag-association?~action=list-attached-tags-on-objects", body);

        assert_non_null(inv->tags_by_vm = json_object());
        json_array_foreach(answer, i, item) {
                const char *moref = json_string_value(json_object_get(json_object_get(item, "object_id"), "id"));
                json_t *by_category = json_object(), *tag_id;
                size_t k;

                assert_non_null(moref);
                json_array_foreach(json_object_get(item, "tag_ids"), k, tag_id) {
                        const char *tag = name_of(inv, tags, "tag", json_string_value(tag_id));
                        const char *category_id = json_string_value(
                                json_object_get(json_object_get(tags, json_string_value(tag_id)), "category_id"));
                        const char *category = name_of(inv, categories, "category", category_id);
                        json_t *list = json_object_get(by_category, category);

                        if (!list) {
                                list = json_array();
                                assert_int_equal(json_object_set_new(by_category, category, list), 0);
                        }
                        assert_int_equal(json_array_append_new(list, json_string(tag)), 0);
                }
                assert_int_equal(json_object_set_new(inv->tags_by_vm, moref, by_category), 0);
        }
}

static int compare_strings(const void *a, const void *b)
{
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* config['tag.<category>'] = "a,b" (sorted) for the VM's tags. */
static json_t *tag_config(struct inventory *inv, const char *moref)
{
        json_t *config = json_object(), *list;
        const char *category;

        json_object_foreach(json_object_get(inv->tags_by_vm, moref), category, list) {
                const char *names[64];
                size_t n = 0, i;
                json_t *t;
                _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
                _cleanup_free_ char *key = NULL;

                json_array_foreach(list, i, t) {
                        assert_true(n < ELEMENTSOF(names));
                        names[n++] = json_string_value(t);
                }
                qsort(names, n, sizeof(names[0]), compare_strings);
                for (i = 0; i < n; i++)
                        assert_int_equal(strbuf_appendf(&sb, "%s%s", i ? "," : "", names[i]), 0);
                assert_non_null(key = strjoin("tag.", category, NULL));
                assert_int_equal(json_object_set_new(config, key, json_string(strbuf_str(&sb))), 0);
        }
        return config;
}

json_t *vcsim_instances(const char *source_name)
{
        struct inventory inv = {};
        _cleanup_xpathobj_ xmlXPathObject *vms = NULL;
        _cleanup_json_ json_t *morefs = json_array();
        json_t *instances = json_array();

        assert_non_null(instances);
        inv.soap = vcsim_http_client();
        login(&inv);
        retrieve_objects(&inv);

        vms = xpath(inv.objects, NULL, "//vim:returnval/vim:objects[vim:obj/@type='VirtualMachine']");
        for (size_t i = 0; i < nodes_count(vms); i++) {
                _cleanup_free_ char *moref = required_text(inv.objects, node_at(vms, i), "vim:obj");

                assert_int_equal(json_array_append_new(morefs, json_string(moref)), 0);
        }
        retrieve_tags(&inv, morefs);

        for (size_t i = 0; i < nodes_count(vms); i++) {
                xmlNode *vm = node_at(vms, i);
                _cleanup_free_ char *moref = required_text(inv.objects, vm, "vim:obj");
                _cleanup_free_ char *name = prop_text(&inv, vm, "name");
                _cleanup_free_ char *uuid = prop_text(&inv, vm, "config.uuid");
                _cleanup_free_ char *annotation = prop_text(&inv, vm, "config.annotation");
                _cleanup_free_ char *cpus = prop_text(&inv, vm, "config.hardware.numCPU");
                _cleanup_free_ char *memory = prop_text(&inv, vm, "config.hardware.memoryMB");
                _cleanup_free_ char *full_name = prop_text(&inv, vm, "config.guestFullName");
                _cleanup_free_ char *distro = detailed_distro_name(&inv, vm);
                _cleanup_free_ char *firmware = prop_text(&inv, vm, "config.firmware");
                _cleanup_free_ char *cbt = prop_text(&inv, vm, "config.changeTrackingEnabled");
                _cleanup_free_ char *power = prop_text(&inv, vm, "runtime.powerState");
                _cleanup_free_ char *location = location_of(&inv, vm);
                xmlNode *boot = prop(&inv, vm, "config.bootOptions");
                bool secure_boot = boot && text_is(&inv, boot, "vim:efiSecureBootEnabled", "true"), tpm;
                json_t *nics, *disks = disks_and_nics(&inv, vm, &nics, &tpm);
                json_t *instance;

                instance = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:b,"
                                     " s:b, s:o, s:o, s:o, s:[]}",
                                     "uuid", uuid ? uuid : "", "source", source_name, "location", location, "name",
                                     name, "description", annotation ? annotation : "", "cpus",
                                     (json_int_t) strtoll(cpus ? cpus : "0", NULL, 10), "memory",
                                     (json_int_t) strtoll(memory ? memory : "0", NULL, 10) << 20, "architecture",
                                     "x86_64", "os", distro ? distro : full_name ? full_name : "", "os_version", "",
                                     "os_type", "", "secure_boot", secure_boot, "legacy_boot",
                                     firmware && streq(firmware, "bios"), "tpm", tpm, "running",
                                     power && streq(power, "poweredOn"), "background_import",
                                     cbt && streq(cbt, "true"), "config", tag_config(&inv, moref), "disks", disks,
                                     "nics", nics, "snapshots");
                if (!instance)
                        fail_msg("Cannot build the instance JSON of '%s'", name);
                assert_int_equal(json_array_append_new(instances, instance), 0);
        }

        http_client_free(inv.soap);
        http_client_free(inv.rest);
        xmlFreeDoc(inv.content);
        xmlFreeDoc(inv.objects);
        json_decref(inv.tags_by_vm);
        return instances;
}
