/*
 * imgadm: manage the images zones are built from.  A thin front end over
 * libzonekit's image.h and image_install.h: parse argv, call the library,
 * print, choose the exit code (0 ok, 1 error, 2 usage, 3 image not
 * installed).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image_install.h"
#include "util/cleanup.h"
#include "util/json_util.h"
#include "util/paths.h"
#include "util/uuid.h"
#include "view/imglist.h"

#define EXIT_USAGE 2
#define EXIT_NOT_INSTALLED 3

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
	return err->code == ZK_ENOIMAGE ? EXIT_NOT_INSTALLED : EXIT_FAILURE;
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

typedef struct list_opts {
	bool json;
	zk_table_opts table;
	const char *columns;
	const char *sort;
} list_opts;

static int
print_json(const json_t *images)
{
	_cleanup_json_ json_t *out = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(images, i, m)
		json_array_append_new(out, zk_image_entry(m));
	_cleanup_free_ char *text = zk_json_dump_pretty(out);
	if (text == NULL)
		return failed(&(zk_error){ ENOMEM, "out of memory" });
	fputs(text, stdout);
	return EXIT_SUCCESS;
}

static int
list_images(const zk_paths *p, const list_opts *o, const zk_image_filter *f)
{
	zk_error err = { 0 };
	_cleanup_json_ json_t *all = NULL, *images = NULL;
	_cleanup_free_ char *text = NULL;
	if (zk_image_list(p, &all, &err) < 0 ||
	    zk_image_select(all, f, o->sort, &images, &err) < 0)
		return failed(&err);
	if (o->json)
		return print_json(images);
	if (zk_imglist_render(images, o->columns, &o->table, &text, &err) < 0)
		return failed(&err);
	fputs(text, stdout);
	return EXIT_SUCCESS;
}

static int
cmd_list(const zk_paths *p, int argc, char **argv)
{
	list_opts o = { .columns = ZK_IMGLIST_FIELDS, .sort = ZK_IMGLIST_SORT };
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
	if (o.columns[strspn(o.columns, ",")] == '\0')
		return usage_error("list: -o needs at least one field");
	zk_error err = { 0 };
	zk_image_filter *f = NULL;
	if (zk_image_filter_parse(argc - optind, argv + optind, &f, &err) < 0)
		return usage_error("%s", err.msg);
	int r = list_images(p, &o, f);
	zk_image_filter_free(f);
	return r;
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
	_cleanup_json_ json_t *out = zk_image_entry(m);
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
