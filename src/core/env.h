/* Tuning switches read from the environment (ZN_ONEDNN_*, ZN_XNNPACK_*): one
 * parser per kind of value, so every switch accepts and rejects the same way
 * and a bad value is named in a warning, never silently taken. */
#ifndef ZN_CORE_ENV_H
#define ZN_CORE_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "core/common.h"

/* A size in KiB (0 .. 2^30) from `name`, in bytes; `fallback` when unset or
 * invalid (warned, with what 0 means). */
ZN_INTERNAL size_t zn_env_kib(const char *name, size_t fallback, const char *zero_means);
/* "0" or "1" from `name`; `fallback` when unset or anything else (warned). */
ZN_INTERNAL bool zn_env_bool(const char *name, bool fallback);

#endif
