/*
 * vmadm: create, boot, stop, update, list and delete zones from JSON
 * manifests, as on SmartOS.  A thin front end over libzonekit's vm.h.
 * Exit status: 0 success (including no-ops), 1 failure, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/manifest.h"
#include "util/cleanup.h"
#include "util/json_util.h"
#include "util/paths.h"
#include "util/uuid.h"
#include "view/vmlist.h"
#include "vm/console.h"
#include "vm/vm.h"

#define EXIT_USAGE 2

static void
usage(void)
{
	fprintf(stderr,
	    "Usage: vmadm <command> [options]\n\n"
	    "  create [-f <filename>]\n"
	    "  validate create [-f <filename>]\n"
	    "  start|boot <uuid>\n"
	    "  stop|halt <uuid> [-F] [-t <seconds>]\n"
	    "  reboot <uuid> [-F]\n"
	    "  delete|destroy <uuid>\n"
	    "  get|json <uuid>\n"
	    "  list [-p] [-H] [-o field,...] [-s field,...] [field=value ...]\n"
	    "  lookup [-j|-1] [-o field,...] [field=value ...]\n"
	    "  update <uuid> [-f <filename>]\n"
	    "  update <uuid> property=value [property=value ...]\n"
	    "  console <uuid>\n");
	exit(EXIT_USAGE);
}

static int
fail(const zk_error *err)
{
	fprintf(stderr, "vmadm: %s\n", err->msg);
	return 1;
}

/* The zone-not-found message operators know from SmartOS. */
static int
fail_zone(const char *uuid, int r, const zk_error *err)
{
	if (r == -ZK_ENOZONE) {
		fprintf(stderr, "zoneadm: %s: No such zone configured\n", uuid);
		return 1;
	}
	return fail(err);
}

static const char *
uuid_arg(int argc, char *argv[], const char *cmd)
{
	if (optind >= argc || !zk_uuid_valid(argv[optind])) {
		fprintf(stderr, "Invalid or missing UUID for %s\n", cmd);
		usage();
	}
	return argv[optind++];
}

static void
no_more_args(int argc, char *argv[])
{
	if (optind < argc) {
		fprintf(stderr, "vmadm: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage();
	}
}

/* Payload from -f file, or stdin unless it is a terminal. */
static int
read_payload(const char *file, json_t **out, int *exit_code)
{
	zk_error err = { 0 };
	int r;
	*exit_code = 1;
	if (file != NULL) {
		r = zk_json_load_file(file, out, &err);
	} else if (isatty(STDIN_FILENO)) {
		fprintf(stderr, "Will not create from stdin when stdin is a tty.\n");
		*exit_code = EXIT_USAGE;
		return -1;
	} else {
		json_error_t jerr;
		*out = json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr);
		if (*out == NULL)
			r = zk_fail(&err, EINVAL, "payload is not valid JSON: "
			    "line %d: %s", jerr.line, jerr.text);
		else if (!json_is_object(*out))
			r = zk_fail(&err, EINVAL, "payload must be a JSON object");
		else
			r = 0;
	}
	if (r < 0) {
		fail(&err);
		return -1;
	}
	return 0;
}

/* The only option of create, validate and update: -f <file>. */
static const char *
file_option(int argc, char *argv[])
{
	const char *file = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "f:")) != -1) {
		if (opt != 'f')
			usage();
		file = optarg;
	}
	return file;
}

static int
cmd_create(const zk_paths *p, int argc, char *argv[])
{
	const char *file = file_option(argc, argv);
	int code;
	no_more_args(argc, argv);
	zk_error err = { 0 };
	zk_problems probs = { 0 };
	_cleanup_json_ json_t *payload = NULL;
	char uuid[ZK_UUID_BUFSZ] = "";
	if (read_payload(file, &payload, &code) < 0)
		return code;
	if (zk_vm_create(p, payload, uuid, &probs, &err) < 0)
		return fail(&err);
	fprintf(stderr, "Successfully created VM %s\n", uuid);
	return 0;
}

static int
cmd_validate(const zk_paths *p, int argc, char *argv[])
{
	if (optind >= argc || strcmp(argv[optind], "create") != 0) {
		fprintf(stderr, "vmadm: validate supports \"create\" payloads\n");
		usage();
	}
	optind++;
	const char *file = file_option(argc, argv);
	int code;
	no_more_args(argc, argv);
	zk_error err = { 0 };
	zk_problems probs = { 0 };
	_cleanup_json_ json_t *payload = NULL;
	if (read_payload(file, &payload, &code) < 0)
		return code;
	if (zk_vm_validate_create(p, payload, &probs, &err) < 0) {
		if (probs.n == 0)
			return fail(&err);
		_cleanup_json_ json_t *j = zk_problems_to_json(&probs);
		_cleanup_free_ char *text = zk_json_dump_pretty(j);
		fputs(text, stdout);
		return 1;
	}
	printf("VALID 'create' payload for %s brand VMs.\n",
	    zk_json_str(payload, "brand", "joyent"));
	return 0;
}

