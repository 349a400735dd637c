#include "view/vmlist.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "config/manifest.h"
#include "config/rctl.h"
#include "util/cleanup.h"
#include "util/json_util.h"
#include "util/uuid.h"
#include "view/table.h"

#define DEFAULT_FIELDS "uuid,type,ram,state,alias"
#define DEFAULT_SORT "ram,uuid"
#define OTHER_WIDTH 20		/* any column not in the catalogue */

/* ------------------------------------------------------------------ */
/* Column catalogue (SMARTOS-FACTS section 1)                          */

typedef struct column_def {
	const char *key;
	int width;
	const char *header;
} column_def;

static const column_def catalogue[] = {
	{ "uuid", ZK_UUID_LEN, "UUID" },
	{ "type", 4, "TYPE" },
	{ "ram", 7, "RAM" },
	{ "state", 16, "STATE" },
	{ "alias", 10, "ALIAS" },
	{ "brand", 14, "BRAND" },
	/* the resource controls' columns are in the rctl table */
	{ "quota", 5, "QUOTA" },
	{ "zonename", 12, "ZONENAME" },
	{ "zoneid", 6, "ZONEID" },
	{ "pid", 6, "PID" },
	{ "vcpus", 5, "VCPUS" },
	{ "image_uuid", ZK_UUID_LEN, "IMAGE_UUID" },
	{ "hostname", 32, "HOSTNAME" },
	{ "autoboot", 8, "AUTOBOOT" },
	{ "zone_state", 10, "ZONE_STATE" },
	{ "create_timestamp", 24, "CREATE_TIMESTAMP" },
};

static bool
catalogue_find(const char *key, column_def *out)
{
	for (size_t i = 0; i < ZK_ARRAY_SIZE(catalogue); i++) {
		if (strcmp(catalogue[i].key, key) == 0) {
			*out = catalogue[i];
			return true;
		}
	}
	const zk_rctl *r = zk_rctl_for_property(key);
	if (r == NULL || r->list_width == 0)
		return false;
	*out = (column_def){ r->property, r->list_width, r->list_header };
	return true;
}

static bool
name_known(const char *name)
{
	column_def def;
	return catalogue_find(name, &def) ||
	    zk_manifest_known_property(name);
}

/* Dotted keys reach into objects and arrays, so only their first segment
 * has to be a property: nics.0.ip, tags.role, customer_metadata.foo. */
static bool
field_known(const char *name)
{
	if (name_known(name))
		return true;
	const char *dot = strchr(name, '.');
	if (dot == NULL || dot == name)
		return false;
	_cleanup_free_ char *first = strndup(name, (size_t)(dot - name));
	return first != NULL && name_known(first);
}

/* ------------------------------------------------------------------ */
/* Field values                                                        */

static bool
is_hvm(const json_t *vm)
{
	return strcmp(zk_json_str(vm, "brand", ""), "kvm") == 0;
}

static char *
type_text(const json_t *vm)
{
	const char *brand = zk_json_str(vm, "brand", "");
	if (strcmp(brand, "joyent") == 0 || strcmp(brand, "joyent-minimal") == 0)
		return strdup("OS");
	if (strcmp(brand, "lx") == 0)
		return strdup("LX");
	if (strcmp(brand, "kvm") == 0)
		return strdup("KVM");
	return NULL;
}

char *
zk_vm_field(const json_t *vm, const char *key)
{
	if (vm == NULL || key == NULL)
		return NULL;
	if (strcmp(key, "type") == 0)
		return type_text(vm);
	/* An OS zone's memory is its cap; only HVM guests have a "ram". */
	if (strcmp(key, "ram") == 0)
		return zk_json_text(json_object_get(vm,
		    is_hvm(vm) ? "ram" : "max_physical_memory"));
	return zk_json_text(zk_json_path(vm, key));
}

/* ------------------------------------------------------------------ */
/* Filters                                                             */

typedef struct filter_item {
	char *key;		/* may contain ".*." segments */
	char *value;		/* exact match, when !is_regex */
	bool is_regex;
	regex_t re;
} filter_item;

struct zk_filter {
	size_t n;
	filter_item items[];
};

void
zk_filter_free(zk_filter *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->items[i].key);
		free(f->items[i].value);
		if (f->items[i].is_regex)
			regfree(&f->items[i].re);
	}
	free(f);
}

static void
zk_filter_freep(zk_filter **f)
{
	zk_filter_free(*f);
}

