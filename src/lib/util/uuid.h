#ifndef ZK_UUID_H
#define ZK_UUID_H

#include <stdbool.h>
#include "util/error.h"

/* The text form's length, and a buffer that holds it with its NUL. */
#define ZK_UUID_LEN 36
#define ZK_UUID_BUFSZ (ZK_UUID_LEN + 1)

/* SmartOS's rule: 36 characters, hex digits, '-' at 8, 13, 18 and 23. */
bool zk_uuid_valid(const char *s);
/* A random (version 4) UUID. */
int zk_uuid_generate(char buf[ZK_UUID_BUFSZ], zk_error *err);

#endif
