#include "net/mac.h"

#include <stdio.h>
#include <string.h>

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

/* Up to two hex digits at *s, ending at the separator sep. */
static int
octet(const char **s, char sep)
{
	int v = 0, n = 0;
	for (int d; n < 2 && (d = hex_value(**s)) >= 0; n++, (*s)++)
		v = v << 4 | d;
	if (n == 0 || **s != sep)
		return -1;
	if (sep != '\0')
		(*s)++;
	return v;
}

/*
 * The forms vmadm takes (its macaddr parser): six octets of one or two hex
 * digits joined by ':', or twelve hex digits in a row, either case.  By
 * hand rather than sscanf("%2x:..."), which also takes a sign, "0x" and
 * leading blanks.
 */
bool
zk_mac_parse(const char *s, unsigned char mac[ZK_MAC_LEN])
{
	if (s == NULL)
		return false;
	unsigned char out[ZK_MAC_LEN];
	bool bare = strlen(s) == 2 * ZK_MAC_LEN && strchr(s, ':') == NULL;
	for (int i = 0; i < ZK_MAC_LEN; i++) {
		int v;
		if (bare) {
			int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
			v = hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
		} else {
			v = octet(&s, i < ZK_MAC_LEN - 1 ? ':' : '\0');
		}
		if (v < 0)
			return false;
		out[i] = (unsigned char)v;
	}
	memcpy(mac, out, sizeof(out));
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

bool
zk_mac_canonical(const char *s, char buf[ZK_MAC_BUFSZ])
{
	unsigned char mac[ZK_MAC_LEN];
	if (!zk_mac_parse(s, mac))
		return false;
	zk_mac_format(mac, buf);
	return true;
}
