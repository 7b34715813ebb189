/* `zenith analyze`: thesis Figure 4.5 — the Pearson correlation of
 * throughput with batch size, CPU %, memory, power and I/O across the
 * repetitions of a results file (our CSV or JSON, told apart by content),
 * each coefficient with the number of pairs behind it; a metric the machine
 * did not have is reported absent, not as 0. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/runner.h"
#include "core/alloc.h"
#include "core/status.h"

#define MAX_RESULTS_BYTES ((size_t)512 << 20)

static const char *factor_names[] = {"batch", "concurrency", "cpu_pct", "memory", "power", "io"};
static const char *factor_columns[] = {"batch", "concurrency", "cpu_pct", "rss_bytes", "power_w", "io_Bps"};
#define NUM_FACTORS 6
_Static_assert(NUM_FACTORS <= ZN_ANALYZE_MAX_FACTORS, "factor table");

typedef struct table {
  double *cols[NUM_FACTORS + 1]; /* [0] throughput, then factors */
  size_t rows, cap;
} table;

static bool table_add(table *t, const double *v) {
  if (t->rows == t->cap) {
    size_t n = t->cap ? t->cap * 2 : 64;
    for (int c = 0; c <= NUM_FACTORS; c++) {
      double *p = zn_realloc(t->cols[c], n * sizeof *p);
      if (!p) return false;
      t->cols[c] = p;
    }
    t->cap = n;
  }
  for (int c = 0; c <= NUM_FACTORS; c++) t->cols[c][t->rows] = v[c];
  t->rows++;
  return true;
}

static void table_free(table *t) {
  for (int c = 0; c <= NUM_FACTORS; c++) zn_free(t->cols[c]);
}

static zn_status read_file(const char *path, char **out, size_t *size_out) {
  FILE *f = fopen(path, "rb");
  if (!f) return zn_error(ZN_ERR_IO, "failed to read %s: %s", path, strerror(errno));
  size_t cap = 1 << 16, n = 0;
  char *buf = zn_malloc(cap + 1);
  while (buf) {
    size_t k = fread(buf + n, 1, cap - n, f);
    n += k;
    if (k == 0) break;
    if (n == cap) {
      if (cap >= MAX_RESULTS_BYTES) {
        fclose(f);
        zn_free(buf);
        return zn_error(ZN_ERR_INVALID_INPUT, "failed to read %s: larger than %zu MiB", path, MAX_RESULTS_BYTES >> 20);
      }
      char *p = zn_realloc(buf, cap * 2 + 1);
      if (!p) { zn_free(buf); buf = NULL; break; }
      buf = p;
      cap *= 2;
    }
  }
  fclose(f);
  if (!buf) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to read %s: out of memory", path);
  buf[n] = '\0';
  *out = buf;
  *size_out = n;
  return ZN_OK;
}

