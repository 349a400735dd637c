/*
 * zoneadmd's control protocol, as a client of its socket may speak it:
 * the bytes go through a socket pair and are read the way zoneadmd reads
 * them (zk_ctl_read_line into a 256-byte line), and every line is parsed
 * by zk_ctl_parse_request, the rctl name looked up as zoneadmd does.
 *
 * Invariant: a request parsed is written back as a client would send it
 * and parses again to the same request.
 */
#include <errno.h>
#include <sys/socket.h>

#include "ctl.h"
#include "fuzz_util.h"
#include "rctl.h"

/* zoneadmd's line buffer; longer lines arrive in pieces */
#define LINE_MAX_ZONEADMD 256
/* a request never needs more; this keeps the byte-by-byte reads cheap */
#define INPUT_MAX 1024

static void
render(const zk_ctl_request *q, char *buf, size_t len)
{
	switch (q->op) {
	case ZK_CTL_STATUS: snprintf(buf, len, "status"); break;
	case ZK_CTL_RELOAD: snprintf(buf, len, "reload"); break;
	case ZK_CTL_CONSOLE: snprintf(buf, len, "console"); break;
	case ZK_CTL_RCTL_GET: snprintf(buf, len, "rctl get"); break;
	case ZK_CTL_STOP:
		snprintf(buf, len, "stop %d %d", q->timeout_s, q->force);
		break;
	case ZK_CTL_REBOOT: snprintf(buf, len, "reboot %d", q->force); break;
	case ZK_CTL_RCTL_SET:
		snprintf(buf, len, "rctl set %s %s", q->rctl, q->value);
		break;
	case ZK_CTL_RCTL_DELETE:
		snprintf(buf, len, "rctl delete %s", q->rctl);
		break;
	}
}

static void
handle(const char *line)
{
	zk_ctl_request req, again;
	zk_error err = { 0 };
	if (zk_ctl_parse_request(line, &req, &err) < 0) {
		FUZZ_ASSERT(err.code == EINVAL);
		return;
	}
	if (req.op == ZK_CTL_RCTL_SET || req.op == ZK_CTL_RCTL_DELETE)
		(void)zk_rctl_find(req.rctl);
	char text[LINE_MAX_ZONEADMD];
	render(&req, text, sizeof(text));
	FUZZ_ASSERT(zk_ctl_parse_request(text, &again, &err) == 0);
	FUZZ_ASSERT(req.op == again.op && req.timeout_s == again.timeout_s &&
	    req.force == again.force && strcmp(req.rctl, again.rctl) == 0 &&
	    strcmp(req.value, again.value) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	if (size > INPUT_MAX)
		return 0;
	FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	FUZZ_ASSERT(size == 0 || write(sv[1], data, size) == (ssize_t)size);
	close(sv[1]);
	char line[LINE_MAX_ZONEADMD];
	while (zk_ctl_read_line(sv[0], line, sizeof(line), 0) == 0)
		handle(line);
	close(sv[0]);
	return 0;
}
