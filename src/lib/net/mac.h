/*
 * MAC addresses as manifests write them: one reading for the validator and
 * for the zone's network set-up, so what passes validation is exactly what
 * gets configured (as ipv4.h does for IPv4).
 *
 * Input takes the forms vmadm takes: six octets of one or two hex digits
 * joined by ':' (0:8:20:a:b:c), or twelve hex digits in a row, either
 * case.  Output is SmartOS's canonical form, six pairs of lower-case hex
 * digits joined by ':' (aa:bb:cc:dd:ee:ff): what vmadm stores and prints,
 * and what update_nics and remove_nics compare.
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
/* s in the canonical form; false if it is no MAC address. */
bool zk_mac_canonical(const char *s, char buf[ZK_MAC_BUFSZ]);
/*
 * A group (multicast or broadcast) address has the low bit of its first
 * octet set; no interface may take one as its own.
 */
bool zk_mac_is_group(const unsigned char mac[ZK_MAC_LEN]);

#endif
