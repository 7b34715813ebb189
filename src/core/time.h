/* Monotonic time with the unit in the name. */
#ifndef ZN_CORE_TIME_H
#define ZN_CORE_TIME_H

#include <stdint.h>
#include <time.h>

typedef int64_t zn_time_ns;

static inline zn_time_ns zn_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (zn_time_ns)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
