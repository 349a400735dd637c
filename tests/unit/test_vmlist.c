/* vmadm list/lookup logic: fields, columns, sorting, filters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "view/vmlist.h"

#define UUID1 "aaaaaaaa-0000-4000-8000-000000000001"
#define UUID2 "bbbbbbbb-0000-4000-8000-000000000002"
#define UUID3 "cccccccc-0000-4000-8000-000000000003"

/* An OS zone, an LX zone without an alias, and a KVM guest whose memory
 * cap (max_physical_memory) is larger than its "ram". */
static const char three_vms[] =
    "[{\"uuid\": \"" UUID1 "\", \"brand\": \"joyent\","
    "  \"max_physical_memory\": 512, \"state\": \"running\","
    "  \"alias\": \"web\", \"autoboot\": true, \"cpu_cap\": 100,"
    "  \"nics\": [{\"ip\": \"10.0.0.1\", \"primary\": true}],"
    "  \"tags\": {\"role\": \"web\"},"
    "  \"customer_metadata\": {\"user-script\": \"#!/bin/sh\"}},"
    " {\"uuid\": \"" UUID2 "\", \"brand\": \"lx\","
    "  \"max_physical_memory\": 1024, \"state\": \"stopped\","
    "  \"autoboot\": false,"
    "  \"nics\": [{\"ip\": \"10.0.0.2\"}, {\"ip\": \"192.168.1.2\"}],"
    "  \"tags\": {}},"
    " {\"uuid\": \"" UUID3 "\", \"brand\": \"kvm\", \"ram\": 256,"
    "  \"max_physical_memory\": 1280, \"state\": \"running\","
    "  \"alias\": \"DB-Primary\", \"nics\": []}]";

static json_t *
load(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	if (j == NULL)
		fail_msg("fixture: %s (line %d)", jerr.text, jerr.line);
	return j;
}

static json_t *
vm_at(json_t *vms, size_t i)
{
	return json_array_get(vms, i);
}

static void
check_list(const char *fixture, const zk_list_opts *opts, const char *want)
{
	json_t *vms = load(fixture);
	zk_error err = { 0 };
	char *got = NULL;
	int r = zk_vmlist_render(vms, opts, &got, &err);
	if (r != 0)
		fail_msg("render: %s", err.msg);
	assert_string_equal(got, want);
	free(got);
	json_decref(vms);
}

static void
check_list_error(const zk_list_opts *opts, const char *want)
{
	json_t *vms = load(three_vms);
	zk_error err = { 0 };
	char *got = NULL;
	assert_true(zk_vmlist_render(vms, opts, &got, &err) < 0);
	assert_null(got);
	assert_string_equal(err.msg, want);
	json_decref(vms);
}

static void
check_field(json_t *vm, const char *key, const char *want)
{
	char *got = zk_vm_field(vm, key);
	if (want == NULL)
		assert_null(got);
	else
		assert_string_equal(got, want);
	free(got);
}

/* ------------------------------------------------------------------ */

static void
test_field_values(void **state)
{
	(void)state;
	json_t *vms = load(three_vms);
	json_t *os = vm_at(vms, 0), *lx = vm_at(vms, 1), *kvm = vm_at(vms, 2);

	check_field(os, "ram", "512");
	check_field(kvm, "ram", "256");
	check_field(kvm, "max_physical_memory", "1280");
	check_field(os, "type", "OS");
	check_field(lx, "type", "LX");
	check_field(kvm, "type", "KVM");
	check_field(lx, "nics.1.ip", "192.168.1.2");
	check_field(os, "nics.0.primary", "true");
	check_field(os, "tags.role", "web");
	check_field(os, "customer_metadata.user-script", "#!/bin/sh");
	check_field(os, "autoboot", "true");
	check_field(lx, "autoboot", "false");
	check_field(os, "cpu_cap", "100");
	check_field(os, "tags", "{\"role\":\"web\"}");
	check_field(lx, "nics.1", "{\"ip\":\"192.168.1.2\"}");
	check_field(lx, "alias", NULL);
	check_field(lx, "tags.role", NULL);
	check_field(os, "nics.5.ip", NULL);
	check_field(os, "nics.x.ip", NULL);
	check_field(lx, "nics.*.ip", NULL);
	json_decref(vms);
}

