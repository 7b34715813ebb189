/* The monitor's /proc and /sys parsers on files captured from the development
 * machine (tests/data/monitor/host) and on hand-written edge cases: CPU %
 * between two /proc/stat snapshots, pid stat with awkward names, meminfo,
 * diskstats, cpuinfo, RAPL counter wrap-around. */
#include "harness.h"

#include <math.h>
#include <stdlib.h>

#include "monitor/probe.h"

static char buf[ZN_PROBE_SCRATCH_BYTES];

static const char *load(const char *rel) {
  long n = zn_probe_read_file("", zn_test_source_path(rel), buf, sizeof buf);
  CHECK(n > 0);
  return buf;
}

static void test_proc_stat_captured(void) {
  zn_cpu_times all_a, all_b, cores_a[8], cores_b[8];
  bool pres_a[8], pres_b[8];
  CHECK_EQ_INT(zn_parse_proc_stat(load("tests/data/monitor/host/proc/stat"), &all_a, cores_a, pres_a, 8), 2);
  CHECK_EQ_INT(zn_parse_proc_stat(load("tests/data/monitor/host/proc/stat.later"), &all_b, cores_b, pres_b, 8), 2);
  CHECK(pres_a[0] && pres_a[1] && !pres_a[2]);
  /* "cpu  12479 0 3547 113633 464 0 68 28 0 0": busy = all - idle - iowait */
  CHECK_EQ_INT(all_a.total, 12479 + 3547 + 113633 + 464 + 68 + 28);
  CHECK_EQ_INT(all_a.busy, 12479 + 3547 + 68 + 28);
  /* later: "cpu  12558 0 3555 113745 464 0 68 28 0 0" */
  CHECK_EQ_INT(all_b.total, 12558 + 3555 + 113745 + 464 + 68 + 28);
  CHECK_NEAR(zn_cpu_busy_pct(all_a, all_b), 100.0 * 87 / 199, 1e-9);
  /* cpu0: 5554 0 1592 57845 39 0 15 13 -> 5560 0 1594 57935 39 0 15 13 */
  CHECK_NEAR(zn_cpu_busy_pct(cores_a[0], cores_b[0]), 100.0 * 8 / 98, 1e-9);
  /* cpu1: 6925 0 1955 55788 424 0 52 14 -> 6998 0 1960 55810 424 0 52 14 */
  CHECK_NEAR(zn_cpu_busy_pct(cores_a[1], cores_b[1]), 100.0 * 78 / 100, 1e-9);
  /* no time passed, or a counter went back: unknown, not 0 */
  CHECK(isnan(zn_cpu_busy_pct(all_a, all_a)));
  CHECK(isnan(zn_cpu_busy_pct(all_b, all_a)));
}

static void test_proc_stat_edge_cases(void) {
  zn_cpu_times all, cores[4];
  bool present[4];
  CHECK_EQ_INT(zn_parse_proc_stat("intr 1 2 3\nctxt 5\n", &all, cores, present, 4), -1);
  CHECK_EQ_INT(zn_parse_proc_stat("cpu  x y z\n", &all, cores, present, 4), -1);
  CHECK_EQ_INT(zn_parse_proc_stat("", &all, cores, present, 4), -1);
  /* Old kernels print only 4 fields; an offline core's line is missing; a
   * core beyond max_cores is counted but not stored. */
  const char *old = "cpu  10 0 10 80\ncpu0 5 0 5 40\ncpu2 5 0 5 40\ncpu7 1 1 1 1\nintr 0\n";
  CHECK_EQ_INT(zn_parse_proc_stat(old, &all, cores, present, 4), 3);
  CHECK_EQ_INT(all.total, 100);
  CHECK_EQ_INT(all.busy, 20);
  CHECK(present[0] && !present[1] && present[2] && !present[3]);
  /* steal counts as busy (someone else's), guest is inside user already */
  CHECK_EQ_INT(zn_parse_proc_stat("cpu  10 0 0 80 0 0 0 10 7 0\n", &all, NULL, NULL, 0), 0);
  CHECK_EQ_INT(all.total, 100);
  CHECK_EQ_INT(all.busy, 20);
}

static void test_pid_stat(void) {
  uint64_t t = 0;
  CHECK(zn_parse_pid_stat_ticks(load("tests/data/monitor/host/proc/self/stat"), &t));
  CHECK_EQ_INT(t, 0); /* captured from a short-lived cat */
  CHECK(zn_parse_pid_stat_ticks(load("tests/data/monitor/fake_board/proc/self/stat"), &t));
  CHECK_EQ_INT(t, 400); /* "(zenith bench)": a space in the name */
  const char *odd = "77 (a) b) (c) S 1 77 77 0 -1 4194304 10 0 0 0 123 456 0 0 20 0 1 0 5 1000 20 0\n";
  CHECK(zn_parse_pid_stat_ticks(odd, &t));
  CHECK_EQ_INT(t, 579);
  CHECK(!zn_parse_pid_stat_ticks("77 (x) S 1 2\n", &t));
  CHECK(!zn_parse_pid_stat_ticks("garbage", &t));
}

