/* Status strings (from zenith_status.def) and the per-thread error buffer. */
#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[ZN_ERROR_MAX];

ZN_PUBLIC const char *zn_status_string(zn_status status) {
  switch (status) {
#define ZN_STATUS(name, number, text) case name: return text;
#include "zenith_status.def"
#undef ZN_STATUS
  }
  return "unknown status";
}

ZN_PUBLIC const char *zn_last_error(void) { return last_error; }

zn_status zn_error(zn_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}

zn_status zn_error_prefix(zn_status status, const char *fmt, ...) {
  char old[ZN_ERROR_MAX];
  memcpy(old, last_error, sizeof old);
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n < sizeof last_error)
    snprintf(last_error + n, sizeof last_error - (size_t)n, "%s", old);
  return status;
}

void zn_error_clear(void) { last_error[0] = '\0'; }
