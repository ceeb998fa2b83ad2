/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vSphere SOAP dialect without the network: building request bodies
 * (every user string escaped), reading answers with libxml2 by local
 * element names, and turning SOAP faults into ferry errors.
 *
 *     _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
 *
 *     soap_append_moref(&sb, "_this", "SessionManager", sm);
 *     soap_append_element(&sb, "userName", user);     // escaped
 *     envelope = soap_envelope("Login", strbuf_str(&sb));
 *
 * Library code: logs nothing above debug.
 */
#ifndef FERRY_SOURCE_VMWARE_SOAP_H
#define FERRY_SOURCE_VMWARE_SOAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "common/error.h"
#include "common/macros.h"
#include "common/strbuf.h"

#define SOAP_NS_ENVELOPE "http://schemas.xmlsoap.org/soap/envelope/"
#define SOAP_NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define SOAP_NS_VIM25 "urn:vim25"

DEFINE_CLEANUP_FUNC(xmlDoc, xmlFreeDoc);
#define _cleanup_xmldoc_ _cleanup_(xmlFreeDoc_p)

/* Append text with &, <, >, " and ' escaped.  0 or -ENOMEM. */
int soap_append_escaped(struct strbuf *sb, const char *text);

/* <vim25:name>escaped text</vim25:name> */
int soap_append_element(struct strbuf *sb, const char *name, const char *text);
int soap_append_int(struct strbuf *sb, const char *name, int64_t value);
int soap_append_bool(struct strbuf *sb, const char *name, bool value);

/* <vim25:name type="type">value</vim25:name>, a managed object reference. */
int soap_append_moref(struct strbuf *sb, const char *name, const char *type, const char *value);

/*
 * The whole request: the SOAP envelope around <vim25:method>body</vim25:method>.
 * body is already XML (built with the functions above).  NULL on ENOMEM.
 */
char *soap_envelope(const char *method, const char *body);

/*
 * Parse an answer.  -EBADMSG "Answer of 'method' is not XML" when libxml2
 * refuses it.  Network access and entity expansion are off.
 */
int soap_parse(const char *method, const char *text, size_t len, xmlDoc **ret, struct ferry_error *err);

/* A SOAP fault, as read from an answer.  Pointers are borrowed from the document. */
struct soap_fault {
        char kind[128];         /* "InvalidLogin", "NotAuthenticated", ... ("" if none given) */
        const char *message;    /* faultstring ("" if none) */
        const char *argument;   /* InvalidArgument's invalidProperty, or NULL */
        xmlNode *detail;        /* the fault's detail element, or NULL */
};

/*
 * 1 and *ret filled when doc is a SOAP fault, 0 when it is not.  The kind
 * is the fault's xsi:type, or the detail element's name without "Fault".
 */
int soap_fault_parse(xmlDoc *doc, struct soap_fault *ret);

/*
 * Turn a fault of method into an error with a clear message:
 *   InvalidLogin            -EACCES        "Authentication error: ..."
 *   NotAuthenticated        -ENOTCONN      "Not authenticated: ..."
 *   ManagedObjectNotFound   -ENOENT
 *   InvalidArgument         -EINVAL        names the argument
 *   InvalidPowerState       -EALREADY
 *   ToolsUnavailable        -EOPNOTSUPP
 *   NoPermission            -EPERM
 *   anything else           -EIO           "vSphere call 'M' failed: <faultstring> (<kind>)"
 */
int soap_fault_to_error(const struct soap_fault *fault, const char *method, struct ferry_error *err);

/* The body's first element (the "...Response"), or NULL. */
xmlNode *soap_body_response(xmlDoc *doc);

/* The first element child of n with this local name, or NULL; n may be NULL. */
xmlNode *xml_child(const xmlNode *n, const char *name);
/* The next element sibling of n with the same local name, or NULL. */
xmlNode *xml_next_same(const xmlNode *n);
/* Follow a path of local names separated by '/': "config/hardware/numCPU". */
xmlNode *xml_path(const xmlNode *n, const char *path);
/*
 * The text of a leaf element, borrowed from the document ("" for an empty
 * element, NULL when n is NULL or has element children).
 */
const char *xml_text(const xmlNode *n);
/* xml_text(xml_path(n, path)). */
const char *xml_path_text(const xmlNode *n, const char *path);
/* The xsi:type of n without a namespace prefix, or NULL. */
const char *xml_xsi_type(const xmlNode *n);
/* An attribute without namespace ("type" of a moref), or NULL. */
const char *xml_attr(const xmlNode *n, const char *name);

/* Parse a leaf as an integer or boolean: 1 when present and valid, 0 when absent, -EINVAL when malformed. */
int xml_int(const xmlNode *n, int64_t *ret);
int xml_bool(const xmlNode *n, bool *ret);

#endif
