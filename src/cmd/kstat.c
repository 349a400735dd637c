/*
 * kstat: print the kernel-style statistics zonekit publishes, as illumos's
 * kstat(1M) does.  A thin front end over kstat_store.h (the snapshot) and
 * kstat_view.h (selection and layouts).  Exit status: 0 something matched,
 * 1 nothing matched, 2 usage, 3 fatal.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kstat/kstat_store.h"
#include "kstat/kstat_view.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/paths.h"

#define EXIT_NOMATCH 1
#define EXIT_USAGE 2
#define EXIT_FATAL 3

static const char usage_text[] =
    "Usage:\n"
    "kstat [ -Cjlpq ] [ -T d|u ] [ -c class ]\n"
    "      [ -m module ] [ -i instance ] [ -n name ] [ -s statistic ]\n"
    "      [ interval [ count ] ]\n"
    "kstat [ -Cjlpq ] [ -T d|u ] [ -c class ]\n"
    "      [ module:instance:name:statistic ... ]\n"
    "      [ interval [ count ] ]\n";

static int __attribute__((format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("kstat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

static int
fatal(const zk_error *err)
{
	fprintf(stderr, "kstat: %s\n", err->msg);
	return EXIT_FATAL;
}

typedef struct options {
	zk_kstat_view_opts view;
	bool json, parseable, names, colon, quiet;
	char timestamp;		/* 0, 'u' or 'd' */
	const char *class;
	const char *module, *instance, *name, *statistic;
	unsigned long interval;	/* 0: one snapshot */
	long count;		/* -1: until interrupted */
} options;

static int
parse_flags(int argc, char **argv, options *o)
{
	int c;
	while ((c = getopt(argc, argv, ":CjlpqhT:c:m:i:n:s:")) != -1) {
		switch (c) {
		case 'C': o->colon = o->parseable = true; break;
		case 'j': o->json = true; break;
		case 'l': o->names = o->parseable = true; break;
		case 'p': o->parseable = true; break;
		case 'q': o->quiet = true; break;
		case 'T':
			if (strcmp(optarg, "u") != 0 && strcmp(optarg, "d") != 0)
				return usage_error("-T takes u or d, not \"%s\"",
				    optarg);
			o->timestamp = optarg[0];
			break;
		case 'c': o->class = optarg; break;
		case 'm': o->module = optarg; break;
		case 'i': o->instance = optarg; break;
		case 'n': o->name = optarg; break;
		case 's': o->statistic = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(EXIT_SUCCESS);
		case ':': return usage_error("option -%c needs an argument",
			      optopt);
		default: return usage_error("unknown option -%c", optopt);
		}
	}
	if (o->quiet && (o->json || o->parseable))
		return usage_error("-q and -lpj are mutually exclusive");
	if (o->json && o->parseable)
		return usage_error("-j and -Clp are mutually exclusive");
	o->view.colon = o->colon;
	o->view.layout = o->json ? ZK_KSTAT_JSON : o->names ? ZK_KSTAT_NAMES :
	    o->parseable ? ZK_KSTAT_PARSEABLE : ZK_KSTAT_HUMAN;
	return 0;
}

/* An operand of digits only is the interval or the count. */
static bool
is_number(const char *s)
{
	return s[0] != '\0' && strspn(s, "0123456789") == strlen(s);
}

static int
take_number(options *o, const char *arg, int *nnumbers)
{
	const char *what = *nnumbers == 0 ? "Interval" : "Count";
	if (*nnumbers >= 2)
		return usage_error("too many numeric operands: \"%s\"", arg);
	errno = 0;
	unsigned long v = strtoul(arg, NULL, 10);
	if (errno == ERANGE || v > INT_MAX)
		return usage_error("%s is too large", what);
	if (v < 1)
		return usage_error("%s must be an integer >= 1", what);
	if ((*nnumbers)++ == 0) {
		o->interval = v;
		o->count = -1;
	} else {
		o->count = (long)v;
	}
	return 0;
}

