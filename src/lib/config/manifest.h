/*
 * The VM manifest: one property table (name, type, range, default, whether
 * create/update may set it) and the validation, defaulting and update rules
 * of vmadm built on it.  Pure logic: no I/O, so every rule is unit-tested.
 *
 * Property names and units are SmartOS's (memory in MiB, quota in GiB,
 * cpu_cap in percent of one CPU).  zonekit rejects unknown properties
 * (SmartOS drops them with a warning); see docs/vmadm.md.
 */
#ifndef ZK_MANIFEST_H
#define ZK_MANIFEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "util/error.h"

typedef enum zk_problem_kind {
	ZK_PROBLEM_BAD_VALUE,		/* -> "bad_values" */
	ZK_PROBLEM_MISSING,		/* -> "missing_properties" */
	ZK_PROBLEM_UNKNOWN,		/* -> "bad_properties" */
	ZK_PROBLEM_BAD_BRAND,		/* -> "bad_brand" */
	ZK_PROBLEM_READ_ONLY,		/* not settable here -> "bad_properties" */
} zk_problem_kind;

typedef struct zk_problem {
	zk_problem_kind kind;
	char property[128];	/* e.g. "max_swap", "nics.0.ip" */
	char reason[384];	/* e.g. "must be >= max_physical_memory (512)" */
} zk_problem;

#define ZK_PROBLEMS_MAX 64
typedef struct zk_problems {
	size_t n;
	zk_problem items[ZK_PROBLEMS_MAX];
} zk_problems;

/* The program a zone boots when its config names none. */
#define ZK_MANIFEST_INIT_NAME_DEFAULT "/sbin/init"

/* Facts about the destination that defaults and rules depend on. */
typedef struct zk_manifest_ctx {
	bool pool_has_quota;	/* false on the plain-directory pool */
	const char *zpool;	/* pool name for "zpool"; NULL: ZK_POOL_DEFAULT_NAME */
	const char *now_iso;	/* create_timestamp, ISO 8601 with ms and Z */
	const char *uuid;	/* uuid to assign when the payload has none */
} zk_manifest_ctx;

/*
 * Validate a create payload and produce the complete stored config:
 * defaults filled (the resource controls' from the rctl table, tmpfs =
 * max_physical_memory, autoboot true, dns_domain "local", quota 10 or 0,
 * hostname = zonename = uuid, init_name ZK_MANIFEST_INIT_NAME_DEFAULT,
 * empty tags/metadata objects, nics [] with
 * interface netN and generated mac), plus uuid, zonename, zpool,
 * create_timestamp.  `ram` is accepted as max_physical_memory for OS brands.
 *
 * Returns 0 with *out set, or -EINVAL with every problem in probs and a
 * one-line summary in err (see zk_problems_format).
 */
int zk_manifest_create(const json_t *payload, const zk_manifest_ctx *ctx,
    json_t **out, zk_problems *probs, zk_error *err);

/*
 * Apply an update payload to a stored config, returning the new config.
 * Handles null (clear the property), set_tags/remove_tags,
 * set_/remove_customer_metadata, set_/remove_internal_metadata,
 * add_nics/update_nics/remove_nics (keyed by mac), and the same range and
 * cross-property rules as create.  uuid, brand, zonename, zpool, image_uuid
 * and the read-only properties are refused, naming the property.
 */
int zk_manifest_update(const json_t *current, const json_t *payload,
    const zk_manifest_ctx *ctx, json_t **out, zk_problems *probs,
    zk_error *err);

/*
 * Turn `vmadm update <uuid> k=v ...` arguments into an update payload,
 * typing each value by the property table (integers, booleans, strings;
 * "null" clears).  Errors name the argument.
 */
int zk_manifest_kv_payload(int argc, char *const argv[], json_t **out,
    zk_error *err);

/* "max_swap: must be >= max_physical_memory (512); image_uuid: missing". */
void zk_problems_format(const zk_problems *probs, char *buf, size_t len);
/* {"bad_values": [...], "missing_properties": [...], ...} for validate. */
json_t *zk_problems_to_json(const zk_problems *probs);

/* Is `name` a property vmadm list/lookup can show or filter on? Includes the
 * runtime ones (state, zone_state, zoneid, pid, boot_timestamp, type, ram). */
bool zk_manifest_known_property(const char *name);

#endif