static void
test_field_dotted_tag_name(void **state)
{
	(void)state;
	json_t *vm = load("{\"brand\": \"joyent\", "
	    "\"tags\": {\"com.example.role\": \"db\"}}");
	check_field(vm, "tags.com.example.role", "db");
	json_decref(vm);
}

static void
test_field_unknown_brand_has_no_type(void **state)
{
	(void)state;
	json_t *vm = load("{\"uuid\": \"x\"}");
	check_field(vm, "type", NULL);
	check_field(vm, "ram", NULL);
	json_decref(vm);
}

/* ------------------------------------------------------------------ */

static void
test_default_list(void **state)
{
	(void)state;
	check_list(three_vms, NULL,
	    "UUID                                  TYPE  RAM      STATE"
	    "             ALIAS\n"
	    UUID3 "  KVM   256      running           DB-Primary\n"
	    UUID1 "  OS    512      running           web\n"
	    UUID2 "  LX    1024     stopped           -\n");
}

static void
test_no_header(void **state)
{
	(void)state;
	zk_list_opts opts = { .no_header = true, .fields = "uuid,alias" };
	check_list(three_vms, &opts,
	    UUID3 "  DB-Primary\n"
	    UUID1 "  web\n"
	    UUID2 "  -\n");
}

static void
test_parseable(void **state)
{
	(void)state;
	zk_list_opts opts = { .parseable = true, .fields = "uuid,alias,type" };
	check_list(three_vms, &opts,
	    UUID3 ":DB-Primary:KVM\n"
	    UUID1 ":web:OS\n"
	    UUID2 "::LX\n");
}

static void
test_dotted_columns(void **state)
{
	(void)state;
	zk_list_opts opts = { .fields = "uuid,nics.0.ip,tags.role",
	    .sort = "uuid" };
	check_list(three_vms, &opts,
	    "UUID                                  NICS.0.IP"
	    "             TAGS.ROLE\n"
	    UUID1 "  10.0.0.1              web\n"
	    UUID2 "  10.0.0.2              -\n"
	    UUID3 "  -                     -\n");
}

static void
test_catalogue_headers(void **state)
{
	(void)state;
	zk_list_opts opts = { .fields = "alias,cpu_shares,zfs_io_priority,"
	    "max_lwps,max_locked_memory,quota", .no_header = false };
	check_list("[]", &opts,
	    "ALIAS       CPU_SHARE  IO_PRIORITY  MAX_LWP  MAX_LOCKED  QUOTA\n");
	opts.fields = "customer_metadata.foo,zonename";
	check_list("[]", &opts,
	    "CUSTOMER_METADATA.FOO  ZONENAME\n");
}

/* ------------------------------------------------------------------ */

/* Two VMs share ram 512: the second key, uuid, settles them. */
static const char tie_vms[] =
    "[{\"uuid\": \"33333333-0000-4000-8000-000000000000\","
    "  \"brand\": \"joyent\", \"max_physical_memory\": 512},"
    " {\"uuid\": \"11111111-0000-4000-8000-000000000000\","
    "  \"brand\": \"joyent\", \"max_physical_memory\": 512},"
    " {\"uuid\": \"22222222-0000-4000-8000-000000000000\","
    "  \"brand\": \"joyent\", \"max_physical_memory\": 1024}]";

