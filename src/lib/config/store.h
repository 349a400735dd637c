/*
 * Zone configs on the pool: <root>/config/<uuid>.json, the source of truth,
 * always written atomically.  Per-zone locks serialise vmadm commands on one
 * zone while commands on different zones run in parallel.
 */
#ifndef ZK_STORE_H
#define ZK_STORE_H

#include <jansson.h>
#include <stddef.h>
#include "util/error.h"
#include "util/paths.h"

/* -ZK_ENOZONE with "<uuid>: No such zone configured". */
int zk_store_load(const zk_paths *p, const char *uuid, json_t **cfg,
    zk_error *err);
int zk_store_save(const zk_paths *p, const json_t *cfg, zk_error *err);
int zk_store_remove(const zk_paths *p, const char *uuid, zk_error *err);
/* UUIDs of every configured zone, sorted; free with zk_strv_free. */
int zk_store_list(const zk_paths *p, char ***uuids, size_t *n, zk_error *err);
void zk_strv_free(char **v, size_t n);

#endif
