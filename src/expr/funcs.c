/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "common/macros.h"
#include "expr/funcs.h"
#include "expr/utf8.h"

static const struct func funcs[] = {
        { "len", FUNC_LEN, 1, 1, false },
        { "all", FUNC_ALL, 2, 2, true },
        { "any", FUNC_ANY, 2, 2, true },
        { "none", FUNC_NONE, 2, 2, true },
        { "one", FUNC_ONE, 2, 2, true },
        { "filter", FUNC_FILTER, 2, 2, true },
        { "map", FUNC_MAP, 2, 2, true },
        { "count", FUNC_COUNT, 1, 2, true },
        { "lower", FUNC_LOWER, 1, 1, false },
        { "upper", FUNC_UPPER, 1, 1, false },
        { "trim", FUNC_TRIM, 1, 2, false },
        { "hasPrefix", FUNC_HASPREFIX, 2, 2, false },
        { "hasSuffix", FUNC_HASSUFFIX, 2, 2, false },
        { "path_base", FUNC_PATH_BASE, 1, 1, false },
        { "path_dir", FUNC_PATH_DIR, 1, 1, false },
        { "has_tag", FUNC_HAS_TAG, 2, 2, false },
        { "matches_tag", FUNC_MATCHES_TAG, 2, 2, false },
};

const char func_names[] = "len, all, any, none, one, filter, map, count, lower, upper, trim, "
                          "hasPrefix, hasSuffix, path_base, path_dir, has_tag, matches_tag";

const struct func *func_lookup(const char *name, size_t len)
{
        for (size_t i = 0; i < ELEMENTSOF(funcs); i++)
                if (strlen(funcs[i].name) == len && memcmp(funcs[i].name, name, len) == 0)
                        return &funcs[i];
        return NULL;
}

typedef uint32_t (*rune_map_t)(uint32_t cp);

/* Map every character; no mapping makes a character longer in UTF-8. */
static const char *str_map(struct arena *a, const char *s, size_t n, rune_map_t map, size_t *ret_len)
{
        char *out = arena_alloc(a, n + 1);
        size_t i = 0, o = 0;

        if (!out)
                return NULL;
        while (i < n) {
                uint32_t cp;
                size_t len = utf8_decode(s + i, n - i, &cp);
                char enc[4];
                size_t elen;

                if (len == 0) {
                        out[o++] = s[i++];
                        continue;
                }
                elen = utf8_encode(map(cp), enc);
                if (elen > len) {
                        /* Cannot happen with the tables in utf8.c; keep the original. */
                        memcpy(out + o, s + i, len);
                        o += len;
                } else {
                        memcpy(out + o, enc, elen);
                        o += elen;
                }
                i += len;
        }
        out[o] = '\0';
        *ret_len = o;
        return out;
}

const char *str_lower(struct arena *a, const char *s, size_t n, size_t *ret_len)
{
        return str_map(a, s, n, utf8_to_lower, ret_len);
}

const char *str_upper(struct arena *a, const char *s, size_t n, size_t *ret_len)
{
        return str_map(a, s, n, utf8_to_upper, ret_len);
}

/* Length of the character ending at s[n - 1], and the character. */
static size_t last_rune(const char *s, size_t n, uint32_t *ret_cp)
{
        size_t start = n - 1;

        while (start > 0 && n - start < 4 && ((unsigned char) s[start] & 0xC0) == 0x80)
                start--;
        if (utf8_decode(s + start, n - start, ret_cp) == n - start)
                return n - start;
        *ret_cp = 0xFFFD;
        return 1;
}

static bool in_cutset(uint32_t cp, const char *cutset, size_t cutset_len)
{
        size_t i = 0;

        while (i < cutset_len) {
                uint32_t c;
                size_t len = utf8_decode(cutset + i, cutset_len - i, &c);

                if (len == 0) {
                        c = 0xFFFD;
                        len = 1;
                }
                if (c == cp)
                        return true;
                i += len;
        }
        return false;
}

static const char *str_trim(const char *s, size_t n, const char *cutset, size_t cutset_len, size_t *ret_len)
{
        size_t start = 0, end = n;

        while (start < end) {
                uint32_t cp;
                size_t len = utf8_decode(s + start, end - start, &cp);

                if (len == 0) {
                        cp = 0xFFFD;
                        len = 1;
                }
                if (cutset ? !in_cutset(cp, cutset, cutset_len) : !utf8_is_space(cp))
                        break;
                start += len;
        }
        while (end > start) {
                uint32_t cp;
                size_t len = last_rune(s + start, end - start, &cp);

                if (cutset ? !in_cutset(cp, cutset, cutset_len) : !utf8_is_space(cp))
                        break;
                end -= len;
        }
        *ret_len = end - start;
        return s + start;
}

const char *str_trim_space(const char *s, size_t n, size_t *ret_len)
{
        return str_trim(s, n, NULL, 0, ret_len);
}

const char *str_trim_cutset(const char *s, size_t n, const char *cutset, size_t cutset_len, size_t *ret_len)
{
        if (cutset_len == 0) {
                *ret_len = n;
                return s;
        }
        return str_trim(s, n, cutset, cutset_len, ret_len);
}

const char *path_base(const char *s, size_t n, size_t *ret_len)
{
        size_t i;

        if (n == 0) {
                *ret_len = 1;
                return ".";
        }
        while (n > 0 && s[n - 1] == '/')
                n--;
        if (n == 0) {
                *ret_len = 1;
                return "/";
        }
        i = n;
        while (i > 0 && s[i - 1] != '/')
                i--;
        *ret_len = n - i;
        return s + i;
}

/* Go's path.Clean of s[0..n) into out (n + 2 bytes); returns the length. */
static size_t path_clean(const char *s, size_t n, char *out)
{
        bool rooted = n > 0 && s[0] == '/';
        size_t r = 0, w = 0, dotdot = 0;

        if (n == 0) {
                out[0] = '.';
                return 1;
        }
        if (rooted) {
                out[w++] = '/';
                r = dotdot = 1;
        }
        while (r < n) {
                if (s[r] == '/')
                        r++;
                else if (s[r] == '.' && (r + 1 == n || s[r + 1] == '/'))
                        r++;
                else if (s[r] == '.' && r + 1 < n && s[r + 1] == '.' && (r + 2 == n || s[r + 2] == '/')) {
                        r += 2;
                        if (w > dotdot) {
                                w--;
                                while (w > dotdot && out[w] != '/')
                                        w--;
                        } else if (!rooted) {
                                if (w > 0)
                                        out[w++] = '/';
                                out[w++] = '.';
                                out[w++] = '.';
                                dotdot = w;
                        }
                } else {
                        if ((rooted && w != 1) || (!rooted && w != 0))
                                out[w++] = '/';
                        while (r < n && s[r] != '/')
                                out[w++] = s[r++];
                }
        }
        if (w == 0) {
                out[0] = '.';
                return 1;
        }
        return w;
}

const char *path_dir(struct arena *a, const char *s, size_t n, size_t *ret_len)
{
        size_t i = n;
        char *out;

        while (i > 0 && s[i - 1] != '/')
                i--;
        /* Clean(s[:i]) never grows by more than one byte ("." for ""). */
        out = arena_alloc(a, i + 2);
        if (!out)
                return NULL;
        *ret_len = path_clean(s, i, out);
        out[*ret_len] = '\0';
        return out;
}
