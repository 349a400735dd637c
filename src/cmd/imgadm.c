/*
 * imgadm: manage the images zones are built from.  A thin front end over
 * libzonekit's image.h and image_install.h: parse argv, call the library,
 * print, choose the exit code (0 ok, 1 error, 2 usage, 3 image not
 * installed).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image_install.h"
#include "storage/storage.h"
#include "util/cleanup.h"
#include "util/json_util.h"
#include "util/paths.h"
#include "util/uuid.h"
#include "view/table.h"

#define EXIT_USAGE 2
#define EXIT_NOT_INSTALLED 3

#define ZPOOL ZK_POOL_DEFAULT_NAME
#define LIST_COLUMNS "uuid,name,version,os,type,pub"
#define LIST_SORT "published_at,name"

static const char usage_text[] =
    "Usage: imgadm <command> [options]\n"
    "\n"
    "Commands:\n"
    "    imgadm install -m <manifest> -f <file>\n"
    "    imgadm list [-j | -H | -p] [-o field,...] [-s field,...]\n"
    "                [FIELD=VALUE | FIELD=~SUBSTRING ...]\n"
    "    imgadm get <uuid>            (alias: info)\n"
    "    imgadm delete <uuid>\n"
    "    imgadm help\n"
    "\n"
    "list fields: uuid, name, version, os, type, pub, published,\n"
    "published_at, state, owner, size, zpool, or any manifest key\n"
    "(dotted for nested ones, e.g. tags.init).  A '-' before a sort\n"
    "field sorts descending.\n";

static void
usage(FILE *f)
{
	fputs(usage_text, f);
}

static int __attribute__((format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("imgadm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see \"imgadm help\")\n", stderr);
	return EXIT_USAGE;
}

static int
failed(const zk_error *err)
{
	fprintf(stderr, "imgadm: %s\n", err->msg);
	return EXIT_FAILURE;
}

/* get and delete: a missing image has its own exit status. */
static int
failed_lookup(const zk_error *err)
{
	failed(err);
	return err->code == ENOENT ? EXIT_NOT_INSTALLED : EXIT_FAILURE;
}

/* Shared getopt error handling; optstring starts with ':'. */
static int
bad_option(const char *cmd, int c)
{
	if (c == ':')
		return usage_error("%s: option -%c needs an argument", cmd, optopt);
	return usage_error("%s: unknown option -%c", cmd, optopt);
}

static int
one_uuid_arg(const char *cmd, int argc, char **argv, const char **uuid)
{
	if (argc - optind != 1)
		return usage_error("%s takes exactly one image uuid", cmd);
	*uuid = argv[optind];
	if (!zk_uuid_valid(*uuid))
		return usage_error("invalid uuid \"%s\" for %s", *uuid, cmd);
	return 0;
}

/* ---- install ---------------------------------------------------------- */

static int
cmd_install(const zk_paths *p, int argc, char **argv)
{
	const char *manifest = NULL, *file = NULL;
	int c;
	while ((c = getopt(argc, argv, ":hm:f:")) != -1) {
		switch (c) {
		case 'm': manifest = optarg; break;
		case 'f': file = optarg; break;
		case 'h': usage(stdout); return EXIT_SUCCESS;
		default: return bad_option("install", c);
		}
	}
	if (manifest == NULL || file == NULL || optind != argc)
		return usage_error("install needs -m <manifest> and -f <file>");

	zk_error err = { 0 };
	_cleanup_json_ json_t *m = NULL;
	if (zk_image_install(p, manifest, file, &m, &err) < 0)
		return failed(&err);
	printf("Installed image %s (%s@%s)\n", zk_json_str(m, "uuid", "?"),
	    zk_json_str(m, "name", "?"), zk_json_str(m, "version", "?"));
	return EXIT_SUCCESS;
}

/* ---- list ------------------------------------------------------------- */

/* A JSON value as list shows it; NULL when absent or null. */
/* The text of one list field of an image (malloc'd), NULL if it has none. */
static char *
field_text(const json_t *m, const char *field)
{
	const char *pub = zk_json_str(m, "published_at", NULL);
	if (strcmp(field, "pub") == 0 || strcmp(field, "published_date") == 0)
		return pub ? strndup(pub, 10) : NULL;
	if (strcmp(field, "published") == 0) {	/* without the milliseconds */
		char *t = NULL;
		return pub && asprintf(&t, "%.19sZ", pub) >= 0 ? t : NULL;
	}
	if (strcmp(field, "zpool") == 0)
		return strdup(ZPOOL);
	if (strcmp(field, "size") == 0)
		return zk_json_text(zk_json_path(m, "files.0.size"));
	return zk_json_text(zk_json_path(m, field));
}

