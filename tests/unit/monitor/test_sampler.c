/* The monitor on the real machine: the sampler thread runs for ~300 ms at a
 * 50 ms interval and is joined; samples are counted and time-ordered; the
 * CPU and memory probes read this machine's /proc; libsensors is exercised
 * for "no crash, present or absent, consistently"; NVML is absent cleanly
 * when its library is missing and consistent with itself when it loads.
 * Nothing here is timed: counts are checked with wide bounds. */
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "monitor/monitor.h"

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static void test_thread_samples(void) {
  zn_monitor_options o = zn_monitor_options_default();
  o.interval_ms = 50;
  o.capacity = 1000;
  zn_monitor *m = NULL;
  CHECK_OK(zn_monitor_create(&o, &m));
  if (!m) return;
  CHECK(zn_monitor_channel_find(m, ZN_MONITOR_CPU_TOTAL_PCT) >= 0);
  CHECK(zn_monitor_channel_find(m, ZN_MONITOR_CPU_OTHER_CORES) >= 0);
  CHECK(zn_monitor_channel_find(m, ZN_MONITOR_MEM_RSS) >= 0);
  zn_time_ns t_start = zn_now_ns();
  CHECK_OK(zn_monitor_start(m));
  CHECK_STATUS(zn_monitor_start(m), ZN_ERR_INVALID_STATE);
  CHECK_STATUS(zn_monitor_sample_now(m), ZN_ERR_INVALID_STATE);
  /* Keep this thread busy for part of the time so self CPU moves. */
  volatile double x = 0;
  zn_time_ns busy_until = zn_now_ns() + 100000000;
  while (zn_now_ns() < busy_until) x += 1.0;
  (void)x;
  CHECK_OK(zn_monitor_mark(m, "middle"));
  sleep_ms(200);
  CHECK_OK(zn_monitor_stop(m));
  zn_time_ns t_stop = zn_now_ns();
  CHECK_OK(zn_monitor_stop(m)); /* twice is fine */

  size_t n = zn_monitor_num_samples(m);
  /* ~300 ms at 50 ms: 7 ideally; a loaded machine may give fewer, never more
   * than one per interval plus the first. */
  double elapsed_ms = (double)(t_stop - t_start) / 1e6;
  CHECK(n >= 2);
  CHECK(n <= (size_t)(elapsed_ms / 50) + 2);
  CHECK_EQ_INT(zn_monitor_num_dropped(m), 0);
  size_t nc = zn_monitor_num_channels(m);
  double *row = calloc(nc ? nc : 1, sizeof *row);
  zn_time_ns prev = 0;
  int cpu = zn_monitor_channel_find(m, ZN_MONITOR_CPU_TOTAL_PCT);
  int rss = zn_monitor_channel_find(m, ZN_MONITOR_MEM_RSS);
  for (size_t i = 0; i < n && row; i++) {
    zn_time_ns t;
    CHECK_OK(zn_monitor_sample_get(m, i, &t, row));
    CHECK(t > prev);
    CHECK(t >= t_start && t <= t_stop);
    prev = t;
    if (rss >= 0) CHECK(row[rss] > 0);
    if (i == 0 && cpu >= 0) CHECK(isnan(row[cpu]));
    if (i > 0 && cpu >= 0 && !isnan(row[cpu])) CHECK(row[cpu] >= 0 && row[cpu] <= 100);
  }
  zn_monitor_summary s;
  CHECK_OK(zn_monitor_summarize(m, t_start, t_stop, &s, NULL, 0));
  CHECK_EQ_INT(s.num_samples, n);
  CHECK(s.self_cpu_s >= 0);
  CHECK(s.other_cpu_s >= 0);
  zn_monitor_overhead ov;
  zn_monitor_get_overhead(m, &ov);
  CHECK_EQ_INT(ov.num_samples, n);
  CHECK(ov.sample_cpu_ns_total > 0);
  CHECK(ov.sample_cpu_ns_max <= ov.sample_cpu_ns_total);
  CHECK(ov.thread_cpu_ns >= ov.sample_cpu_ns_total);
  CHECK(ov.thread_wall_ns > 0);
  CHECK_EQ_INT(zn_monitor_num_marks(m), 1);
  /* It can run again after a stop. */
  CHECK_OK(zn_monitor_start(m));
  sleep_ms(60);
  zn_monitor_destroy(m); /* stops and joins */
  free(row);
}

