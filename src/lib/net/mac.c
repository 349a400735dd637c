#include "net/mac.h"

#include <stdio.h>

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * By hand rather than sscanf("%2x:..."), which also takes one digit, a
 * sign, "0x" and leading blanks: the stored form is the only one accepted.
 */
bool
zk_mac_parse(const char *s, unsigned char mac[ZK_MAC_LEN])
{
	if (s == NULL)
		return false;
	unsigned char out[ZK_MAC_LEN];
	for (int i = 0; i < ZK_MAC_LEN; i++, s += 3) {
		int hi = hex_value(s[0]);
		int lo = hi < 0 ? -1 : hex_value(s[1]);
		char sep = i < ZK_MAC_LEN - 1 ? ':' : '\0';
		if (lo < 0 || s[2] != sep)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	for (int i = 0; i < ZK_MAC_LEN; i++)
		mac[i] = out[i];
	return true;
}

bool
zk_mac_valid(const char *s)
{
	unsigned char mac[ZK_MAC_LEN];
	return zk_mac_parse(s, mac);
}

void
zk_mac_format(const unsigned char mac[ZK_MAC_LEN], char buf[ZK_MAC_BUFSZ])
{
	snprintf(buf, ZK_MAC_BUFSZ, "%02x:%02x:%02x:%02x:%02x:%02x",
	    mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

bool
zk_mac_is_group(const unsigned char mac[ZK_MAC_LEN])
{
	return (mac[0] & 0x01) != 0;
}
