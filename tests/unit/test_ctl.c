/*
 * zoneadmd's reading of control requests (zk_ctl_parse_request): every
 * request vmadm and prctl send, and the lines a client that is not them
 * could send instead, each refused with its exact message.  The client's
 * side: requests written as zoneadmd reads them (zk_ctl_format_request)
 * and replies read back with their error codes (zk_ctl_parse_reply).
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

/* Every request a client can make reads back as the same request. */
static void
test_formatted_requests_parse_back(void **state)
{
	(void)state;
	static const zk_ctl_request reqs[] = {
		{ .op = ZK_CTL_STATUS, .timeout_s = 60 },
		{ .op = ZK_CTL_STOP, .timeout_s = 0, .force = true },
		{ .op = ZK_CTL_STOP, .timeout_s = 2147483647 },
		{ .op = ZK_CTL_REBOOT, .timeout_s = 60, .force = true },
		{ .op = ZK_CTL_RELOAD, .timeout_s = 60 },
		{ .op = ZK_CTL_RCTL_GET, .timeout_s = 60 },
		{ .op = ZK_CTL_RCTL_SET, .timeout_s = 60, .rctl = "zone.cpu-cap",
		    .value = "50" },
		{ .op = ZK_CTL_RCTL_DELETE, .timeout_s = 60,
		    .rctl = "zone.max-swap" },
		{ .op = ZK_CTL_CONSOLE, .timeout_s = 60 },
	};
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		char line[128];
		zk_ctl_format_request(&reqs[i], line, sizeof(line));
		zk_ctl_request back = parse_ok(line);
		assert_int_equal(back.op, reqs[i].op);
		assert_int_equal(back.timeout_s, reqs[i].timeout_s);
		assert_int_equal(back.force, reqs[i].force);
		assert_string_equal(back.rctl, reqs[i].rctl);
		assert_string_equal(back.value, reqs[i].value);
	}
	char line[64];
	zk_ctl_format_request(&reqs[1], line, sizeof(line));
	assert_string_equal(line, "stop 0 1");
}

static void
test_ok_replies(void **state)
{
	(void)state;
	char detail[64] = "untouched";
	zk_error err = { 0 };
	assert_int_equal(zk_ctl_parse_reply("ok", detail, sizeof(detail), &err), 0);
	assert_string_equal(detail, "");
	assert_int_equal(zk_ctl_parse_reply("ok running 42 1", detail,
	    sizeof(detail), &err), 0);
	assert_string_equal(detail, "running 42 1");
	assert_int_equal(zk_ctl_parse_reply("ok", NULL, 0, &err), 0);
	/* "okay" is not "ok": */
	assert_int_equal(zk_ctl_parse_reply("okay", detail, sizeof(detail),
	    &err), -EPROTO);
	assert_string_equal(err.msg, "zoneadmd answered \"okay\"");
	assert_int_equal(zk_ctl_parse_reply("", NULL, 0, &err), -EPROTO);
}

/* The code zoneadmd sends is the code the client's error carries. */
static void
test_error_replies_keep_their_code(void **state)
{
	(void)state;
	zk_error err = { 0 };
	char line[ZK_CTL_REPLY_MAX];
	snprintf(line, sizeof(line), ZK_CTL_ERROR_FMT, EINVAL,
	    "unknown request \"halt\"");
	assert_string_equal(line, "error 22 unknown request \"halt\"");
	assert_int_equal(zk_ctl_parse_reply(line, NULL, 0, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.msg, "unknown request \"halt\"");

	snprintf(line, sizeof(line), ZK_CTL_ERROR_FMT, ZK_ENOZONE,
	    "x: No such zone configured");
	assert_int_equal(zk_ctl_parse_reply(line, NULL, 0, &err), -ZK_ENOZONE);
	assert_string_equal(err.msg, "x: No such zone configured");
	assert_int_equal(zk_ctl_parse_reply("error 4097 gone", NULL, 0, &err),
	    -ZK_ENOIMAGE);
	assert_int_equal(zk_ctl_parse_reply("error 1 ", NULL, 0, &err), -EPERM);
	assert_string_equal(err.msg, "");
}

/* A zoneadmd started before the code was sent answers "error <message>":
 * still an error, EIO, the whole message kept. */
static void
test_error_replies_without_a_code(void **state)
{
	(void)state;
	static const char *const lines[] = {
		"error zone halted while rebooting", "error 0 leading zero",
		"error 4098 beyond the codes", "error 12345 five digits",
		"error 22", "error 22x y", "error -22 sign", "error +22 sign",
		"error  22 two spaces",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		zk_error err = { 0 };
		assert_int_equal(zk_ctl_parse_reply(lines[i], NULL, 0, &err),
		    -EIO);
		assert_string_equal(err.msg, lines[i] + 6);
	}
	zk_error err = { 0 };
	assert_int_equal(zk_ctl_parse_reply("error", NULL, 0, &err), -EPROTO);
	assert_int_equal(zk_ctl_parse_reply("ERROR 5 x", NULL, 0, &err),
	    -EPROTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_what_clients_send),
		cmocka_unit_test(test_unknown_verbs),
		cmocka_unit_test(test_malformed_arguments),
		cmocka_unit_test(test_fields_are_never_cut),
		cmocka_unit_test(test_formatted_requests_parse_back),
		cmocka_unit_test(test_ok_replies),
		cmocka_unit_test(test_error_replies_keep_their_code),
		cmocka_unit_test(test_error_replies_without_a_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
