/*
 * Helpers shared by the libFuzzer targets (docs/fuzzing.md).  A target
 * aborts on a broken invariant, so libFuzzer keeps the input as a crash.
 */
#ifndef ZK_FUZZ_UTIL_H
#define ZK_FUZZ_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, \
		    __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* The input as a C string (it ends at its first NUL, as argv would). */
static inline char *
fuzz_cstring(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	FUZZ_ASSERT(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * An in-memory file for library functions that read a path: the same fd
 * serves every input (refilled each time), named /proc/self/fd/N.
 */
typedef struct fuzz_file {
	int fd;
	char path[64];
} fuzz_file;

static inline void
fuzz_file_fill(fuzz_file *f, const char *name, const void *data, size_t size)
{
	if (f->fd <= 0) {
		f->fd = memfd_create(name, MFD_CLOEXEC);
		FUZZ_ASSERT(f->fd >= 0);
		snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
	}
	FUZZ_ASSERT(ftruncate(f->fd, 0) == 0);
	FUZZ_ASSERT(size == 0 || pwrite(f->fd, data, size, 0) == (ssize_t)size);
}

/* Next line of [*p, end) without its newline, NUL-terminated in place. */
static inline char *
fuzz_next_line(char **p, char *end)
{
	if (*p >= end)
		return NULL;
	char *line = *p;
	char *nl = memchr(line, '\n', (size_t)(end - line));
	if (nl == NULL)
		nl = end;
	*nl = '\0';
	*p = nl + 1;
	return line;
}

#endif
