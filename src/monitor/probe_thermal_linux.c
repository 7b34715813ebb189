/* Thermal probe for Linux: temperatures from /sys/class/thermal zones and
 * hwmon (hwmon.c), and CPU clock frequency per core from cpufreq's
 * scaling_cur_freq, or from /proc/cpuinfo "cpu MHz" where there is no cpufreq
 * (virtual machines, some boards). Plus freq.mean_mhz over the cores. */
#if defined(__linux__)
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"
#include "monitor/hwmon.h"
#include "monitor/probe.h"

#define MAX_ZONES 64
#define MAX_FREQ 1024

typedef struct thermal_state {
  zn_pfile zone[MAX_ZONES];
  int zone_chan[MAX_ZONES];
  int num_zones;
  zn_hwmon *hwmon;
  /* frequency: per-core cpufreq files, or /proc/cpuinfo */
  zn_pfile *freq;
  int num_freq;
  zn_pfile cpuinfo;
  int freq_chan0, freq_mean;
  double *mhz;
} thermal_state;

static void thermal_close(void *p) {
  thermal_state *s = p;
  if (!s) return;
  for (int i = 0; i < s->num_zones; i++) zn_pfile_close(&s->zone[i]);
  if (s->freq)
    for (int i = 0; i < s->num_freq; i++) zn_pfile_close(&s->freq[i]);
  zn_pfile_close(&s->cpuinfo);
  zn_hwmon_close(s->hwmon);
  zn_free(s->freq);
  zn_free(s->mhz);
  zn_free(s);
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static void zones_open(zn_probe_env *env, thermal_state *s) {
  char dir[ZN_PROBE_PATH_MAX];
  DIR *d = zn_probe_path(dir, sizeof dir, env->root, "/sys/class/thermal") ? opendir(dir) : NULL;
  int ids[MAX_ZONES], n = 0;
  struct dirent *de;
  while (d && (de = readdir(d)) && n < MAX_ZONES)
    if (strncmp(de->d_name, "thermal_zone", 12) == 0 && isdigit((unsigned char)de->d_name[12]))
      ids[n++] = atoi(de->d_name + 12);
  if (d) closedir(d);
  qsort(ids, (size_t)n, sizeof ids[0], cmp_int);
  for (int i = 0; i < n; i++) {
    char path[ZN_PROBE_PATH_MAX], type[32] = "", name[64], src[112];
    snprintf(path, sizeof path, "/sys/class/thermal/thermal_zone%d/type", ids[i]);
    if (!zn_probe_read_line(env->root, path, type, sizeof type) || !type[0]) snprintf(type, sizeof type, "zone");
    for (char *c = type; *c; c++)
      if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_') *c = '_';
    snprintf(path, sizeof path, "/sys/class/thermal/thermal_zone%d/temp", ids[i]);
    zn_pfile *f = &s->zone[s->num_zones];
    int64_t v;
    if (!zn_pfile_open(f, env->root, path) || !zn_pfile_read_i64(f, &v)) { /* disabled zones fail to read */
      zn_pfile_close(f);
      continue;
    }
    snprintf(name, sizeof name, "thermal.zone%d.%s_c", ids[i], type);
    snprintf(src, sizeof src, "/sys/class/thermal/thermal_zone%d/temp", ids[i]);
    s->zone_chan[s->num_zones++] = zn_probe_add_channel(env, name, "C", ZN_MONITOR_GAUGE, src);
  }
  if (s->num_zones)
    zn_probe_add_source(env, "thermal zones", true, "%d readable of %d zones", s->num_zones, n);
  else
    zn_probe_add_source(env, "thermal zones", false, "%s",
                        n ? "no readable thermal_zone*/temp" : "no /sys/class/thermal/thermal_zone*");
}

static void freq_open(zn_probe_env *env, thermal_state *s) {
  s->freq_chan0 = s->freq_mean = -1;
  /* Cores from /sys/devices/system/cpu/cpuN, in order; stop at the first gap
   * in cpufreq (all cores have it or none do, in practice). */
  for (int i = 0; i < MAX_FREQ; i++) {
    char path[ZN_PROBE_PATH_MAX];
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_cur_freq", i);
    zn_pfile f;
    int64_t khz;
    if (!zn_pfile_open(&f, env->root, path)) break;
    if (!zn_pfile_read_i64(&f, &khz)) {
      zn_pfile_close(&f);
      break;
    }
    s->freq[s->num_freq++] = f;
  }
  const char *src = "/sys/devices/system/cpu/cpu*/cpufreq/scaling_cur_freq";
  int n = s->num_freq;
  if (n > 0) {
    zn_probe_add_source(env, "cpufreq", true, "%d cores", n);
  } else {
    zn_probe_add_source(env, "cpufreq", false, "no cpu*/cpufreq/scaling_cur_freq");
    long len = -1;
    if (zn_pfile_open(&s->cpuinfo, env->root, "/proc/cpuinfo"))
      len = zn_pfile_read(&s->cpuinfo, env->scratch, env->scratch_bytes);
    n = len > 0 ? zn_parse_cpuinfo_mhz(env->scratch, s->mhz, MAX_FREQ) : 0;
    src = "/proc/cpuinfo cpu MHz";
    zn_probe_add_source(env, "/proc/cpuinfo MHz", n > 0, "%d cores%s", n, n ? "" : " (no cpu MHz lines)");
    if (n == 0) {
      zn_pfile_close(&s->cpuinfo);
      return;
    }
    s->num_freq = n;
  }
  for (int i = 0; i < n; i++) {
    char name[64];
    snprintf(name, sizeof name, "freq.cpu%d_mhz", i);
    int idx = zn_probe_add_channel(env, name, "MHz", ZN_MONITOR_GAUGE, src);
    if (i == 0) s->freq_chan0 = idx;
    if (idx < 0) { /* channel table full: keep the cores registered so far */
      s->num_freq = i;
      break;
    }
  }
  s->freq_mean = zn_probe_add_channel(env, "freq.mean_mhz", "MHz", ZN_MONITOR_GAUGE, src);
}

static zn_status thermal_open(zn_probe_env *env, void **state_out) {
  *state_out = NULL;
  thermal_state *s = zn_calloc(1, sizeof *s);
  if (s) s->freq = zn_calloc(MAX_FREQ, sizeof *s->freq);
  if (s) s->mhz = zn_calloc(MAX_FREQ, sizeof *s->mhz);
  if (!s || !s->freq || !s->mhz) {
    thermal_close(s);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "out of memory");
  }
  s->cpuinfo = ZN_PFILE_CLOSED;
  zones_open(env, s);
  zn_status st = zn_hwmon_open(env, ZN_HWMON_TEMP, &s->hwmon, NULL);
  if (st != ZN_OK) {
    thermal_close(s);
    return st;
  }
  freq_open(env, s);
  if (s->num_zones == 0 && !s->hwmon && s->num_freq == 0) {
    thermal_close(s);
    return ZN_OK;
  }
  *state_out = s;
  return ZN_OK;
}

