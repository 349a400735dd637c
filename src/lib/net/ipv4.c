#include "net/ipv4.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

bool
zk_ipv4_parse(const char *s, struct in_addr *a)
{
	return s != NULL && inet_pton(AF_INET, s, a) == 1;
}

bool
zk_ipv4_parse_cidr(const char *s, struct in_addr *a, uint8_t *prefix)
{
	const char *slash = s != NULL ? strchr(s, '/') : NULL;
	if (slash == NULL || slash - s >= INET_ADDRSTRLEN)
		return false;
	char addr[INET_ADDRSTRLEN];
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	const char *len = slash + 1;
	size_t digits = strspn(len, "0123456789");
	if (digits == 0 || digits > 2 || len[digits] != '\0' ||
	    atoi(len) > 32 || !zk_ipv4_parse(addr, a))
		return false;
	*prefix = (uint8_t)atoi(len);
	return true;
}

bool
zk_ipv4_netmask_prefix(const char *s, uint8_t *prefix)
{
	struct in_addr a;
	if (!zk_ipv4_parse(s, &a))
		return false;
	uint32_t host_bits = ~ntohl(a.s_addr);
	if ((host_bits & (host_bits + 1)) != 0)
		return false;
	*prefix = (uint8_t)__builtin_popcount(a.s_addr);
	return true;
}

uint32_t
zk_ipv4_mask(uint8_t prefix)
{
	return prefix == 0 ? 0 : htonl(~0U << (32 - prefix));
}
