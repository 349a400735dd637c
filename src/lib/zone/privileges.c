#include "zone/privileges.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/capability.h>

#include "util/cleanup.h"
#include "zk_config.h"

/*
 * Native builds load the filter zone_filter_gen generated at build time
 * from zone_filter.c's rules; cross builds build it at run time.
 */
#if ZK_SECCOMP_PREBUILT
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "zone_filter_bpf.h"
#else
#include "zone/zone_filter.h"
#endif

/*
 * The capabilities a zone's root keeps; docs/privileges.md says why each
 * one is safe inside the zone's namespaces and why the rest are not.
 */
static const cap_value_t zone_caps[] = {
	CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
	CAP_FSETID, CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_SETPCAP,
	CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_SYS_CHROOT, CAP_AUDIT_WRITE,
	CAP_SETFCAP, CAP_SYS_BOOT,
};

static void
cap_freep(cap_t *c)
{
	if (*c != NULL)
		cap_free(*c);
}

#if ZK_SECCOMP_PREBUILT
/*
 * Loaded as libseccomp would load it, flags and all (none): seccomp(2), or
 * prctl where that is missing (valgrind knows only prctl).  Without
 * no_new_privs either one needs CAP_SYS_ADMIN.
 */
static int
load_prebuilt(zk_error *err)
{
	struct sock_fprog prog = {
		.len = ZK_ARRAY_SIZE(zk_zone_filter_prebuilt),
		.filter = (struct sock_filter *)zk_zone_filter_prebuilt,
	};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
		return 0;
	if (errno == ENOSYS &&
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0)
		return 0;
	return zk_fail_errno(err, errno, "cannot load the seccomp filter");
}
#endif

int
zk_privileges_load_filter(zk_error *err)
{
#if ZK_SECCOMP_PREBUILT
	return load_prebuilt(err);
#else
	return zk_zone_filter_load(err);
#endif
}

static bool
is_zone_cap(cap_value_t cap)
{
	for (size_t i = 0; i < ZK_ARRAY_SIZE(zone_caps); i++)
		if (zone_caps[i] == cap)
			return true;
	return false;
}

static int
fail_cap(zk_error *err, int code, const char *what, cap_value_t cap)
{
	char *name = cap_to_name(cap);
	int r = zk_fail_errno(err, code, "cannot %s %s", what,
	    name ? name : "capability");
	cap_free(name);
	return r;
}

/* The bounding set is what a root exec inherits, so it is the real limit;
 * it covers capabilities newer than libcap's headers (cap_max_bits). */
static int
drop_bounding(zk_error *err)
{
	int max = cap_max_bits();
	for (cap_value_t cap = 0; cap < max; cap++) {
		if (is_zone_cap(cap) || !CAP_IS_SUPPORTED(cap))
			continue;
		if (cap_drop_bound(cap) < 0)
			return fail_cap(err, errno, "drop from the bounding set",
			    cap);
	}
	return 0;
}

/* Permitted and effective become the zone set; inheritable stays empty. */
static int
set_process_caps(zk_error *err)
{
	_cleanup_(cap_freep) cap_t caps = cap_init();
	if (caps == NULL)
		return zk_fail_errno(err, errno, "cannot allocate capabilities");
	for (size_t i = 0; i < ZK_ARRAY_SIZE(zone_caps); i++) {
		if (cap_set_flag(caps, CAP_PERMITTED, 1, &zone_caps[i],
		    CAP_SET) < 0 ||
		    cap_set_flag(caps, CAP_EFFECTIVE, 1, &zone_caps[i],
		    CAP_SET) < 0)
			return fail_cap(err, errno, "keep", zone_caps[i]);
	}
	if (cap_set_proc(caps) < 0)
		return zk_fail_errno(err, errno, "cannot set the zone's "
		    "capabilities");
	return 0;
}

static int
drop_capabilities(zk_error *err)
{
	int r = drop_bounding(err);
	if (r < 0)
		return r;
	/* Ambient capabilities would survive exec regardless of the file. */
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() < 0)
		return zk_fail_errno(err, errno, "cannot clear the ambient "
		    "capabilities");
	return set_process_caps(err);
}

int
zk_privileges_apply(zk_error *err)
{
	/* Loading a filter without no_new_privs needs CAP_SYS_ADMIN, which
	 * the capability drop takes away: the filter goes first. */
	int r = zk_privileges_load_filter(err);
	if (r < 0)
		return r;
	return drop_capabilities(err);
}
