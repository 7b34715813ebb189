/* Per-thread error messages: zn_error() records "failed to ...: why" and
 * returns the status, so call sites read `return zn_error(ZN_ERR_X, "...")`. */
#ifndef ZN_CORE_STATUS_H
#define ZN_CORE_STATUS_H

#include "core/common.h"

#define ZN_ERROR_MAX 1024

/* Record a formatted message for the calling thread and return status. */
ZN_INTERNAL zn_status zn_error(zn_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the current message with more context ("loading x.onnx: " + old). */
ZN_INTERNAL zn_status zn_error_prefix(zn_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
ZN_INTERNAL void zn_error_clear(void);

#endif
