/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/http.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "source/vmware/client.h"

struct vmware_client {
        struct http_client *http;
        char *path;                     /* "/sdk" relative to the HTTP endpoint */
        char *username;
        char *password;
        struct vmware_service_content sc;
        bool have_sc;
        bool logged_in;
        bool transport_failed;
        size_t last_pages;
};

static const char *const soap_headers[] = { "SOAPAction: \"urn:vim25/7.0\"", NULL };

static void service_content_done(struct vmware_service_content *sc)
{
        free(sc->root_folder);
        free(sc->property_collector);
        free(sc->view_manager);
        free(sc->session_manager);
        free(sc->search_index);
        free(sc->custom_fields_manager);
        free(sc->api_type);
        free(sc->api_version);
        free(sc->instance_uuid);
        *sc = (struct vmware_service_content) {};
}

int vmware_client_new(const struct vmware_client_config *config, struct vmware_client **ret,
                      struct ferry_error *err)
{
        _cleanup_free_ char *base = NULL;
        struct vmware_client *c;
        size_t len;

        if (!config->endpoint || !*config->endpoint)
                return ferry_error_set(err, -EINVAL, "Endpoint is empty");
        if (!config->username || !*config->username)
                return ferry_error_set(err, -EINVAL, "User name is empty");

        base = strdup(config->endpoint);
        if (!base)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        len = strlen(base);
        while (len > 0 && base[len - 1] == '/')
                base[--len] = '\0';
        if (endswith(base, "/sdk"))
                base[len - 4] = '\0';

        c = calloc(1, sizeof(*c));
        if (!c)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        c->path = strdup("/sdk");
        c->username = strdup(config->username);
        c->password = strdup(config->password ? config->password : "");
        if (!c->path || !c->username || !c->password) {
                vmware_client_free(c);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        c->http = http_client_new(&(struct http_client_config) {
                                          .endpoint = base,
                                          .pinned_fingerprint = config->fingerprint && *config->fingerprint
                                                                        ? config->fingerprint
                                                                        : NULL,
                                          .connect_timeout_ms = config->connect_timeout_ms,
                                          .timeout_ms = config->timeout_ms ? config->timeout_ms : 300000,
                                          .cookies = true,
                                  },
                                  err);
        if (!c->http) {
                int r = err ? err->code : -EINVAL;

                vmware_client_free(c);
                return r < 0 ? r : -EINVAL;
        }
        *ret = c;
        return 0;
}

void vmware_client_free(struct vmware_client *c)
{
        if (!c)
                return;
        if (c->logged_in)
                (void) vmware_client_logout(c, NULL);
        http_client_free(c->http);
        service_content_done(&c->sc);
        free(c->path);
        free(c->username);
        if (c->password) {
                explicit_bzero(c->password, strlen(c->password));
                free(c->password);
        }
        free(c);
}

bool vmware_client_transport_failed(const struct vmware_client *c)
{
        return c->transport_failed;
}

const char *vmware_client_peer_fingerprint(const struct vmware_client *c)
{
        return http_client_peer_fingerprint(c->http);
}

const char *vmware_client_peer_sha1_thumbprint(const struct vmware_client *c)
{
        return http_client_peer_sha1_thumbprint(c->http);
}

const struct vmware_service_content *vmware_client_service(const struct vmware_client *c)
{
        return c->have_sc ? &c->sc : NULL;
}

size_t vmware_client_last_pages(const struct vmware_client *c)
{
        return c->last_pages;
}

/* One POST, no retry: the parsed answer, or an error for the transport and for faults. */
static int call_once(struct vmware_client *c, const char *method, const char *body, xmlDoc **ret,
                     struct ferry_error *err)
{
        _cleanup_free_ char *envelope = NULL;
        _cleanup_xmldoc_ xmlDoc *doc = NULL;
        struct http_response resp = {};
        struct soap_fault fault;
        int r;

        envelope = soap_envelope(method, body);
        if (!envelope)
                return ferry_error_set(err, -ENOMEM, "Out of memory");

