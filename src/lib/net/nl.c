#include "net/nl.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Large enough for one link's full RTM_NEWLINK (stats, af_spec, ...). */
#define NL_BUF 32768

struct zk_nl {
	struct mnl_socket *sock;
	unsigned portid;
	uint32_t seq;
	char ext[256];		/* the kernel's extended ack of the last call */
	char buf[NL_BUF] __attribute__((aligned(8)));
};

/* Acks carry the kernel's reason as text; NETLINK_CAP_ACK keeps them
 * short by not echoing the request back. */
static int
nl_setup(zk_nl *nl, zk_error *err)
{
	int one = 1;
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
		return zk_fail_errno(err, errno, "cannot bind a netlink socket");
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

static int
nl_wrap(int fd, zk_nl **out, zk_error *err)
{
	zk_nl *nl = calloc(1, sizeof(*nl));
	if (nl == NULL) {
		close(fd);
		return zk_fail(err, ENOMEM, "out of memory");
	}
	nl->sock = mnl_socket_fdopen(fd);
	if (nl->sock == NULL) {
		int e = errno;
		close(fd);
		free(nl);
		return zk_fail_errno(err, e, "cannot open a netlink socket");
	}
	int r = nl_setup(nl, err);
	if (r < 0) {
		zk_nl_close(nl);
		return r;
	}
	*out = nl;
	return 0;
}

int
zk_nl_open(zk_nl **out, zk_error *err)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return zk_fail_errno(err, errno, "cannot open a netlink socket");
	return nl_wrap(fd, out, err);
}

struct ns_socket {
	int pidfd;
	int fd;
	int error;
};

static void *
ns_socket_thread(void *arg)
{
	struct ns_socket *a = arg;
	if (setns(a->pidfd, CLONE_NEWNET) < 0)
		a->error = errno;
	else if ((a->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) < 0)
		a->error = errno;
	return NULL;
}

/*
 * A socket keeps the namespace it was made in, so only its creation has to
 * happen inside: a short-lived thread enters the zone's namespace, makes
 * the socket and dies.  The caller's own namespace never changes, so no
 * failure can strand zoneadmd inside a zone.
 */
int
zk_nl_open_in(int pidfd, zk_nl **out, zk_error *err)
{
	struct ns_socket a = { .pidfd = pidfd, .fd = -1 };
	pthread_attr_t attr;
	pthread_t t;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	int r = pthread_create(&t, &attr, ns_socket_thread, &a);
	pthread_attr_destroy(&attr);
	if (r != 0)
		return zk_fail_errno(err, r, "cannot start a thread");
	pthread_join(t, NULL);
	if (a.fd < 0)
		return zk_fail_errno(err, a.error, "cannot open a netlink socket "
		    "in the zone's network namespace");
	return nl_wrap(a.fd, out, err);
}

void
zk_nl_close(zk_nl *nl)
{
	if (nl == NULL)
		return;
	if (nl->sock != NULL)
		mnl_socket_close(nl->sock);
	free(nl);
}

struct nlmsghdr *
zk_nl_request(zk_nl *nl, uint16_t type, uint16_t flags, size_t extra,
    void **hdr)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	void *h = mnl_nlmsg_put_extra_header(nlh, extra);
	if (hdr != NULL)
		*hdr = h;
	return nlh;
}

static int
ext_attr(const struct nlattr *a, void *data)
{
	zk_nl *nl = data;
	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		snprintf(nl->ext, sizeof(nl->ext), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

/* libmnl's own error handler, plus the extended ack's message. */
static int
on_error(const struct nlmsghdr *nlh, void *data)
{
	zk_nl *nl = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		size_t off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
		if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
			mnl_attr_parse(nlh, (unsigned)off, ext_attr, nl);
	}
	if (e->error == 0)
		return MNL_CB_STOP;
	errno = e->error < 0 ? -e->error : e->error;
	return MNL_CB_ERROR;
}

struct call {
	zk_nl *nl;
	mnl_cb_t cb;
	void *data;
};

static int
on_reply(const struct nlmsghdr *nlh, void *data)
{
	struct call *c = data;
	return c->cb != NULL ? c->cb(nlh, c->data) : MNL_CB_OK;
}

static int
on_error_call(const struct nlmsghdr *nlh, void *data)
{
	return on_error(nlh, ((struct call *)data)->nl);
}

int
zk_nl_call(zk_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	nl->ext[0] = '\0';
	uint32_t seq = nlh->nlmsg_seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	struct call c = { nl, cb, data };
	/* Types past the array (done, overrun) keep libmnl's handlers. */
	mnl_cb_t ctl[NLMSG_ERROR + 1] = { [NLMSG_ERROR] = on_error_call };
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n < 0)
			return -errno;
		int r = mnl_cb_run2(nl->buf, (size_t)n, seq, nl->portid, on_reply,
		    &c, ctl, ZK_ARRAY_SIZE(ctl));
		if (r < 0)
			return errno != 0 ? -errno : -EIO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

int
zk_nl_fail(zk_error *err, const zk_nl *nl, int r, const char *fmt, ...)
{
	char what[ZK_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (nl != NULL && nl->ext[0] != '\0')
		return zk_fail(err, -r, "%s: %s (%s)", what, strerror(-r), nl->ext);
	return zk_fail(err, -r, "%s: %s", what, strerror(-r));
}

/* Names longer than IFNAMSIZ can only be alternative names. */
static void
put_name(struct nlmsghdr *nlh, const char *name)
{
	mnl_attr_put_strz(nlh, strlen(name) < IFNAMSIZ ? IFLA_IFNAME :
	    IFLA_ALT_IFNAME, name);
}

static int
linkinfo_attr(const struct nlattr *a, void *data)
{
	zk_nl_link *l = data;
	if (mnl_attr_get_type(a) == IFLA_INFO_KIND &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		snprintf(l->kind, sizeof(l->kind), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int
link_attr(const struct nlattr *a, void *data)
{
	zk_nl_link *l = data;
	switch (mnl_attr_get_type(a)) {
	case IFLA_MTU:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			l->mtu = mnl_attr_get_u32(a);
		break;
	case IFLA_LINKINFO:
		mnl_attr_parse_nested(a, linkinfo_attr, l);
		break;
	}
	return MNL_CB_OK;
}

static int
on_link(const struct nlmsghdr *nlh, void *data)
{
	zk_nl_link *l = data;
	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	l->index = ifi->ifi_index;
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr, l);
	return MNL_CB_OK;
}

int
zk_nl_link_get(zk_nl *nl, const char *name, zk_nl_link *out)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh = zk_nl_request(nl, RTM_GETLINK, 0, sizeof(*ifi),
	    (void **)&ifi);
	ifi->ifi_family = AF_UNSPEC;
	put_name(nlh, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	memset(out, 0, sizeof(*out));
	int r = zk_nl_call(nl, nlh, on_link, out);
	if (r == 0 && out->index <= 0)
		r = -ENODEV;
	return r;
}

int
zk_nl_link_del(zk_nl *nl, const char *name)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh = zk_nl_request(nl, RTM_DELLINK, 0, sizeof(*ifi),
	    (void **)&ifi);
	ifi->ifi_family = AF_UNSPEC;
	put_name(nlh, name);
	return zk_nl_call(nl, nlh, NULL, NULL);
}
