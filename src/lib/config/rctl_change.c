#include "config/rctl_change.h"

#include <errno.h>

#include "util/cleanup.h"
#include "util/json_util.h"

static int
remove_limit(const json_t *effective, const zk_rctl *r, json_t **next,
    zk_error *err)
{
	json_t *cfg = json_deep_copy(effective);
	if (cfg == NULL)
		return zk_fail(err, ENOMEM, "%s: cannot copy the config",
		    r->name);
	if (r->zero_unlimited)
		json_object_set_new(cfg, r->property, json_integer(0));
	else
		json_object_del(cfg, r->property);
	*next = cfg;
	return 0;
}

/* The update fills defaults in; the limits removed before stay removed. */
static void
keep_removed(const json_t *effective, const zk_rctl *changed, json_t *next)
{
	size_t n;
	const zk_rctl *rows = zk_rctl_table(&n);
	for (size_t i = 0; i < n; i++)
		if (&rows[i] != changed &&
		    json_object_get(effective, rows[i].property) == NULL)
			json_object_del(next, rows[i].property);
}

int
zk_rctl_change_config(const json_t *effective, const zk_rctl *r,
    const char *value, const zk_manifest_ctx *ctx, json_t **next,
    zk_error *err)
{
	if (value == NULL)
		return remove_limit(effective, r, next, err);
	long long v;
	int rc = zk_rctl_text_to_property(r, value, &v, err);
	if (rc < 0)
		return rc;
	_cleanup_json_ json_t *payload = json_object();
	if (payload == NULL || json_object_set_new(payload, r->property,
	    json_integer(v)) < 0)
		return zk_fail(err, ENOMEM, "%s: cannot build the change",
		    r->name);
	zk_problems probs;
	json_t *out = NULL;
	if ((rc = zk_manifest_update(effective, payload, ctx, &out, &probs,
	    err)) < 0)
		return rc;
	keep_removed(effective, r, out);
	*next = out;
	return 0;
}
