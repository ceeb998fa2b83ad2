/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A vSphere SOAP client over ferry's HTTP client: a cookie session opened
 * with SessionManager.Login, calls that log in again once when the session
 * has expired (NotAuthenticated), paged property retrieval through a
 * container view, and Logout when freed.
 *
 *     r = vmware_client_new(&config, &c, &err);
 *     r = vmware_client_login(c, &err);     // -EACCES: "Authentication error: ..."
 *     r = vmware_client_call(c, "PowerOnVM_Task", body, &doc, &err);
 *
 * One client is used by one thread at a time.
 */
#ifndef FERRY_SOURCE_VMWARE_CLIENT_H
#define FERRY_SOURCE_VMWARE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "common/error.h"
#include "common/macros.h"
#include "source/vmware/soap.h"

struct vmware_client_config {
        const char *endpoint;           /* "https://host[:port]", optionally ending in "/sdk" */
        const char *username;
        const char *password;
        const char *fingerprint;        /* pinned SHA-256 server certificate, or NULL/"" for the system CAs */
        long connect_timeout_ms;        /* 0: 10 s */
        long timeout_ms;                /* 0: 5 minutes per call */
};

/* The managed objects every call starts from, filled by vmware_client_login(). */
struct vmware_service_content {
        char *root_folder;
        char *property_collector;
        char *view_manager;
        char *session_manager;
        char *search_index;
        char *custom_fields_manager;    /* "" when the server has none (ESXi) */
        char *api_type;                 /* "VirtualCenter" or "HostAgent" */
        char *api_version;
        char *instance_uuid;            /* vCenter's own uuid ("" for ESXi) */
};

struct vmware_client;

int vmware_client_new(const struct vmware_client_config *config, struct vmware_client **ret,
                      struct ferry_error *err);
/* Logs out (best effort) when logged in; NULL is fine. */
void vmware_client_free(struct vmware_client *c);
DEFINE_CLEANUP_FUNC(struct vmware_client, vmware_client_free);
#define _cleanup_vmware_client_ _cleanup_(vmware_client_free_p)

/*
 * RetrieveServiceContent, then Login.  Errors: those of the transport
 * (-EPERM for an untrusted certificate: see vmware_client_peer_fingerprint(),
 * -ECONNREFUSED, -ETIMEDOUT, -EIO) and -EACCES "Authentication error: ...".
 */
int vmware_client_login(struct vmware_client *c, struct ferry_error *err);

/* Logout; the client may log in again afterwards. */
int vmware_client_logout(struct vmware_client *c, struct ferry_error *err);

/*
 * Call method with body (XML built with soap.h, not escaped again) and
 * return the parsed answer.  A NotAuthenticated fault logs in again and
 * retries once.  Faults become errors (soap_fault_to_error()); an answer
 * that is neither a fault nor 200 is -EIO "vSphere call 'M' failed with
 * HTTP status N".
 */
int vmware_client_call(struct vmware_client *c, const char *method, const char *body, xmlDoc **ret,
                       struct ferry_error *err);

/* Whether the last failure was in the transport (connect, TLS), not a SOAP fault. */
bool vmware_client_transport_failed(const struct vmware_client *c);

/* The server certificate's SHA-256 fingerprint from the last TLS connection, or NULL. */
const char *vmware_client_peer_fingerprint(const struct vmware_client *c);

/* The same certificate's SHA-1 thumbprint as VMware writes it ("AA:BB:..."), or NULL. */
const char *vmware_client_peer_sha1_thumbprint(const struct vmware_client *c);

/* Valid after a successful vmware_client_login(), until the client is freed. */
const struct vmware_service_content *vmware_client_service(const struct vmware_client *c);

/* Objects of one RetrievePropertiesEx: what was asked of which type. */
struct vmware_property_spec {
        const char *type;               /* "VirtualMachine" */
        const char *const *paths;       /* NULL-terminated: "name", "config", ... */
};

/* One object of a property retrieval.  Pointers borrow from the owning struct vmware_objects. */
struct vmware_object {
        const char *type;               /* "VirtualMachine" */
        const char *moref;              /* "vm-42" */
        xmlNode *node;                  /* the <objects> element with its propSets */
};

/* Everything a paged retrieval returned; the answers stay parsed. */
struct vmware_objects {
        xmlDoc **docs;
        size_t n_docs;
        struct vmware_object *items;
        size_t n;
};

/*
 * Take one RetrievePropertiesEx or ContinueRetrievePropertiesEx answer (owned
 * from now on, even on failure) and add its objects.  *ret_token (may be
 * NULL) gets the borrowed continuation token, or NULL on the last page.
 */
int vmware_objects_add_page(struct vmware_objects *objs, xmlDoc *doc, const char **ret_token,
                            struct ferry_error *err);
void vmware_objects_done(struct vmware_objects *objs);

/* The <val> of property name ("config", "runtime.powerState"), or NULL when unset. */
xmlNode *vmware_object_prop(const struct vmware_object *o, const char *name);
/* The text of a simple property, or NULL. */
const char *vmware_object_prop_text(const struct vmware_object *o, const char *name);
/* The object with this moref, or NULL (linear in the number of objects: build a map for many). */
const struct vmware_object *vmware_objects_find(const struct vmware_objects *objs, const char *moref);

/*
 * Every object of specs' types below the root folder, through a container
 * view (CreateContainerView, RetrievePropertiesEx, ContinueRetrievePropertiesEx
 * until the last page, DestroyView), at most max_objects (0: the server's
 * choice) per page.  Appends to *objs.
 */
int vmware_client_retrieve(struct vmware_client *c, const struct vmware_property_spec *specs, size_t n_specs,
                           int max_objects, struct vmware_objects *objs, struct ferry_error *err);

/* Number of pages the last vmware_client_retrieve() read (for tests of paging). */
size_t vmware_client_last_pages(const struct vmware_client *c);

#endif
