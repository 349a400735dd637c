/*
 * rtnetlink through libmnl: one acknowledged request at a time, with the
 * kernel's own explanation (extended ack) in the error.  A socket belongs
 * to the network namespace it was created in, which is how zonekit reaches
 * a zone's interfaces from the host: see zk_nl_open_in().
 */
#ifndef ZK_NL_H
#define ZK_NL_H

#include <libmnl/libmnl.h>
#include <stdint.h>
#include <sys/types.h>
#include "util/cleanup.h"
#include "util/error.h"

typedef struct zk_nl zk_nl;

/* A route socket in the caller's network namespace. */
int zk_nl_open(zk_nl **out, zk_error *err);
/* A route socket in the network namespace of the process behind pidfd. */
int zk_nl_open_in(int pidfd, zk_nl **out, zk_error *err);
void zk_nl_close(zk_nl *nl);
static inline void zk_nl_closep(zk_nl **nl) { if (*nl) zk_nl_close(*nl); }
#define _cleanup_nl_ _cleanup_(zk_nl_closep)

/*
 * Start a request in the socket's buffer: header (NLM_F_REQUEST | NLM_F_ACK
 * | flags) plus a zeroed family header of `extra` bytes, returned in *hdr.
 */
struct nlmsghdr *zk_nl_request(zk_nl *nl, uint16_t type, uint16_t flags,
    size_t extra, void **hdr);
/*
 * Send the request, give every reply message to cb (NULL: none expected)
 * and wait for the acknowledgement.  Returns 0 or a negative errno.
 */
int zk_nl_call(zk_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);
/* "<what>: <strerror(-r)>", then the kernel's extended ack if it gave one. */
int zk_nl_fail(zk_error *err, const zk_nl *nl, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

typedef struct zk_nl_link {
	int index;
	unsigned mtu;
	char kind[32];		/* IFLA_INFO_KIND ("bridge", "veth"), or "" */
} zk_nl_link;

/* Look a link up by name or alternative name: 0, -ENODEV, or -errno. */
int zk_nl_link_get(zk_nl *nl, const char *name, zk_nl_link *out);
/* Delete a link by name or alternative name: 0, -ENODEV, or -errno. */
int zk_nl_link_del(zk_nl *nl, const char *name);

#endif
