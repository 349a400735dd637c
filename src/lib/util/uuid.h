#ifndef ZK_UUID_H
#define ZK_UUID_H

#include <stdbool.h>
#include "util/error.h"

/* SmartOS's rule: 36 characters, hex digits, '-' at 8, 13, 18 and 23. */
bool zk_uuid_valid(const char *s);
/* A random (version 4) UUID into buf[37]. */
int zk_uuid_generate(char buf[37], zk_error *err);

#endif
