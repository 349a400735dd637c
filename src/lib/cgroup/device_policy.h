/*
 * The devices a zone may use: one table, enforced twice.  The v1 devices
 * controller gets it as devices.allow lines, the zone's cgroup2 directory
 * as a BPF_PROG_TYPE_CGROUP_DEVICE program built from the same entries
 * (docs/cgroups.md, "Devices").  Everything else is denied.
 */
#ifndef ZK_DEVICE_POLICY_H
#define ZK_DEVICE_POLICY_H

#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define ZK_DEV_ANY	(-1)	/* every major, or every minor */

/* Access bits are the kernel's own (BPF_DEVCG_ACC_*), so the program
 * compares them as they come. */
#define ZK_DEV_MKNOD	BPF_DEVCG_ACC_MKNOD
#define ZK_DEV_READ	BPF_DEVCG_ACC_READ
#define ZK_DEV_WRITE	BPF_DEVCG_ACC_WRITE
#define ZK_DEV_RW	(ZK_DEV_READ | ZK_DEV_WRITE)
#define ZK_DEV_RWM	(ZK_DEV_RW | ZK_DEV_MKNOD)

typedef struct zk_device_rule {
	char type;		/* 'c' character, 'b' block, 'a' both */
	int32_t major;		/* or ZK_DEV_ANY */
	int32_t minor;		/* or ZK_DEV_ANY */
	unsigned access;	/* ZK_DEV_READ | ZK_DEV_WRITE | ZK_DEV_MKNOD */
	const char *name;	/* what it is, for people */
} zk_device_rule;

/* The allowlist. */
const zk_device_rule *zk_device_policy(size_t *n);

/* One entry as a v1 devices.allow line: "c 1:3 rw", "c 136:* rw". */
#define ZK_DEV_RULE_MAX 32
char *zk_device_rule_v1(const zk_device_rule *r, char buf[ZK_DEV_RULE_MAX]);

/*
 * rules as a cgroup device program: 1 (allow) when the request (type,
 * major, minor, access) falls within one entry, 0 otherwise.  The access
 * requested must be a subset of the entry's: an O_RDWR open asks for read
 * and write at once.  -E2BIG if max instructions do not fit, -EINVAL for
 * an entry of unknown type or a negative number other than ZK_DEV_ANY.
 */
#define ZK_DEV_PROG_MAX 128
int zk_device_prog_build(const zk_device_rule *rules, size_t nrules,
    struct bpf_insn *insns, size_t max, size_t *n);

/*
 * Load the allowlist's program and attach it to the cgroup2 directory open at dir_fd
 * (dir names it in errors).  Attached without BPF_F_ALLOW_OVERRIDE or
 * BPF_F_ALLOW_MULTI: attaching again (a reboot re-creating an existing
 * cgroup) replaces the program in place, and nothing below the zone's
 * cgroup can attach a device program of its own.  The cgroup holds the
 * program until it is removed; no descriptor is kept.
 */
int zk_device_prog_attach(int dir_fd, const char *dir, zk_error *err);

#endif
