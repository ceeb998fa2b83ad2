/* SPDX-License-Identifier: Apache-2.0 */
/* src/source/vmware/soap.c: request building, answer reading, faults. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "source/vmware/soap.h"

#define ENVELOPE_OPEN                                                                                   \
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope "                                  \
        "xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "                                  \
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>"
#define ENVELOPE_CLOSE "</soapenv:Body></soapenv:Envelope>"

static xmlDoc *parse(const char *text)
{
        struct ferry_error err = {};
        xmlDoc *doc = NULL;

        if (soap_parse("Test", text, strlen(text), &doc, &err) < 0)
                fail_msg("%s", err.message);
        return doc;
}

static void test_escaping_covers_the_five_xml_specials(void **state)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

        (void) state;
        assert_int_equal(soap_append_escaped(&sb, "a&b<c>d\"e'f"), 0);
        assert_string_equal(strbuf_str(&sb), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
}

static void test_element_text_is_escaped_and_round_trips(void **state)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        _cleanup_free_ char *envelope = NULL;
        _cleanup_xmldoc_ xmlDoc *doc = NULL;
        const char *password = "p&ss</vim25:password><injected/>";

        (void) state;
        assert_int_equal(soap_append_moref(&sb, "_this", "SessionManager", "Session\"Manager"), 0);
        assert_int_equal(soap_append_element(&sb, "password", password), 0);
        assert_non_null(envelope = soap_envelope("Login", strbuf_str(&sb)));
        assert_null(strstr(envelope, "<injected/>"));

        doc = parse(envelope);
        assert_string_equal(xml_path_text(soap_body_response(doc), "password"), password);
        assert_string_equal(xml_attr(xml_child(soap_body_response(doc), "_this"), "type"), "SessionManager");
        assert_string_equal(xml_path_text(soap_body_response(doc), "_this"), "Session\"Manager");
        assert_string_equal((const char *) soap_body_response(doc)->name, "Login");
}

static void test_integers_and_booleans_are_written_in_xsd_form(void **state)
{
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

        (void) state;
        assert_int_equal(soap_append_int(&sb, "startOffset", INT64_C(-9000000000)), 0);
        assert_int_equal(soap_append_bool(&sb, "memory", false), 0);
        assert_string_equal(strbuf_str(&sb), "<vim25:startOffset>-9000000000</vim25:startOffset>"
                                             "<vim25:memory>false</vim25:memory>");
}

static void test_text_that_is_not_xml_is_a_clear_error(void **state)
{
        struct ferry_error err = {};
        xmlDoc *doc = NULL;

        (void) state;
        assert_int_equal(soap_parse("Login", "<html>Bad gateway", 17, &doc, &err), -EBADMSG);
        assert_null(doc);
        assert_string_equal(err.message, "Answer of 'Login' is not XML");
}

static void test_invalid_login_fault_is_an_authentication_error(void **state)
{
        _cleanup_xmldoc_ xmlDoc *doc = parse(
                ENVELOPE_OPEN "<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>Login failure"
                              "</faultstring><detail><InvalidLoginFault xmlns=\"urn:vim25\" xsi:type=\"InvalidLogin\">"
                              "</InvalidLoginFault></detail></soapenv:Fault>" ENVELOPE_CLOSE);
        struct soap_fault fault;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(soap_fault_parse(doc, &fault), 1);
        assert_string_equal(fault.kind, "InvalidLogin");
        assert_string_equal(fault.message, "Login failure");
        assert_int_equal(soap_fault_to_error(&fault, "Login", &err), -EACCES);
        assert_string_equal(err.message, "Authentication error: Login failure");
}

static void test_fault_kind_falls_back_to_the_detail_element_name(void **state)
{
        _cleanup_xmldoc_ xmlDoc *doc = parse(
                ENVELOPE_OPEN "<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>The session is not "
                              "authenticated.</faultstring><detail><NotAuthenticatedFault xmlns=\"urn:vim25\"/>"
                              "</detail></soapenv:Fault>" ENVELOPE_CLOSE);
        struct soap_fault fault;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(soap_fault_parse(doc, &fault), 1);
        assert_string_equal(fault.kind, "NotAuthenticated");
        assert_int_equal(soap_fault_to_error(&fault, "RetrievePropertiesEx", &err), -ENOTCONN);
        assert_string_equal(err.message, "Not authenticated: The session is not authenticated.");
}

static void test_invalid_argument_names_the_argument(void **state)
{
        _cleanup_xmldoc_ xmlDoc *doc = parse(
                ENVELOPE_OPEN "<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>A specified "
                              "parameter was not correct: changeId</faultstring><detail><InvalidArgumentFault "
                              "xmlns=\"urn:vim25\" xsi:type=\"InvalidArgument\"><invalidProperty>changeId"
                              "</invalidProperty></InvalidArgumentFault></detail></soapenv:Fault>" ENVELOPE_CLOSE);
        struct soap_fault fault;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(soap_fault_parse(doc, &fault), 1);
        assert_int_equal(soap_fault_to_error(&fault, "QueryChangedDiskAreas", &err), -EINVAL);
        assert_string_equal(err.message, "vSphere call 'QueryChangedDiskAreas' failed: invalid argument 'changeId': "
                                         "A specified parameter was not correct: changeId");
}

static void test_other_faults_name_the_call_and_the_kind(void **state)
{
        _cleanup_xmldoc_ xmlDoc *doc = parse(
                ENVELOPE_OPEN "<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>Error caused by "
                              "file [ds1] vm/vm.vmdk</faultstring><detail><FileFaultFault xmlns=\"urn:vim25\" "
                              "xsi:type=\"FileFault\"><file>[ds1] vm/vm.vmdk</file></FileFaultFault></detail>"
                              "</soapenv:Fault>" ENVELOPE_CLOSE);
        struct soap_fault fault;
        struct ferry_error err = {};

        (void) state;
        assert_int_equal(soap_fault_parse(doc, &fault), 1);
        assert_int_equal(soap_fault_to_error(&fault, "QueryChangedDiskAreas", &err), -EIO);
        assert_string_equal(err.message, "vSphere call 'QueryChangedDiskAreas' failed: Error caused by file "
                                         "[ds1] vm/vm.vmdk (FileFault)");
}

static void test_an_answer_is_not_a_fault(void **state)
{
        _cleanup_xmldoc_ xmlDoc *doc = parse(ENVELOPE_OPEN "<LoginResponse xmlns=\"urn:vim25\"><returnval><userName>"
                                                           "user</userName></returnval></LoginResponse>" ENVELOPE_CLOSE);
        struct soap_fault fault;

        (void) state;
        assert_int_equal(soap_fault_parse(doc, &fault), 0);
        assert_string_equal(xml_path_text(soap_body_response(doc), "returnval/userName"), "user");
}

static void test_typed_values_parse_and_reject_garbage(void **state)
{
        _cleanup_xmldoc_ xmlDoc *doc = parse(
                ENVELOPE_OPEN "<R xmlns=\"urn:vim25\"><n>4096</n><bad>12x</bad><t>true</t><f>0</f><v "
                              "xsi:type=\"xsd:string\">x</v><empty/><nested><a>1</a></nested></R>" ENVELOPE_CLOSE);
        xmlNode *r = soap_body_response(doc);
        int64_t n = 0;
        bool b = false;

        (void) state;
        assert_int_equal(xml_int(xml_child(r, "n"), &n), 1);
        assert_int_equal(n, 4096);
        assert_int_equal(xml_int(xml_child(r, "bad"), &n), -EINVAL);
        assert_int_equal(xml_int(xml_child(r, "missing"), &n), 0);
        assert_int_equal(xml_bool(xml_child(r, "t"), &b), 1);
        assert_true(b);
        assert_int_equal(xml_bool(xml_child(r, "f"), &b), 1);
        assert_false(b);
        assert_string_equal(xml_xsi_type(xml_child(r, "v")), "string");
        assert_string_equal(xml_text(xml_child(r, "empty")), "");
        assert_null(xml_text(xml_child(r, "nested")));
        assert_string_equal(xml_path_text(r, "nested/a"), "1");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_escaping_covers_the_five_xml_specials),
                cmocka_unit_test(test_element_text_is_escaped_and_round_trips),
                cmocka_unit_test(test_integers_and_booleans_are_written_in_xsd_form),
                cmocka_unit_test(test_text_that_is_not_xml_is_a_clear_error),
                cmocka_unit_test(test_invalid_login_fault_is_an_authentication_error),
                cmocka_unit_test(test_fault_kind_falls_back_to_the_detail_element_name),
                cmocka_unit_test(test_invalid_argument_names_the_argument),
                cmocka_unit_test(test_other_faults_name_the_call_and_the_kind),
                cmocka_unit_test(test_an_answer_is_not_a_fault),
                cmocka_unit_test(test_typed_values_parse_and_reject_garbage),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