static double json_num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static zn_status parse_json(const char *path, const char *text, table *t) {
  cJSON *root = cJSON_Parse(text);
  if (!root) return zn_error(ZN_ERR_INVALID_INPUT, "failed to parse %s: not valid JSON", path);
  const cJSON *pts = cJSON_GetObjectItemCaseSensitive(root, "configurations");
  zn_status st = ZN_OK;
  if (!cJSON_IsArray(pts)) st = zn_error(ZN_ERR_INVALID_INPUT, "failed to parse %s: no 'configurations' array (not a zenith results file)", path);
  const cJSON *pt;
  cJSON_ArrayForEach(pt, pts) {
    if (st != ZN_OK) break;
    double batch = json_num(pt, "batch"), conc = json_num(pt, "concurrency");
    const cJSON *rep, *reps = cJSON_GetObjectItemCaseSensitive(pt, "reps");
    cJSON_ArrayForEach(rep, reps) {
      double v[NUM_FACTORS + 1] = {json_num(rep, "throughput"), batch, conc, json_num(rep, "cpu_pct"),
                                   json_num(rep, "rss_bytes"), json_num(rep, "power_w"), json_num(rep, "io_Bps")};
      if (!table_add(t, v)) { st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to analyze %s: out of memory", path); break; }
    }
  }
  cJSON_Delete(root);
  return st;
}

/* Split one CSV line in place (RFC 4180 quotes); returns the field count. */
static int csv_split(char *line, char **fields, int max) {
  int n = 0;
  char *p = line;
  for (;;) {
    if (n == max) return n;
    if (*p == '"') {
      char *w = ++p;
      fields[n++] = w;
      for (;;) {
        if (*p == '\0') break;
        if (*p == '"' && p[1] == '"') { *w++ = '"'; p += 2; continue; }
        if (*p == '"') { p++; break; }
        *w++ = *p++;
      }
      *w = '\0';
      while (*p && *p != ',') p++;
    } else {
      fields[n++] = p;
      while (*p && *p != ',') p++;
    }
    if (*p != ',') { *p = '\0'; return n; }
    *p++ = '\0';
  }
}

static double csv_num(const char *s) {
  if (!s || *s == '\0') return NAN;
  char *end;
  double v = strtod(s, &end);
  return (end != s && *end == '\0') ? v : NAN;
}

static zn_status parse_csv(const char *path, char *text, table *t) {
  enum { MAX_FIELDS = 64 };
  char *save = NULL;
  char *line = strtok_r(text, "\n", &save);
  if (!line) return zn_error(ZN_ERR_INVALID_INPUT, "failed to parse %s: empty", path);
  line[strcspn(line, "\r")] = '\0';
  char *hdr[MAX_FIELDS];
  int nh = csv_split(line, hdr, MAX_FIELDS);
  int idx[NUM_FACTORS + 1];
  const char *want[NUM_FACTORS + 1] = {"throughput"};
  for (int c = 0; c < NUM_FACTORS; c++) want[c + 1] = factor_columns[c];
  for (int c = 0; c <= NUM_FACTORS; c++) {
    idx[c] = -1;
    for (int h = 0; h < nh; h++)
      if (strcmp(hdr[h], want[c]) == 0) idx[c] = h;
  }
  if (idx[0] < 0) return zn_error(ZN_ERR_INVALID_INPUT, "failed to parse %s: no 'throughput' column (not a zenith results file)", path);
  int lineno = 1;
  while ((line = strtok_r(NULL, "\n", &save))) {
    lineno++;
    line[strcspn(line, "\r")] = '\0';
    if (*line == '\0') continue;
    char *f[MAX_FIELDS];
    int nf = csv_split(line, f, MAX_FIELDS);
    double v[NUM_FACTORS + 1];
    for (int c = 0; c <= NUM_FACTORS; c++) v[c] = idx[c] >= 0 && idx[c] < nf ? csv_num(f[idx[c]]) : NAN;
    if (!isfinite(v[0])) return zn_error(ZN_ERR_INVALID_INPUT, "failed to parse %s:%d: throughput is not a number", path, lineno);
    if (!table_add(t, v)) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to analyze %s: out of memory", path);
  }
  return ZN_OK;
}

zn_status zn_bench_analyze_file(const char *path, zn_bench_correlation *out, size_t *num_out, size_t *num_rows_out) {
  char *text = NULL;
  size_t size = 0;
  ZN_TRY(read_file(path, &text, &size));
  table t;
  memset(&t, 0, sizeof t);
  const char *p = text;
  while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
  zn_status st = *p == '{' ? parse_json(path, text, &t) : parse_csv(path, text, &t);
  zn_free(text);
  if (st != ZN_OK) { table_free(&t); return st; }
  for (int c = 0; c < NUM_FACTORS; c++) {
    zn_bench_correlation *k = &out[c];
    k->factor = factor_names[c];
    size_t present = 0;
    for (size_t i = 0; i < t.rows; i++) present += isfinite(t.cols[c + 1][i]);
    k->r = zn_stats_pearson(t.cols[0], t.cols[c + 1], t.rows, &k->n);
    if (present == 0) k->note = "absent";
    else if (k->n < 3) k->note = "too few samples";
    else if (!isfinite(k->r)) k->note = "constant";
    else k->note = NULL;
  }
  *num_out = NUM_FACTORS;
  if (num_rows_out) *num_rows_out = t.rows;
  table_free(&t);
  return ZN_OK;
}

zn_status zn_bench_analyze_write_json(const char *path, const char *source, const zn_bench_correlation *c, size_t n,
                                      size_t num_rows) {
  cJSON *root = cJSON_CreateObject();
  cJSON *arr = root ? cJSON_AddArrayToObject(root, "correlations") : NULL;
  if (!arr) { cJSON_Delete(root); return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to write %s: out of memory", path); }
  cJSON_AddStringToObject(root, "zenith_version", ZN_VERSION_STRING);
  cJSON_AddStringToObject(root, "source", source);
  cJSON_AddStringToObject(root, "target", "throughput");
  cJSON_AddStringToObject(root, "method", "pearson");
  cJSON_AddNumberToObject(root, "rows", (double)num_rows);
  for (size_t i = 0; i < n; i++) {
    cJSON *o = cJSON_CreateObject();
    if (!o) break;
    cJSON_AddStringToObject(o, "factor", c[i].factor);
    if (isfinite(c[i].r)) {
      char num[ZN_BENCH_NUM_TEXT];
      zn_bench_format_double(num, sizeof num, c[i].r);
      cJSON_AddRawToObject(o, "r", num);
    } else {
      cJSON_AddNullToObject(o, "r");
    }
    cJSON_AddNumberToObject(o, "n", (double)c[i].n);
    if (c[i].note) cJSON_AddStringToObject(o, "note", c[i].note);
    cJSON_AddItemToArray(arr, o);
  }
  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  if (!text) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to write %s: out of memory", path);
  FILE *f = fopen(path, "w");
  zn_status st = ZN_OK;
  if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0) st = zn_error(ZN_ERR_IO, "failed to write %s: %s", path, strerror(errno));
  if (f && fclose(f) != 0 && st == ZN_OK) st = zn_error(ZN_ERR_IO, "failed to write %s: %s", path, strerror(errno));
  cJSON_free(text);
  return st;
}
