/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "cli/format.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/yaml.h"

static const char *const output_format_table[_OUTPUT_FORMAT_MAX] = {
        [OUTPUT_FORMAT_TABLE] = "table",
        [OUTPUT_FORMAT_COMPACT] = "compact",
        [OUTPUT_FORMAT_CSV] = "csv",
        [OUTPUT_FORMAT_JSON] = "json",
        [OUTPUT_FORMAT_YAML] = "yaml",
};

const char *output_format_to_string(enum output_format f)
{
        if (f < 0 || f >= _OUTPUT_FORMAT_MAX)
                return NULL;
        return output_format_table[f];
}

enum output_format output_format_from_string(const char *s)
{
        if (!s)
                return _OUTPUT_FORMAT_INVALID;
        return (enum output_format) string_table_lookup(output_format_table, _OUTPUT_FORMAT_MAX, s);
}

void format_size(uint64_t bytes, char buf[static FORMAT_SIZE_MAX])
{
        static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        double value = (double) bytes;
        size_t i;

        if (bytes < 1024) {
                snprintf(buf, FORMAT_SIZE_MAX, "%" PRIu64 "B", bytes);
                return;
        }
        for (i = 0; i < ELEMENTSOF(units) - 1; i++) {
                value /= 1024;
                if (value < 1024)
                        break;
        }
        if (i == ELEMENTSOF(units) - 1)
                value /= 1024;
        snprintf(buf, FORMAT_SIZE_MAX, "%.2f%s", value, units[i]);
}

/*
 * Decode one UTF-8 character at s (at least one byte, NUL-terminated):
 * its length, or 0 if the bytes there are not valid UTF-8 (overlong
 * forms, surrogates and values above U+10FFFF included).
 */
