/* hwmon sensors through libsensors (which applies sensors.conf labels and
 * scaling, and covers INA219/INA3221 power monitors on Jetson and Raspberry
 * Pi boards) or, without it or under a test root, straight from sysfs
 * (power*_input in uW, curr*_input in mA, in*_input in mV, temp*_input in
 * m°C). Enumeration happens at open; sampling only reads the chosen inputs. */
#include "monitor/hwmon.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/status.h"

#if defined(ZN_HAVE_SENSORS)
#include <sensors/sensors.h>
#endif

#define MAX_ENTRIES 256

typedef enum quantity { Q_POWER = 0, Q_CURR = 1, Q_VOLT = 2, Q_TEMP = 3 } quantity;
static const char *const q_prefix[] = {"power", "curr", "in", "temp"};
static const char *const q_unit[] = {"W", "A", "V", "C"};
static const char *const q_suffix[] = {"w", "a", "v", "c"};
static const double q_sysfs_scale[] = {1e-6, 1e-3, 1e-3, 1e-3};

typedef struct entry {
  quantity q;
  int num;     /* the N of power<N>_input */
  int chip;    /* index of its chip, for V x I matching */
  int chan;    /* channel index, -1 if not registered */
  zn_pfile f;  /* sysfs */
  int subfeat; /* libsensors subfeature number */
  const void *sensors_chip;
  int derive_v, derive_i; /* for derived power: entry indices, else -1 */
  char label[40];
} entry;

struct zn_hwmon {
  bool use_sensors;
  entry *entries;
  int num_entries;
};

/* ---- libsensors is process-global: reference-count init/cleanup ---- */
#if defined(ZN_HAVE_SENSORS)
static pthread_mutex_t sensors_lock = PTHREAD_MUTEX_INITIALIZER;
static int sensors_refs;

static bool sensors_acquire(void) {
  pthread_mutex_lock(&sensors_lock);
  bool ok = true;
  if (sensors_refs == 0) ok = sensors_init(NULL) == 0;
  if (ok) sensors_refs++;
  pthread_mutex_unlock(&sensors_lock);
  return ok;
}

static void sensors_release(void) {
  pthread_mutex_lock(&sensors_lock);
  if (sensors_refs > 0 && --sensors_refs == 0) sensors_cleanup();
  pthread_mutex_unlock(&sensors_lock);
}
#endif

void zn_hwmon_close(zn_hwmon *h) {
  if (!h) return;
  for (int i = 0; i < h->num_entries; i++) zn_pfile_close(&h->entries[i].f);
#if defined(ZN_HAVE_SENSORS)
  if (h->use_sensors) sensors_release();
#endif
  zn_free(h->entries);
  zn_free(h);
}

static void sanitize(char *dst, size_t cap, const char *src) {
  size_t n = 0;
  for (; *src && n + 1 < cap; src++) {
    unsigned char c = (unsigned char)*src;
    dst[n++] = (isalnum(c) || c == '-' || c == '_' || c == '+') ? (char)c : '_';
  }
  dst[n] = '\0';
}

static entry *add_entry(zn_hwmon *h, quantity q, int num, int chip, const char *label) {
  if (h->num_entries >= MAX_ENTRIES) return NULL;
  entry *e = &h->entries[h->num_entries++];
  memset(e, 0, sizeof *e);
  e->q = q;
  e->num = num;
  e->chip = chip;
  e->chan = -1;
  e->f = ZN_PFILE_CLOSED;
  e->derive_v = e->derive_i = -1;
  sanitize(e->label, sizeof e->label, label);
  return e;
}

/* A board's whole input: the rail Jetson boards call VDD_IN (Xavier, Orin)
 * or POM_5V_IN (Nano, TX1/TX2). */
static bool is_input_rail(const char *label) {
  return strcasecmp(label, "VDD_IN") == 0 || strcasecmp(label, "POM_5V_IN") == 0;
}

/* After the raw entries of chips [first_chip..]: add V x I for every current
 * whose voltage of the same number exists on a chip that reports no power of
 * that number (INA3221: in1..3 bus voltages with curr1..3). */
