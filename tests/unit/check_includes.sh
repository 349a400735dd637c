#!/bin/sh
# check_includes.sh SRCDIR
#
# The import rules of docs/architecture.md, on every quoted #include:
# libzonekit (src/lib) includes only its own headers, never a command's or
# zoneadmd's; src/lib/util includes nothing above it; a command includes
# the library and nothing of zoneadmd; zoneadmd includes the library and
# its own headers, never a command's.  Generated headers (zk_config.h,
# zone_filter_bpf.h) are allowed everywhere.
set -u
src=${1:?usage: $0 SRCDIR}
bad=0

# resolve DIR HEADER: where a quoted include lands (the including file's
# folder first, then src/lib), or nothing if it is not a source header.
resolve() {
	if [ -f "$1/$2" ]; then echo "$1/$2"
	elif [ -f "$src/lib/$2" ]; then echo "$src/lib/$2"
	fi
}

check() {	# check AREA ALLOWED-PREFIX... (files of AREA, every include)
	area=$1; shift
	for f in $(find "$src/$area" -name '*.[ch]' | sort); do
		sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f" | while read -r h; do
			case $h in zk_config.h|zone_filter_bpf.h) continue ;; esac
			to=$(resolve "$(dirname "$f")" "$h")
			rel=${to#"$src"/}
			ok=no
			for allowed in "$@"; do
				case $rel in "$allowed"*) ok=yes ;; esac
			done
			if [ -z "$to" ] || [ $ok = no ]; then
				echo "FAIL ${f#"$src"/} includes \"$h\" (${rel:-not found})"
				echo bad
			fi
		done
	done
}

out=$( {
	check lib/util lib/util/
	check lib lib/
	check cmd lib/ cmd/
	check zoneadmd lib/ zoneadmd/
	check gen lib/util/ lib/zone/zone_filter.h
} )
if echo "$out" | grep -q '^bad$'; then
	echo "$out" | grep -v '^bad$'
	exit 1
fi
echo "ok   every include follows the import rules"
