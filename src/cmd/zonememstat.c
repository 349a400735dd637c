/*
 * zonememstat: each zone's memory use against its cap, from the memory_cap
 * kstats (the global zone's first).  Exit 0 ok, 1 error (an unknown -z
 * zone too), 2 usage.  See docs/zonememstat.md.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/store.h"
#include "kstat/kstat_store.h"
#include "util/cleanup.h"
#include "util/json_util.h"
#include "util/paths.h"
#include "util/uuid.h"
#include "view/zonememstat_fmt.h"

#define EXIT_USAGE 2

static const char usage_text[] =
    "Usage: zonememstat [-athH] [-o] [-z zonename]\n"
    "    -a  show each zone's alias\n"
    "    -H  no header\n"
    "    -o  only zones that have gone over their cap\n"
    "    -t  add a total row\n"
    "    -z  only the named zone\n"
    "    -h  this help\n";

static int __attribute__((format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("zonememstat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage_text);
	return EXIT_USAGE;
}

static int
failed(const zk_error *err)
{
	fprintf(stderr, "zonememstat: %s\n", err->msg);
	return EXIT_FAILURE;
}

/* The memory_cap kstats the options can print: the zones' under
 * <rundir>/kstat, and the global zone's from /proc when it may be shown. */
static zk_kstat_snap *
load_kstats(const zk_paths *p, const zk_memstat_opts *o, zk_error *err)
{
	char dir[PATH_MAX];
	zk_kstat_snap *s = zk_kstat_snap_new(zk_memstat_wants, (void *)o);
	if (s == NULL) {
		zk_fail(err, ENOMEM, "out of memory");
		return NULL;
	}
	if (zk_kstat_snap_add_host(s, "/proc", err) < 0 ||
	    zk_kstat_snap_read_dir(s, zk_kstat_dir(p->rundir, dir), err) < 0) {
		zk_kstat_snap_free(s);
		return NULL;
	}
	return s;
}

/*
 * Aliases from each zone's stored config (a zone's zonename is its uuid).
 * The strings are owned by the configs, kept in cfgs until the end.
 */
static void
load_aliases(const zk_paths *p, zk_memstat_row *rows, size_t n, json_t **cfgs)
{
	for (size_t i = 0; i < n; i++) {
		zk_error ignored = { 0 };
		if (rows[i].instance == 0 || !zk_uuid_valid(rows[i].zone) ||
		    zk_store_load(p, rows[i].zone, &cfgs[i], &ignored) < 0)
			continue;	/* global, or deleted since: "-" */
		rows[i].alias = zk_json_str(cfgs[i], "alias", NULL);
	}
}

int
main(int argc, char *argv[])
{
	zk_memstat_opts o = { 0 };
	int c;
	opterr = 0;
	while ((c = getopt(argc, argv, ":aHhotz:")) != -1) {
		switch (c) {
		case 'a': o.alias = true; break;
		case 'H': o.no_header = true; break;
		case 'o': o.only_over = true; break;
		case 't': o.total = true; break;
		case 'z': o.zone = optarg; break;
		case 'h': fputs(usage_text, stdout); return EXIT_SUCCESS;
		case ':': return usage_error("option -%c needs an argument",
		    optopt);
		default: return usage_error("unknown option -%c", optopt);
		}
	}
	if (optind != argc)
		return usage_error("unexpected argument \"%s\"", argv[optind]);

	zk_error err = { 0 };
	zk_paths paths;
	if (zk_paths_from_env(&paths, &err) < 0)
		return failed(&err);
	zk_kstat_snap *s = load_kstats(&paths, &o, &err);
	if (s == NULL)
		return failed(&err);
	_cleanup_free_ zk_memstat_row *rows = NULL;
	size_t nrows = 0;
	int r = zk_memstat_rows(s, &rows, &nrows);
	zk_kstat_snap_free(s);
	if (r < 0) {
		fprintf(stderr, "zonememstat: out of memory\n");
		return EXIT_FAILURE;
	}
	if (o.zone != NULL && !zk_memstat_has_zone(rows, nrows, o.zone)) {
		fprintf(stderr, "zonememstat: zone %s is not running (no "
		    "memory_cap kstat)\n", o.zone);
		return EXIT_FAILURE;
	}
	_cleanup_free_ json_t **cfgs = calloc(nrows > 0 ? nrows : 1,
	    sizeof(json_t *));
	if (cfgs == NULL) {
		fprintf(stderr, "zonememstat: out of memory\n");
		return EXIT_FAILURE;
	}
	if (o.alias)
		load_aliases(&paths, rows, nrows, cfgs);
	_cleanup_free_ char *out = zk_memstat_render(rows, nrows, &o);
	for (size_t i = 0; i < nrows; i++)
		json_decref(cfgs[i]);
	if (out == NULL) {
		fprintf(stderr, "zonememstat: out of memory\n");
		return EXIT_FAILURE;
	}
	fputs(out, stdout);
	return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