static void add_derived(zn_hwmon *h, int num_raw) {
  for (int i = 0; i < num_raw; i++) {
    entry *ci = &h->entries[i];
    if (ci->q != Q_CURR) continue;
    int v = -1;
    bool has_power = false;
    for (int j = 0; j < num_raw; j++) {
      entry *e = &h->entries[j];
      if (e->chip != ci->chip || e->num != ci->num) continue;
      if (e->q == Q_VOLT) v = j;
      if (e->q == Q_POWER) has_power = true;
    }
    if (v < 0 || has_power) continue;
    entry *d = add_entry(h, Q_POWER, ci->num, ci->chip, ci->label);
    if (!d) return;
    d->derive_v = v;
    d->derive_i = i;
  }
}

static void register_channels(zn_probe_env *env, zn_hwmon *h, const char (*chip_names)[48], const char *prefix,
                              const char *how, int *total_idx) {
  int num_power = 0, only_power = -1, rail = -1;
  for (int i = 0; i < h->num_entries; i++) {
    entry *e = &h->entries[i];
    char name[64], source[112];
    const char *chip = chip_names[e->chip];
    snprintf(name, sizeof name, "%s.%.24s.%.24s_%s", prefix, chip, e->label, q_suffix[e->q]);
    if (e->derive_v >= 0)
      snprintf(source, sizeof source, "%s %s: in%d x curr%d", how, chip, e->num, e->num);
    else
      snprintf(source, sizeof source, "%s %s: %s%d", how, chip, q_prefix[e->q], e->num);
    e->chan = zn_probe_add_channel(env, name, q_unit[e->q], ZN_MONITOR_GAUGE, source);
    if (e->q == Q_POWER && e->chan >= 0) {
      num_power++;
      only_power = e->chan;
      if (rail < 0 && is_input_rail(e->label)) rail = e->chan;
    }
  }
  if (total_idx) *total_idx = rail >= 0 ? rail : num_power == 1 ? only_power : -1;
}

/* ---- sysfs ---- */

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static bool wanted(zn_hwmon_class cls, quantity q) { return cls == ZN_HWMON_TEMP ? q == Q_TEMP : q != Q_TEMP; }

/* Parse "<prefix><N>_<suffix>"; false if it is not an input we read. For
 * power, "_input" is preferred and "_average" used when there is no input. */
static bool parse_attr(const char *fname, quantity *q, int *num, bool *average) {
  for (int k = 0; k < 4; k++) {
    size_t pl = strlen(q_prefix[k]);
    if (strncmp(fname, q_prefix[k], pl) != 0 || !isdigit((unsigned char)fname[pl])) continue;
    char *end;
    long n = strtol(fname + pl, &end, 10);
    if (n < 0 || n > 9999) return false;
    *average = false;
    if (strcmp(end, "_input") == 0) {
    } else if (k == Q_POWER && strcmp(end, "_average") == 0) {
      *average = true;
    } else {
      return false;
    }
    *q = (quantity)k;
    *num = (int)n;
    return true;
  }
  return false;
}

typedef struct found {
  quantity q;
  int num;
  bool average;
} found;

static int cmp_found(const void *a, const void *b) {
  const found *x = a, *y = b;
  if (x->q != y->q) return (int)x->q - (int)y->q;
  if (x->num != y->num) return x->num - y->num;
  return (int)x->average - (int)y->average;
}

