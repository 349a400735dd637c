#include "vm/console.h"

#include <unistd.h>

#include "term/relay.h"
#include "util/cleanup.h"
#include "vm/vm.h"

int
zk_console_attach(const zk_paths *p, const char *uuid, int in, int out,
    FILE *notes, zk_error *err)
{
	_cleanup_close_ int fd = -1;
	int r = zk_vm_console_connect(p, uuid, &fd, err);
	if (r < 0)
		return r;
	fprintf(notes, "[Connected to zone '%s' console]\n", uuid);
	fflush(notes);
	zk_relay_opts o = { .escape = true };
	r = zk_relay_run(in, out, fd, &o, err);
	fprintf(notes, "\n[Connection to zone '%s' console closed]\n", uuid);
	return r < 0 ? r : 0;
}
