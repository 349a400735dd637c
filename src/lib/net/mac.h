/*
 * MAC addresses as manifests write them: one reading for the validator and
 * for the zone's network set-up, so what passes validation is exactly what
 * gets configured (as ipv4.h does for IPv4).
 *
 * The text form is SmartOS's canonical one, six pairs of hex digits joined
 * by ':' (aa:bb:cc:dd:ee:ff), either case on input, lower case on output:
 * the form vmadm stores and prints, and the key update_nics and
 * remove_nics compare.
 */
#ifndef ZK_MAC_H
#define ZK_MAC_H

#include <stdbool.h>

#define ZK_MAC_LEN 6
/* "aa:bb:cc:dd:ee:ff" and its NUL */
#define ZK_MAC_BUFSZ 18

bool zk_mac_parse(const char *s, unsigned char mac[ZK_MAC_LEN]);
bool zk_mac_valid(const char *s);
void zk_mac_format(const unsigned char mac[ZK_MAC_LEN],
    char buf[ZK_MAC_BUFSZ]);
/*
 * A group (multicast or broadcast) address has the low bit of its first
 * octet set; no interface may take one as its own.
 */
bool zk_mac_is_group(const unsigned char mac[ZK_MAC_LEN]);

#endif