static void
test_sort_descending_ties(void **state)
{
	(void)state;
	zk_list_opts opts = { .fields = "uuid,ram", .sort = "-ram,uuid",
	    .parseable = true };
	check_list(tie_vms, &opts,
	    "22222222-0000-4000-8000-000000000000:1024\n"
	    "11111111-0000-4000-8000-000000000000:512\n"
	    "33333333-0000-4000-8000-000000000000:512\n");
	opts.sort = "-ram,-uuid";
	check_list(tie_vms, &opts,
	    "22222222-0000-4000-8000-000000000000:1024\n"
	    "33333333-0000-4000-8000-000000000000:512\n"
	    "11111111-0000-4000-8000-000000000000:512\n");
}

/* Equal keys keep the input order. */
static void
test_sort_stable(void **state)
{
	(void)state;
	zk_list_opts opts = { .fields = "uuid", .sort = "type",
	    .parseable = true };
	check_list(tie_vms, &opts,
	    "33333333-0000-4000-8000-000000000000\n"
	    "11111111-0000-4000-8000-000000000000\n"
	    "22222222-0000-4000-8000-000000000000\n");
}

static const char mixed_vms[] =
    "[{\"uuid\": \"u1\", \"alias\": \"9\", \"max_lwps\": 10},"
    " {\"uuid\": \"u2\", \"alias\": \"10\", \"max_lwps\": 9},"
    " {\"uuid\": \"u3\", \"alias\": \"abc\"},"
    " {\"uuid\": \"u4\", \"alias\": \"-1.5\", \"max_lwps\": 100}]";

/* "9" < "10" as numbers; a non-number compares as text ("10" < "abc");
 * a missing value comes first ascending and last descending. */
static void
test_sort_numeric_and_string(void **state)
{
	(void)state;
	zk_list_opts opts = { .fields = "uuid", .sort = "max_lwps",
	    .parseable = true };
	check_list(mixed_vms, &opts, "u3\nu2\nu1\nu4\n");
	opts.sort = "-max_lwps";
	check_list(mixed_vms, &opts, "u4\nu1\nu2\nu3\n");
	opts.sort = "alias";
	check_list(mixed_vms, &opts, "u4\nu1\nu2\nu3\n");
	opts.sort = "uuid";
	check_list(mixed_vms, &opts, "u1\nu2\nu3\nu4\n");
}

static void
test_sort_by_string(void **state)
{
	(void)state;
	zk_list_opts opts = { .fields = "alias", .sort = "alias",
	    .parseable = true };
	check_list(three_vms, &opts, "\nDB-Primary\nweb\n");
	opts.sort = "-state,uuid";
	opts.fields = "uuid";
	check_list(three_vms, &opts, UUID2 "\n" UUID1 "\n" UUID3 "\n");
}

static void
test_invalid_fields(void **state)
{
	(void)state;
	zk_list_opts opts = { .fields = "uuid,bogus" };
	check_list_error(&opts, "Invalid field for -o: \"bogus\"");
	opts = (zk_list_opts){ .sort = "ram,-bogus" };
	check_list_error(&opts, "Invalid field for -s: \"bogus\"");
	opts = (zk_list_opts){ .fields = "-uuid" };
	check_list_error(&opts, "Invalid field for -o: \"-uuid\"");
	opts = (zk_list_opts){ .fields = "bogus.0.ip" };
	check_list_error(&opts, "Invalid field for -o: \"bogus.0.ip\"");
	opts = (zk_list_opts){ .sort = "uuid," };
	check_list_error(&opts, "Invalid field for -s: \"\"");
}

/* ------------------------------------------------------------------ */

static zk_filter *
parse_ok(int argc, char *const argv[], const char *what)
{
	zk_filter *f = NULL;
	zk_error err = { 0 };
	if (zk_filter_parse(argc, argv, what, &f, &err) != 0)
		fail_msg("parse: %s", err.msg);
	return f;
}

/* Which of the three fixture VMs the filters select, as "101". */
static void
check_matches(int argc, char *const argv[], const char *want)
{
	json_t *vms = load(three_vms);
	zk_filter *f = parse_ok(argc, argv, "filter");
	char got[4] = "000";
	for (size_t i = 0; i < 3; i++)
		if (zk_filter_match(f, vm_at(vms, i)))
			got[i] = '1';
	assert_string_equal(got, want);
	zk_filter_free(f);
	json_decref(vms);
}

