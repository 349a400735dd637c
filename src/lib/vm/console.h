/*
 * Attaching to a zone's console, as `vmadm console` and `zlogin -C` do:
 * one function, so both show the same banners and leave the same way.
 */
#ifndef ZK_CONSOLE_H
#define ZK_CONSOLE_H

#include <stdio.h>
#include "util/error.h"
#include "util/paths.h"

/*
 * Reconcile the zone (a dead zoneadmd is replaced), connect to its
 * console and relay it to the terminal in/out until "~." is typed at the
 * start of a line or the console closes.  The banners
 * "[Connected to zone '<uuid>' console]" and "[Connection to zone
 * '<uuid>' console closed]" go to notes, the caller's (stderr).
 */
int zk_console_attach(const zk_paths *p, const char *uuid, int in, int out,
    FILE *notes, zk_error *err);

#endif
