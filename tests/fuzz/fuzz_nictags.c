/*
 * The nic tag file (<pool>/config/nictags.json): a JSON object of nic tag
 * -> bridge name that whoever administers the pool writes, read at every
 * zone boot.  The input's first line is a nic tag as a manifest names it;
 * the rest is the file.  The tag, and every tag the file maps, is resolved
 * to its bridge.
 *
 * Invariant: a bridge name resolved is one the kernel takes (1 to 15
 * bytes, none of '/', ':' or what its isspace() counts, not "." or "..").
 */
#include <jansson.h>
#include <net/if.h>

#include "fuzz_util.h"
#include "net/zone_net.h"

static fuzz_file file;

static void
resolve(const json_t *tags, const char *tag)
{
	char bridge[IFNAMSIZ];
	bool mapped;
	zk_error err = { 0 };
	if (zk_nictag_bridge(tags, tag, bridge, &mapped, &err) < 0)
		return;
	size_t n = strlen(bridge);
	FUZZ_ASSERT(n > 0 && n < IFNAMSIZ);
	/* the kernel's dev_valid_name(), spelled out again */
	FUZZ_ASSERT(strpbrk(bridge, "/: \t\n\r\v\f\xa0") == NULL);
	FUZZ_ASSERT(strcmp(bridge, ".") != 0 && strcmp(bridge, "..") != 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t taglen = nl != NULL ? (size_t)(nl - data) : size;
	char *tag = fuzz_cstring(data, taglen);
	size_t rest = nl != NULL ? size - taglen - 1 : 0;
	fuzz_file_fill(&file, "nictags.json", nl != NULL ? nl + 1 : data, rest);
	json_t *tags = NULL;
	zk_error err = { 0 };
	if (zk_nictags_load(file.path, &tags, &err) == 0) {
		resolve(tags, tag);
		const char *key;
		json_t *v;
		json_object_foreach(tags, key, v)
			resolve(tags, key);
		json_decref(tags);
	}
	free(tag);
	return 0;
}