static void test_meminfo_status(void) {
  uint64_t v = 0;
  const char *mi = load("tests/data/monitor/host/proc/meminfo");
  CHECK(zn_parse_kv_kb(mi, "MemTotal", &v));
  CHECK_EQ_INT(v, 24684084ull * 1024);
  CHECK(zn_parse_kv_kb(mi, "MemAvailable", &v));
  CHECK_EQ_INT(v, 24281084ull * 1024);
  CHECK(!zn_parse_kv_kb(mi, "MemNonsense", &v));
  CHECK(!zn_parse_kv_kb(mi, "Mem", &v)); /* a prefix of a key is not the key */
  const char *st = load("tests/data/monitor/host/proc/self/status");
  CHECK(zn_parse_kv_kb(st, "VmRSS", &v));
  CHECK_EQ_INT(v, 1772 * 1024);
  CHECK(zn_parse_kv_kb(st, "VmHWM", &v));
  CHECK_EQ_INT(v, 1772 * 1024);
  CHECK(zn_parse_kv_kb("Threads:\t3\n", "Threads", &v));
  CHECK_EQ_INT(v, 3); /* no kB: taken as is */
}

static void test_diskstats(void) {
  zn_diskstat d[32];
  int n = zn_parse_diskstats(load("tests/data/monitor/host/proc/diskstats"), d, 32);
  CHECK_EQ_INT(n, 10); /* loop0-7, vda, zram0 */
  int vda = -1;
  for (int i = 0; i < n; i++)
    if (strcmp(d[i].name, "vda") == 0) vda = i;
  CHECK(vda >= 0);
  if (vda >= 0) {
    /* "254 0 vda 43756 9159 3774794 25628 13177 13131 1794488 ..." */
    CHECK_EQ_INT(d[vda].sectors_read, 3774794);
    CHECK_EQ_INT(d[vda].sectors_written, 1794488);
  }
  CHECK(zn_disk_name_skipped("loop3"));
  CHECK(zn_disk_name_skipped("zram0"));
  CHECK(zn_disk_name_skipped("ram0"));
  CHECK(zn_disk_name_skipped("dm-0"));
  CHECK(zn_disk_name_skipped("md127"));
  CHECK(!zn_disk_name_skipped("vda"));
  CHECK(!zn_disk_name_skipped("mmcblk0"));
  CHECK(!zn_disk_name_skipped("nvme0n1"));
  /* Short or malformed lines are skipped, and max is respected. */
  CHECK_EQ_INT(zn_parse_diskstats("8 0 sda 1 2\n8 1 sda1 1 0 8 0 1 0 16 0 0 0 0\n", d, 32), 1);
  CHECK_EQ_INT(d[0].sectors_read, 8);
  CHECK_EQ_INT(d[0].sectors_written, 16);
  CHECK_EQ_INT(zn_parse_diskstats(load("tests/data/monitor/host/proc/diskstats"), d, 3), 3);
}

static void test_cpuinfo(void) {
  double mhz[8];
  CHECK_EQ_INT(zn_parse_cpuinfo_mhz(load("tests/data/monitor/host/proc/cpuinfo"), mhz, 8), 2);
  CHECK_NEAR(mhz[0], 2599.998, 1e-9);
  CHECK_NEAR(mhz[1], 2599.998, 1e-9);
  CHECK_EQ_INT(zn_parse_cpuinfo_mhz(load("tests/data/monitor/fake_board/proc/cpuinfo"), mhz, 8), 0); /* ARM: none */
  CHECK_EQ_INT(zn_parse_cpuinfo_mhz("cpu MHz\t\t: 800.5\ncpu MHz : 1200\n", mhz, 1), 1);
}

static void test_rapl_delta(void) {
  uint64_t d = 0;
  CHECK(zn_rapl_delta_uj(1000, 5000, 262143328850ull, &d));
  CHECK_EQ_INT(d, 4000);
  /* wrapped: from 1 J below the top to 0.5 J past zero = 1.5 J */
  CHECK(zn_rapl_delta_uj(262143328850ull - 1000000, 500000, 262143328850ull, &d));
  CHECK_EQ_INT(d, 1500000);
  CHECK(zn_rapl_delta_uj(7, 7, 100, &d));
  CHECK_EQ_INT(d, 0);
  /* backwards with no usable range: unknown rather than a made-up 0 */
  CHECK(!zn_rapl_delta_uj(5000, 1000, 0, &d));
  CHECK(!zn_rapl_delta_uj(5000, 1000, 4000, &d));
}

int zn_test_main(void) {
  test_proc_stat_captured();
  test_proc_stat_edge_cases();
  test_pid_stat();
  test_meminfo_status();
  test_diskstats();
  test_cpuinfo();
  test_rapl_delta();
  return 0;
}
