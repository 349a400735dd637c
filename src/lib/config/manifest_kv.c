/*
 * `vmadm update <uuid> key=value ...`: arguments typed by the property
 * table into an update payload.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/manifest_internal.h"
#include "util/cleanup.h"
#include "util/json_util.h"

static bool
parse_ll(const char *s, long long *out)
{
	if (*s == '\0' || strspn(s, "-0123456789") != strlen(s))
		return false;
	char *end;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* "a,b,c" -> ["a","b","c"]; "" -> [] (clears the list to nothing). */
static json_t *
split_list(const char *s)
{
	json_t *a = json_array();
	while (a != NULL && *s != '\0') {
		size_t n = strcspn(s, ",");
		json_array_append_new(a, json_stringn(s, n));
		s += n + (s[n] == ',');
	}
	return a;
}

static int
kv_value(const prop_def *d, const char *val, const char *arg, json_t **out,
    zk_error *err)
{
	long long n;
	if (strcmp(val, "null") == 0) {
		*out = json_null();
		return 0;
	}
	switch (d->type) {
	case PT_INTEGER:
		if (!parse_ll(val, &n))
			return zk_fail(err, EINVAL, "invalid argument \"%s\": "
			    "%s must be an integer", arg, zk_mf_prop_name(d));
		*out = json_integer(n);
		return 0;
	case PT_BOOLEAN:
	case PT_TRUE:
		if (strcmp(val, "true") != 0 && strcmp(val, "false") != 0)
			return zk_fail(err, EINVAL, "invalid argument \"%s\": "
			    "%s must be true or false", arg,
			    zk_mf_prop_name(d));
		*out = json_boolean(strcmp(val, "true") == 0);
		return 0;
	case PT_UUID:
	case PT_STRING:
		*out = json_string(val);
		return 0;
	case PT_IPV4LIST:
	case PT_CIDRLIST:
		*out = split_list(val);
		return 0;
	case PT_FLATOBJ:
		return zk_fail(err, EINVAL, "invalid argument \"%s\": %s "
		    "cannot be given as key=value (use %s.KEY=value or a JSON "
		    "payload)", arg, zk_mf_prop_name(d), zk_mf_prop_name(d));
	default:
		return zk_fail(err, EINVAL, "invalid argument \"%s\": %s "
		    "cannot be given as key=value (use a JSON payload)", arg,
		    zk_mf_prop_name(d));
	}
}

/* tags.KEY=v: tags are typed like JSON; metadata values stay strings. */
static json_t *
subkey_value(const char *base, const char *val)
{
	long long n;
	if (strcmp(base, "tags") != 0)
		return json_string(val);
	if (strcmp(val, "true") == 0 || strcmp(val, "false") == 0)
		return json_boolean(strcmp(val, "true") == 0);
	if (parse_ll(val, &n))
		return json_integer(n);
	return json_string(val);
}

/* "tags.role=db" -> set_tags {"role": "db"}; "tags.role=null" removes it. */
static int
kv_subkey(json_t *payload, const char *key, const char *val, const char *arg,
    zk_error *err)
{
	const char *dot = strchr(key, '.');
	char base[64], action[96];
	size_t n = (size_t)(dot - key);
	if (n >= sizeof(base) || dot[1] == '\0')
		goto unknown;
	memcpy(base, key, n);
	base[n] = '\0';
	const prop_def *d = zk_mf_prop_find(base);
	if (d == NULL || d->type != PT_FLATOBJ)
		goto unknown;
	bool remove = strcmp(val, "null") == 0;
	snprintf(action, sizeof(action), "%s_%s", remove ? "remove" : "set",
	    base);
	if (remove) {
		json_t *a = json_object_get(payload, action);
		if (a == NULL) {
			a = json_array();
			json_object_set_new(payload, action, a);
		}
		json_array_append_new(a, json_string(dot + 1));
	} else {
		json_object_set_new(zk_mf_object_member(payload, action),
		    dot + 1,
		    subkey_value(base, val));
	}
	return 0;
unknown:
	return zk_fail(err, EINVAL, "invalid argument \"%s\": unknown property "
	    "\"%s\"", arg, key);
}

static int
kv_one(json_t *payload, const char *arg, zk_error *err)
{
	const char *eq = strchr(arg, '=');
	if (eq == NULL || eq == arg)
		return zk_fail(err, EINVAL, "invalid argument \"%s\": expected "
		    "key=value", arg);
	_cleanup_free_ char *key = strndup(arg, (size_t)(eq - arg));
	if (key == NULL)
		return zk_fail_errno(err, ENOMEM, "invalid argument \"%s\"",
		    arg);
	if (strchr(key, '.') != NULL)
		return kv_subkey(payload, key, eq + 1, arg, err);
	const prop_def *d = zk_mf_prop_find(key);
	if (d == NULL)
		return zk_fail(err, EINVAL, "invalid argument \"%s\": unknown "
		    "property \"%s\"", arg, key);
	json_t *v = NULL;
	int r = kv_value(d, eq + 1, arg, &v, err);
	if (r < 0)
		return r;
	json_object_set_new(payload, key, v);
	return 0;
}

int
zk_manifest_kv_payload(int argc, char *const argv[], json_t **out,
    zk_error *err)
{
	_cleanup_json_ json_t *payload = json_object();
	if (payload == NULL)
		return zk_fail(err, ENOMEM, "cannot build the update payload");
	for (int i = 0; i < argc; i++) {
		int r = kv_one(payload, argv[i], err);
		if (r < 0)
			return r;
	}
	*out = TAKE_PTR(payload);
	return 0;
}
