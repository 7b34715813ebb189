/* The system monitor's own cost: CPU time per sample (CLOCK_THREAD_CPUTIME_ID
 * around the probe reads) and the sampler thread's share of one core at the
 * default 100 ms interval, plus what it found on this machine.
 * Usage: bench_monitor_overhead [seconds (default 5)] [interval_ms (default 100)] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "monitor/monitor.h"

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 5.0;
  int interval_ms = argc > 2 ? atoi(argv[2]) : 100;
  if (seconds <= 0 || interval_ms <= 0) {
    fprintf(stderr, "usage: %s [seconds] [interval_ms]\n", argv[0]);
    return 2;
  }
  zn_monitor_options o = zn_monitor_options_default();
  o.interval_ms = (uint32_t)interval_ms;
  zn_monitor *m = NULL;
  if (zn_monitor_create(&o, &m) != ZN_OK) {
    fprintf(stderr, "monitor: %s\n", zn_last_error());
    return 1;
  }
  printf("sources:\n");
  for (size_t i = 0; i < zn_monitor_num_sources(m); i++) {
    const zn_monitor_source_info *s = zn_monitor_source(m, i);
    printf("  %-8s %-28s %-7s %s\n", zn_monitor_probe_name(s->probe), s->name, s->present ? "present" : "ABSENT",
           s->detail);
  }
  size_t nc = zn_monitor_num_channels(m);
  printf("%zu channels\n", nc);

  /* 1. The sampler thread at the requested interval. */
  zn_time_ns t0 = zn_now_ns();
  zn_monitor_start(m);
  struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
  while (nanosleep(&ts, &ts) != 0) {
  }
  zn_monitor_stop(m);
  zn_time_ns t1 = zn_now_ns();
  zn_monitor_overhead ov;
  zn_monitor_get_overhead(m, &ov);
  double per_sample_us = ov.num_samples ? (double)ov.sample_cpu_ns_total / (double)ov.num_samples / 1e3 : NAN;
  double thread_pct = 100.0 * (double)ov.thread_cpu_ns / (double)ov.thread_wall_ns;
  printf("sampler thread, %d ms interval, %.1f s: %llu samples\n", interval_ms, (double)(t1 - t0) / 1e9,
         (unsigned long long)ov.num_samples);
  printf("  probe reads: %.1f us CPU per sample (max %.1f us)\n", per_sample_us, (double)ov.sample_cpu_ns_max / 1e3);
  printf("  whole thread: %.3f ms CPU in %.3f s = %.3f%% of one core\n", (double)ov.thread_cpu_ns / 1e6,
         (double)ov.thread_wall_ns / 1e9, thread_pct);
  printf("  at 100 ms: %.3f%% of one core (from the per-sample cost)\n", per_sample_us / 1e3 / 100.0 * 100.0);

  /* The last sample's values, to see what was read. */
  size_t n = zn_monitor_num_samples(m);
  double *row = calloc(nc ? nc : 1, sizeof *row);
  if (row && n > 0 && zn_monitor_sample_get(m, n - 1, NULL, row) == ZN_OK) {
    zn_monitor_stat *st = calloc(nc ? nc : 1, sizeof *st);
    zn_monitor_summary sum;
    if (st && zn_monitor_summarize(m, t0, t1, &sum, st, nc) == ZN_OK) {
      printf("summary over the run: %u samples, self CPU %.3f s, other processes' CPU %.3f s, energy %.3f J\n",
             sum.num_samples, sum.self_cpu_s, sum.other_cpu_s, sum.energy_j);
      printf("  %-40s %-6s %12s %12s %12s\n", "channel", "unit", "last", "mean", "max");
      for (size_t c = 0; c < nc; c++) {
        const zn_monitor_channel *ch = zn_monitor_channel_at(m, c);
        printf("  %-40s %-6s %12.3f %12.3f %12.3f\n", ch->name, ch->unit, row[c], st[c].mean, st[c].max);
      }
    }
    free(st);
  }
  free(row);
  zn_monitor_destroy(m);

  /* 2. Each probe alone, sampled back to back on this thread. */
  printf("per probe (100 samples each, on the calling thread):\n");
  for (int p = 0; p < ZN_MONITOR_PROBE_COUNT; p++) {
    zn_monitor_options po = zn_monitor_options_default();
    po.probes = 1u << p;
    po.capacity = 100;
    zn_monitor *pm = NULL;
    if (zn_monitor_create(&po, &pm) != ZN_OK) continue;
    for (int i = 0; i < 100; i++) zn_monitor_sample_now(pm);
    zn_monitor_overhead pov;
    zn_monitor_get_overhead(pm, &pov);
    printf("  %-8s %3zu channels  %8.1f us CPU per sample\n", zn_monitor_probe_name((zn_monitor_probe)p),
           zn_monitor_num_channels(pm), (double)pov.sample_cpu_ns_total / 100 / 1e3);
    zn_monitor_destroy(pm);
  }
  return 0;
}
