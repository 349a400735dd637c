/*
 * The rctl table against every consumer of its facts.  For each control:
 * its system value is accepted by the manifest (what `vmadm validate
 * create` runs) and one more is refused (or clamped where the table says
 * so); the default is what the created config holds (what `vmadm get`
 * shows); prctl renders the created figure as the system value's; zoneadmd
 * takes the system value in a prctl change and refuses one more; and
 * `prctl -x` leaves no privileged value, so the system value is in force.
 * A row and a consumer that drift apart fail here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/manifest.h"
#include "config/rctl.h"
#include "config/rctl_change.h"
#include "util/cleanup.h"
#include "util/json_util.h"
#include "view/prctl_report.h"

#define IMG "6f5e3e1a-0c3b-4a8f-9b1e-2f4d5c6b7a89"
#define VM_UUID "11111111-2222-4333-8444-555555555555"

static const zk_manifest_ctx ctx = {
	.pool_has_quota = false, .zpool = "zones",
	.now_iso = "2024-01-02T03:04:05.678Z", .uuid = VM_UUID,
};

/* A create payload setting r's property to v; the memory limits that
 * must not fall below it come along at their maximum. */
static json_t *
payload_for(const zk_rctl *r, json_int_t v)
{
	json_t *p = json_pack("{s:s, s:s}", "brand", "joyent", "image_uuid",
	    IMG);
	if (r == NULL)
		return p;
	if (r->id == ZK_RCTL_MAX_LOCKED_MEMORY) {
		const zk_rctl *mpm = zk_rctl_get(ZK_RCTL_MAX_PHYSICAL_MEMORY);
		json_object_set_new(p, mpm->property,
		    json_integer(zk_rctl_property_max(mpm)));
	}
	json_object_set_new(p, r->property, json_integer(v));
	return p;
}

static int
create(const zk_rctl *r, json_int_t v, json_t **cfg, zk_problems *probs)
{
	_cleanup_json_ json_t *payload = payload_for(r, v);
	zk_error err = { 0 };
	*cfg = NULL;
	return zk_manifest_create(payload, &ctx, cfg, probs, &err);
}

/* The value column of `priv`'s line in r's report row. */
static void
rendered_value(const zk_rctl *r, const json_t *cfg, const char *priv,
    char *out, size_t len)
{
	zk_rctl_report_row row = { .rctl = r };
	row.has_privileged = zk_rctl_config_value(r, cfg, &row.privileged);
	zk_rctl_report rep = { .zoneid = 1, .zonename = VM_UUID,
	    .rows = &row, .nrows = 1 };
	_cleanup_free_ char *text = zk_rctl_report_render(&rep);
	assert_non_null(text);
	out[0] = '\0';
	for (char *line = strtok(text, "\n"); line != NULL;
	    line = strtok(NULL, "\n")) {
		char p[32], v[32];
		if (sscanf(line, " %31s %31s", p, v) == 2 && strcmp(p, priv) == 0)
			snprintf(out, len, "%s", v);
	}
}

static void
test_rows_in_id_order(void **state)
{
	(void)state;
	size_t n;
	const zk_rctl *t = zk_rctl_table(&n);
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		assert_ptr_equal(zk_rctl_get(t[i].id), &t[i]);
		assert_ptr_equal(zk_rctl_find(t[i].name), &t[i]);
		assert_ptr_equal(zk_rctl_for_property(t[i].property), &t[i]);
		assert_true(t[i].manifest_scale >= 1);
	}
	assert_null(zk_rctl_get(ZK_RCTL_NONE));
}

static void
each_rctl(void (*check)(const zk_rctl *r))
{
	size_t n;
	const zk_rctl *t = zk_rctl_table(&n);
	for (size_t i = 0; i < n; i++)
		check(&t[i]);
}

static void
system_value_accepted_and_rendered(const zk_rctl *r)
{
	long long max = zk_rctl_property_max(r);
	zk_problems probs;
	_cleanup_json_ json_t *cfg = NULL;
	if (create(r, max, &cfg, &probs) != 0)
		fail_msg("%s=%lld refused: %s", r->property, max,
		    probs.n ? probs.items[0].reason : "?");
	assert_int_equal(zk_json_int(cfg, r->property, -1), max);
	char priv[32], sys[32];
	rendered_value(r, cfg, "privileged", priv, sizeof(priv));
	rendered_value(r, cfg, "system", sys, sizeof(sys));
	if (strcmp(priv, sys) != 0)
		fail_msg("%s: privileged %s, system %s", r->name, priv, sys);
}

static void
test_system_value_accepted_and_rendered(void **state)
{
	(void)state;
	each_rctl(system_value_accepted_and_rendered);
}

/* Refused as a bad value, or clamped where the table says so. */
static void
above_system_value_refused(const zk_rctl *r)
{
	long long max = zk_rctl_property_max(r);
	zk_problems probs;
	_cleanup_json_ json_t *cfg = NULL;
	int rc = create(r, max + 1, &cfg, &probs);
	if (r->clamp) {
		assert_int_equal(rc, 0);
		assert_int_equal(zk_json_int(cfg, r->property, -1), max);
		return;
	}
	if (rc == 0)
		fail_msg("%s=%lld accepted", r->property, max + 1);
	_cleanup_json_ json_t *j = zk_problems_to_json(&probs);
	const json_t *bad = json_object_get(j, "bad_values");
	assert_int_equal(json_array_size(bad), 1);
	assert_string_equal(json_string_value(json_array_get(bad, 0)),
	    r->property);
}

static void
test_above_system_value_refused(void **state)
{
	(void)state;
	each_rctl(above_system_value_refused);
}

