/* I/O probe for Linux: disk read/write bytes/s summed over whole disks from
 * /proc/diskstats (sectors are 512 bytes whatever the device; partitions,
 * loop, ram, zram, dm and md are skipped so no byte counts twice), and USB
 * bytes/s. /sys/bus/usb has no byte counters, so USB traffic is what is
 * countable: block devices and network interfaces whose sysfs device path
 * lies under a USB controller. Absent when there are none. */
#if defined(__linux__)
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/status.h"
#include "monitor/probe.h"

#define MAX_DISKSTATS 512
#define MAX_DISKS 64
#define MAX_NETS 16

typedef struct io_state {
  zn_pfile diskstats;
  zn_diskstat *parsed; /* MAX_DISKSTATS, reused every sample */
  char disks[MAX_DISKS][ZN_DISK_NAME_MAX];
  bool disk_usb[MAX_DISKS];
  int num_disks, num_usb_disks;
  zn_pfile net_rx[MAX_NETS], net_tx[MAX_NETS];
  int num_nets;
  int idx_read, idx_write, idx_usb_read, idx_usb_write;
  bool have_prev;
  zn_time_ns prev_t;
  uint64_t prev[4]; /* disk read, disk write, usb read, usb write: bytes */
} io_state;

static void io_close(void *p) {
  io_state *s = p;
  if (!s) return;
  zn_pfile_close(&s->diskstats);
  for (int i = 0; i < s->num_nets; i++) {
    zn_pfile_close(&s->net_rx[i]);
    zn_pfile_close(&s->net_tx[i]);
  }
  zn_free(s->parsed);
  zn_free(s);
}

static bool exists(const char *root, const char *path) {
  char full[ZN_PROBE_PATH_MAX];
  struct stat st;
  return zn_probe_path(full, sizeof full, root, path) && lstat(full, &st) == 0; /* links may dangle in test trees */
}

/* The sysfs link of a device ("../devices/pci0000:00/.../usb2/2-1/...")
 * names the bus path; a "/usb" component means it hangs off a USB host. */
static bool link_is_usb(const char *root, const char *path) {
  char full[ZN_PROBE_PATH_MAX], target[ZN_PROBE_PATH_MAX];
  if (!zn_probe_path(full, sizeof full, root, path)) return false;
  ssize_t n = readlink(full, target, sizeof target - 1);
  if (n <= 0) return false;
  target[n] = '\0';
  return strstr(target, "/usb") != NULL;
}

/* Without /sys/block, a partition is a name that extends another listed
 * name by digits, or by 'p' and digits (nvme0n1p1, mmcblk0p1). */
static bool looks_like_partition(const zn_diskstat *all, int n, const char *name) {
  for (int j = 0; j < n; j++) {
    size_t l = strlen(all[j].name);
    if (strcmp(all[j].name, name) == 0 || strncmp(all[j].name, name, l) != 0) continue;
    const char *rest = name + l;
    if (*rest == 'p') rest++;
    if (!*rest) continue;
    while (*rest >= '0' && *rest <= '9') rest++;
    if (!*rest) return true;
  }
  return false;
}

static void usb_nets_open(zn_probe_env *env, io_state *s) {
  char dir[ZN_PROBE_PATH_MAX];
  DIR *d = zn_probe_path(dir, sizeof dir, env->root, "/sys/class/net") ? opendir(dir) : NULL;
  struct dirent *de;
  while (d && (de = readdir(d)) && s->num_nets < MAX_NETS) {
    if (de->d_name[0] == '.' || strlen(de->d_name) > 32) continue;
    char path[ZN_PROBE_PATH_MAX];
    snprintf(path, sizeof path, "/sys/class/net/%s", de->d_name);
    if (!link_is_usb(env->root, path)) continue;
    int k = s->num_nets;
    snprintf(path, sizeof path, "/sys/class/net/%s/statistics/rx_bytes", de->d_name);
    bool ok = zn_pfile_open(&s->net_rx[k], env->root, path);
    snprintf(path, sizeof path, "/sys/class/net/%s/statistics/tx_bytes", de->d_name);
    ok = ok && zn_pfile_open(&s->net_tx[k], env->root, path);
    if (!ok) {
      zn_pfile_close(&s->net_rx[k]);
      zn_pfile_close(&s->net_tx[k]);
      continue;
    }
    s->num_nets++;
  }
  if (d) closedir(d);
}

static int count_usb_devices(const char *root) {
  char dir[ZN_PROBE_PATH_MAX];
  DIR *d = zn_probe_path(dir, sizeof dir, root, "/sys/bus/usb/devices") ? opendir(dir) : NULL;
  if (!d) return -1;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)))
    if (de->d_name[0] != '.' && !strchr(de->d_name, ':') && strncmp(de->d_name, "usb", 3) != 0)
      n++; /* devices, not hubs' roots or interfaces */
  closedir(d);
  return n;
}

