/*
 * kstat's selectors: module:instance:name:statistic operands, each field a
 * glob or a /regex/, as `kstat` takes them from its command line.  Each
 * input line is an operand, or with "-c " in front the class pattern; the
 * query then selects from a spread of kstats, rendered in one of the four
 * layouts (by the input's length).
 *
 * Invariant: adding the operand "" (everything) to a query without a
 * class selects exactly what no query at all selects.
 */
#include "fuzz_util.h"
#include "kstat/kstat_view.h"

#define NKSTATS 6

static zk_kstat_value values[NKSTATS][3];
static zk_kstat kstats[NKSTATS];

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct { const char *m; int i; const char *n, *c; } k[] = {
		{ "memory_cap", 0, "global", "zone_memory_cap" },
		{ "memory_cap", 3, "2f6e7bba-2f3e-4d21-9d0a-5c3c0e2ad4",
		    "zone_memory_cap" },
		{ "caps", 3, "cpucaps_zone_3", "zone_caps" },
		{ "zones", 3, "2f6e7bba-2f3e-4d21-9d0a-5c3c0e2ad4", "zone_misc" },
		{ "Caps", -1, "cpucaps_zone_-1", "zone_caps" },
		{ "loadavg", 12, "zone12", "misc" },
	};
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < NKSTATS; i++) {
		zk_kstat_value *v = values[i];
		v[0] = (zk_kstat_value){ .type = ZK_KSTAT_UINT64,
		    .v.u64 = 1000 * i };
		snprintf(v[0].name, sizeof(v[0].name), "rss");
		v[1] = (zk_kstat_value){ .type = ZK_KSTAT_INT64, .v.i64 = -7 };
		snprintf(v[1].name, sizeof(v[1].name), "delta");
		v[2] = (zk_kstat_value){ .type = ZK_KSTAT_STRING };
		snprintf(v[2].name, sizeof(v[2].name), "zonename");
		snprintf(v[2].v.str, sizeof(v[2].v.str), "%s", k[i].n);
		zk_kstat *ks = &kstats[i];
		*ks = (zk_kstat){ .instance = k[i].i, .crtime_ns = 1000000001,
		    .snaptime_ns = 2000000002, .nvalues = 3, .values = v };
		snprintf(ks->module, sizeof(ks->module), "%s", k[i].m);
		snprintf(ks->name, sizeof(ks->name), "%s", k[i].n);
		snprintf(ks->class, sizeof(ks->class), "%s", k[i].c);
	}
	return 0;
}

static size_t
render(const zk_kstat_query *q, const zk_kstat_view_opts *o)
{
	size_t n = 0;
	char *text = zk_kstat_render(kstats, NKSTATS, q, o, &n);
	FUZZ_ASSERT(text != NULL);
	free(text);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size), *p = text, *line;
	zk_kstat_query *q = zk_kstat_query_new();
	zk_error err = { 0 };
	bool ok = true, has_class = false;
	FUZZ_ASSERT(q != NULL);
	while (ok && (line = fuzz_next_line(&p, text + size)) != NULL) {
		if (strncmp(line, "-c ", 3) == 0) {
			ok = zk_kstat_query_set_class(q, line + 3, &err) == 0;
			has_class = true;
		} else {
			ok = zk_kstat_query_add_operand(q, line, &err) == 0;
		}
	}
	if (ok) {
		zk_kstat_view_opts o = { .layout = (zk_kstat_layout)(size % 4),
		    .colon = size % 8 >= 4 };
		for (size_t i = 0; i < NKSTATS; i++)
			(void)zk_kstat_query_wants(q, kstats[i].module,
			    kstats[i].instance, kstats[i].name, kstats[i].class);
		size_t some = render(q, &o);
		FUZZ_ASSERT(zk_kstat_query_add_operand(q, "", &err) == 0);
		size_t all = render(q, &o);
		FUZZ_ASSERT(some <= all);
		if (!has_class)
			FUZZ_ASSERT(all == render(NULL, &o));
	}
	zk_kstat_query_free(q);
	free(text);
	return 0;
}
