/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "common/yaml.h"

enum yaml_kind {
        YAML_KIND_NULL,
        YAML_KIND_BOOL,
        YAML_KIND_INT,
        YAML_KIND_FLOAT,
        YAML_KIND_STRING,
        _YAML_KIND_MAX,
        _YAML_KIND_INVALID = -EINVAL,
};

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool str_in(const char *s, const char *const *list)
{
        for (; *list; list++)
                if (streq(s, *list))
                        return true;
        return false;
}

/* Skip [0-9]+ at *p; false if there is none. */
static bool skip_digits(const char **p)
{
        const char *start = *p;

        while (is_digit(**p))
                (*p)++;
        return *p != start;
}

static bool looks_like_int(const char *s)
{
        if (*s == '-' || *s == '+')
                s++;
        return skip_digits(&s) && *s == '\0';
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool looks_like_float(const char *s)
{
        if (*s == '-' || *s == '+')
                s++;
        if (*s == '.') {
                s++;
                if (!skip_digits(&s))
                        return false;
        } else {
                if (!skip_digits(&s))
                        return false;
                if (*s == '.') {
                        s++;
                        skip_digits(&s);
                }
        }
        if (*s == 'e' || *s == 'E') {
                s++;
                if (*s == '-' || *s == '+')
                        s++;
                if (!skip_digits(&s))
                        return false;
        }
        return *s == '\0';
}

static bool looks_like_inf_or_nan(const char *s)
{
        static const char *const special[] = { ".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN", NULL };

        if (*s == '-' || *s == '+')
                s++;
        return str_in(s, special);
}

/* What a plain (unquoted, untagged) scalar means. */
static enum yaml_kind yaml_classify_plain(const char *s)
{
        static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
        static const char *const bools[] = { "true", "True", "TRUE", "false", "False", "FALSE", NULL };

        if (str_in(s, nulls))
                return YAML_KIND_NULL;
        if (str_in(s, bools))
                return YAML_KIND_BOOL;
        if (looks_like_int(s))
                return YAML_KIND_INT;
        if (looks_like_float(s) || looks_like_inf_or_nan(s))
                return YAML_KIND_FLOAT;
        return YAML_KIND_STRING;
}

/*
 * Whether the string s may be written as a plain scalar: it must read back
 * as a string here, and also with YAML 1.1 readers (Go's yaml.v2 among
 * them), which take yes/no/on/off as booleans and 0x1f, 0o17, 1_000 or
 * 1:30 as numbers.  Anything starting like a number is quoted.
 */
static bool yaml_string_may_be_plain(const char *s)
{
        static const char *const yaml11[] = { "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
                                              "on", "On", "ON", "off", "Off", "OFF", "<<", "=", NULL };

        if (yaml_classify_plain(s) != YAML_KIND_STRING || str_in(s, yaml11))
                return false;
        if (is_digit(s[0]))
                return false;
        if ((s[0] == '-' || s[0] == '+' || s[0] == '.') && (is_digit(s[1]) || s[1] == '.'))
                return false;
        return true;
}

/* Line and column (1-based, in characters) of a byte offset, for reader errors. */
static void offset_to_line_column(const char *buf, size_t len, size_t offset, size_t *ret_line,
                                  size_t *ret_column)
{
        size_t line = 1, column = 1;

        for (size_t i = 0; i < offset && i < len; i++) {
                if (buf[i] == '\n') {
                        line++;
                        column = 1;
                } else if (((unsigned char) buf[i] & 0xc0) != 0x80)
                        column++;
        }
        *ret_line = line;
        *ret_column = column;
}

_printf_(3, 4)
static int yaml_error_at(struct ferry_error *err, const yaml_mark_t *mark, const char *fmt, ...)
{
        char problem[FERRY_ERROR_MESSAGE_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(problem, sizeof problem, fmt, ap);
        va_end(ap);

        return ferry_error_set(err, -EINVAL, "Invalid YAML at line %zu, column %zu: %s", mark->line + 1,
                               mark->column + 1, problem);
}

static int yaml_parser_error(const yaml_parser_t *parser, const char *buf, size_t len,
                             struct ferry_error *err)
{
        const char *problem = parser->problem ? parser->problem : "unknown error";
        yaml_mark_t mark = parser->problem_mark;

        if (parser->error == YAML_MEMORY_ERROR)
                return ferry_error_set(err, -ENOMEM, "Out of memory while parsing YAML");

        if (parser->error == YAML_READER_ERROR) {
                /* The reader reports a byte offset instead of a mark. */
                size_t line, column;

                offset_to_line_column(buf, len, parser->problem_offset, &line, &column);
                mark.line = line - 1;
                mark.column = column - 1;
        }
        return yaml_error_at(err, &mark, "%s", problem);
}

struct yaml_frame {
        json_t *container;  /* borrowed: held by its parent, or it is the root */
        char *key;          /* mapping key waiting for its value */
};

struct yaml_builder {
        json_t *root;
        struct yaml_frame stack[YAML_DEPTH_MAX];
        size_t depth;
        unsigned documents;
};

static void yaml_builder_done(struct yaml_builder *b)
{
        for (size_t i = 0; i < b->depth; i++)
                free(b->stack[i].key);
        json_decref(b->root);
        *b = (struct yaml_builder) {};
}

static struct yaml_frame *yaml_builder_top(struct yaml_builder *b)
{
        return b->depth > 0 ? &b->stack[b->depth - 1] : NULL;
}

/* True if the next node of the current mapping is a key. */
static bool yaml_builder_wants_key(struct yaml_builder *b)
{
        struct yaml_frame *f = yaml_builder_top(b);

        return f && json_is_object(f->container) && !f->key;
}

/* Put value (a new reference, taken even on failure) where the document needs it. */
static int yaml_builder_attach(struct yaml_builder *b, json_t *value)
{
        struct yaml_frame *f = yaml_builder_top(b);
        int r;

        if (!value)
                return -ENOMEM;

        if (!f) {
                b->root = value;
                return 0;
        }
        if (json_is_array(f->container))
                r = json_array_append_new(f->container, value);
        else {
                r = json_object_set_new(f->container, f->key, value);
                free(f->key);
                f->key = NULL;
        }
        return r < 0 ? -ENOMEM : 0;
}

static int yaml_check_scalar_text(const yaml_event_t *ev, struct ferry_error *err)
{
        const char *value = (const char *) ev->data.scalar.value;

        if (strlen(value) != ev->data.scalar.length)
                return yaml_error_at(err, &ev->start_mark, "NUL characters are not supported");
        return 0;
}

static json_t *yaml_scalar_value(enum yaml_kind kind, const char *s, const yaml_mark_t *mark,
                                 struct ferry_error *err, int *ret_error)
{
        char *end;

        *ret_error = 0;
        switch (kind) {
        case YAML_KIND_NULL:
                return json_null();
        case YAML_KIND_BOOL:
                return json_boolean(s[0] == 't' || s[0] == 'T');
        case YAML_KIND_INT: {
                long long v;

                errno = 0;
                v = strtoll(s, &end, 10);
                if (errno == ERANGE) {
                        *ret_error = yaml_error_at(err, mark, "integer '%s' is out of range", s);
                        return NULL;
                }
                return json_integer(v);
        }
        case YAML_KIND_FLOAT: {
                double v;

                if (looks_like_inf_or_nan(s)) {
                        *ret_error = yaml_error_at(err, mark, "'%s': infinity and NaN are not supported", s);
                        return NULL;
                }
                v = strtod(s, &end);
                if (isinf(v)) {
                        *ret_error = yaml_error_at(err, mark, "number '%s' is out of range", s);
                        return NULL;
                }
                return json_real(v);
        }
        case YAML_KIND_STRING:
                return json_string(s);
        default:
                *ret_error = -EINVAL;
                return NULL;
        }
}

static enum yaml_kind yaml_kind_from_tag(const char *tag)
{
        if (streq(tag, "!") || streq(tag, YAML_STR_TAG))
                return YAML_KIND_STRING;
        if (streq(tag, YAML_NULL_TAG))
                return YAML_KIND_NULL;
        if (streq(tag, YAML_BOOL_TAG))
                return YAML_KIND_BOOL;
        if (streq(tag, YAML_INT_TAG))
                return YAML_KIND_INT;
        if (streq(tag, YAML_FLOAT_TAG))
                return YAML_KIND_FLOAT;
        return _YAML_KIND_INVALID;
}

/* "!!int" rather than "tag:yaml.org,2002:int" in messages. */
static const char *yaml_tag_display(const char *tag, char *buf, size_t size)
{
        static const char core_prefix[] = "tag:yaml.org,2002:";

        if (!startswith(tag, core_prefix))
                return tag;
        snprintf(buf, size, "!!%s", tag + strlen(core_prefix));
        return buf;
}

static int yaml_builder_scalar(struct yaml_builder *b, const yaml_event_t *ev, struct ferry_error *err)
{
        const char *s = (const char *) ev->data.scalar.value, *tag = (const char *) ev->data.scalar.tag;
        char tag_buf[64];
        enum yaml_kind kind;
        json_t *value;
        int r;

        r = yaml_check_scalar_text(ev, err);
        if (r < 0)
                return r;

        if (yaml_builder_wants_key(b)) {
                struct yaml_frame *f = yaml_builder_top(b);

                if (json_object_get(f->container, s))
                        return yaml_error_at(err, &ev->start_mark, "duplicate key '%s'", s);
                f->key = strdup(s);
                return f->key ? 0 : -ENOMEM;
        }

        if (tag) {
                enum yaml_kind plain = yaml_classify_plain(s);

                kind = yaml_kind_from_tag(tag);
                if (kind < 0)
                        return yaml_error_at(err, &ev->start_mark, "unsupported tag '%s'",
                                             yaml_tag_display(tag, tag_buf, sizeof tag_buf));
                /* An explicit core tag must agree with the text; !!float also takes integers. */
                if (kind != YAML_KIND_STRING && plain != kind &&
                    !(kind == YAML_KIND_FLOAT && plain == YAML_KIND_INT))
                        return yaml_error_at(err, &ev->start_mark, "'%s' does not match tag '%s'", s,
                                             yaml_tag_display(tag, tag_buf, sizeof tag_buf));
        } else if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
                kind = yaml_classify_plain(s);
        else
                kind = YAML_KIND_STRING;

        value = yaml_scalar_value(kind, s, &ev->start_mark, err, &r);
        if (r < 0)
                return r;
        return yaml_builder_attach(b, value);
}

static int yaml_builder_start(struct yaml_builder *b, const yaml_event_t *ev, struct ferry_error *err)
{
        bool mapping = ev->type == YAML_MAPPING_START_EVENT;
        const char *tag = (const char *) (mapping ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
        char tag_buf[64];
        json_t *container;
        int r;

        if (tag && !streq(tag, mapping ? YAML_MAP_TAG : YAML_SEQ_TAG))
                return yaml_error_at(err, &ev->start_mark, "unsupported tag '%s'",
                                     yaml_tag_display(tag, tag_buf, sizeof tag_buf));
        if (yaml_builder_wants_key(b))
                return yaml_error_at(err, &ev->start_mark, "mapping keys must be scalars");
        if (b->depth >= YAML_DEPTH_MAX)
                return yaml_error_at(err, &ev->start_mark, "nesting is deeper than %d levels", YAML_DEPTH_MAX);

        container = mapping ? json_object() : json_array();
        r = yaml_builder_attach(b, json_incref(container));
        json_decref(container);
        if (r < 0)
                return r;

        b->stack[b->depth++] = (struct yaml_frame) { .container = container };
        return 0;
}

static int yaml_builder_event(struct yaml_builder *b, const yaml_event_t *ev, struct ferry_error *err)
{
        switch (ev->type) {
        case YAML_DOCUMENT_START_EVENT:
                if (b->documents++ > 0)
                        return yaml_error_at(err, &ev->start_mark, "multiple documents are not supported");
                return 0;

        case YAML_ALIAS_EVENT:
                return yaml_error_at(err, &ev->start_mark, "anchors and aliases are not supported");

        case YAML_SCALAR_EVENT:
                if (ev->data.scalar.anchor)
                        return yaml_error_at(err, &ev->start_mark, "anchors and aliases are not supported");
                return yaml_builder_scalar(b, ev, err);

        case YAML_SEQUENCE_START_EVENT:
                if (ev->data.sequence_start.anchor)
                        return yaml_error_at(err, &ev->start_mark, "anchors and aliases are not supported");
                return yaml_builder_start(b, ev, err);

        case YAML_MAPPING_START_EVENT:
                if (ev->data.mapping_start.anchor)
                        return yaml_error_at(err, &ev->start_mark, "anchors and aliases are not supported");
                return yaml_builder_start(b, ev, err);

        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
                if (b->depth > 0)
                        b->depth--;
                return 0;

        default:
                return 0;
        }
}

int yaml_parse_to_json(const char *buf, size_t len, json_t **ret, struct ferry_error *err)
{
        struct yaml_builder b = {};
        yaml_parser_t parser;
        bool done = false;
        int r = 0;

        if (!buf)
                return ferry_error_set(err, -EINVAL, "Invalid YAML: no input");
        if (!yaml_parser_initialize(&parser))
                return ferry_error_set(err, -ENOMEM, "Out of memory while parsing YAML");
        yaml_parser_set_input_string(&parser, (const unsigned char *) buf, len);
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

        while (!done) {
                yaml_event_t ev;

                if (!yaml_parser_parse(&parser, &ev)) {
                        r = yaml_parser_error(&parser, buf, len, err);
                        break;
                }
                done = ev.type == YAML_STREAM_END_EVENT;
                r = yaml_builder_event(&b, &ev, err);
                yaml_event_delete(&ev);
                if (r == -ENOMEM)
                        r = ferry_error_set(err, r, "Out of memory while parsing YAML");
                if (r < 0)
                        break;
        }
        yaml_parser_delete(&parser);

        if (r >= 0 && !b.root)
                b.root = json_null();
        if (r >= 0)
                *ret = TAKE_PTR(b.root);
        yaml_builder_done(&b);
        return r;
}

static int yaml_write_handler(void *data, unsigned char *buffer, size_t size)
{
        return strbuf_append_len(data, (const char *) buffer, size) >= 0;
}

static int yaml_emit(yaml_emitter_t *emitter, yaml_event_t *ev)
{
        /* The emitter owns the event from here on, whatever happens. */
        if (!yaml_emitter_emit(emitter, ev))
                return emitter->error == YAML_MEMORY_ERROR || emitter->error == YAML_WRITER_ERROR ? -ENOMEM
                                                                                                    : -EINVAL;
        return 0;
}

static int yaml_emit_plain(yaml_emitter_t *emitter, const char *text)
{
        yaml_event_t ev;

        if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) text, (int) strlen(text), 1, 0,
                                          YAML_PLAIN_SCALAR_STYLE))
                return -ENOMEM;
        return yaml_emit(emitter, &ev);
}