static void test_libsensors_no_crash(void) {
  for (int use = -1; use <= 1; use++) {
    zn_monitor_options o = zn_monitor_options_default();
    o.probes = (1u << ZN_MONITOR_PROBE_POWER) | (1u << ZN_MONITOR_PROBE_THERMAL);
    o.use_libsensors = use;
    zn_monitor *m = NULL;
    CHECK_OK(zn_monitor_create(&o, &m));
    if (!m) continue;
    bool found = false;
    for (size_t i = 0; i < zn_monitor_num_sources(m); i++) {
      const zn_monitor_source_info *src = zn_monitor_source(m, i);
      if (strncmp(src->name, "hwmon electrical", 16) != 0) continue;
      found = true;
      bool any = false;
      for (size_t c = 0; c < zn_monitor_num_channels(m); c++)
        any |= strncmp(zn_monitor_channel_at(m, c)->source, "hwmon", 5) == 0 ||
               strncmp(zn_monitor_channel_at(m, c)->source, "libsensors", 10) == 0;
      CHECK(src->present == any); /* present exactly when it gave channels */
#if !defined(ZN_HAVE_SENSORS)
      CHECK(strstr(src->name, "libsensors") == NULL);
#endif
      if (use < 0) CHECK(strstr(src->name, "libsensors") == NULL);
    }
    CHECK(found);
    CHECK_OK(zn_monitor_sample_now(m));
    CHECK_OK(zn_monitor_sample_now(m));
    zn_monitor_destroy(m);
  }
}

static void test_nvml(void) {
  zn_monitor_options o = zn_monitor_options_default();
  o.probes = 1u << ZN_MONITOR_PROBE_GPU;
  o.nvml_library = "libzenith-test-no-such-nvml.so.1";
  zn_monitor *m = NULL;
  CHECK_OK(zn_monitor_create(&o, &m));
  if (m) {
    CHECK_EQ_INT(zn_monitor_num_channels(m), 0);
    CHECK(!zn_monitor_probe_present(m, ZN_MONITOR_PROBE_GPU));
    CHECK_EQ_INT(zn_monitor_num_sources(m), 1);
    const zn_monitor_source_info *src = zn_monitor_source(m, 0);
    CHECK(src && strcmp(src->name, "NVML") == 0 && !src->present && strstr(src->detail, "not loadable"));
    zn_monitor_destroy(m);
  }
  /* The real library: present with gpu0 channels on a GPU machine, absent
   * (library, driver or GPU missing) elsewhere. Either way, consistent. */
  o.nvml_library = NULL;
  CHECK_OK(zn_monitor_create(&o, &m));
  if (m) {
    const zn_monitor_source_info *src = zn_monitor_source(m, 0);
    CHECK(src != NULL);
    if (src) {
      printf("NVML: %s (%s), %zu channels\n", src->present ? "present" : "absent", src->detail,
             zn_monitor_num_channels(m));
      CHECK(src->present == zn_monitor_probe_present(m, ZN_MONITOR_PROBE_GPU));
      CHECK(src->present == (zn_monitor_channel_find(m, "gpu0.mem_used_bytes") >= 0));
    }
    CHECK_OK(zn_monitor_sample_now(m));
    int mem = zn_monitor_channel_find(m, "gpu0.mem_used_bytes");
    if (mem >= 0) {
      double row[64];
      CHECK(zn_monitor_num_channels(m) <= 64);
      CHECK_OK(zn_monitor_sample_get(m, 0, NULL, row));
      CHECK(row[mem] > 0); /* a driver always holds some memory */
    }
    zn_monitor_destroy(m);
  }
}

int zn_test_main(void) {
  test_thread_samples();
  test_libsensors_no_crash();
  test_nvml();
  return 0;
}
