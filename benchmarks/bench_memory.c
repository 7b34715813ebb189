/* bench_memory: where the resident memory of N concurrent instances goes.
 * Loads one model on a backend, creates N instances one by one, runs them
 * concurrently (one OS thread each, as zenith bench does) for a few windows,
 * destroys them, and at every stage records RSS/PSS (smaps_rollup), glibc's
 * heap state (mallinfo2, arenas) and a per-mapping breakdown of
 * /proc/self/smaps. A benchmark: it prints, it never asserts.
 *
 * usage: bench_memory [MODEL(.onnx|zoo name)] [--backend B] [--instances N] [--threads T] [--batch B]
 *        [--runs R] [--windows W] [--trim]
 * ZN_BENCH_LOG=1 (any value) logs the library's info messages to stderr. */
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/model.h"
#include "zenith.h"

#define MIB (1024.0 * 1024.0)
#define MAX_STAGES 96
#define GLIBC_HEAP_BYTES (64ul << 20) /* glibc's per-thread heaps are reserved 64 MiB-aligned (HEAP_MAX_SIZE) */

/* What a resident page belongs to, from its mapping (heuristics named in docs/benchmarks.md). */
enum {
  CAT_HEAP,        /* [heap]: the main arena (brk) */
  CAT_ARENAS,      /* anonymous rw at a 64 MiB boundary: glibc per-thread arenas */
  CAT_STACKS,      /* [stack], and anonymous rw right after a one-page ---p guard: thread stacks */
  CAT_JIT,         /* anonymous executable: JIT code (oneDNN's xbyak kernels) */
  CAT_ANON,        /* other anonymous: mmap'd blocks (big malloc / posix_memalign chunks, libraries' own mmaps) */
  CAT_DNNL_TEXT,   /* libdnnl r-x */
  CAT_DNNL_DATA,   /* libdnnl r--/rw- (tables, .data, .bss) */
  CAT_EXE,         /* this program (static zenith libraries inside) */
  CAT_LIB_TEXT,    /* other shared libraries r-x */
  CAT_LIB_DATA,    /* other shared libraries r--/rw- */
  CAT_OTHER,       /* other files, [vdso], [vvar], ... */
  CAT_COUNT
};
static const char *cat_names[CAT_COUNT] = {
    "heap [heap] (main arena)", "glibc thread arenas", "thread stacks", "JIT code (anon r-x)",
    "other anon (mmap'd blocks)", "libdnnl text", "libdnnl data", "this program", "other libs text",
    "other libs data", "other mappings"};
static const char *cat_keys[CAT_COUNT] = {"heap", "thread_arenas", "stacks", "jit", "anon_mmap", "dnnl_text",
                                          "dnnl_data", "exe", "libs_text", "libs_data", "other"};

typedef struct sample {
  char name[48];
  double rss, pss, pss_anon, pss_file, anon, hwm; /* bytes */
  double cat[CAT_COUNT];                          /* Rss per category, bytes */
  double jit_mappings;
  double malloc_in_use, malloc_free, malloc_mmapped; /* mallinfo2: uordblks + hblkhd, fordblks, hblkhd */
  int malloc_arenas, threads;
} sample;

typedef struct mapping {
  unsigned long start, end;
  char perms[5];
  char path[256];
  double rss;
} mapping;

static char exe_path[1024];

/* Value in kB of "Key:   N kB" when line starts with key. */
static bool kv_kb(const char *line, const char *key, double *out) {
  size_t n = strlen(key);
  if (strncmp(line, key, n) != 0 || line[n] != ':') return false;
  *out = strtod(line + n + 1, NULL) * 1024.0;
  return true;
}

static void read_rollup(sample *s) {
  FILE *f = fopen("/proc/self/smaps_rollup", "r");
  char line[512];
  double v;
  if (f) {
    while (fgets(line, sizeof line, f)) {
      if (kv_kb(line, "Rss", &v)) s->rss = v;
      else if (kv_kb(line, "Pss", &v)) s->pss = v;
      else if (kv_kb(line, "Pss_Anon", &v)) s->pss_anon = v;
      else if (kv_kb(line, "Pss_File", &v)) s->pss_file = v;
      else if (kv_kb(line, "Anonymous", &v)) s->anon = v;
    }
    fclose(f);
  }
  f = fopen("/proc/self/status", "r");
  if (f) {
    while (fgets(line, sizeof line, f)) {
      if (kv_kb(line, "VmHWM", &v)) s->hwm = v;
      else if (strncmp(line, "Threads:", 8) == 0) s->threads = atoi(line + 8);
    }
    fclose(f);
  }
}

