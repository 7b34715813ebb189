/* Power probe for Linux: RAPL energy counters from powercap
 * (/sys/class/powercap/intel-rapl:*, watts = energy delta / time, across the
 * counter's wrap at max_energy_range_uj) and hwmon power, current and
 * voltage (hwmon.c: libsensors or sysfs; INA219/INA3221 boards). Also a
 * "power.total_w" channel when one source measures the whole machine. */
#if defined(__linux__)
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"
#include "monitor/hwmon.h"
#include "monitor/probe.h"

#define MAX_ZONES 32

typedef struct rapl_zone {
  zn_pfile energy;
  uint64_t max_range_uj;
  uint64_t prev_uj;
  bool have_prev;
  bool top, psys;
  int chan;
  double watts; /* this sample's value, for the total */
} rapl_zone;

typedef struct power_state {
  rapl_zone zones[MAX_ZONES];
  int num_zones;
  zn_time_ns prev_t;
  int idx_total;        /* power.total_w */
  int total_from_hwmon; /* hwmon channel copied into the total, or -1 */
  zn_hwmon *hwmon;
} power_state;

static void power_close(void *p) {
  power_state *s = p;
  if (!s) return;
  for (int i = 0; i < s->num_zones; i++) zn_pfile_close(&s->zones[i].energy);
  zn_hwmon_close(s->hwmon);
  zn_free(s);
}

static int cmp_str(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

static void rapl_open(zn_probe_env *env, power_state *s) {
  char dir[ZN_PROBE_PATH_MAX];
  DIR *d = zn_probe_path(dir, sizeof dir, env->root, "/sys/class/powercap") ? opendir(dir) : NULL;
  if (!d) {
    zn_probe_add_source(env, "powercap/RAPL", false, "no /sys/class/powercap");
    return;
  }
  char ids[MAX_ZONES][32];
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) && n < MAX_ZONES)
    if (strncmp(de->d_name, "intel-rapl:", 11) == 0 && strlen(de->d_name) < sizeof ids[0])
      memcpy(ids[n++], de->d_name, strlen(de->d_name) + 1);
  closedir(d);
  qsort(ids, (size_t)n, sizeof ids[0], cmp_str);
  int denied = 0, num_top = 0;
  char first_psys = 0;
  for (int i = 0; i < n; i++) {
    char path[ZN_PROBE_PATH_MAX], name[40] = "", parent_name[40] = "";
    snprintf(path, sizeof path, "/sys/class/powercap/%.31s/name", ids[i]);
    if (!zn_probe_read_line(env->root, path, name, sizeof name) || !name[0]) continue;
    rapl_zone *z = &s->zones[s->num_zones];
    memset(z, 0, sizeof *z);
    z->chan = -1;
    snprintf(path, sizeof path, "/sys/class/powercap/%.31s/energy_uj", ids[i]);
    int64_t e;
    if (!zn_pfile_open(&z->energy, env->root, path) || !zn_pfile_read_i64(&z->energy, &e)) {
      if (errno == EACCES || errno == EPERM) denied++;
      zn_pfile_close(&z->energy);
      continue;
    }
    char buf[32];
    snprintf(path, sizeof path, "/sys/class/powercap/%.31s/max_energy_range_uj", ids[i]);
    if (zn_probe_read_line(env->root, path, buf, sizeof buf)) z->max_range_uj = strtoull(buf, NULL, 10);
    z->top = strchr(ids[i] + 11, ':') == NULL;
    z->psys = z->top && strcmp(name, "psys") == 0;
    char chan[64], src[112];
    if (z->top) {
      snprintf(chan, sizeof chan, "power.rapl.%s_w", name);
      num_top++;
    } else {
      /* Subzones repeat names ("core" under each package): prefix the parent's. */
      char pid[32];
      snprintf(pid, sizeof pid, "%.31s", ids[i]);
      *strrchr(pid, ':') = '\0';
      snprintf(path, sizeof path, "/sys/class/powercap/%.31s/name", pid);
      if (!zn_probe_read_line(env->root, path, parent_name, sizeof parent_name))
        snprintf(parent_name, sizeof parent_name, "%.31s", pid);
      snprintf(chan, sizeof chan, "power.rapl.%.20s.%.20s_w", parent_name, name);
    }
    snprintf(src, sizeof src, "/sys/class/powercap/%.31s energy_uj", ids[i]);
    z->chan = zn_probe_add_channel(env, chan, "W", ZN_MONITOR_RATE, src);
    if (z->psys) first_psys = 1;
    s->num_zones++;
  }
  if (s->num_zones == 0) {
    zn_probe_add_source(env, "powercap/RAPL", false, "%s",
                        n == 0   ? "no intel-rapl zones under /sys/class/powercap"
                        : denied ? "energy_uj not readable (root only since Linux 5.10; see monitor.md)"
                                 : "intel-rapl zones have no readable energy counter");
    return;
  }
  zn_probe_add_source(env, "powercap/RAPL", true, "%d zones, %d top-level%s", s->num_zones, num_top,
                      first_psys ? " incl. psys" : "");
}