static int sysfs_scan(zn_probe_env *env, zn_hwmon *h, zn_hwmon_class cls, char (*chip_names)[48], int max_chips) {
  char dir[ZN_PROBE_PATH_MAX];
  if (!zn_probe_path(dir, sizeof dir, env->root, "/sys/class/hwmon")) return 0;
  DIR *d = opendir(dir);
  if (!d) return 0;
  int ids[256], num_ids = 0;
  struct dirent *de;
  while ((de = readdir(d)) && num_ids < 256)
    if (strncmp(de->d_name, "hwmon", 5) == 0 && isdigit((unsigned char)de->d_name[5]))
      ids[num_ids++] = atoi(de->d_name + 5);
  closedir(d);
  qsort(ids, (size_t)num_ids, sizeof ids[0], cmp_int);

  int num_chips = 0;
  for (int k = 0; k < num_ids && num_chips < max_chips; k++) {
    char base[128], path[ZN_PROBE_PATH_MAX], chip[48];
    snprintf(base, sizeof base, "/sys/class/hwmon/hwmon%d", ids[k]);
    snprintf(path, sizeof path, "%s/name", base);
    if (!zn_probe_read_line(env->root, path, chip, sizeof chip)) {
      /* Old drivers keep their attributes under device/. */
      snprintf(base, sizeof base, "/sys/class/hwmon/hwmon%d/device", ids[k]);
      snprintf(path, sizeof path, "%s/name", base);
      if (!zn_probe_read_line(env->root, path, chip, sizeof chip)) continue;
    }
    char full[ZN_PROBE_PATH_MAX];
    if (!zn_probe_path(full, sizeof full, env->root, base) || !(d = opendir(full))) continue;
    found list[MAX_ENTRIES];
    int n = 0;
    while ((de = readdir(d)) && n < MAX_ENTRIES) {
      found f;
      if (parse_attr(de->d_name, &f.q, &f.num, &f.average) && wanted(cls, f.q)) list[n++] = f;
    }
    closedir(d);
    qsort(list, (size_t)n, sizeof list[0], cmp_found);
    int chip_idx = num_chips, added = 0;
    for (int i = 0; i < n; i++) {
      if (i > 0 && list[i].q == list[i - 1].q && list[i].num == list[i - 1].num) continue; /* input beat average */
      char attr[64], label[40] = "";
      snprintf(attr, sizeof attr, "%s%d_label", q_prefix[list[i].q], list[i].num);
      snprintf(path, sizeof path, "%s/%s", base, attr);
      if (!zn_probe_read_line(env->root, path, label, sizeof label) || !label[0])
        snprintf(label, sizeof label, "%s%d", q_prefix[list[i].q], list[i].num);
      entry *e = add_entry(h, list[i].q, list[i].num, chip_idx, label);
      if (!e) break;
      snprintf(path, sizeof path, "%s/%s%d_%s", base, q_prefix[list[i].q], list[i].num,
               list[i].average ? "average" : "input");
      if (!zn_pfile_open(&e->f, env->root, path)) {
        h->num_entries--; /* unreadable (permissions): not a source */
        continue;
      }
      added++;
    }
    if (added) {
      snprintf(chip_names[num_chips], 48, "%.32s-hwmon%d", chip, ids[k]);
      num_chips++;
    }
  }
  return num_chips;
}

/* ---- libsensors ---- */
#if defined(ZN_HAVE_SENSORS)
static int sensors_scan(zn_hwmon *h, zn_hwmon_class cls, char (*chip_names)[48], int max_chips) {
  int num_chips = 0, cnr = 0;
  const sensors_chip_name *chip;
  while ((chip = sensors_get_detected_chips(NULL, &cnr)) && num_chips < max_chips) {
    int fnr = 0, added = 0;
    const sensors_feature *feat;
    while ((feat = sensors_get_features(chip, &fnr))) {
      const sensors_subfeature *sf = NULL;
      quantity q;
      switch (feat->type) {
      case SENSORS_FEATURE_POWER:
        q = Q_POWER;
        sf = sensors_get_subfeature(chip, feat, SENSORS_SUBFEATURE_POWER_INPUT);
        if (!sf) sf = sensors_get_subfeature(chip, feat, SENSORS_SUBFEATURE_POWER_AVERAGE);
        break;
      case SENSORS_FEATURE_CURR:
        q = Q_CURR;
        sf = sensors_get_subfeature(chip, feat, SENSORS_SUBFEATURE_CURR_INPUT);
        break;
      case SENSORS_FEATURE_IN:
        q = Q_VOLT;
        sf = sensors_get_subfeature(chip, feat, SENSORS_SUBFEATURE_IN_INPUT);
        break;
      case SENSORS_FEATURE_TEMP:
        q = Q_TEMP;
        sf = sensors_get_subfeature(chip, feat, SENSORS_SUBFEATURE_TEMP_INPUT);
        break;
      default: continue;
      }
      if (!sf || !wanted(cls, q) || !(sf->flags & SENSORS_MODE_R)) continue;
      double probe_value;
      if (sensors_get_value(chip, sf->number, &probe_value) < 0) continue; /* unreadable now: not a source */
      char *label = sensors_get_label(chip, feat);
      int num = 0;
      const char *digits = feat->name;
      while (*digits && !isdigit((unsigned char)*digits)) digits++;
      num = atoi(digits);
      entry *e = add_entry(h, q, num, num_chips, label ? label : feat->name);
      free(label); /* allocated by libsensors with malloc */
      if (!e) break;
      e->sensors_chip = chip;
      e->subfeat = sf->number;
      added++;
    }
    if (added) {
      char cname[48];
      if (sensors_snprintf_chip_name(cname, sizeof cname, chip) < 0) snprintf(cname, sizeof cname, "%s", chip->prefix);
      snprintf(chip_names[num_chips], 48, "%s", cname);
      num_chips++;
    }
  }
  return num_chips;
}
#endif