static int yaml_emit_string(yaml_emitter_t *emitter, const char *s, size_t len)
{
        yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
        yaml_event_t ev;

        if (len > INT32_MAX || strlen(s) != len)
                return -EINVAL;
        if (memchr(s, '\n', len))
                style = YAML_LITERAL_SCALAR_STYLE;

        /*
         * With plain_implicit off and quoted_implicit on, libyaml quotes the
         * string; otherwise it picks plain when the syntax allows.  It falls
         * back from a literal block to quotes where blocks cannot go.
         */
        if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) s, (int) len,
                                          yaml_string_may_be_plain(s), 1, style))
                return -ENOMEM;
        return yaml_emit(emitter, &ev);
}

/* The shortest text that reads back as the same double, always with a '.'. */
static void format_real(double d, char *buf, size_t size)
{
        char tmp[32], *e; /* "%.17g" needs at most 24 */

        for (int precision = 1; precision <= 17; precision++) {
                snprintf(tmp, sizeof tmp, "%.*g", precision, d);
                if (strtod(tmp, NULL) == d)
                        break;
        }

        if (strchr(tmp, '.'))
                snprintf(buf, size, "%s", tmp);
        else if ((e = strchr(tmp, 'e'))) {
                *e = '\0';
                snprintf(buf, size, "%s.0e%s", tmp, e + 1);
        } else
                snprintf(buf, size, "%s.0", tmp);
}

