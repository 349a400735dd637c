/*
 * Errors are values.  Library functions return 0 or a negative errno and
 * describe the failure in a zk_error: which object, what went wrong, why.
 * Only front ends print them and choose an exit code.
 */
#ifndef ZK_ERROR_H
#define ZK_ERROR_H

#include <stddef.h>

#define ZK_ERROR_MAX 1024

/*
 * zonekit's own codes, above the kernel's errnos (which end at 4095), for
 * the failures a front end tells apart by code alone: vmadm's "No such
 * zone configured", imgadm's exit status 3.  They travel like errnos.
 */
#define ZK_ENOZONE 4096		/* no zone of that uuid is configured */
#define ZK_ENOIMAGE 4097	/* the image is not installed */
#define ZK_ECODE_MAX ZK_ENOIMAGE

/* strerror(), knowing zonekit's own codes too. */
const char *zk_strerror(int code);

typedef struct zk_error {
	int code;		/* positive errno or ZK_E*, 0 when no error */
	char msg[ZK_ERROR_MAX];
} zk_error;

/* Record a failure and return -code, so callers can `return zk_fail(...)`. */
int zk_fail(zk_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like zk_fail, with ": <strerror(code)>" appended. */
int zk_fail_errno(zk_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Put context in front of an existing message: "<prefix>: <old message>". */
int zk_error_prefix(zk_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void zk_error_clear(zk_error *err);

#endif
