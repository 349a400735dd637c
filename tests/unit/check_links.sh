#!/bin/sh
# check_links.sh READELF with|without LIB[,LIB...] PROGRAM...
#
# Fails unless every PROGRAM records (with) or records none of (without)
# the shared libraries LIB (DT_NEEDED, as `readelf -d` shows it), matched
# by name before ".so": a program's link decides what it loads and
# relocates at every start, so a library linked for nothing is start-up
# time paid on every run.
set -u
if [ $# -lt 4 ] || { [ "$2" != with ] && [ "$2" != without ]; }; then
	echo "usage: $0 READELF with|without LIB[,LIB...] PROGRAM..." >&2
	exit 2
fi
readelf=$1 mode=$2 libs=$3
shift 3
bad=0
for prog in "$@"; do
	if ! dynamic=$("$readelf" -d "$prog"); then
		echo "FAIL $prog: readelf failed"
		bad=1
		continue
	fi
	needed=$(echo "$dynamic" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
	for lib in $(echo "$libs" | tr ',' ' '); do
		if echo "$needed" | grep -q "^$lib\.so"; then has=yes; else has=no; fi
		name=$(basename "$prog")
		if [ "$mode" = without ] && [ $has = yes ]; then
			echo "FAIL $name needs $lib:" $needed
			bad=1
		elif [ "$mode" = with ] && [ $has = no ]; then
			echo "FAIL $name does not need $lib:" $needed
			bad=1
		else
			echo "ok   $name $mode $lib"
		fi
	done
done
exit $bad
