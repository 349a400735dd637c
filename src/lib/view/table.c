#include "view/table.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

#define SEPARATOR "  "

/*
 * Display width in characters rather than bytes, so a UTF-8 alias lines up
 * like an ASCII one (node's sprintf, which SmartOS uses, counts characters).
 */
static size_t
text_width(const char *s)
{
	size_t n = 0;
	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static const char *
cell_text(const char *cell)
{
	return cell != NULL ? cell : "-";
}

/*
 * A column's width: its minimum, widened to the longest cell (and header,
 * when one is printed) only for width-0 columns; a fixed-width column lets
 * a long value push the rest of the line, as printf("%-*s") does.
 */
static size_t
column_width(const zk_table_col *col, size_t c, size_t ncols,
    const char *const *cells, size_t nrows, bool header)
{
	if (col->width > 0)
		return (size_t)col->width;
	size_t w = header ? text_width(col->header) : 0;
	for (size_t r = 0; r < nrows; r++) {
		size_t cw = text_width(cell_text(cells[r * ncols + c]));
		if (cw > w)
			w = cw;
	}
	return w;
}

/* Trailing padding (and trailing blanks in the last cell) never reach the
 * output: lines are compared and parsed by scripts. */
static void
put_line(FILE *f, char *line, size_t len)
{
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	fwrite(line, 1, len, f);
	fputc('\n', f);
}

static void
put_padded(FILE *line, const char *text, size_t width)
{
	fputs(text, line);
	for (size_t w = text_width(text); w < width; w++)
		fputc(' ', line);
}

/* One row of a fixed-width table; `texts` has ncols entries. */
static int
render_row(FILE *f, const char *const *texts, const size_t *widths,
    size_t ncols)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *line = open_memstream(&buf, &len);
	if (line == NULL)
		return -1;
	for (size_t c = 0; c < ncols; c++) {
		if (c > 0)
			fputs(SEPARATOR, line);
		put_padded(line, texts[c], widths[c]);
	}
	if (fclose(line) != 0)
		return -1;
	put_line(f, buf, len);
	return 0;
}

static int
render_fixed(FILE *f, const zk_table_col *cols, size_t ncols,
    const char *const *cells, size_t nrows, bool header)
{
	_cleanup_free_ size_t *widths = calloc(ncols ? ncols : 1,
	    sizeof(*widths));
	_cleanup_free_ const char **texts = calloc(ncols ? ncols : 1,
	    sizeof(*texts));
	if (widths == NULL || texts == NULL)
		return -1;
	for (size_t c = 0; c < ncols; c++)
		widths[c] = column_width(&cols[c], c, ncols, cells, nrows,
		    header);

	if (header) {
		for (size_t c = 0; c < ncols; c++)
			texts[c] = cols[c].header;
		if (render_row(f, texts, widths, ncols) < 0)
			return -1;
	}
	for (size_t r = 0; r < nrows; r++) {
		for (size_t c = 0; c < ncols; c++)
			texts[c] = cell_text(cells[r * ncols + c]);
		if (render_row(f, texts, widths, ncols) < 0)
			return -1;
	}
	return 0;
}

/* ':' separates fields and '\\' escapes, so both are escaped in values. */
static void
put_escaped(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == ':' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static void
render_parseable(FILE *f, size_t ncols, const char *const *cells,
    size_t nrows)
{
	for (size_t r = 0; r < nrows; r++) {
		for (size_t c = 0; c < ncols; c++) {
			const char *cell = cells[r * ncols + c];
			if (c > 0)
				fputc(':', f);
			if (cell != NULL)
				put_escaped(f, cell);
		}
		fputc('\n', f);
	}
}

char *
zk_table_render(const zk_table_col *cols, size_t ncols,
    const char *const *cells, size_t nrows, const zk_table_opts *opts)
{
	bool parseable = opts != NULL && opts->parseable;
	bool header = !parseable && !(opts != NULL && opts->no_header);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return NULL;

	int r = 0;
	if (parseable)
		render_parseable(f, ncols, cells, nrows);
	else
		r = render_fixed(f, cols, ncols, cells, nrows, header);
	if (fclose(f) != 0 || r < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- sorting ------------------------------------------------------------ */

/* Only plain decimals count as numbers: "0x10" or "inf" sort as text. */
static bool
parse_number(const char *s, double *out)
{
	const char *p = s;
	if (*p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p != '\0')
		return false;
	*out = strtod(s, NULL);
	return true;
}

int
zk_table_compare(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	double x, y;
	if (parse_number(a, &x) && parse_number(b, &y))
		return (x > y) - (x < y);
	return strcmp(a, b);
}

typedef struct sort_ctx {
	const char *const *keys;
	size_t nkeys;
	const bool *desc;
} sort_ctx;

static int
compare_rows(const void *pa, const void *pb, void *arg)
{
	const sort_ctx *x = arg;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	for (size_t k = 0; k < x->nkeys; k++) {
		int c = zk_table_compare(x->keys[a * x->nkeys + k],
		    x->keys[b * x->nkeys + k]);
		if (c != 0)
			return x->desc[k] ? -c : c;
	}
	return (a > b) - (a < b);	/* stable */
}

int
zk_table_sort(const char *const *keys, size_t nrows, size_t nkeys,
    const bool *desc, size_t *order)
{
	for (size_t r = 0; r < nrows; r++)
		order[r] = r;
	sort_ctx ctx = { keys, nkeys, desc };
	qsort_r(order, nrows, sizeof(*order), compare_rows, &ctx);
	return 0;
}
