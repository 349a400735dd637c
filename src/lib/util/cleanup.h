/*
 * Scope-bound cleanup, so every early return is leak-free.
 *   _cleanup_free_ char *p = NULL;   _cleanup_close_ int fd = -1;
 * Hand ownership on with TAKE_PTR(p) / TAKE_FD(fd).
 */
#ifndef ZK_CLEANUP_H
#define ZK_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void zk_freep(void *p) { free(*(void **)p); }
static inline void
zk_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void zk_fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void zk_closedirp(DIR **d) { if (*d) closedir(*d); }

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(zk_freep)
#define _cleanup_close_ _cleanup_(zk_closep)
#define _cleanup_fclose_ _cleanup_(zk_fclosep)
#define _cleanup_closedir_ _cleanup_(zk_closedirp)

#define TAKE_PTR(p) ({ __typeof__(p) _tp = (p); (p) = NULL; _tp; })
#define TAKE_FD(fd) ({ int _tf = (fd); (fd) = -1; _tf; })

#define ZK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
