/* The monitor end to end on hand-written /proc + /sys trees
 * (tests/data/monitor/fake_board, fake_jetson): which channels and sources
 * it finds, the values it reads through the sysfs paths (INA219 and INA3221
 * hwmon, RAPL, thermal zones, cpufreq, diskstats, USB), rates between two
 * samples of a copy the test edits (CPU %, foreign CPU, RAPL watts across a
 * wrap, disk and USB bytes/s), window summaries, and the buffer-full rules. */
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "monitor/monitor.h"

#define SEC 1000000000ll

static zn_monitor *open_tree(const char *root, uint32_t probes, uint32_t capacity, bool overwrite) {
  zn_monitor_options o = zn_monitor_options_default();
  o.root = root;
  o.probes = probes;
  o.capacity = capacity;
  o.overwrite_oldest = overwrite;
  o.nvml_library = "libzenith-test-no-such-nvml.so.1";
  zn_monitor *m = NULL;
  CHECK_OK(zn_monitor_create(&o, &m));
  return m;
}

static double value_of(zn_monitor *m, size_t sample, const char *channel) {
  int c = zn_monitor_channel_find(m, channel);
  if (c < 0) {
    fprintf(stderr, "channel %s absent\n", channel);
    return NAN;
  }
  double row[1024];
  if (zn_monitor_num_channels(m) > 1024 || zn_monitor_sample_get(m, sample, NULL, row) != ZN_OK) return NAN;
  return row[c];
}

static const zn_monitor_source_info *source_named(zn_monitor *m, const char *name) {
  for (size_t i = 0; i < zn_monitor_num_sources(m); i++)
    if (strcmp(zn_monitor_source(m, i)->name, name) == 0) return zn_monitor_source(m, i);
  return NULL;
}

static void put(const char *root, const char *rel, const char *text) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", root, rel);
  FILE *f = fopen(path, "w"); /* rewrite in place: the monitor keeps the file open */
  CHECK(f != NULL);
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