typedef struct filter {
	char field[128];
	const char *value;
	bool substring;
} filter;

static int
parse_filter(const char *arg, filter *f)
{
	const char *eq = strchr(arg, '=');
	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(f->field))
		return usage_error("invalid filter \"%s\": use FIELD=VALUE or "
		    "FIELD=~SUBSTRING", arg);
	memcpy(f->field, arg, (size_t)(eq - arg));
	f->field[eq - arg] = '\0';
	f->substring = eq[1] == '~';
	f->value = eq + 1 + f->substring;
	return 0;
}

static bool
matches(const json_t *m, const filter *filters, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *v = field_text(m, filters[i].field);
		const char *s = v ? v : "";
		if (filters[i].substring ? strstr(s, filters[i].value) == NULL :
		    strcmp(s, filters[i].value) != 0)
			return false;
	}
	return true;
}

/* Numbers compare as numbers, the rest as text; missing sorts first. */
static int
compare_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	char *ea, *eb;
	long long x = strtoll(a, &ea, 10), y = strtoll(b, &eb, 10);
	if (*a && *b && *ea == '\0' && *eb == '\0')
		return (x > y) - (x < y);
	return strcmp(a, b);
}

static int
compare_images(const void *a, const void *b, void *arg)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	char *const *keys = arg;
	for (; *keys != NULL; keys++) {
		const char *k = *keys;
		int sign = 1;
		if (*k == '-') {
			sign = -1;
			k++;
		}
		_cleanup_free_ char *tx = field_text(x, k);
		_cleanup_free_ char *ty = field_text(y, k);
		int r = compare_text(tx, ty);
		if (r != 0)
			return sign * r;
	}
	return 0;
}

/* "a,b,c" -> NULL-terminated vector pointing into the (modified) copy. */
static char **
split_fields(char *list, size_t *n)
{
	size_t cap = 1;
	for (const char *s = list; *s; s++)
		cap += *s == ',';
	char **v = calloc(cap + 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	*n = 0;
	char *save = NULL;
	for (char *f = strtok_r(list, ",", &save); f;
	    f = strtok_r(NULL, ",", &save))
		v[(*n)++] = f;
	return v;
}

typedef struct list_opts {
	bool json;
	zk_table_opts table;
	char *columns;
	char *sort;
	filter *filters;
	size_t nfilters;
} list_opts;

static int
print_json(json_t **images, size_t n)
{
	_cleanup_json_ json_t *out = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, json_pack("{s:O, s:s}", "manifest",
		    images[i], "zpool", ZPOOL));
	_cleanup_free_ char *text = zk_json_dump_pretty(out);
	if (text == NULL) {
		fputs("imgadm: out of memory\n", stderr);
		return EXIT_FAILURE;
	}
	fputs(text, stdout);
	return EXIT_SUCCESS;
}

static void
free_cells(char **cells, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(cells[i]);
	free(cells);
}

static int
print_table(json_t **images, size_t n, const list_opts *o)
{
	size_t ncols = 0;
	_cleanup_free_ char **fields = split_fields(o->columns, &ncols);
	_cleanup_free_ zk_table_col *cols = calloc(ncols + 1, sizeof(*cols));
	char **cells = calloc(n * ncols + ncols + 1, sizeof(*cells));
	if (fields == NULL || cols == NULL || cells == NULL) {
		free(cells);
		fputs("imgadm: out of memory\n", stderr);
		return EXIT_FAILURE;
	}
	/* Headers are the field names upper-cased; they live after the rows. */
	char **headers = cells + n * ncols;
	for (size_t c = 0; c < ncols; c++) {
		headers[c] = strdup(fields[c]);
		for (char *s = headers[c]; s && *s; s++)
			*s = (char)toupper((unsigned char)*s);
		cols[c].header = headers[c];
		for (size_t r = 0; r < n; r++)
			cells[r * ncols + c] = field_text(images[r], fields[c]);
	}
	/*
	 * SmartOS sizes imgadm's columns by their headers too, even under -H
	 * (node-tabula), so render the header and drop its line.
	 */
	zk_table_opts t = o->table;
	bool drop_header = t.no_header && !t.parseable;
	t.no_header = false;
	_cleanup_free_ char *text = zk_table_render(cols, ncols,
	    (const char *const *)cells, n, &t);
	free_cells(cells, n * ncols + ncols);
	if (text == NULL) {
		fputs("imgadm: out of memory\n", stderr);
		return EXIT_FAILURE;
	}
	const char *nl = strchr(text, '\n');
	fputs(drop_header ? (nl ? nl + 1 : "") : text, stdout);
	return EXIT_SUCCESS;
}

