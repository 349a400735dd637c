/* jansson glue: scope-bound references and small typed accessors. */
#ifndef ZK_JSON_UTIL_H
#define ZK_JSON_UTIL_H

#include <jansson.h>
#include "util/cleanup.h"
#include "util/error.h"

static inline void zk_json_decrefp(json_t **j) { json_decref(*j); }
#define _cleanup_json_ _cleanup_(zk_json_decrefp)

/* Load a JSON object from a file; the error names the path and the line. */
int zk_json_load_file(const char *path, json_t **out, zk_error *err);
/* Parse a JSON object from a string; `what` names the source in errors. */
int zk_json_parse_object(const char *text, const char *what, json_t **out,
    zk_error *err);
/* Serialise as SmartOS does (2-space indent, keys sorted), with a newline. */
char *zk_json_dump_pretty(const json_t *j);

/* Typed getters that tolerate absence: return the fallback. */
const char *zk_json_str(const json_t *obj, const char *key, const char *fallback);
long long zk_json_int(const json_t *obj, const char *key, long long fallback);
int zk_json_bool(const json_t *obj, const char *key, int fallback);

/*
 * Walk a dotted path ("nics.0.ip", "tags.role"): objects by key, arrays by
 * index.  Tag and metadata keys may contain dots, so at each object the
 * whole remaining path is tried as one key first.  NULL when absent.
 */
const json_t *zk_json_path(const json_t *root, const char *path);
/* A scalar's text (malloc'd): strings as is, integers in decimal,
 * true/false; objects, arrays and reals as compact JSON; NULL for null. */
char *zk_json_text(const json_t *v);

#endif