static zn_status power_open(zn_probe_env *env, void **state_out) {
  *state_out = NULL;
  power_state *s = zn_calloc(1, sizeof *s);
  if (!s) return zn_error(ZN_ERR_OUT_OF_MEMORY, "out of memory");
  s->idx_total = s->total_from_hwmon = -1;
  rapl_open(env, s);
  int hw_total = -1;
  zn_status st = zn_hwmon_open(env, ZN_HWMON_ELECTRIC, &s->hwmon, &hw_total);
  if (st != ZN_OK) {
    power_close(s);
    return st;
  }
  bool psys = false;
  int packages = 0;
  for (int i = 0; i < s->num_zones; i++) {
    psys |= s->zones[i].psys;
    packages += s->zones[i].top && !s->zones[i].psys;
  }
  if (psys || packages) {
    s->idx_total = zn_probe_add_channel(
        env, ZN_MONITOR_POWER_TOTAL, "W", ZN_MONITOR_RATE,
        psys ? "RAPL psys (whole platform)" : "RAPL sum of packages (CPU sockets + their DRAM/uncore)");
  } else if (hw_total >= 0) {
    s->total_from_hwmon = hw_total;
    s->idx_total = zn_probe_add_channel(env, ZN_MONITOR_POWER_TOTAL, "W", ZN_MONITOR_GAUGE,
                                        zn_monitor_channel_at(env->monitor, (size_t)hw_total)->name);
  }
  if (s->num_zones == 0 && !s->hwmon) {
    power_close(s);
    return ZN_OK;
  }
  *state_out = s;
  return ZN_OK;
}

static void power_sample(void *p, zn_probe_env *env, zn_time_ns now, double *row) {
  power_state *s = p;
  (void)env;
  double dt_s = s->prev_t > 0 && now > s->prev_t ? (double)(now - s->prev_t) * 1e-9 : 0;
  for (int i = 0; i < s->num_zones; i++) {
    rapl_zone *z = &s->zones[i];
    int64_t e;
    z->watts = NAN;
    if (!zn_pfile_read_i64(&z->energy, &e) || e < 0) {
      z->have_prev = false;
      continue;
    }
    uint64_t delta;
    if (z->have_prev && dt_s > 0 && zn_rapl_delta_uj(z->prev_uj, (uint64_t)e, z->max_range_uj, &delta))
      z->watts = (double)delta * 1e-6 / dt_s;
    if (z->chan >= 0) row[z->chan] = z->watts;
    z->prev_uj = (uint64_t)e;
    z->have_prev = true;
  }
  s->prev_t = now;
  if (s->hwmon) zn_hwmon_sample(s->hwmon, row);
  if (s->idx_total < 0) return;
  if (s->total_from_hwmon >= 0) {
    row[s->idx_total] = row[s->total_from_hwmon];
    return;
  }
  double total = 0;
  bool psys = false;
  for (int i = 0; i < s->num_zones; i++)
    if (s->zones[i].psys) {
      total = s->zones[i].watts;
      psys = true;
    }
  if (!psys)
    for (int i = 0; i < s->num_zones; i++)
      if (s->zones[i].top) total += s->zones[i].watts; /* NaN if any is NaN */
  row[s->idx_total] = total;
}

const zn_probe_ops zn_probe_power_ops = {power_open, power_sample, power_close};
#endif
