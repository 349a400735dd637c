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
 * parsed is written back as a client would send it (zk_ctl_format_request)
 * and parses again to the same request.  Every line is also read as a
 * reply (zk_ctl_parse_reply): its error code is one zoneadmd may send, and
 * an error written back as zoneadmd writes it reads the same.
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

/*
 * The same line read as a reply, as a client reads zoneadmd's: "ok" with
 * its detail, an error whose code is an errno or a ZK_E* code and which,
 * written back as zoneadmd writes it, reads the same, or EPROTO.
 */
static void
handle_reply(const char *line)
{
	char detail[LINE_MAX_ZONEADMD];
	zk_error err = { 0 }, again = { 0 };
	int r = zk_ctl_parse_reply(line, detail, sizeof(detail), &err);
	if (r == 0) {
		FUZZ_ASSERT(strncmp(line, "ok", 2) == 0);
		FUZZ_ASSERT(strcmp(detail, line[2] == ' ' ? line + 3 : "") == 0);
		return;
	}
	FUZZ_ASSERT(r == -err.code && err.code > 0 && err.code <= ZK_ECODE_MAX);
	if (strncmp(line, "error ", 6) != 0) {
		FUZZ_ASSERT(err.code == EPROTO);
		return;
	}
	char text[ZK_CTL_REPLY_MAX];
	snprintf(text, sizeof(text), ZK_CTL_ERROR_FMT, err.code, err.msg);
	FUZZ_ASSERT(zk_ctl_parse_reply(text, NULL, 0, &again) == r);
	FUZZ_ASSERT(strcmp(again.msg, err.msg) == 0);
}

static void
handle(const char *line)
{
	zk_ctl_request req, again;
	zk_error err = { 0 };
	handle_reply(line);
	if (zk_ctl_parse_request(line, &req, &err) < 0) {
		FUZZ_ASSERT(err.code == EINVAL);
		return;
	}
	if (req.op == ZK_CTL_RCTL_SET || req.op == ZK_CTL_RCTL_DELETE)
		(void)zk_rctl_find(req.rctl);
	char text[LINE_MAX_ZONEADMD];
	zk_ctl_format_request(&req, text, sizeof(text));
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