static int
compile_regex(filter_item *it, const char *re, const char *arg, zk_error *err)
{
	int rc = regcomp(&it->re, re, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	if (rc != 0) {
		char why[256];
		regerror(rc, &it->re, why, sizeof(why));
		return zk_fail(err, EINVAL, "Invalid regular expression in "
		    "\"%s\": %s", arg, why);
	}
	it->is_regex = true;
	return 0;
}

static int
parse_one(filter_item *it, const char *arg, const char *what, zk_error *err)
{
	const char *eq = strchr(arg, '=');
	if (eq == NULL)
		return zk_fail(err, EINVAL, "Invalid %s: \"%s\"", what, arg);
	it->key = strndup(arg, (size_t)(eq - arg));
	if (it->key == NULL)
		return zk_fail_errno(err, ENOMEM, "cannot parse \"%s\"", arg);
	if (!field_known(it->key))
		return zk_fail(err, EINVAL, "Invalid %s key: \"%s\"", what,
		    it->key);
	if (eq[1] == '~')
		return compile_regex(it, eq + 2, arg, err);
	it->value = strdup(eq + 1);
	if (it->value == NULL)
		return zk_fail_errno(err, ENOMEM, "cannot parse \"%s\"", arg);
	return 0;
}

int
zk_filter_parse(int argc, char *const argv[], const char *what,
    zk_filter **out, zk_error *err)
{
	size_t n = argc > 0 ? (size_t)argc : 0;
	_cleanup_(zk_filter_freep) zk_filter *f =
	    calloc(1, sizeof(*f) + n * sizeof(f->items[0]));
	if (f == NULL)
		return zk_fail_errno(err, ENOMEM, "cannot parse %ss", what);
	for (size_t i = 0; i < n; i++) {
		/* Count the item first so a half-parsed one is freed too. */
		f->n = i + 1;
		int r = parse_one(&f->items[i], argv[i], what, err);
		if (r < 0)
			return r;
	}
	*out = TAKE_PTR(f);
	return 0;
}

static bool
text_matches(const filter_item *it, const char *text)
{
	if (text == NULL)
		return false;
	if (it->is_regex)
		return regexec(&it->re, text, 0, NULL, 0) == 0;
	return strcmp(text, it->value) == 0;
}

static bool
value_matches(const filter_item *it, const json_t *v)
{
	_cleanup_free_ char *text = zk_json_text(v);
	return text_matches(it, text);
}

/*
 * "a.*.b": any element of the array (or member of the object) at "a"
 * whose "b" matches; the rest of the path may hold further wildcards.
 */
static bool
path_matches(const filter_item *it, const json_t *node, const char *path)
{
	const char *star = strstr(path, ".*");
	while (star != NULL && star[2] != '\0' && star[2] != '.')
		star = strstr(star + 2, ".*");
	if (star == NULL)
		return value_matches(it, zk_json_path(node, path));

	_cleanup_free_ char *prefix = strndup(path, (size_t)(star - path));
	if (prefix == NULL)
		return false;
	const json_t *container = zk_json_path(node, prefix);
	const char *rest = star[2] == '.' ? star + 3 : NULL;
	const json_t *elem;
	size_t i;
	const char *k;

	if (json_is_array(container)) {
		json_array_foreach(container, i, elem)
			if (rest ? path_matches(it, elem, rest) :
			    value_matches(it, elem))
				return true;
	} else if (json_is_object(container)) {
		json_object_foreach((json_t *)container, k, elem)
			if (rest ? path_matches(it, elem, rest) :
			    value_matches(it, elem))
				return true;
	}
	return false;
}

static bool
item_matches(const filter_item *it, const json_t *vm)
{
	/* Computed fields (type, ram) exist only through zk_vm_field. */
	if (strstr(it->key, ".*") == NULL) {
		_cleanup_free_ char *text = zk_vm_field(vm, it->key);
		return text_matches(it, text);
	}
	return path_matches(it, vm, it->key);
}

bool
zk_filter_match(const zk_filter *f, const json_t *vm)
{
	if (f == NULL)
		return true;
	for (size_t i = 0; i < f->n; i++)
		if (!item_matches(&f->items[i], vm))
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Field lists (-o, -s)                                                */

typedef struct field_list {
	size_t n;
	char **names;		/* without the '-' of a descending sort key */
	bool *descending;
} field_list;

static void
field_list_clear(field_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->descending);
}

static int
field_list_add(field_list *l, const char *name, size_t len, bool desc)
{
	char **names = realloc(l->names, (l->n + 1) * sizeof(*names));
	if (names == NULL)
		return -ENOMEM;
	l->names = names;
	bool *d = realloc(l->descending, (l->n + 1) * sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	l->descending = d;
	l->names[l->n] = strndup(name, len);
	if (l->names[l->n] == NULL)
		return -ENOMEM;
	l->descending[l->n++] = desc;
	return 0;
}

/* `flag` is "-o" or "-s"; only -s takes a '-' prefix. */
static int
field_list_parse(const char *spec, const char *flag, field_list *l,
    zk_error *err)
{
	bool sort = strcmp(flag, "-s") == 0;
	const char *p = spec;
	for (;;) {
		size_t len = strcspn(p, ",");
		bool desc = sort && len > 0 && p[0] == '-';
		const char *name = desc ? p + 1 : p;
		size_t nlen = desc ? len - 1 : len;
		if (field_list_add(l, name, nlen, desc) < 0)
			return zk_fail_errno(err, ENOMEM, "cannot parse %s", flag);
		if (!field_known(l->names[l->n - 1]))
			return zk_fail(err, EINVAL, "Invalid field for %s: \"%s\"",
			    flag, l->names[l->n - 1]);
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

/* ------------------------------------------------------------------ */
/* Sorting                                                             */

static void
free_cells(char **cells, size_t n)
{
	if (cells == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(cells[i]);
	free(cells);
}

/* The sorted order of vms as indices; key values are fetched once. */
static int
sort_order(const json_t *vms, const field_list *sort, size_t *order,
    zk_error *err)
{
	size_t n = json_array_size(vms), nkeys = n * sort->n;
	char **keys = calloc(nkeys ? nkeys : 1, sizeof(*keys));
	if (keys == NULL)
		return zk_fail_errno(err, ENOMEM, "cannot sort VMs");
	for (size_t r = 0; r < n; r++)
		for (size_t k = 0; k < sort->n; k++)
			keys[r * sort->n + k] = zk_vm_field(json_array_get(vms,
			    r), sort->names[k]);
	zk_table_sort((const char *const *)keys, n, sort->n, sort->descending,
	    order);
	free_cells(keys, nkeys);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Rendering                                                           */

static void
fill_column(zk_table_col *col, const char *key, char *header_buf)
{
	column_def def;
	if (catalogue_find(key, &def)) {
		col->header = def.header;
		col->width = def.width;
		return;
	}
	for (size_t i = 0; key[i] != '\0'; i++)
		header_buf[i] = (char)toupper((unsigned char)key[i]);
	header_buf[strlen(key)] = '\0';
	col->header = header_buf;
	col->width = OTHER_WIDTH;
}

static int
render_table(const json_t *vms, const size_t *order, const field_list *cols,
    const zk_list_opts *opts, char **out, zk_error *err)
{
	size_t nrows = json_array_size(vms), ncols = cols->n;
	_cleanup_free_ zk_table_col *tcols = calloc(ncols, sizeof(*tcols));
	char **headers = calloc(ncols, sizeof(char *));
	size_t ncells = nrows * ncols;
	char **cells = calloc(ncells > 0 ? ncells : 1, sizeof(char *));
	int r = 0;
	if (tcols == NULL || headers == NULL || cells == NULL) {
		r = zk_fail_errno(err, ENOMEM, "cannot render VM list");
		goto out;
	}
	for (size_t c = 0; c < ncols; c++) {
		headers[c] = malloc(strlen(cols->names[c]) + 1);
		if (headers[c] == NULL) {
			r = zk_fail_errno(err, ENOMEM, "cannot render VM list");
			goto out;
		}
		fill_column(&tcols[c], cols->names[c], headers[c]);
	}
	for (size_t row = 0; row < nrows; row++)
		for (size_t c = 0; c < ncols; c++)
			cells[row * ncols + c] = zk_vm_field(
			    json_array_get(vms, order[row]), cols->names[c]);

	zk_table_opts topts = { opts->parseable, opts->no_header };
	*out = zk_table_render(tcols, ncols, (const char *const *)cells,
	    nrows, &topts);
	if (*out == NULL)
		r = zk_fail_errno(err, ENOMEM, "cannot render VM list");
out:
	free_cells(headers, ncols);
	free_cells(cells, ncells);
	return r;
}

int
zk_vmlist_render(const json_t *vms, const zk_list_opts *opts, char **out,
    zk_error *err)
{
	static const zk_list_opts defaults = { 0 };
	if (opts == NULL)
		opts = &defaults;
	if (!json_is_array(vms))
		return zk_fail(err, EINVAL, "VM list is not a JSON array");

	field_list cols = { 0 }, sort = { 0 };
	_cleanup_free_ size_t *order = calloc(json_array_size(vms) + 1,
	    sizeof(*order));
	int r = order == NULL ? zk_fail_errno(err, ENOMEM, "cannot list VMs") : 0;
	if (r == 0)
		r = field_list_parse(opts->fields ? opts->fields :
		    DEFAULT_FIELDS, "-o", &cols, err);
	if (r == 0)
		r = field_list_parse(opts->sort ? opts->sort : DEFAULT_SORT,
		    "-s", &sort, err);
	if (r == 0)
		r = sort_order(vms, &sort, order, err);
	if (r == 0)
		r = render_table(vms, order, &cols, opts, out, err);
	field_list_clear(&cols);
	field_list_clear(&sort);
	return r;
}