static void
test_defaults_as_created(void **state)
{
	(void)state;
	_cleanup_json_ json_t *cfg = NULL;
	zk_problems probs;
	assert_int_equal(create(NULL, 0, &cfg, &probs), 0);
	const zk_rctl *mpm = zk_rctl_get(ZK_RCTL_MAX_PHYSICAL_MEMORY);
	long long mem;
	assert_true(zk_rctl_default(mpm, 0, &mem));
	assert_int_equal(mem, ZK_RCTL_MEMORY_DEFAULT_MIB);
	size_t n;
	const zk_rctl *t = zk_rctl_table(&n);
	for (size_t i = 0; i < n; i++) {
		const zk_rctl *r = &t[i];
		long long def;
		if (!zk_rctl_default(r, mem, &def)) {
			assert_null(json_object_get(cfg, r->property));
			continue;
		}
		assert_int_equal(zk_json_int(cfg, r->property, -1), def);
		/* and prctl shows that figure as the privileged value */
		char got[32], want[ZK_RCTL_VALUE_STRLEN];
		rendered_value(r, cfg, "privileged", got, sizeof(got));
		zk_rctl_format_value((uint64_t)def * r->manifest_scale,
		    r->unit, want);
		assert_string_equal(got, want);
	}
	long long shares;
	assert_true(zk_rctl_default(zk_rctl_get(ZK_RCTL_CPU_SHARES), mem,
	    &shares));
	assert_int_equal(shares, ZK_RCTL_CPU_SHARES_DEFAULT);
}

/* zoneadmd's side of prctl -s and -x on the same figures. */
static void
prctl_changes(const zk_rctl *r)
{
	_cleanup_json_ json_t *cfg = NULL, *set = NULL, *over = NULL,
	    *gone = NULL;
	zk_problems probs;
	assert_int_equal(create(NULL, 0, &cfg, &probs), 0);
	char text[32];
	zk_error err = { 0 };
	/* the locked memory cap may not pass the memory cap */
	unsigned long long v = r->id == ZK_RCTL_MAX_LOCKED_MEMORY ?
	    256ULL * r->manifest_scale : r->system_value;
	snprintf(text, sizeof(text), "%llu", v);
	if (zk_rctl_change_config(cfg, r, text, &ctx, &set, &err) != 0)
		fail_msg("%s %s: %s", r->name, text, err.msg);
	if (r->system_value < UINT64_MAX) {
		snprintf(text, sizeof(text), "%llu",
		    (unsigned long long)r->system_value + 1);
		assert_true(zk_rctl_change_config(cfg, r, text, &ctx, &over,
		    &err) < 0);
	}
	assert_int_equal(zk_rctl_change_config(cfg, r, NULL, &ctx, &gone,
	    &err), 0);
	uint64_t got;
	assert_false(zk_rctl_config_value(r, gone, &got));
	assert_true(zk_rctl_in_force(r, gone) == r->system_value);
}

static void
test_prctl_changes(void **state)
{
	(void)state;
	each_rctl(prctl_changes);
}

/* A limit removed by prctl -x stays removed when another one changes. */
static void
test_removed_limit_stays_removed(void **state)
{
	(void)state;
	_cleanup_json_ json_t *cfg = NULL, *gone = NULL, *next = NULL;
	zk_problems probs;
	zk_error err = { 0 };
	assert_int_equal(create(NULL, 0, &cfg, &probs), 0);
	const zk_rctl *lwps = zk_rctl_get(ZK_RCTL_MAX_LWPS);
	const zk_rctl *mem = zk_rctl_get(ZK_RCTL_MAX_PHYSICAL_MEMORY);
	assert_int_equal(zk_rctl_change_config(cfg, lwps, NULL, &ctx, &gone,
	    &err), 0);
	assert_int_equal(zk_rctl_change_config(gone, mem, "536870912", &ctx,
	    &next, &err), 0);
	assert_null(json_object_get(next, lwps->property));
	assert_int_equal(zk_json_int(next, mem->property, 0), 512);
}

/* Privileged values in the config, in rctl units. */
static void
test_config_values(void **state)
{
	(void)state;
	json_t *cfg = json_pack("{s:i, s:i, s:i, s:i, s:n, s:i}",
	    "max_physical_memory", 1024, "cpu_cap", 0, "cpu_shares", 100,
	    "max_lwps", -1, "max_swap", "cpu_burst_time", 0);
	uint64_t v = 0;
	assert_true(zk_rctl_config_value(zk_rctl_find(
	    "zone.max-physical-memory"), cfg, &v));
	assert_int_equal(v, 1073741824);
	assert_true(zk_rctl_config_value(zk_rctl_find("zone.cpu-shares"), cfg,
	    &v));
	assert_int_equal(v, 100);
	/* 0 where it means none; negative, null and absent are no value */
	assert_false(zk_rctl_config_value(zk_rctl_find("zone.cpu-cap"), cfg,
	    &v));
	assert_false(zk_rctl_config_value(zk_rctl_find("zone.cpu-burst-time"),
	    cfg, &v));
	assert_false(zk_rctl_config_value(zk_rctl_find("zone.max-lwps"), cfg,
	    &v));
	assert_false(zk_rctl_config_value(zk_rctl_find("zone.max-swap"), cfg,
	    &v));
	assert_false(zk_rctl_config_value(zk_rctl_find(
	    "zone.max-locked-memory"), cfg, &v));
	assert_false(zk_rctl_config_value(zk_rctl_find("zone.cpu-shares"),
	    NULL, &v));
	json_decref(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_in_id_order),
		cmocka_unit_test(test_system_value_accepted_and_rendered),
		cmocka_unit_test(test_above_system_value_refused),
		cmocka_unit_test(test_defaults_as_created),
		cmocka_unit_test(test_prctl_changes),
		cmocka_unit_test(test_removed_limit_stays_removed),
		cmocka_unit_test(test_config_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