static int classify(const mapping *m, const mapping *prev) {
  long page = sysconf(_SC_PAGESIZE);
  if (m->path[0] == '\0') {
    if (m->perms[2] == 'x') return CAT_JIT;
    if (m->perms[0] == 'r' && m->perms[1] == 'w') {
      if (m->start % GLIBC_HEAP_BYTES == 0 && m->end - m->start <= GLIBC_HEAP_BYTES) return CAT_ARENAS;
      if (prev && prev->end == m->start && prev->path[0] == '\0' && strcmp(prev->perms, "---p") == 0 &&
          prev->end - prev->start == (unsigned long)page)
        return CAT_STACKS;
    }
    return CAT_ANON;
  }
  if (strcmp(m->path, "[heap]") == 0) return CAT_HEAP;
  if (strcmp(m->path, "[stack]") == 0) return CAT_STACKS;
  if (m->path[0] == '[') return CAT_OTHER;
  bool text = m->perms[2] == 'x';
  if (strstr(m->path, "libdnnl")) return text ? CAT_DNNL_TEXT : CAT_DNNL_DATA;
  if (exe_path[0] && strcmp(m->path, exe_path) == 0) return CAT_EXE;
  if (strstr(m->path, ".so")) return text ? CAT_LIB_TEXT : CAT_LIB_DATA;
  return CAT_OTHER;
}

static void read_smaps(sample *s) {
  FILE *f = fopen("/proc/self/smaps", "r");
  if (!f) return;
  char line[1024];
  mapping cur = {0}, prev = {0};
  bool have_cur = false, have_prev = false;
  for (;;) {
    bool more = fgets(line, sizeof line, f) != NULL;
    unsigned long a, b;
    char perms[5];
    int path_at = 0;
    bool header = more && sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &a, &b, perms, &path_at) == 3 && path_at > 0;
    if (!more || header) {
      if (have_cur) {
        int c = classify(&cur, have_prev ? &prev : NULL);
        s->cat[c] += cur.rss;
        if (c == CAT_JIT) s->jit_mappings += 1;
        prev = cur;
        have_prev = true;
      }
      if (!more) break;
      memset(&cur, 0, sizeof cur);
      cur.start = a;
      cur.end = b;
      snprintf(cur.perms, sizeof cur.perms, "%s", perms);
      snprintf(cur.path, sizeof cur.path, "%s", line + path_at);
      cur.path[strcspn(cur.path, "\n")] = '\0';
      have_cur = true;
    } else if (have_cur) {
      double v;
      if (kv_kb(line, "Rss", &v)) cur.rss = v;
    }
  }
  fclose(f);
}

static void read_malloc(sample *s) {
  struct mallinfo2 mi = mallinfo2();
  s->malloc_in_use = (double)(mi.uordblks + mi.hblkhd);
  s->malloc_free = (double)mi.fordblks;
  s->malloc_mmapped = (double)mi.hblkhd;
  char *xml = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&xml, &len);
  if (!f) return;
  malloc_info(0, f);
  fclose(f);
  for (const char *p = xml; p && (p = strstr(p, "<heap nr=")) != NULL; p++) s->malloc_arenas++;
  free(xml);
}

static void log_to_stderr(zn_log_level level, const char *message, void *user) {
  (void)level;
  (void)user;
  fprintf(stderr, "%s\n", message);
}

static sample stages[MAX_STAGES];
static int num_stages;

static sample *take(const char *fmt, int arg) {
  if (num_stages == MAX_STAGES) return &stages[MAX_STAGES - 1];
  sample *s = &stages[num_stages++];
  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, fmt, arg);
  read_rollup(s);
  read_smaps(s);
  read_malloc(s);
  return s;
}

typedef struct worker {
  zn_instance *inst;
  void **in, **out;
  size_t num_in, num_out;
  int runs;
  pthread_barrier_t *done, *release;
  zn_status st;
} worker;

/* Runs, then waits at `done` (main samples with every thread alive, as zenith
 * bench samples during its window) and at `release` before exiting. */
static void *work(void *arg) {
  worker *w = arg;
  for (int i = 0; i < w->runs && w->st == ZN_OK; i++)
    w->st = zn_instance_run(w->inst, (const void *const *)w->in, w->out);
  pthread_barrier_wait(w->done);
  pthread_barrier_wait(w->release);
  return NULL;
}