static void test_board_discovery_and_gauges(void) {
  zn_monitor *m = open_tree(zn_test_source_path("tests/data/monitor/fake_board"), 0, 16, false);
  if (!m) return;
  static const char *const present[] = {"cpu.total_pct",
                                        "cpu.core0_pct",
                                        "cpu.core3_pct",
                                        "cpu.self_cores",
                                        "cpu.other_cores",
                                        "memory.rss_bytes",
                                        "memory.rss_peak_bytes",
                                        "memory.system_used_bytes",
                                        "power.rapl.package-0_w",
                                        "power.rapl.package-0.core_w",
                                        "power.rapl.package-1_w",
                                        "power.total_w",
                                        "power.ina219-hwmon0.power1_w",
                                        "power.ina219-hwmon0.curr1_a",
                                        "power.ina219-hwmon0.in0_v",
                                        "power.ina219-hwmon0.in1_v",
                                        "thermal.zone0.cpu-thermal_c",
                                        "thermal.zone1.gpu-thermal_c",
                                        "thermal.cpu_thermal-hwmon1.temp1_c",
                                        "freq.cpu0_mhz",
                                        "freq.cpu3_mhz",
                                        "freq.mean_mhz",
                                        "io.disk_read_Bps",
                                        "io.disk_write_Bps",
                                        "io.usb_read_Bps",
                                        "io.usb_write_Bps"};
  for (size_t i = 0; i < ZN_ARRAY_SIZE(present); i++) {
    if (zn_monitor_channel_find(m, present[i]) < 0) fprintf(stderr, "missing channel %s\n", present[i]);
    CHECK(zn_monitor_channel_find(m, present[i]) >= 0);
  }
  /* Absent, never zero: no core 4, no GPU, no derived power where the INA219 reports it. */
  CHECK_EQ_INT(zn_monitor_channel_find(m, "cpu.core4_pct"), -1);
  CHECK_EQ_INT(zn_monitor_channel_find(m, "gpu0.power_w"), -1);
  CHECK(!zn_monitor_probe_present(m, ZN_MONITOR_PROBE_GPU));
  CHECK(zn_monitor_probe_present(m, ZN_MONITOR_PROBE_POWER));
  for (size_t i = 0; i < zn_monitor_num_channels(m); i++)
    CHECK(strstr(zn_monitor_channel_at(m, i)->source, " x curr") == NULL);
  const zn_monitor_source_info *nvml = source_named(m, "NVML");
  CHECK(nvml && !nvml->present && strstr(nvml->detail, "libzenith-test-no-such-nvml.so.1"));
  const zn_monitor_source_info *disks = source_named(m, "/proc/diskstats");
  CHECK(disks && disks->present && strcmp(disks->detail, "mmcblk0 sda") == 0); /* no partitions, loop, zram */
  const zn_monitor_source_info *usb = source_named(m, "USB");
  CHECK(usb && usb->present && strstr(usb->detail, "1 USB disks, 1 USB network"));
  const zn_monitor_source_info *hw = source_named(m, "hwmon electrical (sysfs)");
  CHECK(hw && hw->present);
  const zn_monitor_channel *total = zn_monitor_channel_at(m, (size_t)zn_monitor_channel_find(m, "power.total_w"));
  CHECK(total && total->kind == ZN_MONITOR_RATE && strstr(total->source, "RAPL sum of packages"));

  CHECK_OK(zn_monitor_sample_at(m, 1 * SEC));
  CHECK_EQ_INT(zn_monitor_num_samples(m), 1);
  CHECK_NEAR(value_of(m, 0, "memory.rss_bytes"), 120000.0 * 1024, 0);
  CHECK_NEAR(value_of(m, 0, "memory.rss_peak_bytes"), 150000.0 * 1024, 0);
  CHECK_NEAR(value_of(m, 0, "memory.system_used_bytes"), (3884000.0 - 2884000.0) * 1024, 0);
  CHECK_NEAR(value_of(m, 0, "power.ina219-hwmon0.power1_w"), 3.048, 1e-12); /* 3048000 uW */
  CHECK_NEAR(value_of(m, 0, "power.ina219-hwmon0.curr1_a"), 0.6, 1e-12);    /* 600 mA */
  CHECK_NEAR(value_of(m, 0, "power.ina219-hwmon0.in1_v"), 5.08, 1e-12);     /* 5080 mV */
  CHECK_NEAR(value_of(m, 0, "power.ina219-hwmon0.in0_v"), 0.012, 1e-12);
  CHECK_NEAR(value_of(m, 0, "thermal.zone0.cpu-thermal_c"), 45.5, 1e-12);
  CHECK_NEAR(value_of(m, 0, "thermal.zone1.gpu-thermal_c"), 44.0, 1e-12);
  CHECK_NEAR(value_of(m, 0, "thermal.cpu_thermal-hwmon1.temp1_c"), 45.5, 1e-12);
  CHECK_NEAR(value_of(m, 0, "freq.cpu2_mhz"), 600.0, 1e-9);
  CHECK_NEAR(value_of(m, 0, "freq.mean_mhz"), (1500.0 + 1500 + 600 + 1800) / 4, 1e-9);
  /* Rates need two samples: the first is unknown, not zero. */
  CHECK(isnan(value_of(m, 0, "cpu.total_pct")));
  CHECK(isnan(value_of(m, 0, "power.rapl.package-0_w")));
  CHECK(isnan(value_of(m, 0, "io.disk_read_Bps")));
  zn_monitor_destroy(m);
}

static void test_jetson_derived_power(void) {
  zn_monitor *m =
      open_tree(zn_test_source_path("tests/data/monitor/fake_jetson"), 1u << ZN_MONITOR_PROBE_POWER, 4, false);
  if (!m) return;
  const zn_monitor_source_info *rapl = source_named(m, "powercap/RAPL");
  CHECK(rapl && !rapl->present);
  CHECK_EQ_INT(zn_monitor_channel_find(m, "power.rapl.package-0_w"), -1);
  int total = zn_monitor_channel_find(m, "power.total_w");
  CHECK(total >= 0);
  if (total >= 0) CHECK(strcmp(zn_monitor_channel_at(m, (size_t)total)->source, "power.ina3221-hwmon0.VDD_IN_w") == 0);
  CHECK(zn_monitor_channel_find(m, "power.ina3221-hwmon0.in4_v") >= 0); /* shunt voltage: no current pair */
  CHECK_EQ_INT(zn_monitor_channel_find(m, "power.ina3221-hwmon0.in4_w"), -1);
  CHECK_OK(zn_monitor_sample_at(m, 5 * SEC));
  CHECK_NEAR(value_of(m, 0, "power.ina3221-hwmon0.VDD_IN_v"), 5.0, 1e-12);
  CHECK_NEAR(value_of(m, 0, "power.ina3221-hwmon0.VDD_IN_a"), 1.0, 1e-12);
  CHECK_NEAR(value_of(m, 0, "power.ina3221-hwmon0.VDD_IN_w"), 5.0, 1e-12); /* derived V x I */
  CHECK_NEAR(value_of(m, 0, "power.ina3221-hwmon0.VDD_CPU_GPU_CV_w"), 0.5, 1e-12);
  CHECK_NEAR(value_of(m, 0, "power.total_w"), 5.0, 1e-12);
  zn_monitor_destroy(m);
}

