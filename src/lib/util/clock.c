#include "util/clock.h"

#include <errno.h>
#include <stdio.h>
#include <sys/timerfd.h>
#include <time.h>

#define NS_PER_S 1000000000ULL

/* Suspended time counts: a zone's deadlines and kstat times are wall
 * durations, as gethrtime()'s are on illumos. */
#define ZK_CLOCK CLOCK_BOOTTIME

uint64_t
zk_now_ns(void)
{
	struct timespec ts;
	clock_gettime(ZK_CLOCK, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

void
zk_iso8601_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

int
zk_timer_new(void)
{
	int fd = timerfd_create(ZK_CLOCK, TFD_CLOEXEC | TFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

int
zk_timer_set(int fd, uint64_t ns)
{
	struct itimerspec t = { .it_value = {
	    .tv_sec = (time_t)(ns / NS_PER_S),
	    .tv_nsec = (long)(ns % NS_PER_S) } };
	return timerfd_settime(fd, 0, &t, NULL) < 0 ? -errno : 0;
}
