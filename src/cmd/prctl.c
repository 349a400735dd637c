/*
 * prctl: report and change the zone.* resource controls of running zones,
 * as on SmartOS.  The library finds the zone, gathers its figures
 * (vm/zone_rctls.h) and lays out the report (view/prctl_report.h); this
 * parses the command line, prints, and chooses the exit status.
 * Exit status: 0 success, 1 failure, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/rctl.h"
#include "util/cleanup.h"
#include "util/paths.h"
#include "view/prctl_report.h"
#include "vm/zone_rctls.h"

#define EXIT_USAGE 2

static void
usage(void)
{
	fprintf(stderr,
	    "Usage: prctl [-P] [-t basic|privileged|system] [-n name] "
	    "[-s|-r|-x] [-v value] [-e|-d action] [-i idtype] id...\n\n"
	    "  Report resource control values:\n"
	    "    prctl [-P] [-t basic|privileged|system] [-n name] "
	    "-i zone|zoneid id...\n"
	    "  Change a zone's privileged value until the zone halts:\n"
	    "    prctl [-t privileged] -n name [-s|-r] -v value "
	    "[-e|-d deny|none] -i zone|zoneid id...\n"
	    "    prctl [-t privileged] -n name -x -i zone|zoneid id...\n\n"
	    "  -P  space-separated output    -t  privilege of the values\n"
	    "  -n  resource control name     -s  set   -r  replace   "
	    "-x  delete\n"
	    "  -v  value, scaled (K M G T P E; powers of 1024 for bytes)\n"
	    "  -e/-d  enable/disable an action   -i  idtype of the ids\n");
	exit(EXIT_USAGE);
}

static int
usage_error(const char *msg)
{
	fprintf(stderr, "prctl: %s\n", msg);
	usage();
	return EXIT_USAGE;
}

typedef struct prctl_opts {
	bool parseable;
	zk_rctl_priv priv;		/* ANY when -t is absent */
	const char *name;
	char op;			/* 's', 'r', 'x' or 0 */
	const char *value;
	char action_op;			/* 'e', 'd' or 0 */
	const char *action;
	const char *idtype;
} prctl_opts;

/* ---- options ------------------------------------------------------------- */

static const char *const unsupported_idtypes[] = {
	"process", "pid", "project", "projid", "task", "taskid",
};

static void
parse_args(int argc, char *argv[], prctl_opts *o)
{
	int opt, nops = 0;
	*o = (prctl_opts){ .priv = ZK_RCTL_PRIV_ANY, .idtype = "process" };
	opterr = 0;
	while ((opt = getopt(argc, argv, "+Pt:n:srxv:e:d:i:")) != -1) {
		switch (opt) {
		case 'P': o->parseable = true; break;
		case 't':
			if (zk_rctl_priv_parse(optarg, &o->priv) < 0) {
				fprintf(stderr, "prctl: unknown privilege %s\n",
				    optarg);
				usage();
			}
			break;
		case 'n': o->name = optarg; break;
		case 's': case 'r': case 'x':
			if (o->op != opt)
				nops++;
			o->op = (char)opt;
			break;
		case 'v': o->value = optarg; break;
		case 'e': case 'd':
			if (o->action_op != 0 && o->action_op != opt)
				usage_error("options -d and -e are exclusive");
			o->action_op = (char)opt;
			o->action = optarg;
			break;
		case 'i': o->idtype = optarg; break;
		default:
			if (optopt != 0 && strchr("tnvedi", optopt) != NULL)
				fprintf(stderr, "prctl: option -%c requires an "
				    "argument\n", optopt);
			else
				fprintf(stderr, "prctl: unknown option -%c\n",
				    optopt);
			usage();
		}
	}
	if (optind >= argc)
		usage_error("no arguments specified");
	if (nops > 1)
		usage_error("options -s, -r, and -x are exclusive");
	/* As on illumos: -v alone means -s. */
	if (o->value != NULL && o->op == 0 && o->action_op == 0)
		o->op = 's';
	if ((o->op != 0 || o->action_op != 0) && o->name == NULL)
		usage_error("-n is required with -s, -r, -x, -e, or -d");
	if (o->op == 'x' && o->action_op != 0)
		usage_error("options -e or -d not allowed with -x");
	if ((o->op == 's' || o->op == 'r') && o->value == NULL)
		usage_error(o->op == 's' ? "option -s requires use of option -v" :
		    "option -r requires use of option -v");
	if ((o->op != 0 || o->action_op != 0) && o->parseable)
		usage_error("-P not valid when manipulating resource control "
		    "values");
	if (strcmp(o->idtype, "zone") == 0 || strcmp(o->idtype, "zoneid") == 0)
		return;
	for (size_t i = 0; i < ZK_ARRAY_SIZE(unsupported_idtypes); i++) {
		if (strcmp(o->idtype, unsupported_idtypes[i]) == 0) {
			fprintf(stderr, "prctl: idtype %s is not supported yet "
			    "(use -i zone or -i zoneid)\n", o->idtype);
			exit(1);
		}
	}
	fprintf(stderr, "prctl: unknown idtype %s\n", o->idtype);
	usage();
}

