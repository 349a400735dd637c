/*
 * Problems found in a payload: collected one per property, and reported
 * as vmadm prints them (one line) and as `vmadm validate` does (JSON).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/manifest_internal.h"
#include "util/cleanup.h"

bool
zk_mf_has_problem(const zk_problems *p, const char *prop)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->items[i].property, prop) == 0)
			return true;
	return false;
}

void
zk_mf_problem(zk_problems *p, zk_problem_kind kind, const char *prop,
    const char *fmt, ...)
{
	if (p->n >= ZK_PROBLEMS_MAX || zk_mf_has_problem(p, prop))
		return;
	zk_problem *it = &p->items[p->n++];
	it->kind = kind;
	snprintf(it->property, sizeof(it->property), "%s", prop);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(it->reason, sizeof(it->reason), fmt, ap);
	va_end(ap);
}

const char *
zk_mf_path_key(char buf[128], const char *prefix, const char *key)
{
	snprintf(buf, 128, "%s.%s", prefix, key);
	return buf;
}

const char *
zk_mf_path_index(char buf[128], const char *prefix, size_t i)
{
	snprintf(buf, 128, "%s.%zu", prefix, i);
	return buf;
}

void
zk_problems_format(const zk_problems *probs, char *buf, size_t len)
{
	if (len == 0)
		return;
	buf[0] = '\0';
	size_t off = 0;
	for (size_t i = 0; i < probs->n && off < len; i++) {
		const zk_problem *it = &probs->items[i];
		int n = snprintf(buf + off, len - off, "%s%s: %s",
		    i > 0 ? "; " : "", it->property, it->reason);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static void
push_name(json_t *o, const char *key, const char *name)
{
	json_t *a = json_object_get(o, key);
	if (a == NULL) {
		a = json_array();
		json_object_set_new(o, key, a);
	}
	json_array_append_new(a, json_string(name));
}

/*
 * The problem struct has no room for the value, so a bad brand's reason
 * starts with the brand as a JSON string (see brand_problem) and is read
 * back from there.
 */
static json_t *
bad_brand_value(const zk_problem *it)
{
	json_t *v = json_loads(it->reason,
	    JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, NULL);
	if (json_is_string(v))
		return v;
	json_decref(v);
	return json_string("");
}

json_t *
zk_problems_to_json(const zk_problems *probs)
{
	json_t *o = json_object();
	for (size_t i = 0; o != NULL && i < probs->n; i++) {
		const zk_problem *it = &probs->items[i];
		switch (it->kind) {
		case ZK_PROBLEM_BAD_BRAND:
			json_object_set_new(o, "bad_brand",
			    bad_brand_value(it));
			break;
		case ZK_PROBLEM_BAD_VALUE:
			push_name(o, "bad_values", it->property);
			break;
		case ZK_PROBLEM_MISSING:
			push_name(o, "missing_properties", it->property);
			break;
		case ZK_PROBLEM_UNKNOWN:
		case ZK_PROBLEM_READ_ONLY:
			push_name(o, "bad_properties", it->property);
			break;
		}
	}
	return o;
}

int
zk_mf_fail(const zk_problems *p, zk_error *err)
{
	char line[ZK_ERROR_MAX];
	zk_problems_format(p, line, sizeof(line));
	return zk_fail(err, EINVAL, "%s", line);
}
