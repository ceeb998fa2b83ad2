/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lab's vSphere simulator speaks SOAP to ferry's HTTP client with the
 * pinned certificate: RetrieveServiceContent, Login opening a cookie session,
 * and the InvalidLogin fault for a wrong password.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "common/http.h"
#include "common/json.h"
#include "common/macros.h"
#include "common/strbuf.h"
#include "lab.h"

DEFINE_CLEANUP_FUNC(xmlDoc, xmlFreeDoc);
#define _cleanup_xmldoc_ _cleanup_(xmlFreeDoc_p)

static const char *const soap_headers[] = { "SOAPAction: \"urn:vim25/7.0\"", NULL };

/* POST one SOAP body to /sdk; returns the parsed answer and HTTP status. */
static xmlDoc *soap_call(struct http_client *c, const char *body, long *ret_status)
{
        _cleanup_free_ char *envelope = NULL;
        struct http_response resp = {};
        struct ferry_error err = {};
        xmlDoc *doc;
        int r;

        assert_non_null(envelope = strjoin(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:vim25=\"urn:vim25\">"
                "<soapenv:Body>", body, "</soapenv:Body></soapenv:Envelope>", NULL));

        r = http_request(c, "POST", "/sdk", "text/xml; charset=utf-8", envelope, strlen(envelope),
                         soap_headers, &resp, &err);
        if (r < 0)
                fail_msg("SOAP call failed: %s", err.message);
        doc = xmlReadMemory(resp.body, (int) resp.body_len, "soap.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOBLANKS);
        if (!doc)
                fail_msg("SOAP answer is not XML: %s", resp.body);
        *ret_status = resp.status;
        http_response_done(&resp);
        return doc;
}

/* The nodes matching xpath (namespaces soapenv, vim); NULL-safe to free. */
static xmlXPathObject *xpath_eval(xmlDoc *doc, const char *xpath)
{
        xmlXPathContext *ctx = xmlXPathNewContext(doc);
        xmlXPathObject *obj;

        assert_non_null(ctx);
        xmlXPathRegisterNs(ctx, BAD_CAST "soapenv", BAD_CAST "http://schemas.xmlsoap.org/soap/envelope/");
        xmlXPathRegisterNs(ctx, BAD_CAST "vim", BAD_CAST "urn:vim25");
        obj = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
        xmlXPathFreeContext(ctx);
        return obj;
}

static xmlNode *xpath_first(xmlXPathObject *obj)
{
        return obj && obj->nodesetval && obj->nodesetval->nodeNr > 0 ? obj->nodesetval->nodeTab[0] : NULL;
}

/* The text of the first node matching xpath, or NULL.  Free the result. */
static char *xpath_text(xmlDoc *doc, const char *xpath)
{
        xmlXPathObject *obj = xpath_eval(doc, xpath);
        xmlNode *n = xpath_first(obj);
        char *text = n ? (char *) xmlNodeGetContent(n) : NULL;

        xmlXPathFreeObject(obj);
        return text;
}

/* The local name of the fault's detail element, e.g. "InvalidLoginFault". */
static char *fault_kind(xmlDoc *doc)
{
        xmlXPathObject *obj = xpath_eval(doc, "//soapenv:Fault/detail/*");
        xmlNode *n = xpath_first(obj);
        char *name = n ? strdup((const char *) n->name) : NULL;

        xmlXPathFreeObject(obj);
        return name;
}

/* Count the nodes matching xpath. */
static int xpath_count(xmlDoc *doc, const char *xpath)
{
        xmlXPathObject *obj = xpath_eval(doc, xpath);
        int n = obj && obj->nodesetval ? obj->nodesetval->nodeNr : 0;

        xmlXPathFreeObject(obj);
        return n;
}

static struct http_client *vcsim_client(void)
{
        struct ferry_error err = {};
        struct http_client *c;

        c = http_client_new(&(struct http_client_config) {
                                    .endpoint = lab_env("LAB_VCSIM_URL"),
                                    .pinned_fingerprint = lab_env("LAB_VCSIM_FINGERPRINT"),
                                    .cookies = true,
                            },
                            &err);
        if (!c)
                fail_msg("%s", err.message);
        return c;
}

/* The simulator's endpoint URL ends in /sdk; the client adds paths itself. */
static int setup_endpoint(void **state)
{
        static char base[512];
        const char *url = lab_env("LAB_VCSIM_URL");
        size_t len = strlen(url);

        (void) state;
        if (len >= 4 && streq(url + len - 4, "/sdk"))
                len -= 4;
        snprintf(base, sizeof(base), "%.*s", (int) len, url);
        setenv("LAB_VCSIM_URL", base, 1);
        return 0;
}

static xmlDoc *retrieve_service_content(struct http_client *c)
{
        long status;
        xmlDoc *doc = soap_call(c,
                                "<vim25:RetrieveServiceContent>"
                                "<vim25:_this type=\"ServiceInstance\">ServiceInstance</vim25:_this>"
                                "</vim25:RetrieveServiceContent>",
                                &status);
        assert_int_equal(status, 200);
        return doc;
}

static xmlDoc *login(struct http_client *c, const char *session_manager, const char *user,
                     const char *password, long *ret_status)
{
        _cleanup_free_ char *body = NULL;
        xmlChar *u = xmlEncodeSpecialChars(NULL, BAD_CAST user);
        xmlChar *p = xmlEncodeSpecialChars(NULL, BAD_CAST password);
        xmlDoc *doc;

        assert_non_null(body = strjoin("<vim25:Login><vim25:_this type=\"SessionManager\">", session_manager,
                                       "</vim25:_this><vim25:userName>", (char *) u,
                                       "</vim25:userName><vim25:password>", (char *) p,
                                       "</vim25:password></vim25:Login>", NULL));
        xmlFree(u);
        xmlFree(p);
        doc = soap_call(c, body, ret_status);
        return doc;
}

static xmlDoc *current_session(struct http_client *c, const char *collector, const char *session_manager,
                               long *ret_status)
{
        _cleanup_free_ char *body = NULL;

        assert_non_null(body = strjoin(
                "<vim25:RetrievePropertiesEx><vim25:_this type=\"PropertyCollector\">", collector,
                "</vim25:_this><vim25:specSet><vim25:propSet><vim25:type>SessionManager</vim25:type>"
                "<vim25:pathSet>currentSession</vim25:pathSet></vim25:propSet><vim25:objectSet>"
                "<vim25:obj type=\"SessionManager\">", session_manager,
                "</vim25:obj></vim25:objectSet></vim25:specSet><vim25:options/></vim25:RetrievePropertiesEx>",
                NULL));
        return soap_call(c, body, ret_status);
}

static void test_service_content_names_a_vcenter_and_its_managers(void **state)
{
        _cleanup_http_client_ struct http_client *c = vcsim_client();
        _cleanup_xmldoc_ xmlDoc *doc = NULL;
        _cleanup_free_ char *api_type = NULL, *version = NULL, *sm = NULL;

        (void) state;
        doc = retrieve_service_content(c);
        api_type = xpath_text(doc, "//vim:returnval/vim:about/vim:apiType");
        version = xpath_text(doc, "//vim:returnval/vim:about/vim:apiVersion");
        sm = xpath_text(doc, "//vim:returnval/vim:sessionManager");
        assert_non_null(api_type);
        assert_string_equal(api_type, "VirtualCenter");
        assert_non_null(version);
        assert_non_null(sm);
        assert_true(strlen(sm) > 0);
        assert_string_equal(http_client_peer_fingerprint(c), lab_env("LAB_VCSIM_FINGERPRINT"));
}

static void test_login_opens_a_cookie_session(void **state)
{
        _cleanup_http_client_ struct http_client *c = vcsim_client();
        _cleanup_xmldoc_ xmlDoc *sc = NULL, *before = NULL, *doc = NULL, *after = NULL;
        _cleanup_free_ char *sm = NULL, *pc = NULL, *user = NULL, *fault = NULL, *session_user = NULL;
        long status;

        (void) state;
        sc = retrieve_service_content(c);
        assert_non_null(sm = xpath_text(sc, "//vim:returnval/vim:sessionManager"));
        assert_non_null(pc = xpath_text(sc, "//vim:returnval/vim:propertyCollector"));

        /* Before Login there is no session to read. */
        before = current_session(c, pc, sm, &status);
        assert_int_equal(status, 200);
        assert_null(fault = fault_kind(before));
        assert_null(session_user = xpath_text(before, "//vim:objects/vim:propSet/vim:val/vim:userName"));

        doc = login(c, sm, lab_env("LAB_VCSIM_USERNAME"), lab_env("LAB_VCSIM_PASSWORD"), &status);
        assert_int_equal(status, 200);
        user = xpath_text(doc, "//vim:LoginResponse/vim:returnval/vim:userName");
        assert_non_null(user);
        assert_string_equal(user, lab_env("LAB_VCSIM_USERNAME"));

        after = current_session(c, pc, sm, &status);
        assert_int_equal(status, 200);
        session_user = xpath_text(after, "//vim:objects/vim:propSet/vim:val/vim:userName");
        assert_non_null(session_user);
        assert_string_equal(session_user, lab_env("LAB_VCSIM_USERNAME"));
}

static void test_login_with_wrong_password_is_an_invalid_login_fault(void **state)
{
        _cleanup_http_client_ struct http_client *c = vcsim_client();
        _cleanup_xmldoc_ xmlDoc *sc = NULL, *doc = NULL;
        _cleanup_free_ char *sm = NULL, *fault = NULL;
        long status;

        (void) state;
        sc = retrieve_service_content(c);
        assert_non_null(sm = xpath_text(sc, "//vim:returnval/vim:sessionManager"));

        doc = login(c, sm, lab_env("LAB_VCSIM_USERNAME"), "not-the-password & <xml>", &status);
        assert_int_equal(status, 500);
        assert_non_null(fault = fault_kind(doc));
        assert_string_equal(fault, "InvalidLoginFault");
}

static uint64_t xpath_u64(xmlDoc *doc, const char *xpath)
{
        _cleanup_free_ char *text = xpath_text(doc, xpath);

        if (!text)
                fail_msg("No '%s' in the answer", xpath);
        return strtoull(text, NULL, 10);
}

/*
 * The lab's QueryChangedDiskAreas pages like vSphere: at most 2000 areas
 * per answer, the caller continues at startOffset + length until the
 * disk's capacity.  4500 areas must come back as 2000 + 2000 + 500.
 */
static void test_changed_disk_areas_come_in_pages_of_2000(void **state)
{
        _cleanup_http_client_ struct http_client *c = vcsim_client();
        _cleanup_xmldoc_ xmlDoc *sc = NULL, *doc = NULL;
        _cleanup_free_ char *sm = NULL, *disks_text = NULL, *vm_dir = NULL;
        _cleanup_json_ json_t *disks = NULL;
        json_t *disk = NULL, *d;
        json_error_t jerr;
        uint64_t capacity, offset = 0, total = 0;
        int pages[8], npages = 0;
        long status;
        size_t i;
        FILE *f;

        (void) state;
        disks_text = lab_read_file(lab_env("LAB_VCSIM_DISKS"), NULL);
        assert_non_null(disks = json_loads(disks_text, 0, &jerr));
        json_array_foreach(disks, i, d) {
                if (json_string_value(json_object_get(d, "change_id")) &&
                    json_integer_value(json_object_get(d, "capacity_bytes")) >= (64 << 20) &&
                    streq_ptr(json_string_value(json_object_get(d, "disk_mode")), "persistent")) {
                        disk = d;
                        break;
                }
        }
        if (!disk)
                fail_msg("The lab model has no CBT-enabled persistent disk of 64 MiB or more");
        capacity = (uint64_t) json_integer_value(json_object_get(disk, "capacity_bytes"));

        /* 4500 changed 4 KiB blocks, one every 8 KiB, in <changes>/<vm>/diskN.json. */
        assert_non_null(vm_dir = strjoin(lab_env("LAB_VCSIM_CHANGES"), "/",
                                         json_string_value(json_object_get(disk, "vm")), NULL));
        if (mkdir(vm_dir, 0755) < 0 && errno != EEXIST)
                fail_msg("Cannot create '%s': %s", vm_dir, strerror(errno));
        assert_non_null(f = fopen(json_string_value(json_object_get(disk, "changes_path")), "we"));
        fputs("{\"areas\": [", f);
        for (int a = 0; a < 4500; a++)
                fprintf(f, "%s{\"start\": %d, \"length\": 4096}", a ? "," : "", a * 8192);
        fputs("]}\n", f);
        assert_int_equal(fclose(f), 0);

        sc = retrieve_service_content(c);
        assert_non_null(sm = xpath_text(sc, "//vim:returnval/vim:sessionManager"));
        xmlFreeDoc(login(c, sm, lab_env("LAB_VCSIM_USERNAME"), lab_env("LAB_VCSIM_PASSWORD"), &status));
        assert_int_equal(status, 200);

        while (offset < capacity) {
                char body[1024];
                uint64_t start, length;

                snprintf(body, sizeof(body),
                         "<vim25:QueryChangedDiskAreas><vim25:_this type=\"VirtualMachine\">%s</vim25:_this>"
                         "<vim25:deviceKey>%lld</vim25:deviceKey><vim25:startOffset>%" PRIu64 "</vim25:startOffset>"
                         "<vim25:changeId>%s</vim25:changeId></vim25:QueryChangedDiskAreas>",
                         json_string_value(json_object_get(disk, "moref")),
                         (long long) json_integer_value(json_object_get(disk, "device_key")), offset,
                         json_string_value(json_object_get(disk, "change_id")));
                doc = soap_call(c, body, &status);
                assert_int_equal(status, 200);
                start = xpath_u64(doc, "//vim:returnval/vim:startOffset");
                length = xpath_u64(doc, "//vim:returnval/vim:length");
                assert_int_equal(start, offset);
                assert_true(length > 0);
                assert_true(npages < (int) ELEMENTSOF(pages));
                pages[npages] = xpath_count(doc, "//vim:returnval/vim:changedArea");
                total += (uint64_t) pages[npages++];
                offset = start + length;
                xmlFreeDoc(TAKE_PTR(doc));
        }

        assert_int_equal(total, 4500);
        assert_int_equal(npages, 3);
        assert_int_equal(pages[0], 2000);
        assert_int_equal(pages[1], 2000);
        assert_int_equal(pages[2], 500);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_service_content_names_a_vcenter_and_its_managers),
                cmocka_unit_test(test_login_opens_a_cookie_session),
                cmocka_unit_test(test_login_with_wrong_password_is_an_invalid_login_fault),
                cmocka_unit_test(test_changed_disk_areas_come_in_pages_of_2000),
        };

        return cmocka_run_group_tests(tests, setup_endpoint, NULL);
}
