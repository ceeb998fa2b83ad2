/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the scriptlet modules (placement.c) need of the sandbox beyond its
 * public interface: the Lua state itself and JSON <-> Lua conversions.
 * Not for use outside src/scriptlet/.
 */
#ifndef FERRY_SCRIPTLET_SANDBOX_INTERNAL_H
#define FERRY_SCRIPTLET_SANDBOX_INTERNAL_H

#include <lua.h>

#include "scriptlet/sandbox.h"

lua_State *scriptlet_lua(struct scriptlet *s);
struct scriptlet *scriptlet_from_lua(lua_State *L);

/* Push v (NULL: nil) onto s's stack, protected against the memory cap. */
int scriptlet_push_json(struct scriptlet *s, const json_t *v, struct ferry_error *err);
/* The same inside a Lua C function: errors are Lua errors. */
int scriptlet_lua_push_json(lua_State *L, const json_t *v);

/*
 * The Lua value at idx as JSON (a new value in *ret): nil is null, a table
 * with keys 1..n an array, one with string keys an object; functions and
 * other types, NaN, infinities, invalid UTF-8, more than 32 levels or
 * 100000 items are refused with a message saying why.  Raises no Lua error.
 */
int scriptlet_to_json(lua_State *L, int idx, json_t **ret, struct ferry_error *err);

/* Raise a Lua error with a formatted message (cut to FERRY_ERROR_MESSAGE_MAX). */
int scriptlet_raise(lua_State *L, const char *fmt, ...) _printf_(2, 3);

#endif
