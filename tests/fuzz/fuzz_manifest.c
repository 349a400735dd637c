/*
 * The manifest validator: what `vmadm create -f`, `vmadm validate` and
 * `vmadm update` accept from whoever writes the payload.
 *
 * A JSON input is a payload: it is validated as a create (plain-directory
 * pool) and as an update of a fixed zone with two nics (pool with quotas).
 * Any other input is `vmadm update <uuid> k=v ...` arguments, one a line,
 * whose payload is then applied as an update.  Every refusal is formatted
 * both ways vmadm prints it.
 *
 * Invariants: a config create or update accepted passes an empty update
 * unchanged (validation is stable), and the nic set-up read from it finds
 * every route the manifest accepted.
 */
#include <jansson.h>

#include "config/manifest.h"
#include "fuzz_util.h"
#include "net/zone_net.h"

#define UUID "2f6e7bba-2f3e-4d21-9d0a-5c3c0e2ad4a1"

static const zk_manifest_ctx create_ctx = {
	.pool_has_quota = false, .zpool = "zones",
	.now_iso = "2024-01-01T00:00:00.000Z", .uuid = UUID,
};
static const zk_manifest_ctx update_ctx = {
	.pool_has_quota = true, .zpool = "zones",
	.now_iso = "2024-01-01T00:00:00.000Z", .uuid = UUID,
};

static const char base_payload[] =
    "{\"brand\": \"joyent-minimal\", "
    "\"image_uuid\": \"c2a6a5e0-5d3b-4a62-9a1e-3f0d2b7c9e41\", "
    "\"alias\": \"base\", \"max_physical_memory\": 512, \"quota\": 5, "
    "\"tags\": {\"role\": \"db\"}, \"customer_metadata\": {\"k\": \"v\"}, "
    "\"routes\": {\"10.1.0.0/16\": \"nics[1]\"}, "
    "\"nics\": [{\"nic_tag\": \"admin\", \"mac\": \"90:b8:d0:00:00:01\", "
    "\"ip\": \"192.0.2.10\", \"netmask\": \"255.255.255.0\", "
    "\"gateway\": \"192.0.2.1\", \"primary\": true}, "
    "{\"nic_tag\": \"external\", \"mac\": \"90:b8:d0:00:00:02\", "
    "\"ips\": [\"198.51.100.7/24\"]}]}";

static json_t *base;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_t *payload = json_loads(base_payload, 0, NULL);
	zk_error err = { 0 };
	FUZZ_ASSERT(payload != NULL);
	FUZZ_ASSERT(zk_manifest_create(payload, &update_ctx, &base, NULL,
	    &err) == 0);
	json_decref(payload);
	return 0;
}

static void
report(const zk_problems *probs)
{
	char line[ZK_ERROR_MAX];
	zk_problems_format(probs, line, sizeof(line));
	json_t *j = zk_problems_to_json(probs);
	char *text = json_dumps(j, JSON_COMPACT);
	free(text);
	json_decref(j);
}

/* A route the manifest accepted is one the nic set-up can build. */
static void
check_net(const json_t *cfg)
{
	zk_net_spec *net = malloc(sizeof(*net));
	FUZZ_ASSERT(net != NULL);
	zk_net_spec_from_config(cfg, "/nonexistent/nictags.json", net);
	size_t routes = json_object_size(json_object_get(cfg, "routes"));
	if (!net->too_many_routes)
		FUZZ_ASSERT(net->nroutes == routes);
	for (size_t i = 0; i < net->nroutes; i++)
		FUZZ_ASSERT(net->routes[i].nic < (int)net->nnics);
	zk_error err = { 0 };
	(void)zk_net_check(net, &err);
	free(net);
}

/* An accepted config is accepted again, unchanged, by an empty update. */
static void
check_stable(const json_t *cfg, const zk_manifest_ctx *ctx)
{
	json_t *empty = json_object(), *again = NULL;
	zk_problems probs;
	zk_error err = { 0 };
	int r = zk_manifest_update(cfg, empty, ctx, &again, &probs, &err);
	if (r != 0)
		fprintf(stderr, "accepted config refused: %s\n", err.msg);
	FUZZ_ASSERT(r == 0);
	FUZZ_ASSERT(json_equal(cfg, again));
	const char *key;
	json_t *v;
	json_object_foreach(again, key, v)
		FUZZ_ASSERT(zk_manifest_known_property(key));
	check_net(again);
	json_decref(again);
	json_decref(empty);
}

/* As vmadm does: print the problems, or keep the config. */
static void
outcome(int r, json_t *cfg, const zk_problems *probs,
    const zk_manifest_ctx *ctx)
{
	if (r < 0)
		report(probs);
	else
		check_stable(cfg, ctx);
	json_decref(cfg);
}

static void
try_create(const json_t *payload)
{
	json_t *cfg = NULL;
	zk_problems probs;
	zk_error err = { 0 };
	int r = zk_manifest_create(payload, &create_ctx, &cfg, &probs, &err);
	outcome(r, cfg, &probs, &create_ctx);
}

static void
try_update(const json_t *payload)
{
	json_t *cfg = NULL;
	zk_problems probs;
	zk_error err = { 0 };
	int r = zk_manifest_update(base, payload, &update_ctx, &cfg, &probs,
	    &err);
	outcome(r, cfg, &probs, &update_ctx);
}

/* `vmadm update <uuid> k=v ...`: one argument a line. */
static void
try_kv(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size), *p = text, *line;
	char *argv[64];
	int argc = 0;
	while (argc < 64 && (line = fuzz_next_line(&p, text + size)) != NULL)
		argv[argc++] = line;
	json_t *payload = NULL;
	zk_error err = { 0 };
	if (zk_manifest_kv_payload(argc, argv, &payload, &err) == 0) {
		try_update(payload);
		json_decref(payload);
	}
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *payload = json_loadb((const char *)data, size,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (payload == NULL) {
		try_kv(data, size);
		return 0;
	}
	if (json_is_object(payload)) {
		try_create(payload);
		try_update(payload);
	}
	json_decref(payload);
	return 0;
}
