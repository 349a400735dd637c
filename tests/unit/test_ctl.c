/*
 * zoneadmd's reading of control requests (zk_ctl_parse_request): every
 * request vmadm and prctl send, and the lines a client that is not them
 * could send instead, each refused with its exact message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vm/ctl.h"

static zk_ctl_request
parse_ok(const char *line)
{
	zk_ctl_request req;
	zk_error err = { 0 };
	int r = zk_ctl_parse_request(line, &req, &err);
	if (r != 0)
		fail_msg("\"%s\": %s", line, err.msg);
	return req;
}

static void
assert_refused(const char *line, const char *msg)
{
	zk_ctl_request req;
	zk_error err = { 0 };
	assert_int_equal(zk_ctl_parse_request(line, &req, &err), -EINVAL);
	assert_string_equal(err.msg, msg);
}

static void
test_what_clients_send(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("status").op, ZK_CTL_STATUS);
	assert_int_equal(parse_ok("reload").op, ZK_CTL_RELOAD);
	assert_int_equal(parse_ok("console").op, ZK_CTL_CONSOLE);
	assert_int_equal(parse_ok("rctl get").op, ZK_CTL_RCTL_GET);

	zk_ctl_request r = parse_ok("stop 60 0");
	assert_int_equal(r.op, ZK_CTL_STOP);
	assert_int_equal(r.timeout_s, 60);
	assert_false(r.force);
	r = parse_ok("stop 0 1");
	assert_int_equal(r.timeout_s, 0);
	assert_true(r.force);
	r = parse_ok("stop 2147483647");	/* force is optional */
	assert_int_equal(r.timeout_s, 2147483647);
	assert_false(r.force);

	r = parse_ok("reboot 1");
	assert_int_equal(r.op, ZK_CTL_REBOOT);
	assert_true(r.force);
	assert_false(parse_ok("reboot 0").force);

	r = parse_ok("rctl set zone.cpu-cap 50");
	assert_int_equal(r.op, ZK_CTL_RCTL_SET);
	assert_string_equal(r.rctl, "zone.cpu-cap");
	assert_string_equal(r.value, "50");
	r = parse_ok("rctl delete zone.max-swap");
	assert_int_equal(r.op, ZK_CTL_RCTL_DELETE);
	assert_string_equal(r.rctl, "zone.max-swap");
}

static void
test_unknown_verbs(void **state)
{
	(void)state;
	assert_refused("", "unknown request \"\"");
	assert_refused("statusx", "unknown request \"statusx\"");
	assert_refused(" status", "unknown request \" status\"");
	assert_refused("STOP 1 1", "unknown request \"STOP 1 1\"");
	assert_refused("rctl", "unknown request \"rctl\"");
	assert_refused("rctl list", "unknown request \"rctl list\"");
}

static void
test_malformed_arguments(void **state)
{
	(void)state;
	static const char *const lines[] = {
		"status ", "status now", "reload 1", "console x",
		"stop", "stop ", "stop x", "stop -1 0", "stop +5", "stop 5 ",
		"stop  5", "stop 5 2", "stop 5 1 1", "stop 2147483648",
		"stop 99999999999999999999", "stop 5x", "reboot", "reboot 2",
		"reboot 1 1", "reboot -1", "rctl get x", "rctl set zone.cpu-cap",
		"rctl set  zone.cpu-cap 5", "rctl set zone.cpu-cap 5 6",
		"rctl delete", "rctl delete a b",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char msg[256];
		snprintf(msg, sizeof(msg), "malformed request \"%s\"", lines[i]);
		assert_refused(lines[i], msg);
	}
}

/* sscanf("%63s") used to cut a long name and read its tail as the value. */
static void
test_fields_are_never_cut(void **state)
{
	(void)state;
	char name[ZK_CTL_RCTL_NAME_MAX + 1], line[256], msg[300];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(line, sizeof(line), "rctl delete %s", name);
	snprintf(msg, sizeof(msg), "malformed request \"%s\"", line);
	assert_refused(line, msg);
	name[sizeof(name) - 2] = '\0';	/* 63 characters fit */
	snprintf(line, sizeof(line), "rctl set %s 1", name);
	assert_string_equal(parse_ok(line).rctl, name);

	char value[ZK_CTL_RCTL_VALUE_MAX + 1];
	memset(value, '0', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	snprintf(line, sizeof(line), "rctl set zone.cpu-cap %s", value);
	snprintf(msg, sizeof(msg), "malformed request \"%s\"", line);
	assert_refused(line, msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_what_clients_send),
		cmocka_unit_test(test_unknown_verbs),
		cmocka_unit_test(test_malformed_arguments),
		cmocka_unit_test(test_fields_are_never_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
