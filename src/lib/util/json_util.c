#include "util/json_util.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int
zk_json_load_file(const char *path, json_t **out, zk_error *err)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		if (jerr.line < 0 || jerr.position == 0)
			return zk_fail(err, ENOENT, "%s: %s", path, jerr.text);
		return zk_fail(err, EINVAL, "%s: line %d: %s", path, jerr.line,
		    jerr.text);
	}
	if (!json_is_object(j)) {
		json_decref(j);
		return zk_fail(err, EINVAL, "%s: not a JSON object", path);
	}
	*out = j;
	return 0;
}

int
zk_json_parse_object(const char *text, const char *what, json_t **out,
    zk_error *err)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return zk_fail(err, EINVAL, "%s is not valid JSON: line %d: %s",
		    what, jerr.line, jerr.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return zk_fail(err, EINVAL, "%s must be a JSON object", what);
	}
	*out = j;
	return 0;
}

char *
zk_json_dump_pretty(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY);
	if (s == NULL)
		return NULL;
	size_t n = strlen(s);
	char *t = realloc(s, n + 2);
	if (t == NULL) {
		free(s);
		return NULL;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	return t;
}

const char *
zk_json_str(const json_t *obj, const char *key, const char *fallback)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : fallback;
}

long long
zk_json_int(const json_t *obj, const char *key, long long fallback)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? json_integer_value(v) : fallback;
}

int
zk_json_bool(const json_t *obj, const char *key, int fallback)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_boolean(v) ? json_is_true(v) : fallback;
}

static bool
is_index(const char *s, size_t len, size_t *out)
{
	if (len == 0 || len > 9)
		return false;
	size_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (size_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* One path segment of `len` bytes applied to an object or an array. */
static const json_t *
step(const json_t *node, const char *seg, size_t len)
{
	if (json_is_object(node))
		return json_object_getn(node, seg, len);
	size_t idx;
	if (json_is_array(node) && is_index(seg, len, &idx))
		return json_array_get(node, idx);
	return NULL;
}

/*
 * Walk a dotted path.  Metadata and tag keys may themselves contain dots
 * ("tags.com.example.role"), so at each object the whole remaining path is
 * tried as one key before it is split.
 */
const json_t *
zk_json_path(const json_t *node, const char *path)
{
	while (node != NULL) {
		if (json_is_object(node)) {
			const json_t *whole = json_object_get(node, path);
			if (whole != NULL)
				return whole;
		}
		const char *dot = strchr(path, '.');
		if (dot == NULL)
			return step(node, path, strlen(path));
		node = step(node, path, (size_t)(dot - path));
		path = dot + 1;
	}
	return NULL;
}

char *
zk_json_text(const json_t *v)
{
	char buf[32];

	if (v == NULL)
		return NULL;
	switch (json_typeof(v)) {
	case JSON_STRING:
		return strdup(json_string_value(v));
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		return strdup(buf);
	case JSON_TRUE:
		return strdup("true");
	case JSON_FALSE:
		return strdup("false");
	case JSON_REAL:
	case JSON_OBJECT:
	case JSON_ARRAY:
		return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	case JSON_NULL:
	default:
		return NULL;	/* null is an unset property */
	}
}