/* ---- each zone ------------------------------------------------------------ */

static int
report_zone(const zk_paths *p, const prctl_opts *o, const char *id,
    zk_error *err)
{
	zk_zone_rctls z;
	int r = zk_zone_rctls_open(p, strcmp(o->idtype, "zoneid") == 0, id, &z,
	    err);
	if (r < 0)
		return r;
	_cleanup_free_ zk_rctl_report_row *rows = NULL;
	size_t nrows = 0;
	zk_error warning = { 0 };
	r = zk_zone_rctls_rows(p, &z, o->name, &rows, &nrows, &warning, err);
	if (warning.code != 0)
		fprintf(stderr, "prctl: %s: warning: %s\n", id, warning.msg);
	zk_rctl_report rep = {
		.zoneid = z.zoneid, .zonename = z.uuid,
		.parseable = o->parseable, .only = o->priv,
		.rows = rows, .nrows = nrows,
	};
	_cleanup_free_ char *text = r < 0 ? NULL : zk_rctl_report_render(&rep);
	zk_zone_rctls_close(&z);
	if (r < 0)
		return r;
	if (text == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	fputs(text, stdout);
	return 0;
}

static int
modify_zone(const zk_paths *p, const prctl_opts *o, const zk_rctl_change *c,
    const char *id, zk_error *err)
{
	zk_zone_rctls z;
	int r = zk_zone_rctls_open(p, strcmp(o->idtype, "zoneid") == 0, id, &z,
	    err);
	if (r < 0)
		return r;
	r = zk_zone_rctl_change(p, &z, c, err);
	zk_zone_rctls_close(&z);
	return r < 0 ? zk_error_prefix(err, "%s", id) : 0;
}

static zk_rctl_op
op_of(char opt)
{
	return opt == 'x' ? ZK_RCTL_OP_DELETE : opt != 0 ? ZK_RCTL_OP_SET :
	    ZK_RCTL_OP_NONE;
}

/* A change is checked once, before any zone is looked up. */
static int
check_change(const prctl_opts *o, zk_rctl_change *c, zk_error *err)
{
	zk_rctl_change_args a = {
		.name = o->name, .priv = o->priv, .op = op_of(o->op),
		.value = o->value, .action_op = o->action_op,
		.action = o->action,
	};
	return zk_rctl_change_check(&a, c, err);
}

int
main(int argc, char *argv[])
{
	prctl_opts o;
	parse_args(argc, argv, &o);
	zk_paths p;
	zk_error err = { 0 };
	zk_rctl_change change;
	bool modify = o.op != 0 || o.action_op != 0;
	if (zk_paths_from_env(&p, &err) < 0 ||
	    (modify && check_change(&o, &change, &err) < 0) ||
	    (!modify && o.name != NULL && zk_rctl_find(o.name) == NULL &&
	    zk_fail(&err, ENOENT, "unknown resource control %s", o.name) < 0)) {
		fprintf(stderr, "prctl: %s\n", err.msg);
		return 1;
	}
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		int r = modify ? modify_zone(&p, &o, &change, argv[i], &err) :
		    report_zone(&p, &o, argv[i], &err);
		if (r < 0) {
			fprintf(stderr, "prctl: %s\n", err.msg);
			rc = 1;
		}
	}
	return rc;
}
