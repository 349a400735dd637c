/*
 * prctl's report layout (golden output): the heading, value and usage
 * lines, -P, -n, -t, flags.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/rctl.h"
#include "view/prctl_report.h"

#define ZONE "87b5509f-7c02-47e2-8b31-b26eadfc0746"

typedef struct fixture {
	json_t *cfg;
	zk_rctl_report_row rows[5];
	zk_rctl_report rep;
} fixture;

/* A zone as prctl would find it: config values from a manifest, usage
 * from its kstats; max_swap is uncapped and has no usage figure. */
static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->cfg = json_pack("{s:i, s:i, s:i, s:i}", "cpu_shares", 1024,
	    "cpu_cap", 350, "max_lwps", 2000, "max_physical_memory", 1024);
	static const char *const names[] = { "zone.cpu-shares", "zone.cpu-cap",
	    "zone.max-lwps", "zone.max-physical-memory", "zone.max-swap" };
	static const struct { bool has; uint64_t v; } usage[] = {
		{ true, 1024 }, { true, 0 }, { true, 12 }, { true, 148897792 },
		{ false, 0 },
	};
	for (size_t i = 0; i < 5; i++) {
		zk_rctl_report_row *row = &f->rows[i];
		row->rctl = zk_rctl_find(names[i]);
		row->has_usage = usage[i].has;
		row->usage = usage[i].v;
		row->has_privileged = zk_rctl_config_value(row->rctl, f->cfg,
		    &row->privileged);
	}
	f->rep = (zk_rctl_report){ .zoneid = 895, .zonename = ZONE,
	    .rows = f->rows, .nrows = 5 };
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;
	json_decref(f->cfg);
	free(f);
	return 0;
}

static void
check_report(const zk_rctl_report *rep, const char *want)
{
	char *got = zk_rctl_report_render(rep);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

#define HEADING "NAME    PRIVILEGE       VALUE    FLAG   ACTION" \
	"                       RECIPIENT\n"

static void
test_report_layout(void **state)
{
	fixture *f = *state;
	check_report(&f->rep,
	    "zone: 895: " ZONE "\n"
	    HEADING
	    "zone.cpu-shares\n"
	    "        usage           1.02K\n"
	    "        privileged      1.02K       -   none                                 -\n"
	    "        system          65.5K     max   none                                 -\n"
	    "zone.cpu-cap\n"
	    "        usage               0\n"
	    "        privileged        350       -   deny                                 -\n"
	    "        system          4.29G     inf   deny                                 -\n"
	    "zone.max-lwps\n"
	    "        usage              12\n"
	    "        privileged      2.00K       -   deny                                 -\n"
	    "        system          2.15G     max   deny                                 -\n"
	    "zone.max-physical-memory\n"
	    "        usage            142MB\n"
	    "        privileged      1.00GB      -   deny                                 -\n"
	    "        system          16.0EB    max   deny                                 -\n"
	    "zone.max-swap\n"
	    "        system          16.0EB    max   deny                                 -\n");
}

/* The columns line up under the heading: every value line is as wide as
 * it, and the fields start where the heading's do. */
static void
test_report_columns(void **state)
{
	fixture *f = *state;
	char *got = zk_rctl_report_render(&f->rep);
	assert_non_null(got);
	const char *line = strstr(got, "        privileged        350");
	assert_non_null(line);
	size_t width = strlen(HEADING) - 1;
	assert_int_equal(strcspn(line, "\n"), width);
	assert_int_equal(strstr(line, "deny") - line,
	    strstr(HEADING, "ACTION") - HEADING);
	assert_int_equal(strstr(line, "350") - line + 3,
	    strstr(HEADING, "VALUE") - HEADING + 5);
	free(got);
}

static void
test_report_one_rctl(void **state)
{
	fixture *f = *state;
	f->rep.rows = &f->rows[3];
	f->rep.nrows = 1;
	check_report(&f->rep,
	    "zone: 895: " ZONE "\n"
	    HEADING
	    "zone.max-physical-memory\n"
	    "        usage            142MB\n"
	    "        privileged      1.00GB      -   deny                                 -\n"
	    "        system          16.0EB    max   deny                                 -\n");
}

static void
test_report_parseable(void **state)
{
	fixture *f = *state;
	f->rep.parseable = true;
	f->rep.rows = &f->rows[1];
	f->rep.nrows = 4;
	check_report(&f->rep,
	    "zone: 895: " ZONE "\n"
	    "zone.cpu-cap usage 0 - - -\n"
	    "zone.cpu-cap privileged 350 - deny -\n"
	    "zone.cpu-cap system 4294967295 inf deny -\n"
	    "zone.max-lwps usage 12 - - -\n"
	    "zone.max-lwps privileged 2000 - deny -\n"
	    "zone.max-lwps system 2147483647 max deny -\n"
	    "zone.max-physical-memory usage 148897792 - - -\n"
	    "zone.max-physical-memory privileged 1073741824 - deny -\n"
	    "zone.max-physical-memory system 18446744073709551615 max deny -\n"
	    "zone.max-swap system 18446744073709551615 max deny -\n");
}

static void
test_report_only_system(void **state)
{
	fixture *f = *state;
	f->rep.only = ZK_RCTL_PRIV_SYSTEM;
	f->rep.rows = &f->rows[1];
	f->rep.nrows = 1;
	check_report(&f->rep,
	    "zone: 895: " ZONE "\n"
	    HEADING
	    "zone.cpu-cap\n"
	    "        usage               0\n"
	    "        system          4.29G     inf   deny                                 -\n");
}

/* An rctl without a privileged value has nothing to show with -t
 * privileged, and zone.* rctls have no basic values at all. */
static void
test_report_only_privileged_and_basic(void **state)
{
	fixture *f = *state;
	f->rep.only = ZK_RCTL_PRIV_PRIVILEGED;
	f->rep.rows = &f->rows[3];
	f->rep.nrows = 2;
	check_report(&f->rep,
	    "zone: 895: " ZONE "\n"
	    HEADING
	    "zone.max-physical-memory\n"
	    "        usage            142MB\n"
	    "        privileged      1.00GB      -   deny                                 -\n");
	f->rep.rows = &f->rows[4];
	f->rep.nrows = 1;
	check_report(&f->rep, "");
	f->rep.only = ZK_RCTL_PRIV_BASIC;
	f->rep.rows = f->rows;
	f->rep.nrows = 5;
	check_report(&f->rep, "");
}

/* A privileged value at the maximum is flagged like the system value. */
static void
test_report_privileged_at_max(void **state)
{
	fixture *f = *state;
	f->rows[1].privileged = 4294967295ULL;
	f->rep.rows = &f->rows[1];
	f->rep.nrows = 1;
	f->rep.parseable = true;
	check_report(&f->rep,
	    "zone: 895: " ZONE "\n"
	    "zone.cpu-cap usage 0 - - -\n"
	    "zone.cpu-cap privileged 4294967295 inf deny -\n"
	    "zone.cpu-cap system 4294967295 inf deny -\n");
}

#define FIXTURE_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		FIXTURE_TEST(test_report_layout),
		FIXTURE_TEST(test_report_columns),
		FIXTURE_TEST(test_report_one_rctl),
		FIXTURE_TEST(test_report_parseable),
		FIXTURE_TEST(test_report_only_system),
		FIXTURE_TEST(test_report_only_privileged_and_basic),
		FIXTURE_TEST(test_report_privileged_at_max),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
