#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Callers pass either errno or -errno; an unknown cause is still a failure. */
static int
normalise(int code)
{
	if (code < 0)
		code = -code;
	return code == 0 ? EIO : code;
}

const char *
zk_strerror(int code)
{
	if (code == ZK_ENOZONE)
		return "No such zone configured";
	if (code == ZK_ENOIMAGE)
		return "Image not installed";
	return strerror(code);
}

static int __attribute__((format(printf, 4, 0)))
vfail(zk_error *err, int code, int with_errno, const char *fmt, va_list ap)
{
	code = normalise(code);
	if (err == NULL)
		return -code;
	err->code = code;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (with_errno && n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s",
		    zk_strerror(code));
	return -code;
}

int
zk_fail(zk_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfail(err, code, 0, fmt, ap);
	va_end(ap);
	return r;
}

int
zk_fail_errno(zk_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfail(err, code, 1, fmt, ap);
	va_end(ap);
	return r;
}

int
zk_error_prefix(zk_error *err, const char *fmt, ...)
{
	if (err == NULL)
		return -EIO;
	char prefix[ZK_ERROR_MAX], old[ZK_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	return -normalise(err->code);
}

void
zk_error_clear(zk_error *err)
{
	if (err != NULL) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}