static int
cmd_start(const zk_paths *p, int argc, char *argv[])
{
	const char *uuid = uuid_arg(argc, argv, "start");
	no_more_args(argc, argv);
	zk_error err = { 0 };
	int r = zk_vm_start(p, uuid, &err);
	if (r < 0)
		return fail_zone(uuid, r, &err);
	if (r == ZK_ALREADY)
		fprintf(stderr, "VM %s is already 'running'\n", uuid);
	else
		fprintf(stderr, "Successfully started VM %s\n", uuid);
	return 0;
}

static int
cmd_stop(const zk_paths *p, int argc, char *argv[], bool reboot)
{
	bool force = false;
	int timeout = 60, opt;
	while ((opt = getopt(argc, argv, reboot ? "F" : "Ft:")) != -1) {
		char *end;
		switch (opt) {
		case 'F': force = true; break;
		case 't':
			timeout = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || timeout < 0) {
				fprintf(stderr, "vmadm: -t: invalid timeout \"%s\"\n",
				    optarg);
				usage();
			}
			break;
		default: usage();
		}
	}
	const char *uuid = uuid_arg(argc, argv, reboot ? "reboot" : "stop");
	no_more_args(argc, argv);
	zk_error err = { 0 };
	zk_zone_status st;
	int r = reboot ? zk_vm_reboot(p, uuid, force, &err) :
	    zk_vm_stop(p, uuid, force, timeout, &st, &err);
	if (r < 0)
		return fail_zone(uuid, r, &err);
	if (r == ZK_ALREADY)
		fprintf(stderr, "VM %s is already not 'running' (currently: %s)\n",
		    uuid, st.state);
	else
		fprintf(stderr, "Successfully completed %s for VM %s\n",
		    reboot ? "reboot" : "stop", uuid);
	return 0;
}

static int
cmd_delete(const zk_paths *p, int argc, char *argv[])
{
	const char *uuid = uuid_arg(argc, argv, "delete");
	no_more_args(argc, argv);
	zk_error err = { 0 };
	int r = zk_vm_delete(p, uuid, &err);
	if (r < 0)
		return fail_zone(uuid, r, &err);
	fprintf(stderr, "Successfully deleted VM %s\n", uuid);
	return 0;
}

static int
cmd_get(const zk_paths *p, int argc, char *argv[])
{
	const char *uuid = uuid_arg(argc, argv, "get");
	no_more_args(argc, argv);
	zk_error err = { 0 };
	_cleanup_json_ json_t *vm = NULL;
	int r = zk_vm_describe(p, uuid, &vm, &err);
	if (r < 0)
		return fail_zone(uuid, r, &err);
	_cleanup_free_ char *text = zk_json_dump_pretty(vm);
	fputs(text, stdout);
	return 0;
}

/* Every zone matching the k=v filters given as operands. */
static int
matching_vms(const zk_paths *p, int argc, char *argv[], const char *what,
    json_t **out, zk_error *err)
{
	zk_filter *f = NULL;
	_cleanup_json_ json_t *all = NULL;
	int r = zk_filter_parse(argc - optind, argv + optind, what, &f, err);
	if (r == 0)
		r = zk_vm_describe_all(p, &all, err);
	if (r < 0) {
		zk_filter_free(f);
		return r;
	}
	json_t *sel = json_array();
	size_t i;
	json_t *vm;
	json_array_foreach(all, i, vm)
		if (zk_filter_match(f, vm))
			json_array_append(sel, vm);
	zk_filter_free(f);
	*out = sel;
	return 0;
}

static int
cmd_list(const zk_paths *p, int argc, char *argv[])
{
	zk_list_opts o = { 0 };
	int opt;
	while ((opt = getopt(argc, argv, "pHo:s:")) != -1) {
		switch (opt) {
		case 'p': o.parseable = true; break;
		case 'H': o.no_header = true; break;
		case 'o': o.fields = optarg; break;
		case 's': o.sort = optarg; break;
		default: usage();
		}
	}
	zk_error err = { 0 };
	_cleanup_json_ json_t *vms = NULL;
	_cleanup_free_ char *text = NULL;
	if (matching_vms(p, argc, argv, "filter", &vms, &err) < 0 ||
	    zk_vmlist_render(vms, &o, &text, &err) < 0)
		return fail(&err);
	fputs(text, stdout);
	return 0;
}