static void thermal_sample(void *p, zn_probe_env *env, zn_time_ns now, double *row) {
  thermal_state *s = p;
  int64_t v;
  for (int i = 0; i < s->num_zones; i++)
    if (s->zone_chan[i] >= 0 && zn_pfile_read_i64(&s->zone[i], &v)) row[s->zone_chan[i]] = (double)v * 1e-3;
  if (s->hwmon) zn_hwmon_sample(s->hwmon, row);
  if (s->freq_chan0 < 0) return;
  int n = s->num_freq;
  if (s->cpuinfo.fd >= 0) {
    for (int i = 0; i < n; i++) s->mhz[i] = NAN;
    if (zn_pfile_read(&s->cpuinfo, env->scratch, env->scratch_bytes) > 0) zn_parse_cpuinfo_mhz(env->scratch, s->mhz, n);
  } else {
    for (int i = 0; i < n; i++) s->mhz[i] = zn_pfile_read_i64(&s->freq[i], &v) ? (double)v * 1e-3 : NAN;
  }
  double sum = 0;
  int cnt = 0;
  for (int i = 0; i < n; i++) {
    row[s->freq_chan0 + i] = s->mhz[i];
    if (!isnan(s->mhz[i])) {
      sum += s->mhz[i];
      cnt++;
    }
  }
  if (s->freq_mean >= 0 && cnt) row[s->freq_mean] = sum / cnt;
}

const zn_probe_ops zn_probe_thermal_ops = {thermal_open, thermal_sample, thermal_close};
#endif
