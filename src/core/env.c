/* Tuning switches from the environment (env.h). */
#include "core/env.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"

size_t zn_env_kib(const char *name, size_t fallback, const char *zero_means) {
  const char *e = getenv(name);
  if (!e || !*e) return fallback;
  char *end = NULL;
  const long kb = strtol(e, &end, 10);
  if (end && *end == '\0' && kb >= 0 && kb <= 1L << 30) return (size_t)kb * 1024;
  zn_log_warn("ignoring %s='%s' (want KiB, 0 = %s)", name, e, zero_means);
  return fallback;
}

bool zn_env_bool(const char *name, bool fallback) {
  const char *e = getenv(name);
  if (!e || !*e) return fallback;
  if (!strcmp(e, "0")) return false;
  if (!strcmp(e, "1")) return true;
  zn_log_warn("ignoring %s='%s' (want 0 or 1)", name, e);
  return fallback;
}