static size_t utf8_decode(const char *s, uint32_t *ret)
{
        const unsigned char *u = (const unsigned char *) s;
        uint32_t cp, min;
        size_t len;

        if (u[0] < 0x80) {
                *ret = u[0];
                return 1;
        }
        if ((u[0] & 0xe0) == 0xc0) {
                cp = u[0] & 0x1f;
                len = 2;
                min = 0x80;
        } else if ((u[0] & 0xf0) == 0xe0) {
                cp = u[0] & 0x0f;
                len = 3;
                min = 0x800;
        } else if ((u[0] & 0xf8) == 0xf0) {
                cp = u[0] & 0x07;
                len = 4;
                min = 0x10000;
        } else
                return 0;

        for (size_t i = 1; i < len; i++) {
                if ((u[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (u[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret = cp;
        return len;
}

/* wcwidth() answers for the locale's character set: ask C.UTF-8's. */
static locale_t utf8_locale(void)
{
        static locale_t loc;
        static bool tried;

        if (!tried) {
                loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
                tried = true;
        }
        return loc;
}

static size_t codepoint_width(uint32_t cp)
{
        locale_t loc = utf8_locale(), old;
        int w;

        if (cp < 0x80 || !loc)
                return 1;
        old = uselocale(loc);
        w = wcwidth((wchar_t) cp);
        uselocale(old);
        return w < 0 ? 1 : (size_t) w;
}

size_t format_text_width(const char *s)
{
        size_t width = 0;

        while (*s) {
                uint32_t cp;
                size_t len = utf8_decode(s, &cp);

                if (len == 0) {
                        width++;
                        s++;
                        continue;
                }
                width += codepoint_width(cp);
                s += len;
        }
        return width;
}

char *format_sanitize(const char *s)
{
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;

        while (*s) {
                uint32_t cp;
                size_t len = utf8_decode(s, &cp);
                int r;

                if (len == 0) {
                        r = strbuf_append(&out, "?");
                        len = 1;
                } else if (cp == '\t' || cp == '\n' || cp == '\r')
                        r = strbuf_append(&out, " ");
                else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
                        r = strbuf_append(&out, "?");
                else
                        r = strbuf_append_len(&out, s, len);
                if (r < 0) {
                        errno = -r;
                        return NULL;
                }
                s += len;
        }
        return strbuf_steal(&out);
}

struct table {
        size_t n_columns;
        char **headers;
        char **cells;           /* n_rows * n_columns */
        size_t n_rows;
        size_t alloc_rows;
};

struct table *table_new(size_t n_columns, const char *const *headers)
{
        struct table *t;

        if (n_columns == 0) {
                errno = EINVAL;
                return NULL;
        }
        t = calloc(1, sizeof(*t));
        if (!t)
                return NULL;
        t->n_columns = n_columns;
        t->headers = calloc(n_columns, sizeof(char *));
        if (!t->headers)
                goto fail;
        for (size_t i = 0; i < n_columns; i++) {
                t->headers[i] = strdup(headers[i] ? headers[i] : "");
                if (!t->headers[i])
                        goto fail;
        }
        return t;

fail:
        table_free(t);
        errno = ENOMEM;
        return NULL;
}

void table_free(struct table *t)
{
        if (!t)
                return;
        for (size_t i = 0; t->headers && i < t->n_columns; i++)
                free(t->headers[i]);
        for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
                free(t->cells[i]);
        free(t->headers);
        free(t->cells);
        free(t);
}

int table_add_row(struct table *t, const char *const *cells)
{
        char **row;

        if (t->n_rows == t->alloc_rows) {
                size_t n = t->alloc_rows ? t->alloc_rows * 2 : 8;
                char **p = reallocarray(t->cells, n * t->n_columns, sizeof(char *));

                if (!p)
                        return -ENOMEM;
                t->cells = p;
                t->alloc_rows = n;
        }

        row = t->cells + t->n_rows * t->n_columns;
        for (size_t i = 0; i < t->n_columns; i++) {
                row[i] = strdup(cells[i] ? cells[i] : "");
                if (!row[i]) {
                        while (i > 0)
                                free(row[--i]);
                        return -ENOMEM;
                }
        }
        t->n_rows++;
        return 0;
}

static int append_repeated(struct strbuf *out, const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strbuf_append(out, s) < 0)
                        return -ENOMEM;
        return 0;
}

/* The sanitized cells of a table and their widths in terminal columns. */
struct table_text {
        size_t n_columns, n_lines;      /* line 0 is the header */
        char **text;
        size_t *text_width;
        size_t *column_width;
};

static void table_text_done(struct table_text *tt)
{
        for (size_t i = 0; tt->text && i < tt->n_lines * tt->n_columns; i++)
                free(tt->text[i]);
        free(tt->text);
        free(tt->text_width);
        free(tt->column_width);
}

static int table_text_build(const struct table *t, struct table_text *tt)
{
        *tt = (struct table_text) { .n_columns = t->n_columns, .n_lines = t->n_rows + 1 };
        tt->text = calloc(tt->n_lines * t->n_columns, sizeof(char *));
        tt->text_width = calloc(tt->n_lines * t->n_columns, sizeof(size_t));
        tt->column_width = calloc(t->n_columns, sizeof(size_t));
        if (!tt->text || !tt->text_width || !tt->column_width)
                return -ENOMEM;

        for (size_t line = 0; line < tt->n_lines; line++)
                for (size_t col = 0; col < t->n_columns; col++) {
                        size_t i = line * t->n_columns + col;
                        const char *raw = line == 0 ? t->headers[col] : t->cells[(line - 1) * t->n_columns + col];

                        tt->text[i] = format_sanitize(raw);
                        if (!tt->text[i])
                                return -ENOMEM;
                        tt->text_width[i] = format_text_width(tt->text[i]);
                        if (tt->text_width[i] > tt->column_width[col])
                                tt->column_width[col] = tt->text_width[i];
                }
        return 0;
}

static int render_border(const struct table_text *tt, struct strbuf *out)
{
        if (strbuf_append(out, "+") < 0)
                return -ENOMEM;
        for (size_t col = 0; col < tt->n_columns; col++)
                if (append_repeated(out, "-", tt->column_width[col] + 2) < 0 || strbuf_append(out, "+") < 0)
                        return -ENOMEM;
        return strbuf_append(out, "\n");
}

/* One bordered line; the header is centred, the extra space on the right. */
static int render_boxed_line(const struct table_text *tt, size_t line, struct strbuf *out)
{
        if (strbuf_append(out, "|") < 0)
                return -ENOMEM;
        for (size_t col = 0; col < tt->n_columns; col++) {
                size_t i = line * tt->n_columns + col;
                size_t gap = tt->column_width[col] - tt->text_width[i];
                size_t left = line == 0 ? gap / 2 : 0;

                if (append_repeated(out, " ", 1 + left) < 0 || strbuf_append(out, tt->text[i]) < 0 ||
                    append_repeated(out, " ", gap - left + 1) < 0 || strbuf_append(out, "|") < 0)
                        return -ENOMEM;
        }
        return strbuf_append(out, "\n");
}

static int render_table(const struct table_text *tt, struct strbuf *out)
{
        int r;

        r = render_border(tt, out);
        for (size_t line = 0; r >= 0 && line < tt->n_lines; line++) {
                r = render_boxed_line(tt, line, out);
                if (r >= 0)
                        r = render_border(tt, out);
        }
        return r;
}

/* Columns two spaces apart, no spaces at the end of a line. */
static int render_compact(const struct table_text *tt, struct strbuf *out)
{
        for (size_t line = 0; line < tt->n_lines; line++) {
                size_t start = out->len;

                for (size_t col = 0; col < tt->n_columns; col++) {
                        size_t i = line * tt->n_columns + col;

                        if (strbuf_append(out, tt->text[i]) < 0)
                                return -ENOMEM;
                        if (col + 1 < tt->n_columns &&
                            append_repeated(out, " ", tt->column_width[col] - tt->text_width[i] + 2) < 0)
                                return -ENOMEM;
                }
                while (out->len > start && out->data[out->len - 1] == ' ')
                        out->data[--out->len] = '\0';
                if (strbuf_append(out, "\n") < 0)
                        return -ENOMEM;
        }
        return 0;
}

static bool csv_needs_quotes(const char *s)
{
        return s[0] == ' ' || s[0] == '\t' || strpbrk(s, ",\"\r\n");
}

static int render_csv_field(const char *s, struct strbuf *out)
{
        if (!csv_needs_quotes(s))
                return strbuf_append(out, s);

        if (strbuf_append(out, "\"") < 0)
                return -ENOMEM;
        for (const char *q; (q = strchr(s, '"')); s = q + 1)
                if (strbuf_append_len(out, s, (size_t) (q - s) + 1) < 0 || strbuf_append(out, "\"") < 0)
                        return -ENOMEM;
        if (strbuf_append(out, s) < 0 || strbuf_append(out, "\"") < 0)
                return -ENOMEM;
        return 0;
}

static int render_csv(const struct table *t, struct strbuf *out)
{
        for (size_t row = 0; row < t->n_rows; row++) {
                for (size_t col = 0; col < t->n_columns; col++) {
                        if (col > 0 && strbuf_append(out, ",") < 0)
                                return -ENOMEM;
                        if (render_csv_field(t->cells[row * t->n_columns + col], out) < 0)
                                return -ENOMEM;
                }
                if (strbuf_append(out, "\n") < 0)
                        return -ENOMEM;
        }
        return 0;
}

int table_render(const struct table *t, enum output_format format, char **ret)
{
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        struct table_text tt = {};
        char *s;
        int r;

        switch (format) {
        case OUTPUT_FORMAT_TABLE:
        case OUTPUT_FORMAT_COMPACT:
                r = table_text_build(t, &tt);
                if (r >= 0)
                        r = format == OUTPUT_FORMAT_TABLE ? render_table(&tt, &out) : render_compact(&tt, &out);
                table_text_done(&tt);
                break;
        case OUTPUT_FORMAT_CSV:
                r = render_csv(t, &out);
                break;
        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;

        s = strbuf_steal(&out);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* Append every value that path reaches from v to found (borrowed references are taken). */
static int collect_path(const json_t *v, const char *path, json_t *found)
{
        _cleanup_free_ char *key = NULL;
        const char *dot, *rest;
        bool each;
        size_t len;
        json_t *child;

        if (!v || json_is_null(v))
                return 0;
        if (!*path)
                return json_array_append(found, (json_t *) v) < 0 ? -ENOMEM : 0;

        dot = strchr(path, '.');
        len = dot ? (size_t) (dot - path) : strlen(path);
        rest = dot ? dot + 1 : "";
        each = len > 2 && path[len - 2] == '[' && path[len - 1] == ']';
        if (each)
                len -= 2;
        if (len == 0)
                return -EINVAL;

        key = strndup(path, len);
        if (!key)
                return -ENOMEM;
        child = json_object_get(v, key);
        if (!each)
                return collect_path(child, rest, found);

        if (json_is_array(child)) {
                size_t i;
                json_t *e;

                json_array_foreach (child, i, e) {
                        int r = collect_path(e, rest, found);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int compare_strings(const void *a, const void *b)
{
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The keys of an object in byte order; free() the array, not the keys. */
static const char **sorted_keys(const json_t *obj, size_t *ret_n)
{
        size_t n = json_object_size(obj), i = 0;
        const char **keys = calloc(n + 1, sizeof(char *));
        const char *key;
        json_t *child;

        if (!keys)
                return NULL;
        json_object_foreach ((json_t *) obj, key, child)
                keys[i++] = key;
        qsort(keys, n, sizeof(char *), compare_strings);
        *ret_n = n;
        return keys;
}

static int append_value_text(const json_t *v, struct strbuf *out);

static int append_joined(struct strbuf *out, bool *first, const char *sep)
{
        if (*first) {
                *first = false;
                return 0;
        }
        return strbuf_append(out, sep);
}

static int append_value_text(const json_t *v, struct strbuf *out)
{
        switch (json_typeof(v)) {
        case JSON_STRING:
                return strbuf_append_len(out, json_string_value(v), strlen(json_string_value(v)));
        case JSON_INTEGER:
                return strbuf_appendf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        case JSON_REAL:
                return strbuf_appendf(out, "%g", json_real_value(v));
        case JSON_TRUE:
                return strbuf_append(out, "true");
        case JSON_FALSE:
                return strbuf_append(out, "false");
        case JSON_NULL:
                return 0;
        case JSON_ARRAY: {
                bool first = true;
                size_t i;
                json_t *e;

                json_array_foreach (v, i, e) {
                        if (json_is_null(e))
                                continue;
                        if (append_joined(out, &first, ", ") < 0 || append_value_text(e, out) < 0)
                                return -ENOMEM;
                }
                return 0;
        }
        case JSON_OBJECT: {
                _cleanup_free_ const char **keys = NULL;
                size_t n = 0;

                keys = sorted_keys(v, &n);
                if (!keys)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++)
                        if ((i > 0 && strbuf_append(out, ", ") < 0) || strbuf_appendf(out, "%s=", keys[i]) < 0 ||
                            append_value_text(json_object_get(v, keys[i]), out) < 0)
                                return -ENOMEM;
                return 0;
        }
        default:
                return -EINVAL;
        }
}

static int append_cell_value(const json_t *v, enum column_kind kind, struct strbuf *out)
{
        char size[FORMAT_SIZE_MAX];

        switch (kind) {
        case COLUMN_SIZE:
                if (!json_is_integer(v) || json_integer_value(v) < 0)
                        break;
                format_size((uint64_t) json_integer_value(v), size);
                return strbuf_append(out, size);
        case COLUMN_YES_NO:
                if (!json_is_boolean(v))
                        break;
                return strbuf_append(out, json_is_true(v) ? "YES" : "NO");
        case COLUMN_KEYS: {
                _cleanup_free_ const char **keys = NULL;
                size_t n = 0;

                if (!json_is_object(v))
                        break;
                keys = sorted_keys(v, &n);
                if (!keys)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++)
                        if ((i > 0 && strbuf_append(out, ", ") < 0) || strbuf_append(out, keys[i]) < 0)
                                return -ENOMEM;
                return 0;
        }
        default:
                break;
        }
        return append_value_text(v, out);
}

int format_cell(const json_t *object, const struct column *column, char **ret)
{
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        _cleanup_json_ json_t *found = NULL;
        char size[FORMAT_SIZE_MAX];
        bool first = true;
        size_t i;
        json_t *v;
        char *s;
        int r;

        if (column->render)
                return column->render(object, ret);
        if (!column->path || column->kind < 0 || column->kind >= _COLUMN_KIND_MAX)
                return -EINVAL;

        found = json_array();
        if (!found)
                return -ENOMEM;
        r = collect_path(object, column->path, found);
        if (r < 0)
                return r;

        switch (column->kind) {
        case COLUMN_SIZE_SUM: {
                uint64_t sum = 0;
                bool any = false;

                json_array_foreach (found, i, v)
                        if (json_is_integer(v) && json_integer_value(v) >= 0) {
                                sum += (uint64_t) json_integer_value(v);
                                any = true;
                        }
                if (any) {
                        format_size(sum, size);
                        r = strbuf_append(&out, size);
                }
                break;
        }
        case COLUMN_COUNT: {
                size_t count = 0;

                json_array_foreach (found, i, v)
                        count += json_is_array(v) ? json_array_size(v) : json_is_object(v) ? json_object_size(v) : 1;
                r = strbuf_appendf(&out, "%zu", count);
                break;
        }
        default:
                json_array_foreach (found, i, v) {
                        _cleanup_strbuf_ struct strbuf one = STRBUF_INIT;

                        r = append_cell_value(v, column->kind, &one);
                        if (r >= 0 && one.len > 0) {
                                r = append_joined(&out, &first, ", ");
                                if (r >= 0)
                                        r = strbuf_append(&out, strbuf_str(&one));
                        }
                        if (r < 0)
                                break;
                }
                break;
        }
        if (r < 0)
                return r;

        s = strbuf_steal(&out);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int format_table_list(const json_t *objects, const struct column *columns, size_t n_columns,
                             enum output_format format, char **ret)
{
        _cleanup_free_ const char **headers = NULL;
        _cleanup_table_ struct table *t = NULL;
        _cleanup_free_ char **cells = NULL;
        size_t i;
        json_t *obj;
        int r = 0;

        headers = calloc(n_columns, sizeof(char *));
        cells = calloc(n_columns, sizeof(char *));
        if (!headers || !cells)
                return -ENOMEM;
        for (size_t c = 0; c < n_columns; c++)
                headers[c] = columns[c].header;

        t = table_new(n_columns, headers);
        if (!t)
                return -ENOMEM;

        json_array_foreach (objects, i, obj) {
                for (size_t c = 0; c < n_columns && r >= 0; c++)
                        r = format_cell(obj, &columns[c], &cells[c]);
                if (r >= 0)
                        r = table_add_row(t, (const char *const *) cells);
                for (size_t c = 0; c < n_columns; c++) {
                        free(cells[c]);
                        cells[c] = NULL;
                }
                if (r < 0)
                        return r;
        }
        return table_render(t, format, ret);
}

int format_list(const json_t *objects, const struct column *columns, size_t n_columns,
                enum output_format format, char **ret)
{
        char *s;
        int r;

        if (!json_is_array(objects))
                return -EINVAL;

        switch (format) {
        case OUTPUT_FORMAT_TABLE:
        case OUTPUT_FORMAT_COMPACT:
        case OUTPUT_FORMAT_CSV:
                return format_table_list(objects, columns, n_columns, format, ret);
        case OUTPUT_FORMAT_JSON:
                s = json_dumps(objects, JSON_COMPACT | JSON_ENCODE_ANY);
                if (!s)
                        return -ENOMEM;
                *ret = strjoin(s, "\n", NULL);
                free(s);
                return *ret ? 0 : -ENOMEM;
        case OUTPUT_FORMAT_YAML:
                r = json_to_yaml(objects, &s);
                if (r < 0)
                        return r;
                *ret = s;
                return 0;
        default:
                return -EINVAL;
        }
}

char *format_url_escape(const char *s)
{
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                int r;

                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                    strchr("-._~", *p))
                        r = strbuf_append_len(&out, (const char *) p, 1);
                else
                        r = strbuf_appendf(&out, "%%%02X", *p);
                if (r < 0) {
                        errno = ENOMEM;
                        return NULL;
                }
        }
        return strbuf_steal(&out);
}
