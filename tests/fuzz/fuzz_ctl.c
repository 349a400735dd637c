/*
 * zoneadmd's control protocol, as a client of its socket may speak it:
 * the input is a stream of request lines, cut as zoneadmd's reading cuts
 * them (at a newline or after 255 bytes, its 256-byte line buffer), and
 * every line is parsed by zk_ctl_parse_request, the rctl name looked up as
 * zoneadmd does.  One input in 16 (by length) really goes through a socket
 * pair and zk_ctl_read_line, which reads a byte per system call; the rest
 * are cut in memory, many times faster.
 *
 * Invariants: the socket's lines are the ones cut in memory; a request
 * parsed is written back as a client would send it and parses again to
 * the same request.
 */
#include <errno.h>
#include <sys/socket.h>

#include "config/rctl.h"
#include "fuzz_util.h"
#include "vm/ctl.h"

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

/* The next line of [*p, end) as zk_ctl_read_line would return it. */
static bool
cut_line(const uint8_t **p, const uint8_t *end, char *line)
{
	if (*p == end)
		return false;
	size_t n = 0;
	while (n + 1 < LINE_MAX_ZONEADMD && *p < end) {
		uint8_t c = *(*p)++;
		if (c == '\n')
			break;
		line[n++] = (char)c;
	}
	line[n] = '\0';
	return true;
}

static void
through_socket(const uint8_t *data, size_t size)
{
	int sv[2];
	FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	FUZZ_ASSERT(size == 0 || write(sv[1], data, size) == (ssize_t)size);
	close(sv[1]);
	const uint8_t *p = data;
	char line[LINE_MAX_ZONEADMD], cut[LINE_MAX_ZONEADMD];
	while (zk_ctl_read_line(sv[0], line, sizeof(line), 0) == 0) {
		FUZZ_ASSERT(cut_line(&p, data + size, cut));
		FUZZ_ASSERT(strcmp(line, cut) == 0);
		handle(line);
	}
	FUZZ_ASSERT(!cut_line(&p, data + size, cut));
	close(sv[0]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > INPUT_MAX)
		return 0;
	if (size % 16 == 0) {
		through_socket(data, size);
		return 0;
	}
	const uint8_t *p = data;
	char line[LINE_MAX_ZONEADMD];
	while (cut_line(&p, data + size, line))
		handle(line);
	return 0;
}
