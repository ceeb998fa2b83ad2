/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "source/vmware/soap.h"

int soap_append_escaped(struct strbuf *sb, const char *text)
{
        const char *p = text, *run = text;
        int r;

        for (; *p; p++) {
                const char *rep;

                switch (*p) {
                case '&': rep = "&amp;"; break;
                case '<': rep = "&lt;"; break;
                case '>': rep = "&gt;"; break;
                case '"': rep = "&quot;"; break;
                case '\'': rep = "&apos;"; break;
                default: continue;
                }
                r = strbuf_append_len(sb, run, (size_t) (p - run));
                if (r < 0)
                        return r;
                r = strbuf_append(sb, rep);
                if (r < 0)
                        return r;
                run = p + 1;
        }
        return strbuf_append_len(sb, run, (size_t) (p - run));
}

int soap_append_element(struct strbuf *sb, const char *name, const char *text)
{
        int r;

        r = strbuf_appendf(sb, "<vim25:%s>", name);
        if (r < 0)
                return r;
        r = soap_append_escaped(sb, text);
        if (r < 0)
                return r;
        return strbuf_appendf(sb, "</vim25:%s>", name);
}

int soap_append_int(struct strbuf *sb, const char *name, int64_t value)
{
        return strbuf_appendf(sb, "<vim25:%s>%" PRId64 "</vim25:%s>", name, value, name);
}

int soap_append_bool(struct strbuf *sb, const char *name, bool value)
{
        return strbuf_appendf(sb, "<vim25:%s>%s</vim25:%s>", name, value ? "true" : "false", name);
}

int soap_append_moref(struct strbuf *sb, const char *name, const char *type, const char *value)
{
        int r;

        r = strbuf_appendf(sb, "<vim25:%s type=\"", name);
        if (r < 0)
                return r;
        r = soap_append_escaped(sb, type);
        if (r < 0)
                return r;
        r = strbuf_append(sb, "\">");
        if (r < 0)
                return r;
        r = soap_append_escaped(sb, value);
        if (r < 0)
                return r;
        return strbuf_appendf(sb, "</vim25:%s>", name);
}

char *soap_envelope(const char *method, const char *body)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

        if (strbuf_appendf(&sb,
                           "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                           "<soapenv:Envelope xmlns:soapenv=\"" SOAP_NS_ENVELOPE "\" "
                           "xmlns:xsi=\"" SOAP_NS_XSI "\" xmlns:vim25=\"" SOAP_NS_VIM25 "\">"
                           "<soapenv:Body><vim25:%s>%s</vim25:%s></soapenv:Body></soapenv:Envelope>",
                           method, body, method) < 0)
                return NULL;
        return strbuf_steal(&sb);
}

int soap_parse(const char *method, const char *text, size_t len, xmlDoc **ret, struct ferry_error *err)
{
        xmlDoc *doc;

        if (len > INT32_MAX)
                return ferry_error_set(err, -EFBIG, "Answer of '%s' is too large", method);
        doc = xmlReadMemory(text, (int) len, "soap.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS |
                                                                    XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                                                    XML_PARSE_HUGE);
        if (!doc || !xmlDocGetRootElement(doc)) {
                xmlFreeDoc(doc);
                return ferry_error_set(err, -EBADMSG, "Answer of '%s' is not XML", method);
        }
        *ret = doc;
        return 0;
}

xmlNode *xml_child(const xmlNode *n, const char *name)
{
        if (!n)
                return NULL;
        for (xmlNode *c = n->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && streq((const char *) c->name, name))
                        return c;
        return NULL;
}

xmlNode *xml_next_same(const xmlNode *n)
{
        if (!n)
                return NULL;
        for (xmlNode *c = n->next; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && streq((const char *) c->name, (const char *) n->name))
                        return c;
        return NULL;
}

xmlNode *xml_path(const xmlNode *n, const char *path)
{
        const char *p = path;
        xmlNode *cur = (xmlNode *) n;

        while (cur && *p) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t) (slash - p) : strlen(p);
                char name[128];

                if (len >= sizeof(name))
                        return NULL;
                memcpy(name, p, len);
                name[len] = '\0';
                cur = xml_child(cur, name);
                p += len;
                if (*p == '/')
                        p++;
        }
        return cur;
}

const char *xml_text(const xmlNode *n)
{
        if (!n)
                return NULL;
        if (!n->children)
                return "";
        for (xmlNode *c = n->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE)
                        return NULL;
        if (n->children->type == XML_TEXT_NODE && !n->children->next)
                return (const char *) n->children->content;
        return NULL;
}

const char *xml_path_text(const xmlNode *n, const char *path)
{
        return xml_text(xml_path(n, path));
}

