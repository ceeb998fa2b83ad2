/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What ferry prints, computed without any I/O: lists of objects as a
 * bordered table, a compact table, CSV, JSON or YAML; sizes in binary
 * units; cells measured in terminal columns.
 *
 *     static const struct column columns[] = {
 *             COLUMN("NAME", "name"),
 *             COLUMN("ENDPOINT", "properties.endpoint"),
 *             COLUMN_AS("DISKS", "disks[].capacity", COLUMN_SIZE_SUM),
 *     };
 *     r = format_list(objects, columns, ELEMENTSOF(columns), OUTPUT_FORMAT_TABLE, &text);
 *
 * Every text returned here is allocated: free() it.
 */
#ifndef FERRY_CLI_FORMAT_H
#define FERRY_CLI_FORMAT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/macros.h"

enum output_format {
        OUTPUT_FORMAT_TABLE,    /* box borders, like `incus list` (the default) */
        OUTPUT_FORMAT_COMPACT,  /* the same columns without borders */
        OUTPUT_FORMAT_CSV,      /* RFC 4180 quoting, no header line */
        OUTPUT_FORMAT_JSON,     /* the full objects */
        OUTPUT_FORMAT_YAML,     /* the full objects */
        _OUTPUT_FORMAT_MAX,
        _OUTPUT_FORMAT_INVALID = -EINVAL,
};

/* "table", "compact", "csv", "json", "yaml"; NULL/-EINVAL for anything else. */
const char *output_format_to_string(enum output_format f);
enum output_format output_format_from_string(const char *s);

/* Big enough for any format_size() result ("1023.99PiB" and more). */
#define FORMAT_SIZE_MAX 24

/*
 * Bytes in binary units with two decimals, as incus shows them: "512B",
 * "1.50KiB", "4.00GiB", up to EiB.
 */
void format_size(uint64_t bytes, char buf[static FORMAT_SIZE_MAX]);

/*
 * The terminal columns that UTF-8 text s takes: 2 for East Asian wide
 * characters, 0 for combining marks, 1 for the rest (a byte that is not
 * valid UTF-8 counts 1).
 */
size_t format_text_width(const char *s);

/*
 * A copy of s fit for one table cell or line: tabs, carriage returns and
 * newlines become spaces, other control characters and invalid UTF-8
 * bytes become '?', so that nothing a server says can move the cursor.
 * NULL with errno set on allocation failure.
 */
char *format_sanitize(const char *s);

/*
 * A table of strings, rendered as OUTPUT_FORMAT_TABLE, _COMPACT or _CSV.
 * Cells are copied (sanitized for table and compact output).
 */
struct table;

struct table *table_new(size_t n_columns, const char *const *headers);
void table_free(struct table *t);
/* cells has n_columns entries; NULL counts as "".  0 or -ENOMEM. */
int table_add_row(struct table *t, const char *const *cells);
/* -EINVAL for the JSON and YAML formats, which are not made of cells. */
int table_render(const struct table *t, enum output_format format, char **ret);

DEFINE_CLEANUP_FUNC(struct table, table_free);
#define _cleanup_table_ _cleanup_(table_free_p)

/*
 * A column of a list: a header and where its value is in each object.
 * path is a '.'-separated list of keys; a key followed by "[]" stands
 * for every element of that array ("disks[].capacity").  What the path
 * finds becomes the cell as kind says.  A missing or null value is "".
 */
enum column_kind {
        COLUMN_TEXT,            /* strings as they are, numbers in decimal, booleans as true/false,
                                 * arrays joined with ", ", objects as "key=value, ..." */
        COLUMN_SIZE,            /* an integer of bytes as format_size() writes it */
        COLUMN_SIZE_SUM,        /* the sum of all integers found, as a size */
        COLUMN_COUNT,           /* the number of elements of an array or keys of an object */
        COLUMN_KEYS,            /* the keys of an object, joined with ", " */
        COLUMN_YES_NO,          /* a boolean as YES or NO */
        _COLUMN_KIND_MAX,
        _COLUMN_KIND_INVALID = -EINVAL,
};

struct column {
        const char *header;
        const char *path;
        enum column_kind kind;
        /* Instead of path and kind: compute the cell from the whole object
         * (free()able text in *ret, or a negative errno). */
        int (*render)(const json_t *object, char **ret);
};

/* Table entries: COLUMN("NAME", "name"), COLUMN_AS("SIZE", "file.size", COLUMN_SIZE). */
#define COLUMN_AS(h, p, k) { .header = (h), .path = (p), .kind = (k), .render = NULL }
#define COLUMN(h, p) COLUMN_AS(h, p, COLUMN_TEXT)

/* The cell of one column for one object. */
int format_cell(const json_t *object, const struct column *column, char **ret);

/*
 * A list of objects (a JSON array) in format: a table of the columns, or
 * the whole array as JSON (one line) or YAML.  Tables keep their header
 * when the list is empty; CSV of an empty list is "".  Every other text
 * ends with a newline.
 * -EINVAL if objects is not an array.
 */
int format_list(const json_t *objects, const struct column *columns, size_t n_columns,
                enum output_format format, char **ret);

/*
 * Percent-encode everything but the RFC 3986 unreserved characters, for
 * one path segment or query value ("a b/c" -> "a%20b%2Fc").
 */
char *format_url_escape(const char *s);

#endif
