/*
 * vmadm list and lookup: flattening VM objects into dotted keys, k=v and
 * k=~regex filters, sort keys, and the column catalogue of SMARTOS-FACTS
 * section 1.  Pure logic over described VM objects (config + runtime).
 */
#ifndef ZK_VMLIST_H
#define ZK_VMLIST_H

#include <jansson.h>
#include <stdbool.h>
#include "util/error.h"

/*
 * The string value of `key` in vm: "ram" is max_physical_memory for OS
 * brands, "type" is OS/KVM/LX from the brand, dotted keys walk objects and
 * arrays ("nics.0.ip", "tags.role"), "nics.*.ip" is not accepted here (see
 * filters).  Returns a malloc'd string or NULL when missing; booleans are
 * "true"/"false", numbers in decimal.
 */
char *zk_vm_field(const json_t *vm, const char *key);

typedef struct zk_filter zk_filter;
/*
 * Parse "k=v" (exact match) and "k=~re" (case-insensitive POSIX ERE)
 * arguments; "nics.*.ip=..." matches any element.  An unknown key is an
 * error `Invalid filter key: "k"` (`what` = "filter") or
 * `Invalid lookup key: "k"` (`what` = "lookup").
 */
int zk_filter_parse(int argc, char *const argv[], const char *what,
    zk_filter **out, zk_error *err);
bool zk_filter_match(const zk_filter *f, const json_t *vm);
void zk_filter_free(zk_filter *f);

typedef struct zk_list_opts {
	const char *fields;	/* NULL = "uuid,type,ram,state,alias" */
	const char *sort;	/* NULL = "ram,uuid"; "-x" = descending */
	bool parseable;		/* -p */
	bool no_header;		/* -H */
} zk_list_opts;

/*
 * Render `vmadm list` for an array of VM objects already filtered.  Sort
 * numerically where both values are numbers, else as strings.  Errors name
 * an unknown -o or -s field.
 */
int zk_vmlist_render(const json_t *vms, const zk_list_opts *opts, char **out,
    zk_error *err);

#endif
