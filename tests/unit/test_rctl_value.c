/*
 * rctl values as prctl shows and reads them: scaling to four characters,
 * the flag column, -v parsing with its messages, privileges.  The report's
 * layout is test_prctl_report.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/rctl.h"
#include "view/rctl_value.h"

static const zk_rctl *
rctl(const char *name)
{
	const zk_rctl *r = zk_rctl_find(name);
	assert_non_null(r);
	return r;
}

static void
check_fmt(uint64_t v, zk_rctl_unit unit, const char *want)
{
	char buf[ZK_RCTL_VALUE_STRLEN];
	assert_string_equal(zk_rctl_format_value(v, unit, buf), want);
}

/* ---- scaling ---------------------------------------------------------------- */

static void
test_scale_counts(void **state)
{
	(void)state;
	check_fmt(0, ZK_RCTL_UNIT_COUNT, "0");
	check_fmt(40, ZK_RCTL_UNIT_COUNT, "40");
	check_fmt(350, ZK_RCTL_UNIT_COUNT, "350");
	check_fmt(999, ZK_RCTL_UNIT_COUNT, "999");
	check_fmt(1000, ZK_RCTL_UNIT_COUNT, "1.00K");
	check_fmt(1024, ZK_RCTL_UNIT_COUNT, "1.02K");
	check_fmt(9999, ZK_RCTL_UNIT_COUNT, "10.0K");
	check_fmt(10000, ZK_RCTL_UNIT_COUNT, "10.0K");
	check_fmt(16384, ZK_RCTL_UNIT_COUNT, "16.4K");
	check_fmt(65535, ZK_RCTL_UNIT_COUNT, "65.5K");
	check_fmt(99949, ZK_RCTL_UNIT_COUNT, "99.9K");
	check_fmt(1000000, ZK_RCTL_UNIT_COUNT, "1.00M");
	check_fmt(2147483647, ZK_RCTL_UNIT_COUNT, "2.15G");
	check_fmt(4294967295ULL, ZK_RCTL_UNIT_COUNT, "4.29G");
	check_fmt(UINT64_MAX, ZK_RCTL_UNIT_COUNT, "18.4E");
}

/* Rounding that carries into a new digit drops the decimal, as illumos's
 * uint64toscaled does: 99.95K would be "100.0", five characters. */
static void
test_scale_rounding_carry(void **state)
{
	(void)state;
	check_fmt(99950, ZK_RCTL_UNIT_COUNT, "100K");
	check_fmt(999499, ZK_RCTL_UNIT_COUNT, "999K");
	check_fmt(999500, ZK_RCTL_UNIT_COUNT, "1000K");
	check_fmt(1048575, ZK_RCTL_UNIT_BYTES, "1024KB");
}

static void
test_scale_bytes(void **state)
{
	(void)state;
	check_fmt(0, ZK_RCTL_UNIT_BYTES, "0B");
	check_fmt(1023, ZK_RCTL_UNIT_BYTES, "1023B");
	check_fmt(1024, ZK_RCTL_UNIT_BYTES, "1.00KB");
	check_fmt(148897792, ZK_RCTL_UNIT_BYTES, "142MB");
	check_fmt(268435456, ZK_RCTL_UNIT_BYTES, "256MB");
	check_fmt(1073741824, ZK_RCTL_UNIT_BYTES, "1.00GB");
	check_fmt(UINT64_MAX, ZK_RCTL_UNIT_BYTES, "16.0EB");
}

static void
test_scale_percent_and_seconds_have_no_suffix(void **state)
{
	(void)state;
	check_fmt(350, ZK_RCTL_UNIT_PERCENT, "350");
	check_fmt(4294967295ULL, ZK_RCTL_UNIT_PERCENT, "4.29G");
	check_fmt(10, ZK_RCTL_UNIT_SECONDS, "10");
	check_fmt(2147483647, ZK_RCTL_UNIT_SECONDS, "2.15G");
	char buf[ZK_RCTL_VALUE_STRLEN];
	assert_string_equal(zk_rctl_scale(268435456, true, buf), "256M");
	assert_string_equal(zk_rctl_scale(268435456, false, buf), "268M");
}