zn_status zn_hwmon_open(zn_probe_env *env, zn_hwmon_class cls, zn_hwmon **out, int *total_idx_out) {
  *out = NULL;
  if (total_idx_out) *total_idx_out = -1;
  zn_hwmon *h = zn_calloc(1, sizeof *h);
  char(*chip_names)[48] = zn_calloc(64, 48);
  if (h) h->entries = zn_calloc(MAX_ENTRIES, sizeof *h->entries);
  if (!h || !h->entries || !chip_names) {
    zn_free(chip_names);
    zn_hwmon_close(h);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "out of memory");
  }
  const char *what = cls == ZN_HWMON_TEMP ? "temperature" : "power, current or voltage";
  char src[48];
  int num_chips = 0;
  bool sensors_failed = false;
#if defined(ZN_HAVE_SENSORS)
  int use = env->options->use_libsensors;
  if (use > 0 || (use == 0 && env->root[0] == '\0')) {
    if (sensors_acquire()) {
      h->use_sensors = true;
      num_chips = sensors_scan(h, cls, chip_names, 64);
    } else {
      sensors_failed = true;
    }
  }
#endif
  if (h->use_sensors) {
    snprintf(src, sizeof src, "hwmon %s (libsensors)", cls == ZN_HWMON_TEMP ? "temperature" : "electrical");
  } else {
    snprintf(src, sizeof src, "hwmon %s (sysfs)", cls == ZN_HWMON_TEMP ? "temperature" : "electrical");
    num_chips = sysfs_scan(env, h, cls, chip_names, 64);
  }
  if (h->num_entries == 0) {
    zn_probe_add_source(env, src, false, "no %s inputs under /sys/class/hwmon%s", what,
                        sensors_failed ? " (sensors_init failed)" : "");
    zn_free(chip_names);
    zn_hwmon_close(h);
    return ZN_OK;
  }
  int num_raw = h->num_entries;
  if (cls == ZN_HWMON_ELECTRIC) add_derived(h, num_raw);
  register_channels(env, h, (const char(*)[48])chip_names, cls == ZN_HWMON_TEMP ? "thermal" : "power",
                    h->use_sensors ? "libsensors" : "hwmon", total_idx_out);
  char detail[160];
  size_t len = (size_t)snprintf(detail, sizeof detail, "%d inputs (%d derived V x I) on", h->num_entries,
                                h->num_entries - num_raw);
  for (int c = 0; c < num_chips && len < sizeof detail; c++)
    len += (size_t)snprintf(detail + len, sizeof detail - len, " %s", chip_names[c]);
  zn_probe_add_source(env, src, true, "%s", detail);
  zn_free(chip_names);
  *out = h;
  return ZN_OK;
}

void zn_hwmon_sample(zn_hwmon *h, double *row) {
  for (int i = 0; i < h->num_entries; i++) {
    entry *e = &h->entries[i];
    if (e->chan < 0 || e->derive_v >= 0) continue;
    double v = NAN;
#if defined(ZN_HAVE_SENSORS)
    if (h->use_sensors) {
      double x;
      if (sensors_get_value(e->sensors_chip, e->subfeat, &x) == 0) v = x;
    } else
#endif
    {
      int64_t raw;
      if (zn_pfile_read_i64(&e->f, &raw)) v = (double)raw * q_sysfs_scale[e->q];
    }
    row[e->chan] = v;
  }
  /* Derived power after its inputs are in the row (NaN propagates). */
  for (int i = 0; i < h->num_entries; i++) {
    entry *e = &h->entries[i];
    if (e->chan < 0 || e->derive_v < 0) continue;
    int cv = h->entries[e->derive_v].chan, ci = h->entries[e->derive_i].chan;
    row[e->chan] = (cv >= 0 && ci >= 0) ? row[cv] * row[ci] : NAN;
  }
}
