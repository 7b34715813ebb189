/* The process-wide log sink. Set once before threads start (documented). */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

static zn_log_fn log_fn;
static void *log_user;
static zn_log_level log_max = ZN_LOG_WARN;

ZN_PUBLIC void zn_log_set(zn_log_fn fn, void *user, zn_log_level max_level) {
  log_fn = fn;
  log_user = user;
  log_max = max_level;
}

bool zn_log_enabled(zn_log_level level) { return log_fn != NULL && level <= log_max; }

void zn_log_write(zn_log_level level, const char *file, int line, const char *fmt, ...) {
  char msg[1024];
  int n = 0;
  if (level == ZN_LOG_DEBUG) n = snprintf(msg, sizeof msg, "%s:%d: ", file, line);
  if (n < 0 || (size_t)n >= sizeof msg) n = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
  va_end(ap);
  if (log_fn) log_fn(level, msg, log_user);
}
