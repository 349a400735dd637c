/*
 * Failure injection for tests of all-or-nothing behaviour: when
 * ZONEKIT_FAULT names a point (comma-separated list), that step fails as if
 * the system call behind it had.  Costs one getenv per point.
 */
#ifndef ZK_FAULT_H
#define ZK_FAULT_H

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "util/error.h"

static inline int
zk_fault(const char *point, zk_error *err)
{
	const char *spec = getenv("ZONEKIT_FAULT");
	if (spec == NULL)
		return 0;
	size_t n = strlen(point);
	for (const char *p = spec; (p = strstr(p, point)) != NULL; p += n) {
		bool starts = p == spec || p[-1] == ',';
		bool ends = p[n] == '\0' || p[n] == ',';
		if (starts && ends)
			return zk_fail(err, EIO, "injected fault at %s", point);
	}
	return 0;
}

#endif