/* Bytes of graph constants the model still holds after compile (the backend
 * did not take them over, e.g. onednn's Winograd convs). */
static size_t graph_constant_bytes(const zn_model *m) {
  size_t bytes = 0;
  for (int v = 0; v < m->graph->num_values; v++)
    if (m->graph->values[v].data) bytes += m->graph->values[v].data_bytes;
  return bytes;
}

static void print_stages(double target, double base) {
  printf("\n%-30s %9s %9s %9s %9s %9s %8s %9s %9s %5s %4s %7s %7s\n", "stage", "RSS MB", "delta MB", "Pss_Anon",
         "Pss_File", "malloc", "m.free", "JIT MB", "peak MB", "arena", "thr", "grow/T", "RSS/T");
  for (int i = 0; i < num_stages; i++) {
    const sample *s = &stages[i];
    double delta = i ? s->rss - stages[i - 1].rss : 0;
    printf("%-30s %9.1f %+9.1f %9.1f %9.1f %9.1f %8.1f %9.2f %9.1f %5d %4d", s->name, s->rss / MIB, delta / MIB,
           s->pss_anon / MIB, s->pss_file / MIB, s->malloc_in_use / MIB, s->malloc_free / MIB, s->cat[CAT_JIT] / MIB,
           s->hwm / MIB, s->malloc_arenas, s->threads);
    if (target > 0) printf(" %7.3f %7.3f", (s->rss - base) / target, s->rss / target);
    printf("\n");
  }
}

/* Categories at the stages idx[0..n), and the difference stage b - stage a. */
static void print_breakdown(const int *idx, int n, int a, int b) {
  printf("\nRSS by mapping (MB; smaps heuristics, docs/benchmarks.md):\n%-28s", "category");
  for (int k = 0; k < n; k++) printf(" %14.14s", stages[idx[k]].name);
  printf(" %10s\n", "diff");
  double tot[16] = {0};
  for (int c = 0; c < CAT_COUNT; c++) {
    printf("%-28s", cat_names[c]);
    for (int k = 0; k < n; k++) {
      printf(" %14.2f", stages[idx[k]].cat[c] / MIB);
      tot[k] += stages[idx[k]].cat[c];
    }
    printf(" %+10.2f\n", (stages[b].cat[c] - stages[a].cat[c]) / MIB);
  }
  printf("%-28s", "sum (= Rss)");
  for (int k = 0; k < n; k++) printf(" %14.2f", tot[k] / MIB);
  printf(" %+10.2f\n", (stages[b].rss - stages[a].rss) / MIB);
  printf("(diff: '%s' minus '%s')\n", stages[b].name, stages[a].name);
}