static int yaml_emit_value(yaml_emitter_t *emitter, const json_t *v, unsigned depth)
{
        yaml_event_t ev;
        char text[64];
        int r;

        switch (json_typeof(v)) {
        case JSON_OBJECT: {
                const char *key;
                json_t *child;

                if (depth >= YAML_DEPTH_MAX)
                        return -EINVAL;
                if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                                         json_object_size(v) == 0 ? YAML_FLOW_MAPPING_STYLE
                                                                                  : YAML_BLOCK_MAPPING_STYLE))
                        return -ENOMEM;
                r = yaml_emit(emitter, &ev);
                if (r < 0)
                        return r;

                json_object_foreach ((json_t *) v, key, child) {
                        r = yaml_emit_string(emitter, key, strlen(key));
                        if (r < 0)
                                return r;
                        r = yaml_emit_value(emitter, child, depth + 1);
                        if (r < 0)
                                return r;
                }

                if (!yaml_mapping_end_event_initialize(&ev))
                        return -ENOMEM;
                return yaml_emit(emitter, &ev);
        }

        case JSON_ARRAY: {
                size_t i;
                json_t *child;

                if (depth >= YAML_DEPTH_MAX)
                        return -EINVAL;
                if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                          json_array_size(v) == 0 ? YAML_FLOW_SEQUENCE_STYLE
                                                                                  : YAML_BLOCK_SEQUENCE_STYLE))
                        return -ENOMEM;
                r = yaml_emit(emitter, &ev);
                if (r < 0)
                        return r;

                json_array_foreach (v, i, child) {
                        r = yaml_emit_value(emitter, child, depth + 1);
                        if (r < 0)
                                return r;
                }

                if (!yaml_sequence_end_event_initialize(&ev))
                        return -ENOMEM;
                return yaml_emit(emitter, &ev);
        }

        case JSON_STRING:
                return yaml_emit_string(emitter, json_string_value(v), json_string_length(v));

        case JSON_INTEGER:
                snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return yaml_emit_plain(emitter, text);

        case JSON_REAL:
                format_real(json_real_value(v), text, sizeof text);
                return yaml_emit_plain(emitter, text);

        case JSON_TRUE:
                return yaml_emit_plain(emitter, "true");

        case JSON_FALSE:
                return yaml_emit_plain(emitter, "false");

        case JSON_NULL:
                return yaml_emit_plain(emitter, "null");

        default:
                return -EINVAL;
        }
}