const char *xml_xsi_type(const xmlNode *n)
{
        xmlAttr *a;
        const char *t, *colon;

        if (!n)
                return NULL;
        a = xmlHasNsProp((xmlNode *) n, BAD_CAST "type", BAD_CAST SOAP_NS_XSI);
        if (!a || !a->children || !a->children->content)
                return NULL;
        t = (const char *) a->children->content;
        colon = strchr(t, ':');
        return colon ? colon + 1 : t;
}

const char *xml_attr(const xmlNode *n, const char *name)
{
        xmlAttr *a;

        if (!n)
                return NULL;
        a = xmlHasNsProp((xmlNode *) n, BAD_CAST name, NULL);
        if (!a || !a->children)
                return NULL;
        return (const char *) a->children->content;
}

int xml_int(const xmlNode *n, int64_t *ret)
{
        const char *t = xml_text(n);
        char *end;
        long long v;

        if (!n)
                return 0;
        if (!t || !*t)
                return -EINVAL;
        errno = 0;
        v = strtoll(t, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *ret = v;
        return 1;
}

int xml_bool(const xmlNode *n, bool *ret)
{
        const char *t = xml_text(n);

        if (!n)
                return 0;
        if (streq_ptr(t, "true") || streq_ptr(t, "1"))
                *ret = true;
        else if (streq_ptr(t, "false") || streq_ptr(t, "0"))
                *ret = false;
        else
                return -EINVAL;
        return 1;
}

static xmlNode *soap_body(xmlDoc *doc)
{
        xmlNode *root = xmlDocGetRootElement(doc);

        if (!root || !streq((const char *) root->name, "Envelope"))
                return NULL;
        return xml_child(root, "Body");
}

xmlNode *soap_body_response(xmlDoc *doc)
{
        xmlNode *body = soap_body(doc);

        if (!body)
                return NULL;
        for (xmlNode *c = body->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE)
                        return c;
        return NULL;
}

int soap_fault_parse(xmlDoc *doc, struct soap_fault *ret)
{
        xmlNode *fault = xml_child(soap_body(doc), "Fault"), *detail = NULL, *d;
        const char *kind = NULL, *message;
        size_t len;

        if (!fault)
                return 0;

        message = xml_path_text(fault, "faultstring");
        d = xml_child(fault, "detail");
        for (xmlNode *c = d ? d->children : NULL; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE) {
                        detail = c;
                        break;
                }

        *ret = (struct soap_fault) {
                .message = message ? message : "",
                .argument = detail ? xml_path_text(detail, "invalidProperty") : NULL,
                .detail = detail,
        };
        if (detail) {
                kind = xml_xsi_type(detail);
                if (!kind)
                        kind = (const char *) detail->name;
                len = strlen(kind);
                /* "InvalidLoginFault" as an element name: the type is "InvalidLogin". */
                if (!xml_xsi_type(detail) && len > 5 && endswith(kind, "Fault"))
                        len -= 5;
                if (len >= sizeof(ret->kind))
                        len = sizeof(ret->kind) - 1;
                memcpy(ret->kind, kind, len);
                ret->kind[len] = '\0';
        }
        return 1;
}

int soap_fault_to_error(const struct soap_fault *fault, const char *method, struct ferry_error *err)
{
        const char *k = fault->kind, *msg = fault->message;

        if (streq(k, "InvalidLogin"))
                return ferry_error_set(err, -EACCES, "Authentication error: %s",
                                       *msg ? msg : "the user name or password is wrong");
        if (streq(k, "NotAuthenticated"))
                return ferry_error_set(err, -ENOTCONN, "Not authenticated: %s", *msg ? msg : "the session has ended");
        if (streq(k, "NoPermission"))
                return ferry_error_set(err, -EPERM, "Permission denied for '%s': %s", method, msg);
        if (streq(k, "ManagedObjectNotFound"))
                return ferry_error_set(err, -ENOENT, "vSphere call '%s' failed: %s (ManagedObjectNotFound)", method,
                                       msg);
        if (streq(k, "InvalidArgument"))
                return ferry_error_set(err, -EINVAL, "vSphere call '%s' failed: invalid argument '%s': %s", method,
                                       fault->argument ? fault->argument : "?", msg);
        if (streq(k, "InvalidPowerState"))
                return ferry_error_set(err, -EALREADY, "vSphere call '%s' failed: %s (InvalidPowerState)", method,
                                       msg);
        if (streq(k, "ToolsUnavailable"))
                return ferry_error_set(err, -EOPNOTSUPP, "vSphere call '%s' failed: %s (ToolsUnavailable)", method,
                                       msg);
        if (*k)
                return ferry_error_set(err, -EIO, "vSphere call '%s' failed: %s (%s)", method, msg, k);
        return ferry_error_set(err, -EIO, "vSphere call '%s' failed: %s", method, *msg ? msg : "unknown fault");
}
