/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/macros.h"
#include "target/incus/migration.h"

enum {
        WIRE_VARINT = 0,
        WIRE_FIXED64 = 1,
        WIRE_BYTES = 2,
        WIRE_FIXED32 = 5,
};

static size_t varint_encode(uint64_t v, uint8_t *out)
{
        size_t n = 0;

        do {
                uint8_t b = v & 0x7f;

                v >>= 7;
                out[n++] = b | (v ? 0x80 : 0);
        } while (v);
        return n;
}

/* 1 and *pos advanced, or 0 when the varint is cut or longer than 10 bytes. */
static int varint_decode(const uint8_t *buf, size_t len, size_t *pos, uint64_t *ret)
{
        uint64_t v = 0;

        for (unsigned shift = 0; shift < 70; shift += 7) {
                uint8_t b;

                if (*pos >= len)
                        return 0;
                b = buf[(*pos)++];
                v |= (uint64_t) (b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        *ret = v;
                        return 1;
                }
        }
        return 0;
}

size_t incus_migration_header_encode(uint64_t volume_size, uint8_t out[static INCUS_MIGRATION_HEADER_MAX])
{
        size_t n = 0;

        out[n++] = (1 << 3) | WIRE_VARINT;
        out[n++] = INCUS_MIGRATION_FS_BLOCK_AND_RSYNC;
        out[n++] = (11 << 3) | WIRE_VARINT;
        n += varint_encode(volume_size, out + n);
        return n;
}

/*
 * Walk the fields of a message: for each, call field() with the number,
 * the varint value (WIRE_VARINT) or the bytes (WIRE_BYTES).  Returns 0, or
 * a static reason for malformed input.
 */
typedef void (*field_fn)(void *userdata, uint64_t number, unsigned wire, uint64_t value, const uint8_t *bytes,
                         size_t len);

static const char *walk_fields(const void *data, size_t len, field_fn field, void *userdata)
{
        const uint8_t *buf = data;
        size_t pos = 0;

        while (pos < len) {
                uint64_t key, value = 0;
                unsigned wire;

                if (!varint_decode(buf, len, &pos, &key))
                        return "truncated field key";
                wire = key & 7;
                if ((key >> 3) == 0)
                        return "field number 0";

                switch (wire) {
                case WIRE_VARINT:
                        if (!varint_decode(buf, len, &pos, &value))
                                return "truncated varint";
                        field(userdata, key >> 3, wire, value, NULL, 0);
                        break;
                case WIRE_FIXED64:
                        if (len - pos < 8)
                                return "truncated fixed64";
                        pos += 8;
                        break;
                case WIRE_FIXED32:
                        if (len - pos < 4)
                                return "truncated fixed32";
                        pos += 4;
                        break;
                case WIRE_BYTES:
                        if (!varint_decode(buf, len, &pos, &value))
                                return "truncated length";
                        if (value > len - pos)
                                return "length past the end";
                        field(userdata, key >> 3, wire, 0, buf + pos, (size_t) value);
                        pos += (size_t) value;
                        break;
                default:
                        return "unsupported wire type";
                }
        }
        return NULL;
}

static void header_field(void *userdata, uint64_t number, unsigned wire, uint64_t value, const uint8_t *bytes,
                         size_t len)
{
        struct incus_migration_header *h = userdata;

        (void) bytes;
        (void) len;
        if (wire != WIRE_VARINT)
                return;
        if (number == 1)
                h->fs = (int64_t) value;
        else if (number == 11)
                h->volume_size = (int64_t) value;
        else if (number == 9)
                h->refresh = value != 0;
}

int incus_migration_header_decode(const void *buf, size_t len, struct incus_migration_header *ret,
                                  struct ferry_error *err)
{
        struct incus_migration_header h = { .fs = -1, .volume_size = -1 };
        const char *why = walk_fields(buf, len, header_field, &h);

        if (why)
                return ferry_error_set(err, -EBADMSG, "Invalid migration header from Incus: %s", why);
        if (h.fs < 0)
                return ferry_error_set(err, -EBADMSG, "Invalid migration header from Incus: no filesystem type");
        *ret = h;
        return 0;
}

int incus_migration_control_encode(bool success, const char *message, uint8_t **ret, size_t *ret_len)
{
        size_t mlen = message ? strlen(message) : 0, n = 0;
        uint8_t *out = malloc(2 + (message ? 1 + 10 + mlen : 0));

        if (!out)
                return -ENOMEM;
        out[n++] = (1 << 3) | WIRE_VARINT;
        out[n++] = success ? 1 : 0;
        if (message) {
                out[n++] = (2 << 3) | WIRE_BYTES;
                n += varint_encode(mlen, out + n);
                memcpy(out + n, message, mlen);
                n += mlen;
        }
        *ret = out;
        *ret_len = n;
        return 0;
}

struct control {
        int success;            /* -1 absent */
        const uint8_t *message;
        size_t message_len;
};

static void control_field(void *userdata, uint64_t number, unsigned wire, uint64_t value, const uint8_t *bytes,
                          size_t len)
{
        struct control *c = userdata;

        if (number == 1 && wire == WIRE_VARINT)
                c->success = value != 0;
        else if (number == 2 && wire == WIRE_BYTES) {
                c->message = bytes;
                c->message_len = len;
        }
}

int incus_migration_control_decode(const void *buf, size_t len, bool *ret_success, char **ret_message,
                                   struct ferry_error *err)
{
        struct control c = { .success = -1 };
        const char *why = walk_fields(buf, len, control_field, &c);
        char *message = NULL;

        if (why)
                return ferry_error_set(err, -EBADMSG, "Invalid migration control message from Incus: %s", why);
        if (c.success < 0)
                return ferry_error_set(err, -EBADMSG, "Invalid migration control message from Incus: no success field");
        if (c.message && c.message_len > 0) {
                message = strndup((const char *) c.message, c.message_len);
                if (!message)
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
        }
        *ret_success = c.success;
        *ret_message = message;
        return 0;
}