static int
list_images(const zk_paths *p, list_opts *o)
{
	zk_error err = { 0 };
	_cleanup_json_ json_t *all = NULL;
	if (zk_image_list(p, &all, &err) < 0)
		return failed(&err);
	size_t n = 0, nsort = 0;
	_cleanup_free_ json_t **kept = calloc(json_array_size(all) + 1,
	    sizeof(*kept));
	_cleanup_free_ char **sort = split_fields(o->sort, &nsort);
	if (kept == NULL || sort == NULL) {
		fputs("imgadm: out of memory\n", stderr);
		return EXIT_FAILURE;
	}
	size_t i;
	json_t *m;
	json_array_foreach(all, i, m)
		if (matches(m, o->filters, o->nfilters))
			kept[n++] = m;
	qsort_r(kept, n, sizeof(*kept), compare_images, sort);
	return o->json ? print_json(kept, n) : print_table(kept, n, o);
}

static int
cmd_list(const zk_paths *p, int argc, char **argv)
{
	char columns[] = LIST_COLUMNS, sort[] = LIST_SORT;
	list_opts o = { .columns = columns, .sort = sort };
	int c;
	while ((c = getopt(argc, argv, ":hjHpo:s:")) != -1) {
		switch (c) {
		case 'j': o.json = true; break;
		case 'H': o.table.no_header = true; break;
		case 'p': o.table.parseable = true; break;
		case 'o': o.columns = optarg; break;
		case 's': o.sort = optarg; break;
		case 'h': usage(stdout); return EXIT_SUCCESS;
		default: return bad_option("list", c);
		}
	}
	if (o.columns[0] == '\0' || o.columns[strspn(o.columns, ",")] == '\0')
		return usage_error("list: -o needs at least one field");
	_cleanup_free_ filter *filters = calloc((size_t)(argc - optind) + 1,
	    sizeof(*filters));
	if (filters == NULL)
		return failed(&(zk_error){ ENOMEM, "out of memory" });
	for (int i = optind; i < argc; i++)
		if (parse_filter(argv[i], &filters[o.nfilters++]) != 0)
			return EXIT_USAGE;
	o.filters = filters;
	return list_images(p, &o);
}

/* ---- get, delete, help ------------------------------------------------ */

static int
cmd_get(const zk_paths *p, int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, ":h")) != -1) {
		if (c == 'h') {
			usage(stdout);
			return EXIT_SUCCESS;
		}
		return bad_option(argv[0], c);
	}
	const char *uuid;
	int r = one_uuid_arg(argv[0], argc, argv, &uuid);
	if (r != 0)
		return r;
	zk_error err = { 0 };
	_cleanup_json_ json_t *m = NULL;
	if (zk_image_get(p, uuid, &m, &err) < 0)
		return failed_lookup(&err);
	_cleanup_json_ json_t *out = json_pack("{s:O, s:s}", "manifest", m,
	    "zpool", ZPOOL);
	_cleanup_free_ char *text = zk_json_dump_pretty(out);
	if (text == NULL)
		return failed(&(zk_error){ ENOMEM, "out of memory" });
	fputs(text, stdout);
	return EXIT_SUCCESS;
}

static int
cmd_delete(const zk_paths *p, int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, ":h")) != -1) {
		if (c == 'h') {
			usage(stdout);
			return EXIT_SUCCESS;
		}
		return bad_option("delete", c);
	}
	const char *uuid;
	int r = one_uuid_arg("delete", argc, argv, &uuid);
	if (r != 0)
		return r;
	zk_error err = { 0 };
	if (zk_image_delete(p, uuid, &err) < 0)
		return failed_lookup(&err);
	printf("Deleted image %s\n", uuid);
	return EXIT_SUCCESS;
}

typedef struct command {
	const char *name;
	int (*run)(const zk_paths *p, int argc, char **argv);
} command;

static const command commands[] = {
	{ "install", cmd_install },
	{ "list", cmd_list },
	{ "get", cmd_get },
	{ "info", cmd_get },
	{ "delete", cmd_delete },
};

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "help") == 0 || strcmp(name, "-h") == 0 ||
	    strcmp(name, "--help") == 0) {
		usage(stdout);
		return EXIT_SUCCESS;
	}
	const command *cmd = NULL;
	for (size_t i = 0; i < ZK_ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			cmd = &commands[i];
	if (cmd == NULL)
		return usage_error("unknown command \"%s\"", name);

	zk_paths p;
	zk_error err = { 0 };
	if (zk_paths_from_env(&p, &err) < 0)
		return failed(&err);
	opterr = 0;	/* we word getopt's complaints ourselves */
	return cmd->run(&p, argc - 1, argv + 1);
}