static int
cmd_lookup(const zk_paths *p, int argc, char *argv[])
{
	bool json = false, unique = false;
	const char *fields = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "j1o:")) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case '1': unique = true; break;
		case 'o': fields = optarg; break;
		default: usage();
		}
	}
	if (fields != NULL && !json) {	/* an error, not usage, as on SmartOS */
		fprintf(stderr, "Cannot specify -o without -j\n");
		return 1;
	}
	zk_error err = { 0 };
	_cleanup_json_ json_t *vms = NULL;
	if (matching_vms(p, argc, argv, "lookup", &vms, &err) < 0)
		return fail(&err);
	if (unique && json_array_size(vms) != 1) {
		fprintf(stderr, "Requested unique lookup but found %zu results.\n",
		    json_array_size(vms));
		return 1;
	}
	if (!json) {
		size_t i;
		json_t *vm;
		json_array_foreach(vms, i, vm)
			printf("%s\n", zk_json_str(vm, "uuid", ""));
		return 0;
	}
	_cleanup_json_ json_t *out = json_array();
	size_t i;
	json_t *vm;
	json_array_foreach(vms, i, vm) {
		if (fields == NULL) {
			json_array_append(out, vm);
			continue;
		}
		json_t *sub = json_object();
		_cleanup_free_ char *copy = strdup(fields);
		char *save = NULL;
		for (char *f = strtok_r(copy, ",", &save); f != NULL;
		    f = strtok_r(NULL, ",", &save)) {
			json_t *v = json_object_get(vm, f);
			if (v != NULL)
				json_object_set(sub, f, v);
		}
		json_array_append_new(out, sub);
	}
	_cleanup_free_ char *text = zk_json_dump_pretty(unique ?
	    json_array_get(out, 0) : out);
	fputs(text, stdout);
	return 0;
}

static int
cmd_update(const zk_paths *p, int argc, char *argv[])
{
	const char *file = file_option(argc, argv);
	int code;
	const char *uuid = uuid_arg(argc, argv, "update");
	zk_error err = { 0 };
	zk_problems probs = { 0 };
	_cleanup_json_ json_t *payload = NULL;
	if (optind < argc) {
		if (file != NULL)
			usage();
		if (zk_manifest_kv_payload(argc - optind, argv + optind, &payload,
		    &err) < 0)
			return fail(&err);
	} else if (read_payload(file, &payload, &code) < 0) {
		return code;
	}
	int r = zk_vm_update(p, uuid, payload, &probs, &err);
	if (r < 0)
		return fail_zone(uuid, r, &err);
	fprintf(stderr, "Successfully updated VM %s\n", uuid);
	return 0;
}

static int
cmd_console(const zk_paths *p, int argc, char *argv[])
{
	const char *uuid = uuid_arg(argc, argv, "console");
	no_more_args(argc, argv);
	zk_error err = { 0 };
	int r = zk_console_attach(p, uuid, STDIN_FILENO, STDOUT_FILENO, stderr,
	    &err);
	return r < 0 ? fail_zone(uuid, r, &err) : 0;
}

int
main(int argc, char *argv[])
{
	if (argc < 2)
		usage();
	const char *cmd = argv[1];
	/* Sub-command options follow the command: parse from argv[1]. */
	argc--;
	argv++;
	optind = 1;
	zk_paths paths;
	zk_error err = { 0 };
	if (zk_paths_from_env(&paths, &err) < 0)
		return fail(&err);
	const zk_paths *p = &paths;
	if (strcmp(cmd, "create") == 0)
		return cmd_create(p, argc, argv);
	if (strcmp(cmd, "validate") == 0)
		return cmd_validate(p, argc, argv);
	if (strcmp(cmd, "start") == 0 || strcmp(cmd, "boot") == 0)
		return cmd_start(p, argc, argv);
	if (strcmp(cmd, "stop") == 0 || strcmp(cmd, "halt") == 0)
		return cmd_stop(p, argc, argv, false);
	if (strcmp(cmd, "reboot") == 0)
		return cmd_stop(p, argc, argv, true);
	if (strcmp(cmd, "delete") == 0 || strcmp(cmd, "destroy") == 0)
		return cmd_delete(p, argc, argv);
	if (strcmp(cmd, "get") == 0 || strcmp(cmd, "json") == 0)
		return cmd_get(p, argc, argv);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(p, argc, argv);
	if (strcmp(cmd, "lookup") == 0)
		return cmd_lookup(p, argc, argv);
	if (strcmp(cmd, "update") == 0)
		return cmd_update(p, argc, argv);
	if (strcmp(cmd, "console") == 0)
		return cmd_console(p, argc, argv);
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "-h") == 0)
		usage();
	fprintf(stderr, "Invalid command: \"%s\".\n", cmd);
	usage();
}
