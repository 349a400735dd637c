/*
 * imgadm list's library half (view/imglist.h): fields as list shows them,
 * FIELD=VALUE and FIELD=~SUBSTRING filters, sorting (numbers as numbers,
 * missing first, '-' descending, stable) and the table's -H widths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/json_util.h"
#include "view/imglist.h"

static json_t *
images(void)
{
	return json_pack("[{s:s, s:s, s:s, s:[{s:i}], s:{s:s}},"
	    " {s:s, s:s, s:s, s:[{s:i}]},"
	    " {s:s, s:s, s:s}]",
	    "name", "busybox", "version", "1.35.0",
	    "published_at", "2024-05-01T10:20:30.456Z", "files", "size", 900,
	    "tags", "init", "busybox",
	    "name", "alpine", "version", "3.19",
	    "published_at", "2023-01-01T00:00:00.000Z", "files", "size", 10000,
	    "name", "debian", "version", "12", "published_at",
	    "2024-05-01T10:20:30.456Z");
}

static char *
names(const json_t *arr)
{
	char *out = calloc(1, 256);
	size_t i;
	json_t *m;
	json_array_foreach(arr, i, m) {
		if (i > 0)
			strcat(out, ",");
		strcat(out, zk_json_str(m, "name", "?"));
	}
	return out;
}

static void
test_fields(void **state)
{
	(void)state;
	_cleanup_json_ json_t *all = images();
	const json_t *bb = json_array_get(all, 0);
	static const char *const cases[][2] = {
		{ "pub", "2024-05-01" }, { "published_date", "2024-05-01" },
		{ "published", "2024-05-01T10:20:30Z" }, { "zpool", "zones" },
		{ "size", "900" }, { "tags.init", "busybox" },
		{ "version", "1.35.0" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		_cleanup_free_ char *v = zk_image_field(bb, cases[i][0]);
		assert_non_null(v);
		assert_string_equal(v, cases[i][1]);
	}
	assert_null(zk_image_field(bb, "homepage"));
	assert_null(zk_image_field(json_array_get(all, 2), "size"));
}

static char *
select_names(const json_t *all, int argc, char *const argv[],
    const char *sort)
{
	zk_error err = { 0 };
	zk_image_filter *f = NULL;
	_cleanup_json_ json_t *out = NULL;
	assert_int_equal(zk_image_filter_parse(argc, argv, &f, &err), 0);
	assert_int_equal(zk_image_select(all, f, sort, &out, &err), 0);
	zk_image_filter_free(f);
	return names(out);
}

static void
test_filters(void **state)
{
	(void)state;
	_cleanup_json_ json_t *all = images();
	char *exact[] = { "name=busybox" }, *partial[] = { "name=busy" },
	    *sub[] = { "name=~i" }, *both[] = { "name=~i", "version=3.19" },
	    *nested[] = { "tags.init=busybox" }, *missing[] = { "homepage=" };
	_cleanup_free_ char *a = select_names(all, 1, exact, "name");
	_cleanup_free_ char *b = select_names(all, 1, partial, "name");
	_cleanup_free_ char *c = select_names(all, 1, sub, "name");
	_cleanup_free_ char *d = select_names(all, 2, both, "name");
	_cleanup_free_ char *e = select_names(all, 1, nested, "name");
	_cleanup_free_ char *g = select_names(all, 1, missing, "name");
	assert_string_equal(a, "busybox");
	assert_string_equal(b, "");
	assert_string_equal(c, "alpine,debian");
	assert_string_equal(d, "alpine");
	assert_string_equal(e, "busybox");
	assert_string_equal(g, "alpine,busybox,debian");

	zk_error err = { 0 };
	zk_image_filter *f = NULL;
	char *bad[] = { "nonsense" }, *noname[] = { "=x" };
	assert_int_equal(zk_image_filter_parse(1, bad, &f, &err), -EINVAL);
	assert_string_equal(err.msg, "invalid filter \"nonsense\": use "
	    "FIELD=VALUE or FIELD=~SUBSTRING");
	assert_int_equal(zk_image_filter_parse(1, noname, &f, &err), -EINVAL);
}

static void
test_sorting(void **state)
{
	(void)state;
	_cleanup_json_ json_t *all = images();
	_cleanup_free_ char *deflt = select_names(all, 0, NULL,
	    ZK_IMGLIST_SORT);
	_cleanup_free_ char *by_size = select_names(all, 0, NULL, "size");
	_cleanup_free_ char *desc = select_names(all, 0, NULL, "-size");
	_cleanup_free_ char *ver = select_names(all, 0, NULL, "version");
	_cleanup_free_ char *stable = select_names(all, 0, NULL, "pub");
	assert_string_equal(deflt, "alpine,busybox,debian");
	/* 900 < 10000 as numbers; debian has no size: first */
	assert_string_equal(by_size, "debian,busybox,alpine");
	assert_string_equal(desc, "alpine,busybox,debian");
	/* "12" and "3.19" compare as numbers, "1.35.0" as text */
	assert_string_equal(ver, "busybox,alpine,debian");
	assert_string_equal(stable, "alpine,busybox,debian");
}

static void
test_table(void **state)
{
	(void)state;
	_cleanup_json_ json_t *all = images();
	zk_error err = { 0 };
	zk_table_opts t = { 0 };
	_cleanup_free_ char *full = NULL, *headless = NULL, *parse = NULL;
	assert_int_equal(zk_imglist_render(all, "name,size", &t, &full, &err),
	    0);
	assert_string_equal(full, "NAME     SIZE\nbusybox  900\n"
	    "alpine   10000\ndebian   -\n");
	t.no_header = true;
	assert_int_equal(zk_imglist_render(all, "version,zpool", &t,
	    &headless, &err), 0);
	/* the header's width stays: VERSION is wider than "12" */
	assert_string_equal(headless, "1.35.0   zones\n3.19     zones\n"
	    "12       zones\n");
	t.parseable = true;
	assert_int_equal(zk_imglist_render(all, "name,size", &t, &parse, &err),
	    0);
	assert_string_equal(parse, "busybox:900\nalpine:10000\ndebian:\n");
	char *none = NULL;
	assert_int_equal(zk_imglist_render(all, ",", &t, &none, &err), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_sorting),
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