static int
build_query(int argc, char **argv, options *o, zk_kstat_query *q)
{
	zk_error err = { 0 };
	bool by_option = o->module || o->instance || o->name || o->statistic;
	bool by_operand = false;
	int nnumbers = 0, r;
	for (int i = optind; i < argc; i++) {
		if (is_number(argv[i])) {
			if ((r = take_number(o, argv[i], &nnumbers)) != 0)
				return r;
			continue;
		}
		by_operand = true;
		if (zk_kstat_query_add_operand(q, argv[i], &err) < 0)
			return usage_error("%s", err.msg);
	}
	if (by_option && by_operand)
		return usage_error("[module[:instance[:name[:statistic]]]] and "
		    "-m -i -n -s are mutually exclusive");
	if (by_option && zk_kstat_query_add_fields(q, o->module, o->instance,
	    o->name, o->statistic, &err) < 0)
		return usage_error("%s", err.msg);
	if (o->class && zk_kstat_query_set_class(q, o->class, &err) < 0)
		return usage_error("%s", err.msg);
	return 0;
}

/* One snapshot: every publisher's file plus the global zone's kstats,
 * keeping only those the query may print. */
static zk_kstat_snap *
snapshot(const zk_paths *p, const zk_kstat_query *q, zk_error *err)
{
	char dir[PATH_MAX];
	zk_kstat_snap *s = zk_kstat_snap_new(zk_kstat_query_wants, (void *)q);
	if (s == NULL) {
		zk_fail(err, ENOMEM, "out of memory");
		return NULL;
	}
	if (zk_kstat_snap_read_dir(s, zk_kstat_dir(p->rundir, dir), err) < 0 ||
	    zk_kstat_snap_add_host(s, "/proc", err) < 0) {
		zk_kstat_snap_free(s);
		return NULL;
	}
	return s;
}

/* The rendered text goes straight to stdout, a piece at a time. */
static int
write_out(void *arg, const char *text, size_t len)
{
	(void)arg;
	return zk_write_all(STDOUT_FILENO, text, len);
}

/* Print one sample; *matched is set when any statistic matched. */
static int
sample(const zk_paths *p, const options *o, const zk_kstat_query *q,
    bool *matched)
{
	zk_error err = { 0 };
	size_t nmatched = 0;
	zk_kstat_snap *s = snapshot(p, q, &err);
	if (s == NULL)
		return fatal(&err);
	if (o->timestamp && !o->quiet) {
		char stamp[128];
		if (zk_kstat_timestamp(o->timestamp, time(NULL), stamp,
		    sizeof(stamp)))
			fputs(stamp, stdout);
	}
	int r = fflush(stdout) == 0 ? 0 : -errno;
	if (r == 0)
		r = zk_kstat_render_snap(s, q, &o->view,
		    o->quiet ? NULL : write_out, NULL, &nmatched);
	zk_kstat_snap_free(s);
	if (r == -ENOMEM)
		return fatal(&(zk_error){ ENOMEM, "out of memory" });
	if (r < 0)
		return fatal(&(zk_error){ -r, "cannot write output" });
	*matched |= nmatched > 0;
	return 0;
}

/* Sleep until start + k intervals, so samples do not drift. */
static void
wait_interval(const struct timespec *start, unsigned long k,
    unsigned long interval)
{
	struct timespec t = *start;
	t.tv_sec += (time_t)(k * interval);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) ==
	    EINTR)
		;
}

static int
run(const zk_paths *p, const options *o, const zk_kstat_query *q)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	bool matched = false;
	long samples = o->interval == 0 ? 1 : o->count;
	for (long i = 0; samples < 0 || i < samples; i++) {
		if (i > 0)
			wait_interval(&start, (unsigned long)i, o->interval);
		int r = sample(p, o, q, &matched);
		if (r != 0)
			return r;
	}
	return matched ? EXIT_SUCCESS : EXIT_NOMATCH;
}

int
main(int argc, char **argv)
{
	options o = { .count = 1 };
	opterr = 0;	/* we word getopt's complaints ourselves */
	int r = parse_flags(argc, argv, &o);
	if (r != 0)
		return r;
	zk_kstat_query *q = zk_kstat_query_new();
	if (q == NULL)
		return fatal(&(zk_error){ ENOMEM, "out of memory" });
	if ((r = build_query(argc, argv, &o, q)) == 0) {
		zk_paths p;
		zk_error err = { 0 };
		r = zk_paths_from_env(&p, &err) < 0 ? fatal(&err) :
		    run(&p, &o, q);
	}
	zk_kstat_query_free(q);
	return r;
}
