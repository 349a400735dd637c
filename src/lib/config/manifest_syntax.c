/*
 * The syntaxes of the manifest's strings: names, paths, pool names, IPv4
 * addresses and prefixes, netmasks, MACs, nic tags and models.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "config/manifest_internal.h"
#include "net/ipv4.h"
#include "net/mac.h"

const char *
zk_mf_check_alias(const char *s)
{
	/* an alias is printed in list columns: a newline would break them */
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return "must not contain control characters";
	return NULL;
}

static bool
label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* RFC 1123 names: dot-separated labels of 1..63, no '-' at either end. */
const char *
zk_mf_check_hostname(const char *s)
{
	static const char reason[] = "must be a DNS name (dot-separated "
	    "labels of 1 to 63 letters, digits and inner hyphens)";
	size_t total = strlen(s);
	if (total == 0 || total > 253)
		return reason;
	const char *label = s;
	for (const char *c = s;; c++) {
		if (*c == '.' || *c == '\0') {
			size_t n = (size_t)(c - label);
			if (n == 0 || n > 63 || label[0] == '-' ||
			    c[-1] == '-')
				return reason;
			if (*c == '\0')
				return NULL;
			label = c + 1;
		} else if (!label_char(*c)) {
			return reason;
		}
	}
}

const char *
zk_mf_check_abspath(const char *s)
{
	return s[0] == '/' ? NULL : "must be an absolute path";
}

/* ZFS's pool name rule, so a name valid here is valid on a real zpool. */
const char *
zk_mf_check_zpool(const char *s)
{
	static const char reason[] = "must be a pool name (a letter, then "
	    "letters, digits, '_', '-', '.' or ':')";
	size_t n = strlen(s);
	if (n == 0 || n > 255 || !((s[0] >= 'a' && s[0] <= 'z') ||
	    (s[0] >= 'A' && s[0] <= 'Z')))
		return reason;
	for (; *s != '\0'; s++)
		if (!label_char(*s) && strchr("_.:", *s) == NULL)
			return reason;
	return NULL;
}

const char *
zk_mf_check_cpu_type(const char *s)
{
	if (strcmp(s, "qemu64") == 0 || strcmp(s, "host") == 0)
		return NULL;
	return "must be qemu64 or host";
}

bool
zk_mf_ipv4_valid(const char *s)
{
	struct in_addr a;
	return zk_ipv4_parse(s, &a);
}

const char *
zk_mf_check_ipv4(const char *s)
{
	return zk_mf_ipv4_valid(s) ? NULL : "must be an IPv4 address";
}

const char *
zk_mf_check_ip_or_dhcp(const char *s)
{
	if (strcmp(s, "dhcp") == 0 || zk_mf_ipv4_valid(s))
		return NULL;
	return "must be an IPv4 address or \"dhcp\"";
}

bool
zk_mf_cidr_valid(const char *s)
{
	struct in_addr a;
	uint8_t prefix;
	return zk_ipv4_parse_cidr(s, &a, &prefix);
}

const char *
zk_mf_check_cidr(const char *s)
{
	if (strcmp(s, "dhcp") == 0 || zk_mf_cidr_valid(s))
		return NULL;
	return "must be an IPv4 address with prefix length (a.b.c.d/n) "
	    "or \"dhcp\"";
}

/* A netmask is ones then zeros; anything else is a typo for one. */
const char *
zk_mf_check_netmask(const char *s)
{
	uint8_t prefix;
	return zk_ipv4_netmask_prefix(s, &prefix) ? NULL :
	    "must be an IPv4 netmask (e.g. 255.255.255.0)";
}

const char zk_mf_mac_reason[] = "must be a MAC address (aa:bb:cc:dd:ee:ff)";

const char *
zk_mf_check_mac(const char *s)
{
	return zk_mac_valid(s) ? NULL : zk_mf_mac_reason;
}

/* SmartOS's tag rule, plus '-' and '.' so Linux bridge and VLAN names fit. */
const char *
zk_mf_check_nic_tag(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 31 ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-.") != n)
		return "must be 1 to 31 letters, digits, '_', '-' or '.'";
	return NULL;
}

const char *
zk_mf_check_model(const char *s)
{
	if (strcmp(s, "virtio") == 0 || strcmp(s, "e1000") == 0 ||
	    strcmp(s, "rtl8139") == 0)
		return NULL;
	return "must be virtio, e1000 or rtl8139";
}