int main(int argc, char **argv) {
  const char *model_arg = "resnet50", *backend = "onednn";
  int instances = 8, threads = 1, runs = 3, windows = 2;
  long batch = 1;
  bool trim = false;
  int i = 1;
  if (argc > 1 && argv[1][0] != '-') model_arg = argv[i++];
  for (; i < argc; i++) {
    const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(k, "--trim")) { trim = true; continue; }
    if (!v) { fprintf(stderr, "bench_memory: %s needs a value\n", k); return 2; }
    i++;
    if (!strcmp(k, "--backend")) backend = v;
    else if (!strcmp(k, "--instances")) instances = atoi(v);
    else if (!strcmp(k, "--threads")) threads = atoi(v);
    else if (!strcmp(k, "--batch")) batch = atol(v);
    else if (!strcmp(k, "--runs")) runs = atoi(v);
    else if (!strcmp(k, "--windows")) windows = atoi(v);
    else { fprintf(stderr, "bench_memory: unknown flag %s\n", k); return 2; }
  }
  if (instances < 1 || instances > 64 || threads < 1 || batch < 1 || runs < 1 || windows < 1 || windows > 8) {
    fprintf(stderr, "bench_memory: bad --instances (1..64) / --threads / --batch / --runs / --windows (1..8)\n");
    return 2;
  }
  ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
  exe_path[n > 0 ? n : 0] = '\0';

  if (getenv("ZN_BENCH_LOG")) zn_log_set(log_to_stderr, NULL, ZN_LOG_INFO);
  take("start (libraries loaded)", 0);
  zn_model_options mo = zn_model_options_default();
  mo.backend = backend;
  zn_model *model = NULL;
  size_t len = strlen(model_arg);
  zn_status st = len > 5 && strcmp(model_arg + len - 5, ".onnx") == 0 ? zn_model_load_file(model_arg, &mo, &model)
                                                                      : zn_model_from_zoo(model_arg, 1, &mo, &model);
  if (st != ZN_OK) {
    fprintf(stderr, "bench_memory: %s: %s\n", zn_status_string(st), zn_last_error());
    return 1;
  }
  int model_stage = num_stages;
  take("model loaded", 0);

  worker *ws = calloc((size_t)instances, sizeof *ws);
  pthread_t *tids = calloc((size_t)instances, sizeof *tids);
  if (!ws || !tids) { fprintf(stderr, "bench_memory: out of memory\n"); return 1; }
  size_t arena_bytes = 0, io_bytes = 0;
  int rc = 0, created = 0;
  for (int k = 0; k < instances && rc == 0; k++) {
    worker *w = &ws[k];
    zn_instance_options io = zn_instance_options_default();
    io.batch = batch;
    io.num_threads = threads;
    if ((st = zn_instance_create(model, &io, &w->inst)) != ZN_OK) {
      fprintf(stderr, "bench_memory: instance %d: %s: %s\n", k, zn_status_string(st), zn_last_error());
      rc = 1;
      break;
    }
    created++;
    arena_bytes += zn_instance_arena_bytes(w->inst);
    w->num_in = zn_model_num_inputs(model);
    w->num_out = zn_model_num_outputs(model);
    w->in = calloc(w->num_in + 1, sizeof *w->in);
    w->out = calloc(w->num_out + 1, sizeof *w->out);
    if (!w->in || !w->out) { fprintf(stderr, "bench_memory: out of memory\n"); rc = 1; break; }
    for (size_t j = 0; j < w->num_in && rc == 0; j++) {
      size_t b = zn_instance_input_bytes(w->inst, j);
      io_bytes += b;
      if (!(w->in[j] = calloc(1, b ? b : 1))) rc = 1;
      zn_tensor_info info;
      if (rc == 0 && zn_model_input_info(model, j, &info) == ZN_OK && info.dtype == ZN_DTYPE_FLOAT32) {
        unsigned s = 12345u + (unsigned)k;
        float *f = w->in[j];
        for (size_t e = 0; e < b / sizeof(float); e++) {
          s = s * 1103515245u + 12345u;
          f[e] = (float)((s >> 8) & 0xFFFF) / 65536.0f - 0.5f;
        }
      }
    }
    for (size_t j = 0; j < w->num_out && rc == 0; j++) {
      size_t b = zn_instance_output_bytes(w->inst, j);
      io_bytes += b;
      if (!(w->out[j] = calloc(1, b ? b : 1))) rc = 1;
    }
    if (rc) fprintf(stderr, "bench_memory: out of memory for I/O buffers\n");
    take("instance %d created", k + 1);
  }
  int inst_stage = num_stages - 1;
  if (rc == 0 && trim) {
    malloc_trim(0);
    take("after malloc_trim(0)", 0);
  }

  int window_stage = -1;
  pthread_barrier_t done, release;
  pthread_barrier_init(&done, NULL, (unsigned)instances + 1);
  pthread_barrier_init(&release, NULL, (unsigned)instances + 1);
  for (int win = 0; win < windows && rc == 0; win++) {
    int started = 0;
    for (int k = 0; k < instances; k++) {
      ws[k].runs = runs;
      ws[k].done = &done;
      ws[k].release = &release;
      if (pthread_create(&tids[k], NULL, work, &ws[k]) != 0) break;
      started++;
    }
    if (started < instances) {
      /* the started workers would wait at the barriers forever: not recoverable here */
      fprintf(stderr, "bench_memory: could not start %d threads\n", instances);
      return 1;
    }
    pthread_barrier_wait(&done);
    window_stage = num_stages;
    take("window %d, threads alive", win + 1);
    pthread_barrier_wait(&release);
    for (int k = 0; k < instances; k++) pthread_join(tids[k], NULL);
    for (int k = 0; k < instances; k++)
      if (ws[k].st != ZN_OK) {
        fprintf(stderr, "bench_memory: run of instance %d: %s\n", k, zn_last_error());
        rc = 1;
      }
    take("window %d, threads joined", win + 1);
  }
  pthread_barrier_destroy(&done);
  pthread_barrier_destroy(&release);

  if (rc == 0 && trim) {
    malloc_trim(0);
    window_stage = num_stages;
    take("after malloc_trim(0)", 0);
  }
  size_t weights = zn_model_weight_bytes(model), graph_consts = graph_constant_bytes(model);
  for (int k = 0; k < instances; k++) {
    zn_instance_destroy(ws[k].inst);
    for (size_t j = 0; ws[k].in && j < ws[k].num_in; j++) free(ws[k].in[j]);
    for (size_t j = 0; ws[k].out && j < ws[k].num_out; j++) free(ws[k].out[j]);
    free(ws[k].in);
    free(ws[k].out);
  }
  take("instances destroyed", 0);
  zn_model_destroy(model);
  int destroy_stage = num_stages;
  take("model destroyed", 0);
  free(ws);
  free(tids);

  double target = (double)weights + (double)arena_bytes, base = stages[0].rss;
  printf("bench_memory: %s on %s, %d instance(s) x %d thread(s), batch %ld, %d run(s) x %d window(s)%s\n", model_arg,
         backend, created, threads, batch, runs, windows, trim ? ", malloc_trim(0) after creation" : "");
  printf("weights %.1f MB (shared; zn_model_weight_bytes: packed, and of that %.1f MB graph constants still held), "
         "arenas %d x %.2f MB = %.1f MB, I/O buffers %.2f MB\n",
         weights / MIB, graph_consts / MIB, created, created ? arena_bytes / MIB / created : 0.0, arena_bytes / MIB,
         io_bytes / MIB);
  double target_io = target + (double)io_bytes;
  printf("target T = weights + N x arena = %.1f MB; T' = T + I/O buffers = %.1f MB (zenith bench's instance bytes); "
         "MB = MiB\n", target / MIB, target_io / MIB);
  print_stages(target, base);
  if (window_stage < 0) window_stage = inst_stage;
  int cols[] = {0, model_stage, inst_stage, window_stage, destroy_stage};
  print_breakdown(cols, 5, 0, window_stage);
  const sample *w = &stages[window_stage];
  printf("\nat '%s': RSS %.1f MB, growth since start %.1f MB; growth / T = %.3f, RSS / T = %.3f; "
         "growth / T' = %.3f, RSS / T' = %.3f; malloc holds %.1f MB free in %d arena(s); JIT %.2f MB in %.0f "
         "mappings\n",
         w->name, w->rss / MIB, (w->rss - base) / MIB, (w->rss - base) / target, w->rss / target,
         (w->rss - base) / target_io, w->rss / target_io, w->malloc_free / MIB, w->malloc_arenas, w->cat[CAT_JIT] / MIB,
         w->jit_mappings);
  /* Anonymous (private) pages only: leaves out the shared libraries' code
   * paged in from their files, which no instance allocates. */
  double anon_growth = w->anon - stages[0].anon;
  printf("anonymous memory (smaps_rollup Anonymous) growth since start %.1f MB: / T = %.3f, / T' = %.3f\n",
         anon_growth / MIB, anon_growth / target, anon_growth / target_io);
  printf("{\"bench\":\"memory\",\"model\":\"%s\",\"backend\":\"%s\",\"instances\":%d,\"threads\":%d,\"batch\":%ld,"
         "\"trim\":%s,\"ratio_stage\":\"%s\",\"weight_bytes\":%zu,\"arena_bytes\":%zu,\"io_bytes\":%zu,\"graph_const_bytes\":%zu,"
         "\"rss_start_bytes\":%.0f,\"rss_model_bytes\":%.0f,\"rss_instances_bytes\":%.0f,\"rss_window_bytes\":%.0f,"
         "\"rss_destroyed_bytes\":%.0f,\"rss_peak_bytes\":%.0f,\"ratio_growth\":%.4f,\"ratio_raw\":%.4f,"
         "\"ratio_growth_io\":%.4f,\"ratio_raw_io\":%.4f,\"ratio_anon_growth\":%.4f,\"ratio_anon_growth_io\":%.4f,"
         "\"malloc_free_bytes\":%.0f,\"malloc_arenas\":%d",
         model_arg, backend, created, threads, batch, trim ? "true" : "false", w->name, weights, arena_bytes, io_bytes,
         graph_consts, base, stages[model_stage].rss, stages[inst_stage].rss, w->rss, stages[destroy_stage].rss,
         stages[num_stages - 1].hwm, (w->rss - base) / target, w->rss / target,
         (w->rss - base) / target_io, w->rss / target_io, anon_growth / target, anon_growth / target_io, w->malloc_free,
         w->malloc_arenas);
  for (int c = 0; c < CAT_COUNT; c++) printf(",\"%s_bytes\":%.0f", cat_keys[c], w->cat[c] - stages[0].cat[c]);
  printf("}\n");
  return rc;
}
