#include "json_util.h"

#include <errno.h>
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
