#include "view/imglist.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/store.h"
#include "storage/storage.h"
#include "util/cleanup.h"
#include "util/json_util.h"

char *
zk_image_field(const json_t *m, const char *field)
{
	const char *pub = zk_json_str(m, "published_at", NULL);
	if (strcmp(field, "pub") == 0 || strcmp(field, "published_date") == 0)
		return pub ? strndup(pub, 10) : NULL;
	if (strcmp(field, "published") == 0) {	/* without the milliseconds */
		char *t = NULL;
		return pub && asprintf(&t, "%.19sZ", pub) >= 0 ? t : NULL;
	}
	if (strcmp(field, "zpool") == 0)
		return strdup(ZK_POOL_DEFAULT_NAME);
	if (strcmp(field, "size") == 0)
		return zk_json_text(zk_json_path(m, "files.0.size"));
	return zk_json_text(zk_json_path(m, field));
}

json_t *
zk_image_entry(json_t *manifest)
{
	return json_pack("{s:O, s:s}", "manifest", manifest, "zpool",
	    ZK_POOL_DEFAULT_NAME);
}

/* ---- filters ---------------------------------------------------------- */

typedef struct image_filter {
	char *field;
	const char *value;	/* into the argument */
	bool substring;
} image_filter;

struct zk_image_filter {
	size_t n;
	image_filter items[];
};

void
zk_image_filter_free(zk_image_filter *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->items[i].field);
	free(f);
}

int
zk_image_filter_parse(int argc, char *const argv[], zk_image_filter **out,
    zk_error *err)
{
	zk_image_filter *f = calloc(1, sizeof(*f) + (size_t)argc *
	    sizeof(f->items[0]));
	if (f == NULL)
		return zk_fail(err, ENOMEM, "out of memory");
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (eq == NULL || eq == argv[i]) {
			zk_image_filter_free(f);
			return zk_fail(err, EINVAL, "invalid filter \"%s\": use "
			    "FIELD=VALUE or FIELD=~SUBSTRING", argv[i]);
		}
		image_filter *it = &f->items[f->n];
		if ((it->field = strndup(argv[i], (size_t)(eq - argv[i]))) ==
		    NULL) {
			zk_image_filter_free(f);
			return zk_fail(err, ENOMEM, "out of memory");
		}
		it->substring = eq[1] == '~';
		it->value = eq + 1 + it->substring;
		f->n++;
	}
	*out = f;
	return 0;
}

bool
zk_image_filter_match(const zk_image_filter *f, const json_t *m)
{
	for (size_t i = 0; f != NULL && i < f->n; i++) {
		const image_filter *it = &f->items[i];
		_cleanup_free_ char *v = zk_image_field(m, it->field);
		const char *s = v ? v : "";
		if (it->substring ? strstr(s, it->value) == NULL :
		    strcmp(s, it->value) != 0)
			return false;
	}
	return true;
}

/* ---- selecting and sorting -------------------------------------------- */

/* "a,-b" -> names and, for sort keys, directions; empty names are
 * skipped. */
typedef struct sort_keys {
	size_t n;
	char **names;
	bool *desc;
	char *copy;
} sort_keys;

static void
sort_keys_free(sort_keys *k)
{
	free(k->names);
	free(k->desc);
	free(k->copy);
}

static int
sort_keys_parse(const char *spec, bool directions, sort_keys *k)
{
	size_t cap = 1;
	for (const char *s = spec; *s; s++)
		cap += *s == ',';
	*k = (sort_keys){ 0 };
	k->copy = strdup(spec);
	k->names = calloc(cap, sizeof(*k->names));
	k->desc = calloc(cap, sizeof(*k->desc));
	if (k->copy == NULL || k->names == NULL || k->desc == NULL)
		return -ENOMEM;
	char *save = NULL;
	for (char *f = strtok_r(k->copy, ",", &save); f != NULL;
	    f = strtok_r(NULL, ",", &save)) {
		k->desc[k->n] = directions && *f == '-';
		k->names[k->n] = f + k->desc[k->n];
		k->n++;
	}
	return 0;
}