        c->transport_failed = false;
        r = http_request(c->http, "POST", c->path, "text/xml; charset=utf-8", envelope, strlen(envelope),
                         soap_headers, &resp, err);
        if (r < 0) {
                c->transport_failed = true;
                return r;
        }
        log_debug("vSphere %s: HTTP %ld, %zu bytes", method, resp.status, resp.body_len);

        r = soap_parse(method, resp.body ? resp.body : "", resp.body_len, &doc, err);
        if (r < 0) {
                if (resp.status != 200)
                        r = ferry_error_set(err, -EIO, "vSphere call '%s' failed with HTTP status %ld", method,
                                            resp.status);
                http_response_done(&resp);
                return r;
        }
        http_response_done(&resp);

        if (soap_fault_parse(doc, &fault) > 0)
                return soap_fault_to_error(&fault, method, err);
        if (!soap_body_response(doc))
                return ferry_error_set(err, -EBADMSG, "Answer of '%s' has no SOAP body", method);
        *ret = TAKE_PTR(doc);
        return 0;
}

static int dup_text(const xmlNode *n, const char *path, char **ret)
{
        const char *t = xml_path_text(n, path);

        *ret = strdup(t ? t : "");
        return *ret ? 0 : -ENOMEM;
}

static int retrieve_service_content(struct vmware_client *c, struct ferry_error *err)
{
        _cleanup_xmldoc_ xmlDoc *doc = NULL;
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        struct vmware_service_content sc = {};
        xmlNode *rv;
        int r;

        if (soap_append_moref(&sb, "_this", "ServiceInstance", "ServiceInstance") < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = call_once(c, "RetrieveServiceContent", strbuf_str(&sb), &doc, err);
        if (r < 0)
                return r;

        rv = xml_child(soap_body_response(doc), "returnval");
        if (!rv)
                return ferry_error_set(err, -EBADMSG, "Answer of 'RetrieveServiceContent' has no service content");
        if (dup_text(rv, "rootFolder", &sc.root_folder) < 0 ||
            dup_text(rv, "propertyCollector", &sc.property_collector) < 0 ||
            dup_text(rv, "viewManager", &sc.view_manager) < 0 ||
            dup_text(rv, "sessionManager", &sc.session_manager) < 0 ||
            dup_text(rv, "searchIndex", &sc.search_index) < 0 ||
            dup_text(rv, "customFieldsManager", &sc.custom_fields_manager) < 0 ||
            dup_text(rv, "about/apiType", &sc.api_type) < 0 ||
            dup_text(rv, "about/apiVersion", &sc.api_version) < 0 ||
            dup_text(rv, "about/instanceUuid", &sc.instance_uuid) < 0) {
                service_content_done(&sc);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        if (!*sc.root_folder || !*sc.property_collector || !*sc.session_manager || !*sc.view_manager) {
                service_content_done(&sc);
                return ferry_error_set(err, -EBADMSG,
                                       "Answer of 'RetrieveServiceContent' lacks the root folder or a manager: "
                                       "is this a vCenter or ESXi endpoint?");
        }
        service_content_done(&c->sc);
        c->sc = sc;
        c->have_sc = true;
        return 0;
}

static int login(struct vmware_client *c, struct ferry_error *err)
{
        _cleanup_xmldoc_ xmlDoc *doc = NULL;
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        int r;

        if (soap_append_moref(&sb, "_this", "SessionManager", c->sc.session_manager) < 0 ||
            soap_append_element(&sb, "userName", c->username) < 0 ||
            soap_append_element(&sb, "password", c->password) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = call_once(c, "Login", strbuf_str(&sb), &doc, err);
        explicit_bzero(sb.data, sb.len);
        if (r < 0)
                return r;
        c->logged_in = true;
        return 0;
}

int vmware_client_login(struct vmware_client *c, struct ferry_error *err)
{
        int r;

        if (!c->have_sc) {
                r = retrieve_service_content(c, err);
                if (r < 0)
                        return r;
        }
        return login(c, err);
}

int vmware_client_logout(struct vmware_client *c, struct ferry_error *err)
{
        _cleanup_xmldoc_ xmlDoc *doc = NULL;
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

        if (!c->logged_in)
                return 0;
        c->logged_in = false;
        if (soap_append_moref(&sb, "_this", "SessionManager", c->sc.session_manager) < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        return call_once(c, "Logout", strbuf_str(&sb), &doc, err);
}

int vmware_client_call(struct vmware_client *c, const char *method, const char *body, xmlDoc **ret,
                       struct ferry_error *err)
{
        int r;

        r = call_once(c, method, body, ret, err);
        if (r != -ENOTCONN)
                return r;

        /* The session expired (or the server restarted): log in once more and retry. */
        log_debug("vSphere %s: not authenticated, logging in again", method);
        c->logged_in = false;
        r = vmware_client_login(c, err);
        if (r < 0)
                return r;
        return call_once(c, method, body, ret, err);
}

/* --- property retrieval ---------------------------------------------------------- */

int vmware_objects_add_page(struct vmware_objects *objs, xmlDoc *doc, const char **ret_token,
                            struct ferry_error *err)
{
        xmlDoc **docs;
        xmlNode *rv;
        size_t count = 0;

        docs = realloc(objs->docs, (objs->n_docs + 1) * sizeof(*docs));
        if (!docs) {
                xmlFreeDoc(doc);
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        objs->docs = docs;
        objs->docs[objs->n_docs++] = doc;

        /* An empty result has no returnval at all. */
        rv = xml_child(soap_body_response(doc), "returnval");
        for (xmlNode *o = xml_child(rv, "objects"); o; o = xml_next_same(o))
                count++;
        if (count > 0) {
                struct vmware_object *items = realloc(objs->items, (objs->n + count) * sizeof(*items));

                if (!items)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                objs->items = items;
        }
        for (xmlNode *o = xml_child(rv, "objects"); o; o = xml_next_same(o)) {
                xmlNode *obj = xml_child(o, "obj");
                const char *type = xml_attr(obj, "type"), *moref = xml_text(obj);

                if (!type || !moref)
                        return ferry_error_set(err, -EBADMSG, "Property answer has an object without a reference");
                objs->items[objs->n++] = (struct vmware_object) { .type = type, .moref = moref, .node = o };
        }
        if (ret_token) {
                const char *token = xml_path_text(rv, "token");

                *ret_token = token && *token ? token : NULL;
        }
        return 0;
}

void vmware_objects_done(struct vmware_objects *objs)
{
        for (size_t i = 0; i < objs->n_docs; i++)
                xmlFreeDoc(objs->docs[i]);
        free(objs->docs);
        free(objs->items);
        *objs = (struct vmware_objects) {};
}

xmlNode *vmware_object_prop(const struct vmware_object *o, const char *name)
{
        for (xmlNode *ps = xml_child(o->node, "propSet"); ps; ps = xml_next_same(ps))
                if (streq_ptr(xml_path_text(ps, "name"), name))
                        return xml_child(ps, "val");
        return NULL;
}

const char *vmware_object_prop_text(const struct vmware_object *o, const char *name)
{
        return xml_text(vmware_object_prop(o, name));
}

const struct vmware_object *vmware_objects_find(const struct vmware_objects *objs, const char *moref)
{
        for (size_t i = 0; i < objs->n; i++)
                if (streq(objs->items[i].moref, moref))
                        return &objs->items[i];
        return NULL;
}

static int destroy_view(struct vmware_client *c, const char *view)
{
        _cleanup_xmldoc_ xmlDoc *doc = NULL;
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

        if (soap_append_moref(&sb, "_this", "ContainerView", view) < 0)
                return -ENOMEM;
        return vmware_client_call(c, "DestroyView", strbuf_str(&sb), &doc, NULL);
}

int vmware_client_retrieve(struct vmware_client *c, const struct vmware_property_spec *specs, size_t n_specs,
                           int max_objects, struct vmware_objects *objs, struct ferry_error *err)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        _cleanup_free_ char *view = NULL, *token = NULL;
        xmlDoc *doc = NULL;
        const char *t;
        int r;

        if (!c->have_sc)
                return ferry_error_set(err, -ENOTCONN, "Not logged in");
        c->last_pages = 0;

        /* A view of every object of these types below the root folder. */
        r = soap_append_moref(&sb, "_this", "ViewManager", c->sc.view_manager);
        if (r >= 0)
                r = soap_append_moref(&sb, "container", "Folder", c->sc.root_folder);
        for (size_t i = 0; r >= 0 && i < n_specs; i++)
                r = soap_append_element(&sb, "type", specs[i].type);
        if (r >= 0)
                r = soap_append_bool(&sb, "recursive", true);
        if (r < 0)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        r = vmware_client_call(c, "CreateContainerView", strbuf_str(&sb), &doc, err);
        if (r < 0)
                return r;
        t = xml_path_text(soap_body_response(doc), "returnval");
        view = t && *t ? strdup(t) : NULL;
        xmlFreeDoc(doc);
        if (!view)
                return ferry_error_set(err, t && *t ? -ENOMEM : -EBADMSG,
                                       "Answer of 'CreateContainerView' has no view");

        strbuf_reset(&sb);
        r = soap_append_moref(&sb, "_this", "PropertyCollector", c->sc.property_collector);
        if (r >= 0)
                r = strbuf_append(&sb, "<vim25:specSet>");
        for (size_t i = 0; r >= 0 && i < n_specs; i++) {
                r = strbuf_append(&sb, "<vim25:propSet>");
                if (r >= 0)
                        r = soap_append_element(&sb, "type", specs[i].type);
                for (const char *const *p = specs[i].paths; r >= 0 && p && *p; p++)
                        r = soap_append_element(&sb, "pathSet", *p);
                if (r >= 0)
                        r = strbuf_append(&sb, "</vim25:propSet>");
        }
        if (r >= 0)
                r = strbuf_append(&sb, "<vim25:objectSet>");
        if (r >= 0)
                r = soap_append_moref(&sb, "obj", "ContainerView", view);
        if (r >= 0)
                r = strbuf_append(&sb,
                                  "<vim25:skip>true</vim25:skip><vim25:selectSet xsi:type=\"vim25:TraversalSpec\">"
                                  "<vim25:name>view</vim25:name><vim25:type>ContainerView</vim25:type>"
                                  "<vim25:path>view</vim25:path><vim25:skip>false</vim25:skip></vim25:selectSet>"
                                  "</vim25:objectSet></vim25:specSet><vim25:options>");
        if (r >= 0 && max_objects > 0)
                r = soap_append_int(&sb, "maxObjects", max_objects);
        if (r >= 0)
                r = strbuf_append(&sb, "</vim25:options>");
        if (r < 0) {
                r = ferry_error_set(err, -ENOMEM, "Out of memory");
                goto finish;
        }

        r = vmware_client_call(c, "RetrievePropertiesEx", strbuf_str(&sb), &doc, err);
        while (r >= 0) {
                c->last_pages++;
                r = vmware_objects_add_page(objs, doc, &t, err);
                if (r < 0 || !t)
                        break;
                free(token);
                token = strdup(t);
                if (!token) {
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
                        break;
                }
                strbuf_reset(&sb);
                if (soap_append_moref(&sb, "_this", "PropertyCollector", c->sc.property_collector) < 0 ||
                    soap_append_element(&sb, "token", token) < 0) {
                        r = ferry_error_set(err, -ENOMEM, "Out of memory");
                        break;
                }
                r = vmware_client_call(c, "ContinueRetrievePropertiesEx", strbuf_str(&sb), &doc, err);
        }

finish:
        (void) destroy_view(c, view);
        return r < 0 ? r : 0;
}