/* Copy fake_board to a temporary folder and move its counters between samples. */
static void test_rates_and_summary(void) {
  char tmp[] = "/tmp/zn_monitor_test_XXXXXX";
  if (!mkdtemp(tmp)) {
    CHECK(!"mkdtemp");
    return;
  }
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cp -a '%s/.' '%s/'", zn_test_source_path("tests/data/monitor/fake_board"), tmp);
  CHECK_EQ_INT(system(cmd), 0);
  /* package-1 sits 0.25 J below its wrap point before the first sample. */
  put(tmp, "sys/class/powercap/intel-rapl:1/energy_uj", "262143078850\n");

  zn_monitor *m = open_tree(tmp, 0, 16, false);
  if (m) {
    const zn_time_ns t0 = 10 * SEC, t1 = t0 + SEC / 2;
    CHECK_OK(zn_monitor_sample_at(m, t0));
    /* Half a second later: */
    put(tmp, "proc/stat",
        "cpu  4050 0 1010 14040 400 0 100 0 0 0\n" /* +60 busy, +40 idle */
        "cpu0 1025 0 250 3500 100 0 25 0 0 0\n"    /* 25/25 busy */
        "cpu1 1025 0 250 3500 100 0 25 0 0 0\n"    /* 25/25 */
        "cpu2 1000 0 260 3515 100 0 25 0 0 0\n"    /* 10/25 */
        "cpu3 1000 0 250 3525 100 0 25 0 0 0\n");  /* 0/25 */
    put(tmp, "proc/self/stat",
        "4242 (zenith bench) R 1 4242 4242 0 -1 4194304 100 0 0 0 310 110 0 0 20 0 3 0 1000 100000000 2000 0\n");
    put(tmp, "sys/class/powercap/intel-rapl:0/energy_uj", "2500000\n");  /* +1.5 J */
    put(tmp, "sys/class/powercap/intel-rapl:0:0/energy_uj", "900000\n"); /* +0.5 J */
    put(tmp, "sys/class/powercap/intel-rapl:1/energy_uj", "250000\n");   /* wrapped: +0.5 J */
    put(tmp, "sys/class/hwmon/hwmon0/power1_input", "4048000\n");
    put(tmp, "proc/diskstats",
        " 179 0 mmcblk0 1000 0 21000 500 200 0 10000 300 0 600 800 0 0 0 0 0 0\n" /* +1000 read, +2000 written */
        " 179 1 mmcblk0p1 100 0 3000 50 20 0 2800 30 0 60 80 0 0 0 0 0 0\n"
        "   8 0 sda 500 0 40100 100 100 0 4000 50 0 150 150 0 0 0 0 0 0\n" /* +100 read */
        "   8 1 sda1 500 0 40100 100 100 0 4000 50 0 150 150 0 0 0 0 0 0\n"
        "   7 0 loop0 10 0 99999 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
    put(tmp, "sys/devices/platform/soc/usb1/1-1/1-1:1.0/net/usb0/statistics/rx_bytes", "6000\n"); /* +5000 */
    put(tmp, "sys/devices/platform/soc/fd580000.ethernet/net/eth0/statistics/rx_bytes", "9000000\n");
    CHECK_OK(zn_monitor_sample_at(m, t1));

    double hz = (double)sysconf(_SC_CLK_TCK);
    CHECK_NEAR(value_of(m, 1, "cpu.total_pct"), 60.0, 1e-9);
    CHECK_NEAR(value_of(m, 1, "cpu.core0_pct"), 100.0, 1e-9);
    CHECK_NEAR(value_of(m, 1, "cpu.core2_pct"), 40.0, 1e-9);
    CHECK_NEAR(value_of(m, 1, "cpu.core3_pct"), 0.0, 1e-9);
    CHECK_NEAR(value_of(m, 1, "cpu.self_cores"), 20 / hz / 0.5, 1e-9);
    CHECK_NEAR(value_of(m, 1, "cpu.other_cores"), 40 / hz / 0.5, 1e-9);
    CHECK_NEAR(value_of(m, 1, "power.rapl.package-0_w"), 3.0, 1e-9);
    CHECK_NEAR(value_of(m, 1, "power.rapl.package-0.core_w"), 1.0, 1e-9);
    CHECK_NEAR(value_of(m, 1, "power.rapl.package-1_w"), 1.0, 1e-9);
    CHECK_NEAR(value_of(m, 1, "power.total_w"), 4.0, 1e-9); /* packages only: the core subzone is inside package-0 */
    CHECK_NEAR(value_of(m, 1, "io.disk_read_Bps"), (1000.0 + 100.0) * 512 / 0.5, 1e-6);
    CHECK_NEAR(value_of(m, 1, "io.disk_write_Bps"), 2000.0 * 512 / 0.5, 1e-6);
    CHECK_NEAR(value_of(m, 1, "io.usb_read_Bps"), (100.0 * 512 + 5000) / 0.5, 1e-6);
    CHECK_NEAR(value_of(m, 1, "io.usb_write_Bps"), 0.0, 1e-9);

    /* Whole window: energy = 4 W x 0.5 s, foreign CPU = 40 ticks. */
    zn_monitor_summary s;
    size_t nc = zn_monitor_num_channels(m);
    zn_monitor_stat *stats = calloc(nc, sizeof *stats);
    CHECK_OK(zn_monitor_summarize(m, t0, t1, &s, stats, nc));
    CHECK_EQ_INT(s.num_samples, 2);
    CHECK_NEAR(s.energy_j, 2.0, 1e-9);
    CHECK_NEAR(s.power_mean_w, 4.0, 1e-9);
    CHECK_NEAR(s.other_cpu_s, 40 / hz, 1e-9);
    CHECK_NEAR(s.self_cpu_s, 20 / hz, 1e-9);
    int ina = zn_monitor_channel_find(m, "power.ina219-hwmon0.power1_w");
    if (ina >= 0 && stats) {
      CHECK_EQ_INT(stats[ina].num_values, 2);
      CHECK_NEAR(stats[ina].mean, (3.048 + 4.048) / 2, 1e-9);
      CHECK_NEAR(stats[ina].max, 4.048, 1e-9);
      CHECK_NEAR(stats[ina].min, 3.048, 1e-9);
      CHECK_NEAR(stats[ina].integral, (3.048 + 4.048) / 2 * 0.5, 1e-9); /* trapezoid */
    }
    /* The second half of the window: half the energy; the gauge interpolated. */
    CHECK_OK(zn_monitor_summarize(m, t0 + SEC / 4, t1, &s, stats, nc));
    CHECK_EQ_INT(s.num_samples, 1);
    CHECK_NEAR(s.energy_j, 1.0, 1e-9);
    CHECK_NEAR(s.power_mean_w, 4.0, 1e-9);
    if (ina >= 0 && stats) CHECK_NEAR(stats[ina].integral, (3.548 + 4.048) / 2 * 0.25, 1e-9);
    /* A window before any sample holds nothing: NaN, not zero. */
    CHECK_OK(zn_monitor_summarize(m, 0, SEC, &s, stats, nc));
    CHECK_EQ_INT(s.num_samples, 0);
    CHECK(isnan(s.energy_j) && isnan(s.other_cpu_s));
    if (ina >= 0 && stats) CHECK(stats[ina].num_values == 0 && isnan(stats[ina].mean));
    CHECK_STATUS(zn_monitor_summarize(m, t1, t0, &s, NULL, 0), ZN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(zn_monitor_summarize(m, t0, t1, &s, stats, 1), ZN_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(zn_monitor_sample_at(m, t1), ZN_ERR_INVALID_ARGUMENT); /* time must move forward */
    free(stats);
    zn_monitor_destroy(m);
  }
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  CHECK_EQ_INT(system(cmd), 0);
}

static void test_buffer_full(void) {
  const char *root = zn_test_source_path("tests/data/monitor/fake_board");
  zn_monitor *m = open_tree(root, 1u << ZN_MONITOR_PROBE_MEMORY, 3, false);
  if (!m) return;
  CHECK(!zn_monitor_probe_present(m, ZN_MONITOR_PROBE_CPU));
  for (int i = 1; i <= 5; i++) CHECK_OK(zn_monitor_sample_at(m, i * SEC));
  CHECK_EQ_INT(zn_monitor_num_samples(m), 3);
  CHECK_EQ_INT(zn_monitor_num_dropped(m), 2);
  zn_time_ns t = 0;
  CHECK_OK(zn_monitor_sample_get(m, 2, &t, NULL));
  CHECK_EQ_INT(t, 3 * SEC); /* kept the first three */
  CHECK_STATUS(zn_monitor_sample_get(m, 3, &t, NULL), ZN_ERR_INVALID_ARGUMENT);
  zn_monitor_destroy(m);

  m = open_tree(root, 1u << ZN_MONITOR_PROBE_MEMORY, 3, true);
  if (!m) return;
  for (int i = 1; i <= 5; i++) CHECK_OK(zn_monitor_sample_at(m, i * SEC));
  CHECK_EQ_INT(zn_monitor_num_samples(m), 3);
  CHECK_EQ_INT(zn_monitor_num_dropped(m), 2);
  for (size_t i = 0; i < 3; i++) {
    CHECK_OK(zn_monitor_sample_get(m, i, &t, NULL));
    CHECK_EQ_INT(t, (zn_time_ns)(i + 3) * SEC); /* kept the last three, oldest first */
  }
  zn_monitor_summary s;
  CHECK_OK(zn_monitor_summarize(m, 0, 10 * SEC, &s, NULL, 0));
  CHECK_EQ_INT(s.num_samples, 3);
  zn_monitor_destroy(m);
}

static void test_bad_options(void) {
  zn_monitor *m = (zn_monitor *)1;
  zn_monitor_options o = zn_monitor_options_default();
  o.probes = 1u << 30;
  CHECK_STATUS(zn_monitor_create(&o, &m), ZN_ERR_INVALID_ARGUMENT);
  CHECK(m == NULL);
  CHECK_ERROR_HAS("unknown probe");
  CHECK_STATUS(zn_monitor_create(NULL, NULL), ZN_ERR_INVALID_ARGUMENT);
  /* A root with nothing in it: every source absent, no channel, no failure. */
  o = zn_monitor_options_default();
  o.root = "/nonexistent/zenith-monitor-root";
  o.nvml_library = "libzenith-test-no-such-nvml.so.1";
  CHECK_OK(zn_monitor_create(&o, &m));
  if (m) {
    CHECK_EQ_INT(zn_monitor_num_channels(m), 0);
    CHECK(zn_monitor_num_sources(m) >= 6);
    for (size_t i = 0; i < zn_monitor_num_sources(m); i++) CHECK(!zn_monitor_source(m, i)->present);
    CHECK_OK(zn_monitor_sample_now(m));
    CHECK_EQ_INT(zn_monitor_num_samples(m), 1);
    CHECK_OK(zn_monitor_mark(m, "rep-1"));
    const char *label = NULL;
    CHECK_OK(zn_monitor_get_mark(m, 0, NULL, &label));
    CHECK(label && strcmp(label, "rep-1") == 0);
    CHECK_STATUS(zn_monitor_get_mark(m, 1, NULL, &label), ZN_ERR_INVALID_ARGUMENT);
  }
  zn_monitor_destroy(m);
  zn_monitor_destroy(NULL);
}

int zn_test_main(void) {
  test_board_discovery_and_gauges();
  test_jetson_derived_power();
  test_rates_and_summary();
  test_buffer_full();
  test_bad_options();
  return 0;
}
