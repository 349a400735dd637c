/*
 * The IPv4 text forms of manifests (addresses, a.b.c.d/n, netmasks): one
 * reading for the validator and for the zone's network set-up, so what
 * passes validation is exactly what gets configured.
 */
#ifndef ZK_IPV4_H
#define ZK_IPV4_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

bool zk_ipv4_parse(const char *s, struct in_addr *a);
/* "a.b.c.d/n" with n 0..32, one or two digits. */
bool zk_ipv4_parse_cidr(const char *s, struct in_addr *a, uint8_t *prefix);
/* A netmask (ones then zeros) as a prefix length. */
bool zk_ipv4_netmask_prefix(const char *s, uint8_t *prefix);
/* The mask of a prefix length, in network order. */
uint32_t zk_ipv4_mask(uint8_t prefix);

#endif
