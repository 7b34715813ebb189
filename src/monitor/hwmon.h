/* hwmon sensors, shared by the power probe (power, current, voltage) and the
 * thermal probe (temperatures): through libsensors when built with it and
 * reading the real system, else straight from <root>/sys/class/hwmon. */
#ifndef ZN_MONITOR_HWMON_H
#define ZN_MONITOR_HWMON_H

#include "monitor/probe.h"

typedef enum zn_hwmon_class {
  ZN_HWMON_ELECTRIC = 0, /* power (W), current (A), voltage (V); power derived as V x I where missing */
  ZN_HWMON_TEMP = 1      /* temperatures (C) */
} zn_hwmon_class;

typedef struct zn_hwmon zn_hwmon;

/* Find the sensors of one class and register a channel for each (named
 * "<prefix>.<chip>.<label>_<unit>"). *out is NULL when there are none (the
 * source is then recorded absent). For ZN_HWMON_ELECTRIC, *total_idx_out
 * gets the channel that measures a whole board's input (see monitor.md),
 * or -1. Fails only on OOM. */
ZN_INTERNAL zn_status zn_hwmon_open(zn_probe_env *env, zn_hwmon_class cls, zn_hwmon **out, int *total_idx_out);
ZN_INTERNAL void zn_hwmon_sample(zn_hwmon *h, double *row);
ZN_INTERNAL void zn_hwmon_close(zn_hwmon *h);

#endif