static zn_status io_open(zn_probe_env *env, void **state_out) {
  *state_out = NULL;
  io_state *s = zn_calloc(1, sizeof *s);
  if (s) s->parsed = zn_calloc(MAX_DISKSTATS, sizeof *s->parsed);
  if (!s || !s->parsed) {
    io_close(s);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "out of memory");
  }
  s->diskstats = ZN_PFILE_CLOSED;
  for (int i = 0; i < MAX_NETS; i++) s->net_rx[i] = s->net_tx[i] = ZN_PFILE_CLOSED;
  s->idx_read = s->idx_write = s->idx_usb_read = s->idx_usb_write = -1;

  long len = -1;
  if (zn_pfile_open(&s->diskstats, env->root, "/proc/diskstats"))
    len = zn_pfile_read(&s->diskstats, env->scratch, env->scratch_bytes);
  int n = len >= 0 ? zn_parse_diskstats(env->scratch, s->parsed, MAX_DISKSTATS) : 0;
  bool have_sys_block = exists(env->root, "/sys/block");
  for (int i = 0; i < n && s->num_disks < MAX_DISKS; i++) {
    const char *name = s->parsed[i].name;
    if (zn_disk_name_skipped(name)) continue;
    char path[ZN_PROBE_PATH_MAX];
    snprintf(path, sizeof path, "/sys/block/%s", name);
    if (have_sys_block ? !exists(env->root, path) : looks_like_partition(s->parsed, n, name)) continue;
    snprintf(s->disks[s->num_disks], ZN_DISK_NAME_MAX, "%s", name);
    s->disk_usb[s->num_disks] = have_sys_block && link_is_usb(env->root, path);
    s->num_usb_disks += s->disk_usb[s->num_disks];
    s->num_disks++;
  }
  if (s->num_disks > 0) {
    char list[120] = "";
    size_t l = 0;
    for (int i = 0; i < s->num_disks && l < sizeof list; i++)
      l += (size_t)snprintf(list + l, sizeof list - l, "%s%s", i ? " " : "", s->disks[i]);
    zn_probe_add_source(env, "/proc/diskstats", true, "%s", list);
    s->idx_read = zn_probe_add_channel(env, ZN_MONITOR_IO_DISK_READ, "B/s", ZN_MONITOR_RATE, "/proc/diskstats");
    s->idx_write = zn_probe_add_channel(env, ZN_MONITOR_IO_DISK_WRITE, "B/s", ZN_MONITOR_RATE, "/proc/diskstats");
  } else {
    zn_probe_add_source(env, "/proc/diskstats", false, "%s", len < 0 ? "unreadable" : "no whole disks listed");
  }

  usb_nets_open(env, s);
  int usb_devices = count_usb_devices(env->root);
  if (s->num_usb_disks + s->num_nets > 0) {
    zn_probe_add_source(env, "USB", true, "%d USB disks, %d USB network interfaces (/sys/bus/usb has no byte counters)",
                        s->num_usb_disks, s->num_nets);
    s->idx_usb_read =
        zn_probe_add_channel(env, "io.usb_read_Bps", "B/s", ZN_MONITOR_RATE, "USB disks read + USB net rx");
    s->idx_usb_write =
        zn_probe_add_channel(env, "io.usb_write_Bps", "B/s", ZN_MONITOR_RATE, "USB disks written + USB net tx");
  } else if (usb_devices < 0) {
    zn_probe_add_source(env, "USB", false, "no /sys/bus/usb/devices");
  } else {
    zn_probe_add_source(env, "USB", false, "%d USB devices, none a disk or network interface with byte counters",
                        usb_devices);
  }
  if (s->num_disks == 0) zn_pfile_close(&s->diskstats);
  if (s->num_disks == 0 && s->num_nets == 0) {
    io_close(s);
    return ZN_OK;
  }
  *state_out = s;
  return ZN_OK;
}

static void io_sample(void *p, zn_probe_env *env, zn_time_ns now, double *row) {
  io_state *s = p;
  uint64_t cur[4] = {0, 0, 0, 0};
  bool ok = true;
  if (s->num_disks > 0) {
    long len = zn_pfile_read(&s->diskstats, env->scratch, env->scratch_bytes);
    int n = len > 0 ? zn_parse_diskstats(env->scratch, s->parsed, MAX_DISKSTATS) : 0;
    ok = n > 0;
    for (int d = 0; d < s->num_disks; d++)
      for (int i = 0; i < n; i++)
        if (strcmp(s->parsed[i].name, s->disks[d]) == 0) {
          cur[0] += s->parsed[i].sectors_read * 512;
          cur[1] += s->parsed[i].sectors_written * 512;
          if (s->disk_usb[d]) {
            cur[2] += s->parsed[i].sectors_read * 512;
            cur[3] += s->parsed[i].sectors_written * 512;
          }
          break;
        }
  }
  for (int k = 0; k < s->num_nets; k++) {
    int64_t rx, tx;
    if (zn_pfile_read_i64(&s->net_rx[k], &rx) && zn_pfile_read_i64(&s->net_tx[k], &tx)) {
      cur[2] += (uint64_t)rx;
      cur[3] += (uint64_t)tx;
    } else {
      ok = false;
    }
  }
  if (!ok) {
    s->have_prev = false;
    return;
  }
  if (s->have_prev && now > s->prev_t) {
    double dt = (double)(now - s->prev_t) * 1e-9;
    const int idx[4] = {s->idx_read, s->idx_write, s->idx_usb_read, s->idx_usb_write};
    /* A counter going backwards (device removed, counter reset) gives NaN. */
    for (int k = 0; k < 4; k++)
      if (idx[k] >= 0) row[idx[k]] = cur[k] >= s->prev[k] ? (double)(cur[k] - s->prev[k]) / dt : NAN;
  }
  memcpy(s->prev, cur, sizeof cur);
  s->prev_t = now;
  s->have_prev = true;
}

const zn_probe_ops zn_probe_io_ops = {io_open, io_sample, io_close};
#endif