#define MATCHES(want, ...) do {						\
	char *const argv_[] = { __VA_ARGS__ };				\
	check_matches((int)(sizeof(argv_) / sizeof(argv_[0])), argv_, want); \
} while (0)

static void
test_filter_exact(void **state)
{
	(void)state;
	MATCHES("100", "alias=web");
	MATCHES("000", "alias=WEB");
	MATCHES("000", "alias=we");
	MATCHES("101", "state=running");
	MATCHES("001", "type=KVM");
	MATCHES("001", "ram=256");
	MATCHES("100", "ram=512");
	MATCHES("100", "autoboot=true");
	MATCHES("100", "tags.role=web");
	MATCHES("010", "nics.1.ip=192.168.1.2");
	MATCHES("111", "uuid=~.");
}

static void
test_filter_regex_case_insensitive(void **state)
{
	(void)state;
	MATCHES("001", "alias=~^db");
	MATCHES("101", "alias=~B");
	MATCHES("000", "alias=~^x");
	MATCHES("110", "brand=~^(joyent|LX)$");
}

static void
test_filter_any_nic(void **state)
{
	(void)state;
	MATCHES("010", "nics.*.ip=192.168.1.2");
	MATCHES("110", "nics.*.ip=~^10\\.");
	MATCHES("000", "nics.*.ip=10.0.0.3");
	MATCHES("100", "nics.*.primary=true");
}

static void
test_filter_and(void **state)
{
	(void)state;
	MATCHES("101", "state=running", "uuid=~-");
	MATCHES("100", "state=running", "type=OS");
	MATCHES("000", "state=stopped", "type=OS");
	zk_filter *f = parse_ok(0, NULL, "filter");
	json_t *vm = load("{}");
	assert_true(zk_filter_match(f, vm));
	json_decref(vm);
	zk_filter_free(f);
}

static void
check_parse_error(const char *arg, const char *what, const char *want)
{
	char *const argv[] = { (char *)"state=running", (char *)arg };
	zk_filter *f = NULL;
	zk_error err = { 0 };
	assert_true(zk_filter_parse(2, argv, what, &f, &err) < 0);
	assert_null(f);
	if (want != NULL)
		assert_string_equal(err.msg, want);
	else if (strstr(err.msg, arg) == NULL)
		fail_msg("error does not name %s: %s", arg, err.msg);
}

static void
test_filter_errors(void **state)
{
	(void)state;
	check_parse_error("bogus=1", "filter", "Invalid filter key: \"bogus\"");
	check_parse_error("bogus=1", "lookup", "Invalid lookup key: \"bogus\"");
	check_parse_error("bogus.*.ip=1", "filter",
	    "Invalid filter key: \"bogus.*.ip\"");
	check_parse_error("=x", "filter", "Invalid filter key: \"\"");
	check_parse_error("alias", "filter", "Invalid filter: \"alias\"");
	check_parse_error("alias=~(", "filter", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field_values),
		cmocka_unit_test(test_field_dotted_tag_name),
		cmocka_unit_test(test_field_unknown_brand_has_no_type),
		cmocka_unit_test(test_default_list),
		cmocka_unit_test(test_no_header),
		cmocka_unit_test(test_parseable),
		cmocka_unit_test(test_dotted_columns),
		cmocka_unit_test(test_catalogue_headers),
		cmocka_unit_test(test_sort_descending_ties),
		cmocka_unit_test(test_sort_stable),
		cmocka_unit_test(test_sort_numeric_and_string),
		cmocka_unit_test(test_sort_by_string),
		cmocka_unit_test(test_invalid_fields),
		cmocka_unit_test(test_filter_exact),
		cmocka_unit_test(test_filter_regex_case_insensitive),
		cmocka_unit_test(test_filter_any_nic),
		cmocka_unit_test(test_filter_and),
		cmocka_unit_test(test_filter_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
