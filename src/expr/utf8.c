/* SPDX-License-Identifier: Apache-2.0 */
#include "expr/utf8.h"

size_t utf8_decode(const char *s, size_t n, uint32_t *ret_cp)
{
        const unsigned char *u = (const unsigned char *) s;
        uint32_t cp, min;
        size_t len;

        if (n == 0)
                return 0;
        if (u[0] < 0x80) {
                *ret_cp = u[0];
                return 1;
        }
        if ((u[0] & 0xE0) == 0xC0) {
                len = 2;
                cp = u[0] & 0x1F;
                min = 0x80;
        } else if ((u[0] & 0xF0) == 0xE0) {
                len = 3;
                cp = u[0] & 0x0F;
                min = 0x800;
        } else if ((u[0] & 0xF8) == 0xF0) {
                len = 4;
                cp = u[0] & 0x07;
                min = 0x10000;
        } else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((u[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (u[i] & 0x3F);
        }
        if (cp < min || cp > UTF8_MAX_RUNE || (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;
        *ret_cp = cp;
        return len;
}

size_t utf8_encode(uint32_t cp, char out[static 4])
{
        unsigned char *u = (unsigned char *) out;

        if (cp < 0x80) {
                u[0] = (unsigned char) cp;
                return 1;
        }
        if (cp < 0x800) {
                u[0] = (unsigned char) (0xC0 | (cp >> 6));
                u[1] = (unsigned char) (0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                u[0] = (unsigned char) (0xE0 | (cp >> 12));
                u[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
                u[2] = (unsigned char) (0x80 | (cp & 0x3F));
                return 3;
        }
        u[0] = (unsigned char) (0xF0 | (cp >> 18));
        u[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3F));
        u[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
        u[3] = (unsigned char) (0x80 | (cp & 0x3F));
        return 4;
}

size_t utf8_invalid_offset(const char *s, size_t n)
{
        size_t i = 0;

        while (i < n) {
                uint32_t cp;
                size_t len;

                if ((unsigned char) s[i] < 0x80) {
                        i++;
                        continue;
                }
                len = utf8_decode(s + i, n - i, &cp);
                if (len == 0)
                        return i;
                i += len;
        }
        return n;
}

size_t utf8_count(const char *s, size_t n)
{
        size_t i = 0, count = 0;

        while (i < n) {
                uint32_t cp;
                size_t len = utf8_decode(s + i, n - i, &cp);

                i += len ? len : 1;
                count++;
        }
        return count;
}

uint32_t utf8_to_lower(uint32_t cp)
{
        if (cp < 0x80)
                return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
        if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
                return cp + 32;
        if (cp == 0x130)
                return 'i';
        if (cp >= 0x100 && cp <= 0x137 && cp != 0x131)
                return cp | 1;
        if (cp >= 0x139 && cp <= 0x148)
                return (cp & 1) ? cp + 1 : cp;
        if (cp >= 0x14A && cp <= 0x177)
                return cp | 1;
        if (cp == 0x178)
                return 0xFF;
        if (cp >= 0x179 && cp <= 0x17E)
                return (cp & 1) ? cp + 1 : cp;
        if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2)
                return cp + 32;
        if (cp >= 0x386 && cp <= 0x38F) {
                switch (cp) {
                case 0x386: return 0x3AC;
                case 0x388: return 0x3AD;
                case 0x389: return 0x3AE;
                case 0x38A: return 0x3AF;
                case 0x38C: return 0x3CC;
                case 0x38E: return 0x3CD;
                case 0x38F: return 0x3CE;
                default: return cp;
                }
        }
        if (cp >= 0x410 && cp <= 0x42F)
                return cp + 32;
        if (cp >= 0x400 && cp <= 0x40F)
                return cp + 80;
        return cp;
}

uint32_t utf8_to_upper(uint32_t cp)
{
        if (cp < 0x80)
                return cp >= 'a' && cp <= 'z' ? cp - 32 : cp;
        if (cp == 0xB5)
                return 0x39C;
        if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7)
                return cp - 32;
        if (cp == 0xFF)
                return 0x178;
        if (cp == 0x131)
                return 'I';
        if (cp == 0x17F)
                return 'S';
        if (cp >= 0x100 && cp <= 0x137 && cp != 0x130)
                return cp & ~(uint32_t) 1;
        if (cp >= 0x139 && cp <= 0x148)
                return (cp & 1) ? cp : cp - 1;
        if (cp >= 0x14A && cp <= 0x177)
                return cp & ~(uint32_t) 1;
        if (cp >= 0x179 && cp <= 0x17E)
                return (cp & 1) ? cp : cp - 1;
        if (cp >= 0x3B1 && cp <= 0x3CB && cp != 0x3C2)
                return cp - 32;
        if (cp == 0x3C2)
                return 0x3A3;
        switch (cp) {
        case 0x3AC: return 0x386;
        case 0x3AD: return 0x388;
        case 0x3AE: return 0x389;
        case 0x3AF: return 0x38A;
        case 0x3CC: return 0x38C;
        case 0x3CD: return 0x38E;
        case 0x3CE: return 0x38F;
        default: break;
        }
        if (cp >= 0x430 && cp <= 0x44F)
                return cp - 32;
        if (cp >= 0x450 && cp <= 0x45F)
                return cp - 80;
        return cp;
}

bool utf8_is_space(uint32_t cp)
{
        switch (cp) {
        case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
        case 0x85: case 0xA0: case 0x1680:
        case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
                return true;
        default:
                return cp >= 0x2000 && cp <= 0x200A;
        }
}