/* kept's images in the order of the sort keys, appended to out. */
static int
append_sorted(json_t *kept, const sort_keys *k, json_t *out)
{
	size_t n = json_array_size(kept);
	char **keys = calloc(n * k->n + 1, sizeof(*keys));
	size_t *order = calloc(n + 1, sizeof(*order));
	int r = keys != NULL && order != NULL ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++)
		for (size_t j = 0; j < k->n; j++)
			keys[i * k->n + j] = zk_image_field(json_array_get(kept,
			    i), k->names[j]);
	if (r == 0)
		zk_table_sort((const char *const *)keys, n, k->n, k->desc, order);
	for (size_t i = 0; r == 0 && i < n; i++)
		json_array_append(out, json_array_get(kept, order[i]));
	zk_strv_free(keys, n * k->n);
	free(order);
	return r;
}

int
zk_image_select(const json_t *all, const zk_image_filter *f,
    const char *sort, json_t **out, zk_error *err)
{
	_cleanup_json_ json_t *kept = json_array();
	_cleanup_json_ json_t *sorted = json_array();
	sort_keys k;
	int r = sort_keys_parse(sort, true, &k);
	size_t i;
	json_t *m;
	json_array_foreach(all, i, m)
		if (r == 0 && zk_image_filter_match(f, m))
			json_array_append(kept, m);
	if (r == 0 && (kept == NULL || sorted == NULL))
		r = -ENOMEM;
	if (r == 0)
		r = append_sorted(kept, &k, sorted);
	sort_keys_free(&k);
	if (r < 0)
		return zk_fail(err, -r, "cannot sort images: out of memory");
	*out = TAKE_PTR(sorted);
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

static int
render_cells(const json_t *images, const sort_keys *cols,
    const zk_table_opts *opts, char **out)
{
	size_t n = json_array_size(images), ncols = cols->n;
	_cleanup_free_ zk_table_col *tcols = calloc(ncols + 1, sizeof(*tcols));
	/* Headers are the field names upper-cased; they live after the rows. */
	char **cells = calloc(n * ncols + ncols + 1, sizeof(*cells));
	if (tcols == NULL || cells == NULL) {
		free(cells);
		return -ENOMEM;
	}
	char **headers = cells + n * ncols;
	for (size_t c = 0; c < ncols; c++) {
		headers[c] = strdup(cols->names[c]);
		for (char *s = headers[c]; s && *s; s++)
			*s = (char)toupper((unsigned char)*s);
		tcols[c].header = headers[c];
		for (size_t r = 0; r < n; r++)
			cells[r * ncols + c] = zk_image_field(json_array_get(
			    images, r), cols->names[c]);
	}
	/* Render the header for its widths, then drop its line under -H. */
	zk_table_opts t = *opts;
	bool drop_header = t.no_header && !t.parseable;
	t.no_header = false;
	_cleanup_free_ char *text = zk_table_render(tcols, ncols,
	    (const char *const *)cells, n, &t);
	zk_strv_free(cells, n * ncols + ncols);
	if (text == NULL)
		return -ENOMEM;
	const char *nl = strchr(text, '\n');
	*out = strdup(drop_header ? (nl ? nl + 1 : "") : text);
	return *out == NULL ? -ENOMEM : 0;
}

int
zk_imglist_render(const json_t *images, const char *fields,
    const zk_table_opts *opts, char **out, zk_error *err)
{
	sort_keys cols;
	int r = sort_keys_parse(fields, false, &cols);
	if (r == 0 && cols.n == 0)
		r = zk_fail(err, EINVAL, "list: -o needs at least one field");
	else if (r == 0 && (r = render_cells(images, &cols, opts, out)) < 0)
		r = zk_fail(err, -r, "cannot render the image list: out of "
		    "memory");
	else if (r < 0)
		r = zk_fail(err, -r, "out of memory");
	sort_keys_free(&cols);
	return r;
}