int json_to_yaml(const json_t *v, char **ret)
{
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        yaml_emitter_t emitter;
        yaml_event_t ev;
        char *s;
        int r;

        if (!v)
                return -EINVAL;
        if (!yaml_emitter_initialize(&emitter))
                return -ENOMEM;
        yaml_emitter_set_output(&emitter, yaml_write_handler, &out);
        yaml_emitter_set_unicode(&emitter, 1);
        yaml_emitter_set_indent(&emitter, 2);
        yaml_emitter_set_width(&emitter, -1);

        r = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ? yaml_emit(&emitter, &ev) : -ENOMEM;
        if (r >= 0)
                r = yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ? yaml_emit(&emitter, &ev)
                                                                                      : -ENOMEM;
        if (r >= 0)
                r = yaml_emit_value(&emitter, v, 0);
        if (r >= 0)
                r = yaml_document_end_event_initialize(&ev, 1) ? yaml_emit(&emitter, &ev) : -ENOMEM;
        if (r >= 0)
                r = yaml_stream_end_event_initialize(&ev) ? yaml_emit(&emitter, &ev) : -ENOMEM;
        if (r >= 0 && !yaml_emitter_flush(&emitter))
                r = -ENOMEM;
        yaml_emitter_delete(&emitter);
        if (r < 0)
                return r;

        s = strbuf_steal(&out);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
