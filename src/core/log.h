/* Library logging through the user's callback (zn_log_set); never prints itself. */
#ifndef ZN_CORE_LOG_H
#define ZN_CORE_LOG_H

#include "core/common.h"

#ifndef ZN_LOG_FLOOR
#define ZN_LOG_FLOOR ZN_LOG_DEBUG /* compile-time floor: levels above it vanish */
#endif

ZN_INTERNAL void zn_log_write(zn_log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
ZN_INTERNAL bool zn_log_enabled(zn_log_level level);

#define ZN_LOG(level, ...) do { if ((level) <= ZN_LOG_FLOOR && zn_log_enabled(level)) \
  zn_log_write((level), __FILE__, __LINE__, __VA_ARGS__); } while (0)
#define zn_log_error(...) ZN_LOG(ZN_LOG_ERROR, __VA_ARGS__)
#define zn_log_warn(...) ZN_LOG(ZN_LOG_WARN, __VA_ARGS__)
#define zn_log_info(...) ZN_LOG(ZN_LOG_INFO, __VA_ARGS__)
#define zn_log_debug(...) ZN_LOG(ZN_LOG_DEBUG, __VA_ARGS__)

#endif
