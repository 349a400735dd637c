/* zk_table_render: widths, overflow, -p escaping, -H, missing cells. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "view/table.h"

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static void
check(const zk_table_col *cols, size_t ncols, const char *const *cells,
    size_t nrows, const zk_table_opts *opts, const char *want)
{
	char *got = zk_table_render(cols, ncols, cells, nrows, opts);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_fixed_widths(void **state)
{
	(void)state;
	static const zk_table_col cols[] = { { "A", 5 }, { "BB", 3 },
	    { "C", 4 } };
	static const char *const cells[] = { "x", "y", "z", "1234", "", "5" };
	check(cols, NCOLS(cols), cells, 2, NULL,
	    "A      BB   C\n"
	    "x      y    z\n"
	    "1234        5\n");
}

/* A long value pushes the rest of its line, like printf("%-*s"). */
static void
test_overflow_pushes(void **state)
{
	(void)state;
	static const zk_table_col cols[] = { { "N", 2 }, { "M", 2 } };
	static const char *const cells[] = { "longer", "z", "a", "b" };
	check(cols, NCOLS(cols), cells, 2, NULL,
	    "N   M\n"
	    "longer  z\n"
	    "a   b\n");
}

static void
test_header_longer_than_width(void **state)
{
	(void)state;
	static const zk_table_col cols[] = { { "CPU_SHARE", 3 }, { "X", 1 } };
	static const char *const cells[] = { "100", "1" };
	check(cols, NCOLS(cols), cells, 1, NULL,
	    "CPU_SHARE  X\n"
	    "100  1\n");
}

static void
test_missing_cells(void **state)
{
	(void)state;
	static const zk_table_col cols[] = { { "A", 3 }, { "B", 3 },
	    { "C", 1 } };
	static const char *const cells[] = { NULL, "b", NULL };
	check(cols, NCOLS(cols), cells, 1, NULL,
	    "A    B    C\n"
	    "-    b    -\n");
}

static void
test_right_trim(void **state)
{
	(void)state;
	static const zk_table_col cols[] = { { "A", 8 }, { "B", 8 } };
	static const char *const cells[] = { "x", "", "y", "tail   " };
	check(cols, NCOLS(cols), cells, 2, NULL,
	    "A         B\n"
	    "x\n"
	    "y         tail\n");
}

static void
test_no_header(void **state)
{
	(void)state;
	static const zk_table_col cols[] = { { "A", 3 }, { "B", 1 } };
	static const char *const cells[] = { "x", "y" };
	zk_table_opts opts = { .no_header = true };
	check(cols, NCOLS(cols), cells, 1, &opts, "x    y\n");
}

static void
test_header_only_when_empty(void **state)
{
	(void)state;
	static const zk_table_col cols[] = { { "A", 3 }, { "B", 1 } };
	check(cols, NCOLS(cols), NULL, 0, NULL, "A    B\n");
	zk_table_opts opts = { .no_header = true };
	check(cols, NCOLS(cols), NULL, 0, &opts, "");
}

/* imgadm-style columns: as wide as the longest cell or the header. */
static void
test_width_zero(void **state)
{
	(void)state;
	static const zk_table_col cols[] = { { "NAME", 0 }, { "V", 0 },
	    { "END", 0 } };
	static const char *const cells[] = {
		"ab", "1.0.0", "x",
		"abcdefg", NULL, "y",
	};
	check(cols, NCOLS(cols), cells, 2, NULL,
	    "NAME     V      END\n"
	    "ab       1.0.0  x\n"
	    "abcdefg  -      y\n");
}

/* With -H the header is not printed, so it does not widen the column. */
static void
test_width_zero_no_header(void **state)
{
	(void)state;
	static const zk_table_col cols[] = { { "LONGHEADER", 0 }, { "B", 0 } };
	static const char *const cells[] = { "ab", "x" };
	zk_table_opts opts = { .no_header = true };
	check(cols, NCOLS(cols), cells, 1, &opts, "ab  x\n");
}

static void
test_utf8_counts_characters(void **state)
{
	(void)state;
	static const zk_table_col cols[] = { { "A", 5 }, { "B", 1 } };
	static const char *const cells[] = { "\xc3\xa9t\xc3\xa9", "x" };
	check(cols, NCOLS(cols), cells, 1, NULL,
	    "A      B\n"
	    "\xc3\xa9t\xc3\xa9    x\n");
}

static void
test_parseable(void **state)
{
	(void)state;
	static const zk_table_col cols[] = { { "A", 36 }, { "B", 4 },
	    { "C", 3 } };
	static const char *const cells[] = {
		"a:b", "c\\d", NULL,
		"", "plain", "x y",
	};
	zk_table_opts opts = { .parseable = true };
	check(cols, NCOLS(cols), cells, 2, &opts,
	    "a\\:b:c\\\\d:\n"
	    ":plain:x y\n");
}

/* -p never prints the header, whatever -H says. */
static void
test_parseable_no_header(void **state)
{
	(void)state;
	static const zk_table_col cols[] = { { "A", 3 } };
	static const char *const cells[] = { "v" };
	zk_table_opts opts = { .parseable = true, .no_header = false };
	check(cols, NCOLS(cols), cells, 1, &opts, "v\n");
	check(cols, NCOLS(cols), NULL, 0, &opts, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_widths),
		cmocka_unit_test(test_overflow_pushes),
		cmocka_unit_test(test_header_longer_than_width),
		cmocka_unit_test(test_missing_cells),
		cmocka_unit_test(test_right_trim),
		cmocka_unit_test(test_no_header),
		cmocka_unit_test(test_header_only_when_empty),
		cmocka_unit_test(test_width_zero),
		cmocka_unit_test(test_width_zero_no_header),
		cmocka_unit_test(test_utf8_counts_characters),
		cmocka_unit_test(test_parseable),
		cmocka_unit_test(test_parseable_no_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
