/*
 * Column output shared by the commands: vmadm list (fixed minimum widths),
 * imgadm list (width of the longest cell), parseable (-p) and headerless
 * (-H) variants.  Pure: renders into a malloc'd string.
 */
#ifndef ZK_TABLE_H
#define ZK_TABLE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct zk_table_col {
	const char *header;	/* printed as is */
	int width;		/* minimum width; 0 = width of the longest cell */
} zk_table_col;

typedef struct zk_table_opts {
	bool parseable;		/* ':' separated, no header, missing = "" */
	bool no_header;
} zk_table_opts;

/*
 * cells[row * ncols + col]; NULL means missing ("-" in tables, "" with -p).
 * Columns are left-justified to their width, joined by two spaces, each line
 * right-trimmed.  In parseable mode ':' and '\\' inside a cell are escaped
 * with a backslash, as SmartOS does.
 */
char *zk_table_render(const zk_table_col *cols, size_t ncols,
    const char *const *cells, size_t nrows, const zk_table_opts *opts);

/*
 * How list commands compare two values of one field (vmadm and imgadm
 * -s): plain decimals as numbers, anything else as text, a missing value
 * (NULL) first.
 */
int zk_table_compare(const char *a, const char *b);

/*
 * The order of nrows rows sorted by their keys, keys[row * nkeys + k]
 * (NULL = missing), key k descending when desc[k]; equal rows keep their
 * input order.  order[] receives row indices.  -ENOMEM on failure.
 */
int zk_table_sort(const char *const *keys, size_t nrows, size_t nkeys,
    const bool *desc, size_t *order);

#endif
