/*
 * What a zone's processes may do: a reduced capability set and a seccomp
 * filter, applied to the zone's init and to everything zlogin starts.
 * The sets are documented in docs/privileges.md.
 */
#ifndef ZK_PRIVILEGES_H
#define ZK_PRIVILEGES_H

#include "util/error.h"

/*
 * Install the seccomp filter, then drop every capability outside the zone
 * set from the bounding, inheritable, ambient, permitted and effective
 * sets.  Call as root, in the zone's namespaces, after the zone's root is
 * in place and immediately before exec.  Does not set no_new_privs, so
 * setuid programs inside the zone still work (the filter is installed while
 * CAP_SYS_ADMIN is still held).
 */
int zk_privileges_apply(zk_error *err);

/*
 * Only the seccomp half: load the zone's filter into the calling thread.
 * Needs CAP_SYS_ADMIN or no_new_privs, as seccomp(2) does.
 */
int zk_privileges_load_filter(zk_error *err);

#endif
