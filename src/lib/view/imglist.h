/*
 * imgadm list and get: an image's fields as list shows them, FIELD=VALUE
 * and FIELD=~SUBSTRING filters, -s sort keys, the table and the JSON
 * forms.  Pure logic over installed manifests (image.h); comparing and
 * sorting values is shared with vmadm list (table.h).
 */
#ifndef ZK_IMGLIST_H
#define ZK_IMGLIST_H

#include <jansson.h>
#include <stdbool.h>
#include "util/error.h"
#include "view/table.h"

#define ZK_IMGLIST_FIELDS "uuid,name,version,os,type,pub"
#define ZK_IMGLIST_SORT "published_at,name"

/*
 * The text of one list field of an image (malloc'd), NULL if it has none:
 * "pub" (published_date) the day, "published" the time without
 * milliseconds, "zpool", "size" (files.0.size), or any manifest key,
 * dotted for nested ones ("tags.init").
 */
char *zk_image_field(const json_t *manifest, const char *field);

typedef struct zk_image_filter zk_image_filter;

/* FIELD=VALUE (exact) and FIELD=~SUBSTRING arguments, all to match;
 * -EINVAL naming a malformed one. */
int zk_image_filter_parse(int argc, char *const argv[], zk_image_filter **out,
    zk_error *err);
bool zk_image_filter_match(const zk_image_filter *f, const json_t *manifest);
void zk_image_filter_free(zk_image_filter *f);

/*
 * The manifests of `all` that match f (NULL: every one), sorted by the
 * comma-separated fields of sort ("-x": descending), in a new array.
 */
int zk_image_select(const json_t *all, const zk_image_filter *f,
    const char *sort, json_t **out, zk_error *err);

/*
 * The table of imgadm list for the fields (comma-separated, at least
 * one), headed by their names upper-cased.  Columns are as wide as their
 * header too, even under -H, as SmartOS's imgadm sizes them.
 */
int zk_imglist_render(const json_t *images, const char *fields,
    const zk_table_opts *opts, char **out, zk_error *err);

/* {"manifest": m, "zpool": ...}: one image as list -j and get show it. */
json_t *zk_image_entry(json_t *manifest);

#endif
