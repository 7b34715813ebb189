/* File helpers and text parsers shared by the probes. Files are opened once
 * and re-read with pread at offset 0 (procfs and sysfs regenerate content on
 * each read), into caller buffers: sampling never allocates. The parsers are
 * pure functions over text so tests can run them on captured files. */
#include "monitor/probe.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool zn_probe_path(char *buf, size_t cap, const char *root, const char *path) {
  int n = snprintf(buf, cap, "%s%s", root ? root : "", path);
  return n >= 0 && (size_t)n < cap;
}

bool zn_pfile_open(zn_pfile *f, const char *root, const char *path) {
  char full[ZN_PROBE_PATH_MAX];
  f->fd = -1;
  if (!zn_probe_path(full, sizeof full, root, path)) return false;
  f->fd = open(full, O_RDONLY | O_CLOEXEC);
  return f->fd >= 0;
}

void zn_pfile_close(zn_pfile *f) {
  if (f->fd >= 0) close(f->fd);
  f->fd = -1;
}

static long read_fd_at0(int fd, char *buf, size_t cap) {
  if (cap == 0) return -1;
  size_t len = 0;
  while (len + 1 < cap) {
    ssize_t n = pread(fd, buf + len, cap - 1 - len, (off_t)len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  buf[len] = '\0';
  return (long)len;
}

long zn_pfile_read(zn_pfile *f, char *buf, size_t cap) {
  if (f->fd < 0) return -1;
  return read_fd_at0(f->fd, buf, cap);
}

bool zn_pfile_read_i64(zn_pfile *f, int64_t *out) {
  char buf[64];
  if (zn_pfile_read(f, buf, sizeof buf) <= 0) return false;
  char *end;
  errno = 0;
  long long v = strtoll(buf, &end, 10);
  if (end == buf || errno != 0) return false;
  *out = (int64_t)v;
  return true;
}

long zn_probe_read_file(const char *root, const char *path, char *buf, size_t cap) {
  zn_pfile f;
  if (!zn_pfile_open(&f, root, path)) return -1;
  long n = zn_pfile_read(&f, buf, cap);
  int saved = errno;
  zn_pfile_close(&f);
  errno = saved;
  return n;
}

bool zn_probe_read_line(const char *root, const char *path, char *buf, size_t cap) {
  long n = zn_probe_read_file(root, path, buf, cap);
  if (n < 0) return false;
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
  return true;
}

/* ---- parsers ---- */

/* Parse up to max unsigned numbers separated by blanks from *p to the end of
 * the line; returns how many. */
static int parse_u64s(const char **p, uint64_t *v, int max) {
  const char *s = *p;
  int n = 0;
  while (n < max) {
    while (*s == ' ' || *s == '\t') s++;
    if (!isdigit((unsigned char)*s)) break;
    char *end;
    v[n++] = strtoull(s, &end, 10);
    s = end;
  }
  *p = s;
  return n;
}

static const char *next_line(const char *s) {
  const char *nl = strchr(s, '\n');
  return nl ? nl + 1 : s + strlen(s);
}

/* Fields: user nice system idle iowait irq softirq steal guest guest_nice.
 * guest and guest_nice are already inside user and nice, so they are not
 * added again; steal (time a hypervisor gave to someone else) counts as busy:
 * it is foreign load. */
static bool cpu_line_times(const char **p, zn_cpu_times *out) {
  uint64_t v[10] = {0};
  int n = parse_u64s(p, v, 10);
  if (n < 4) return false;
  uint64_t total = 0;
  for (int i = 0; i < n && i < 8; i++) total += v[i];
  uint64_t idle = v[3] + (n > 4 ? v[4] : 0);
  out->total = total;
  out->busy = total - idle;
  return true;
}

int zn_parse_proc_stat(const char *text, zn_cpu_times *all, zn_cpu_times *cores, bool *present, int max_cores) {
  bool have_all = false;
  int num = 0;
  if (present)
    for (int i = 0; i < max_cores; i++) present[i] = false;
  for (const char *s = text; *s; s = next_line(s)) {
    if (strncmp(s, "cpu", 3) != 0) {
      if (have_all) break; /* the cpu lines come first and together */
      continue;
    }
    const char *p = s + 3;
    if (*p == ' ') {
      if (!cpu_line_times(&p, all)) return -1;
      have_all = true;
    } else if (isdigit((unsigned char)*p)) {
      char *end;
      unsigned long idx = strtoul(p, &end, 10);
      p = end;
      zn_cpu_times t;
      if (!cpu_line_times(&p, &t)) continue;
      if (cores && present && idx < (unsigned long)max_cores) {
        cores[idx] = t;
        present[idx] = true;
      }
      num++;
    }
  }
  return have_all ? num : -1;
}

double zn_cpu_busy_pct(zn_cpu_times prev, zn_cpu_times cur) {
  if (cur.total <= prev.total || cur.busy < prev.busy) return NAN;
  uint64_t dt = cur.total - prev.total, db = cur.busy - prev.busy;
  if (db > dt) db = dt;
  return 100.0 * (double)db / (double)dt;
}

bool zn_parse_pid_stat_ticks(const char *text, uint64_t *ticks_out) {
  /* "pid (comm) state ppid ..." where comm may hold spaces and ')': fields
   * are counted from the LAST ')'. utime and stime are fields 14 and 15. */
  const char *p = strrchr(text, ')');
  if (!p) return false;
  p++;
  /* skip fields 3..13 (11 fields) */
  for (int f = 0; f < 11; f++) {
    while (*p == ' ') p++;
    if (!*p || *p == '\n') return false;
    while (*p && *p != ' ' && *p != '\n') p++;
  }
  uint64_t v[2];
  if (parse_u64s(&p, v, 2) != 2) return false;
  *ticks_out = v[0] + v[1];
  return true;
}

bool zn_parse_kv_kb(const char *text, const char *key, uint64_t *bytes_out) {
  size_t klen = strlen(key);
  for (const char *s = text; *s; s = next_line(s)) {
    if (strncmp(s, key, klen) != 0 || s[klen] != ':') continue;
    const char *p = s + klen + 1;
    while (*p == ' ' || *p == '\t') p++;
    if (!isdigit((unsigned char)*p)) return false;
    char *end;
    uint64_t v = strtoull(p, &end, 10);
    while (*end == ' ') end++;
    *bytes_out = strncmp(end, "kB", 2) == 0 ? v * 1024 : v;
    return true;
  }
  return false;
}

int zn_parse_diskstats(const char *text, zn_diskstat *out, int max) {
  int n = 0;
  for (const char *s = text; *s && n < max; s = next_line(s)) {
    /* major minor name reads merged sectors_read ms writes merged sectors_written ... */
    const char *p = s;
    uint64_t mm[2];
    if (parse_u64s(&p, mm, 2) != 2) continue;
    while (*p == ' ') p++;
    const char *name = p;
    while (*p && *p != ' ' && *p != '\n') p++;
    size_t len = (size_t)(p - name);
    if (len == 0 || len >= ZN_DISK_NAME_MAX) continue;
    uint64_t v[7];
    if (parse_u64s(&p, v, 7) != 7) continue;
    memcpy(out[n].name, name, len);
    out[n].name[len] = '\0';
    out[n].sectors_read = v[2];
    out[n].sectors_written = v[6];
    n++;
  }
  return n;
}

bool zn_disk_name_skipped(const char *name) {
  static const char *const prefixes[] = {"loop", "ram", "zram", "dm-", "md"};
  for (size_t i = 0; i < ZN_ARRAY_SIZE(prefixes); i++)
    if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0) return true;
  return false;
}

int zn_parse_cpuinfo_mhz(const char *text, double *mhz, int max) {
  int n = 0;
  for (const char *s = text; *s && n < max; s = next_line(s)) {
    if (strncmp(s, "cpu MHz", 7) != 0) continue;
    const char *colon = strchr(s, ':');
    const char *nl = strchr(s, '\n');
    if (!colon || (nl && colon > nl)) continue;
    char *end;
    double v = strtod(colon + 1, &end);
    if (end == colon + 1) continue;
    mhz[n++] = v;
  }
  return n;
}

bool zn_rapl_delta_uj(uint64_t prev, uint64_t cur, uint64_t max_range_uj, uint64_t *delta_out) {
  if (cur >= prev) {
    *delta_out = cur - prev;
    return true;
  }
  /* The counter wrapped past max_energy_range_uj back to 0 once. Without a
   * range, or with prev beyond it, the delta is unknown (not zero). */
  if (max_range_uj == 0 || prev > max_range_uj) return false;
  *delta_out = (max_range_uj - prev) + cur;
  return true;
}