/* The system values of the reference table, as prctl shows them. */
static void
test_reference_system_values(void **state)
{
	(void)state;
	static const struct { const char *name, *value, *flag; } want[] = {
		{ "zone.cpu-shares", "65.5K", "max" },
		{ "zone.cpu-cap", "4.29G", "inf" },
		{ "zone.cpu-baseline", "4.29G", "max" },
		{ "zone.cpu-burst-time", "2.15G", "max" },
		{ "zone.zfs-io-priority", "16.4K", "max" },
		{ "zone.max-lwps", "2.15G", "max" },
		{ "zone.max-physical-memory", "16.0EB", "max" },
		{ "zone.max-swap", "16.0EB", "max" },
		{ "zone.max-locked-memory", "16.0EB", "max" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const zk_rctl *r = rctl(want[i].name);
		char buf[ZK_RCTL_VALUE_STRLEN];
		assert_string_equal(zk_rctl_format_value(r->system_value,
		    r->unit, buf), want[i].value);
		assert_string_equal(zk_rctl_flag(r, r->system_value),
		    want[i].flag);
		assert_string_equal(zk_rctl_flag(r, r->system_value - 1), "-");
	}
}

/* ---- parsing ---------------------------------------------------------------- */

static void
check_parse(const char *name, const char *s, uint64_t want)
{
	uint64_t v = 12345;
	zk_error err = { 0 };
	int r = zk_rctl_parse_value(rctl(name), s, &v, &err);
	if (r != 0)
		fail_msg("%s %s: %s", name, s, err.msg);
	assert_int_equal(v, want);
}

static void
check_refused(const char *name, const char *s, const char *msg)
{
	uint64_t v = 12345;
	zk_error err = { 0 };
	assert_true(zk_rctl_parse_value(rctl(name), s, &v, &err) < 0);
	assert_string_equal(err.msg, msg);
	assert_int_equal(v, 12345);
}

static void
test_parse_counts_are_decimal(void **state)
{
	(void)state;
	check_parse("zone.cpu-shares", "10", 10);
	check_parse("zone.cpu-shares", "0", 0);
	check_parse("zone.cpu-shares", "1.5K", 1500);
	check_parse("zone.cpu-shares", "1k", 1000);
	check_parse("zone.cpu-shares", "65.535K", 65535);
	check_parse("zone.cpu-shares", "65535", 65535);
	check_parse("zone.max-lwps", "2M", 2000000);
	check_parse("zone.max-lwps", "2.147483647G", 2147483647);
	check_parse("zone.cpu-cap", "50", 50);
	check_parse("zone.cpu-cap", "4.29G", 4290000000ULL);
}

static void
test_parse_bytes_are_binary(void **state)
{
	(void)state;
	const char *m = "zone.max-physical-memory";
	check_parse(m, "100", 100);
	check_parse(m, "100B", 100);
	check_parse(m, "1.5K", 1536);
	check_parse(m, "0.5KB", 512);
	check_parse(m, "1024KB", 1048576);
	check_parse(m, "512M", 536870912);
	check_parse(m, "512mb", 536870912);
	check_parse(m, "2G", 2147483648ULL);
	check_parse(m, "1.5G", 1610612736ULL);
	check_parse(m, "15E", 15ULL << 60);
	check_parse(m, "18446744073709551615", UINT64_MAX);
}

static void
test_parse_seconds(void **state)
{
	(void)state;
	check_parse("zone.cpu-burst-time", "10", 10);
	check_parse("zone.cpu-burst-time", "10s", 10);
	check_parse("zone.cpu-burst-time", "1.5Ks", 1500);
}

#define COUNT_SYNTAX(v) "invalid value \"" v "\": expected a number, " \
	"optionally scaled by K, M, G, T, P or E (powers of 1000)"
#define BYTES_SYNTAX(v) "invalid value \"" v "\": expected a number of " \
	"bytes, optionally scaled by K, M, G, T, P or E (powers of 1024) and " \
	"followed by B"
#define SECONDS_SYNTAX(v) "invalid value \"" v "\": expected a number of " \
	"seconds, optionally scaled by K, M, G, T, P or E (powers of 1000) " \
	"and followed by s"

static void
test_parse_refusals(void **state)
{
	(void)state;
	const char *s = "zone.cpu-shares", *m = "zone.max-physical-memory";
	check_refused(s, "", COUNT_SYNTAX(""));
	check_refused(s, "abc", COUNT_SYNTAX("abc"));
	check_refused(s, "-5", COUNT_SYNTAX("-5"));
	check_refused(s, " 5", COUNT_SYNTAX(" 5"));
	check_refused(s, "5 ", COUNT_SYNTAX("5 "));
	check_refused(s, "5X", COUNT_SYNTAX("5X"));
	check_refused(s, "1KK", COUNT_SYNTAX("1KK"));
	check_refused(s, "1.", COUNT_SYNTAX("1."));
	check_refused(s, ".5K", COUNT_SYNTAX(".5K"));
	check_refused(s, "0x10", COUNT_SYNTAX("0x10"));
	check_refused(s, "10B", COUNT_SYNTAX("10B"));
	check_refused(m, "10X", BYTES_SYNTAX("10X"));
	check_refused(m, "10BB", BYTES_SYNTAX("10BB"));
	check_refused("zone.cpu-burst-time", "10h", SECONDS_SYNTAX("10h"));
	check_refused(s, "1.5", "invalid value \"1.5\": a fraction needs a "
	    "scale (K, M, G, T, P or E)");
	check_refused(m, "1.5B", "invalid value \"1.5B\": a fraction needs a "
	    "scale (K, M, G, T, P or E)");
	check_refused(s, "1.0005K", "invalid value \"1.0005K\": does not "
	    "scale to a whole number");
	check_refused(m, "1.0001K", "invalid value \"1.0001K\": does not "
	    "scale to a whole number");
	check_refused(s, "99999999999999999999", "invalid value "
	    "\"99999999999999999999\": too large");
	check_refused(m, "16E", "invalid value \"16E\": too large");
	check_refused(m, "18446744073709551616", "invalid value "
	    "\"18446744073709551616\": too large");
}

static void
test_parse_limits(void **state)
{
	(void)state;
	check_refused("zone.cpu-shares", "70K", "value \"70K\" exceeds the "
	    "system limit of zone.cpu-shares (65.5K)");
	check_refused("zone.cpu-shares", "65536", "value \"65536\" exceeds "
	    "the system limit of zone.cpu-shares (65.5K)");
	check_refused("zone.cpu-cap", "5G", "value \"5G\" exceeds the system "
	    "limit of zone.cpu-cap (4.29G)");
	check_refused("zone.cpu-cap", "0", "invalid value \"0\": zone.cpu-cap "
	    "must be at least 1 (delete the value to remove the cap)");
	check_refused("zone.cpu-cap", "0K", "invalid value \"0K\": "
	    "zone.cpu-cap must be at least 1 (delete the value to remove the "
	    "cap)");
}

/* Memory rctls become MiB properties: only whole MiB can be set live. */
static void
test_settable_units(void **state)
{
	(void)state;
	zk_error err = { 0 };
	const zk_rctl *m = rctl("zone.max-physical-memory");
	assert_int_equal(zk_rctl_check_settable(m, 536870912, "512M", &err), 0);
	assert_int_equal(zk_rctl_check_settable(m, 0, "0", &err), 0);
	assert_true(zk_rctl_check_settable(m, 1536, "1.5K", &err) < 0);
	assert_string_equal(err.msg, "invalid value \"1.5K\": "
	    "zone.max-physical-memory is set in whole MiB");
	assert_int_equal(zk_rctl_check_settable(rctl("zone.cpu-shares"), 1537,
	    "1537", &err), 0);
}

/* ---- privileges ---------------------------------------------- */

static void
test_priv_parse(void **state)
{
	(void)state;
	zk_rctl_priv p;
	assert_int_equal(zk_rctl_priv_parse("basic", &p), 0);
	assert_int_equal(p, ZK_RCTL_PRIV_BASIC);
	assert_int_equal(zk_rctl_priv_parse("privileged", &p), 0);
	assert_int_equal(p, ZK_RCTL_PRIV_PRIVILEGED);
	assert_int_equal(zk_rctl_priv_parse("priv", &p), 0);
	assert_int_equal(p, ZK_RCTL_PRIV_PRIVILEGED);
	assert_int_equal(zk_rctl_priv_parse("system", &p), 0);
	assert_int_equal(p, ZK_RCTL_PRIV_SYSTEM);
	assert_true(zk_rctl_priv_parse("Basic", &p) < 0);
	assert_true(zk_rctl_priv_parse("", &p) < 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale_counts),
		cmocka_unit_test(test_scale_rounding_carry),
		cmocka_unit_test(test_scale_bytes),
		cmocka_unit_test(test_scale_percent_and_seconds_have_no_suffix),
		cmocka_unit_test(test_reference_system_values),
		cmocka_unit_test(test_parse_counts_are_decimal),
		cmocka_unit_test(test_parse_bytes_are_binary),
		cmocka_unit_test(test_parse_seconds),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_settable_units),
		cmocka_unit_test(test_priv_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
