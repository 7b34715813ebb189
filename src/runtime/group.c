/* Instance groups for concurrent model executions: N instances of one or
 * several shared models, each driven by its own pthread over one common,
 * barrier-opened measurement window.
 *
 * DESIGN
 *   Ownership: the group owns its instances, their I/O buffers and latency
 *   arrays; models are borrowed (one zn_model per file, weights packed once,
 *   shared read-only by every instance of that model). Instances are created
 *   on the caller's thread in zn_group_create, so "an instance cannot be
 *   created" is reported before any thread starts.
 *   Threads: zn_group_run starts one worker per instance (pinned with
 *   pthread_attr_setaffinity_np when asked) and joins them all before it
 *   returns; no thread outlives a call. Each worker: warm-up batches, grow
 *   its latency array if needed (all allocation happens here, before the
 *   barrier), then the start barrier; the last worker to arrive reads the
 *   clock as the window's opening time and deadline and releases all; then every
 *   worker runs batches until its count or the deadline, recording each
 *   batch's latency into its preallocated array, and notes when its last
 *   batch completed. The window closes when the last instance finishes
 *   (thesis: "the total time taken for all the concurrent models to finish").
 *   Order: no ordering between instances; each instance's batches are in order.
 *   Failure: a failing run sets a shared atomic flag; the others stop after
 *   their current batch; a failing warm-up still arrives at the barrier, so no
 *   worker ever waits for one that has left.
 *   Shutdown: nothing to stop between windows; zn_group_destroy frees all. */
#include "runtime/group.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "core/status.h"

#define MAX_LATENCY_CAPACITY ((int64_t)1 << 22)
#define DEFAULT_LATENCY_CAPACITY 4096
#define MAX_PIN_CPUS 256

/* A barrier that the caller can break (a thread that failed to start must
 * not leave the others waiting), and whose last arriver opens the window
 * while holding the lock, so every worker sees the opening time. */
typedef struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int expected, arrived;
  bool open, broken;
} gate;

typedef struct member {
  int part;
  int index;                   /* within the group */
  zn_instance *instance;
  size_t num_inputs, num_outputs;
  void **inputs;               /* scratch input buffers */
  void **outputs;
  int cpus[MAX_PIN_CPUS];      /* pinning slice */
  int num_cpus;
  int64_t *latencies;
  int64_t latency_capacity;
  int64_t min_warmup_ns;       /* fastest warm-up batch seen; 0: none yet */
  int64_t seq;                 /* input_fn call counter */
  /* per run */
  zn_status status;
  char message[ZN_ERROR_MAX];
  int64_t batches, num_latencies;
  zn_time_ns end_ns;
} member;

struct zn_group {
  int num_parts, num_members;
  int64_t batch;
  zn_group_options opts;
  member *members;
  zn_group_part_result *part_results;
  zn_group_instance_result *instance_results;
  size_t instance_bytes;
  /* per run */
  gate gate;
  const zn_group_window *window;
  zn_time_ns open_ns, deadline_ns;
  atomic_int failed;
};

zn_group_options zn_group_options_default(void) {
  zn_group_options o;
  memset(&o, 0, sizeof o);
  o.batch = 1;
  o.threads_per_instance = 1;
  o.seed = 1;
  return o;
}

static void member_deinit(member *m) {
  for (size_t i = 0; m->inputs && i < m->num_inputs; i++) zn_free_aligned(m->inputs[i]);
  for (size_t i = 0; m->outputs && i < m->num_outputs; i++) zn_free_aligned(m->outputs[i]);
  zn_free(m->inputs);
  zn_free(m->outputs);
  zn_free(m->latencies);
  zn_instance_destroy(m->instance);
}

void zn_group_destroy(zn_group *g) {
  if (!g) return;
  for (int i = 0; g->members && i < g->num_members; i++) member_deinit(&g->members[i]);
  zn_free(g->members);
  zn_free(g->part_results);
  zn_free(g->instance_results);
  zn_free(g);
}

/* The CPUs this process may run on, in order. */
static int allowed_cpus(int *cpus, int max) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  int n = 0;
  for (int c = 0; c < CPU_SETSIZE && n < max; c++)
    if (CPU_ISSET(c, &set)) cpus[n++] = c;
  return n;
}

static zn_status member_init(zn_group *g, member *m, const zn_model *model, const int *cpus, int num_cpus) {
  zn_instance_options io = zn_instance_options_default();
  io.batch = g->batch;
  io.num_threads = g->opts.threads_per_instance;
  if (g->opts.pin && num_cpus > 0) {
    int t = g->opts.threads_per_instance;
    if (t > MAX_PIN_CPUS) t = MAX_PIN_CPUS;
    for (int j = 0; j < t; j++) m->cpus[j] = cpus[((int64_t)m->index * t + j) % num_cpus];
    m->num_cpus = t;
    io.cpus = m->cpus;
    io.num_cpus = m->num_cpus;
  }
  ZN_TRY(zn_instance_create(model, &io, &m->instance));
  m->num_inputs = zn_model_num_inputs(model);
  m->num_outputs = zn_model_num_outputs(model);
  m->inputs = zn_calloc(m->num_inputs ? m->num_inputs : 1, sizeof *m->inputs);
  m->outputs = zn_calloc(m->num_outputs ? m->num_outputs : 1, sizeof *m->outputs);
  if (!m->inputs || !m->outputs) return zn_error(ZN_ERR_OUT_OF_MEMORY, "out of memory for I/O tables");
  g->instance_bytes += zn_instance_arena_bytes(m->instance);
  zn_rng rng;
  zn_rng_init(&rng, g->opts.seed + (uint64_t)m->part * 7919u);
  for (size_t i = 0; i < m->num_inputs; i++) {
    size_t bytes = zn_instance_input_bytes(m->instance, i);
    m->inputs[i] = zn_alloc_aligned(bytes);
    if (!m->inputs[i]) return zn_error(ZN_ERR_OUT_OF_MEMORY, "out of memory for input %zu (%zu bytes)", i, bytes);
    zn_tensor_info info;
    if (zn_model_input_info(model, i, &info) == ZN_OK && info.dtype == ZN_DTYPE_FLOAT32) {
      float *f = m->inputs[i];
      for (size_t k = 0; k < bytes / sizeof(float); k++) f[k] = zn_rng_normal(&rng);
    } else {
      memset(m->inputs[i], 0, bytes);
    }
    g->instance_bytes += bytes;
  }
  for (size_t i = 0; i < m->num_outputs; i++) {
    size_t bytes = zn_instance_output_bytes(m->instance, i);
    m->outputs[i] = zn_alloc_aligned(bytes);
    if (!m->outputs[i]) return zn_error(ZN_ERR_OUT_OF_MEMORY, "out of memory for output %zu (%zu bytes)", i, bytes);
    memset(m->outputs[i], 0, bytes);
    g->instance_bytes += bytes;
  }
  return ZN_OK;
}

zn_status zn_group_create(const zn_group_part *parts, int num_parts, const zn_group_options *opts, zn_group **out,
                          int *num_created_out) {
  if (num_created_out) *num_created_out = 0;
  if (!out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to create group: NULL out");
  *out = NULL;
  zn_group_options o = opts ? *opts : zn_group_options_default();
  if (o.batch <= 0) o.batch = 1;
  if (o.threads_per_instance <= 0) o.threads_per_instance = 1;
  if (!parts || num_parts <= 0) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to create group: no parts");
  int total = 0;
  for (int p = 0; p < num_parts; p++) {
    if (!parts[p].model || parts[p].num_instances <= 0 || parts[p].num_instances > 1000000)
      return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to create group: part %d needs a model and 1..1000000 instances", p);
    if (total > 1000000 - parts[p].num_instances)
      return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to create group: too many instances");
    total += parts[p].num_instances;
  }
  int set[CPU_SETSIZE];
  int num_set = 0;
  if (o.cpus && o.num_cpus > 0) {
    num_set = ZN_MIN(o.num_cpus, CPU_SETSIZE);
    memcpy(set, o.cpus, (size_t)num_set * sizeof *set);
  } else if (o.pin) {
    num_set = allowed_cpus(set, CPU_SETSIZE);
  }
  o.cpus = NULL; /* not kept */
  zn_group *g = zn_calloc(1, sizeof *g);
  if (!g) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create group: out of memory");
  g->opts = o;
  g->batch = o.batch;
  g->num_parts = num_parts;
  g->members = zn_calloc((size_t)total, sizeof *g->members);
  g->part_results = zn_calloc((size_t)num_parts, sizeof *g->part_results);
  g->instance_results = zn_calloc((size_t)total, sizeof *g->instance_results);
  if (!g->members || !g->part_results || !g->instance_results) {
    zn_group_destroy(g);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create group of %d instances: out of memory", total);
  }
  int k = 0;
  for (int p = 0; p < num_parts; p++) {
    for (int i = 0; i < parts[p].num_instances; i++, k++) {
      member *m = &g->members[k];
      m->part = p;
      m->index = k;
      g->num_members = k + 1;
      zn_status st = member_init(g, m, parts[p].model, set, num_set);
      if (st != ZN_OK) {
        if (num_created_out) *num_created_out = k;
        zn_error_prefix(st, "failed to create instance %d of %d (part %d): ", k + 1, total, p);
        zn_group_destroy(g);
        return st;
      }
    }
  }
  if (num_created_out) *num_created_out = total;
  *out = g;
  return ZN_OK;
}

int zn_group_num_instances(const zn_group *g) { return g ? g->num_members : 0; }
size_t zn_group_instance_bytes(const zn_group *g) { return g ? g->instance_bytes : 0; }

static zn_status run_one(zn_group *g, member *m) {
  const void *const *inputs = (const void *const *)m->inputs;
  if (g->opts.input_fn) {
    ZN_TRY(g->opts.input_fn(g->opts.input_user, m->part, m->index, m->seq, m->inputs, &inputs));
    m->seq++;
  }
  return zn_instance_run(m->instance, inputs, m->outputs);
}

static void fail(zn_group *g, member *m, zn_status st) {
  m->status = st;
  snprintf(m->message, sizeof m->message, "%s", zn_last_error());
  atomic_store(&g->failed, 1);
}

typedef struct worker_arg { zn_group *g; member *m; } worker_arg;

static void *worker(void *p) {
  worker_arg *a = p;
  zn_group *g = a->g;
  member *m = a->m;
  const zn_group_window *w = g->window;
  /* warm-up: not counted; also paces the latency array in duration mode */
  for (int64_t i = 0; i < w->warmup_batches && m->status == ZN_OK; i++) {
    zn_time_ns t0 = zn_now_ns();
    zn_status st = run_one(g, m);
    if (st != ZN_OK) { fail(g, m, st); break; }
    int64_t dt = zn_now_ns() - t0;
    if (m->min_warmup_ns == 0 || dt < m->min_warmup_ns) m->min_warmup_ns = dt;
  }
  int64_t need = w->batches;
  if (need == 0) {
    need = w->latency_capacity;
    if (need <= 0)
      need = m->min_warmup_ns > 0 ? 2 * (w->duration_ns / m->min_warmup_ns) + 64 : DEFAULT_LATENCY_CAPACITY;
  }
  if (need > MAX_LATENCY_CAPACITY) need = MAX_LATENCY_CAPACITY;
  if (m->status == ZN_OK && need > m->latency_capacity) {
    int64_t *lat = zn_realloc(m->latencies, (size_t)need * sizeof *lat);
    if (!lat) fail(g, m, zn_error(ZN_ERR_OUT_OF_MEMORY, "out of memory for %lld latencies", (long long)need));
    else { m->latencies = lat; m->latency_capacity = need; }
  }
  pthread_mutex_lock(&g->gate.mu);
  if (++g->gate.arrived == g->gate.expected) {
    g->open_ns = zn_now_ns();
    g->deadline_ns = w->batches ? INT64_MAX : g->open_ns + w->duration_ns;
    g->gate.open = true;
    pthread_cond_broadcast(&g->gate.cv);
  }
  while (!g->gate.open && !g->gate.broken) pthread_cond_wait(&g->gate.cv, &g->gate.mu);
  bool broken = g->gate.broken;
  pthread_mutex_unlock(&g->gate.mu);
  if (broken || atomic_load(&g->failed)) return NULL;
  m->end_ns = g->open_ns;
  for (;;) {
    if (w->batches ? m->batches >= w->batches : m->end_ns >= g->deadline_ns) break;
    if (atomic_load_explicit(&g->failed, memory_order_relaxed)) break;
    zn_time_ns t0 = zn_now_ns();
    zn_status st = run_one(g, m);
    zn_time_ns t1 = zn_now_ns();
    if (st != ZN_OK) { fail(g, m, st); break; }
    if (m->num_latencies < m->latency_capacity) m->latencies[m->num_latencies++] = t1 - t0;
    m->batches++;
    m->end_ns = t1;
  }
  return NULL;
}

zn_status zn_group_run(zn_group *g, const zn_group_window *window, zn_group_result *out) {
  if (!g || !window || !out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to run group: NULL argument");
  memset(out, 0, sizeof *out);
  if (window->warmup_batches < 0 || window->batches < 0 || (window->batches == 0 && window->duration_ns <= 0))
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to run group: a window needs batches > 0 or duration > 0");
  int n = g->num_members;
  pthread_t *threads = zn_calloc((size_t)n, sizeof *threads);
  worker_arg *args = zn_calloc((size_t)n, sizeof *args);
  if (!threads || !args) {
    zn_free(threads);
    zn_free(args);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to run group: out of memory for %d threads", n);
  }
  g->gate = (gate){.expected = n};
  if (pthread_mutex_init(&g->gate.mu, NULL) != 0 || pthread_cond_init(&g->gate.cv, NULL) != 0) {
    zn_free(threads);
    zn_free(args);
    return zn_error(ZN_ERR_INTERNAL, "failed to run group: cannot create its start barrier");
  }
  g->window = window;
  atomic_store(&g->failed, 0);
  for (int i = 0; i < n; i++) {
    member *m = &g->members[i];
    m->status = ZN_OK;
    m->message[0] = '\0';
    m->batches = m->num_latencies = 0;
  }
  zn_status st = ZN_OK;
  int started = 0;
  for (; started < n; started++) {
    member *m = &g->members[started];
    args[started] = (worker_arg){g, m};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (m->num_cpus > 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      for (int c = 0; c < m->num_cpus; c++) CPU_SET(m->cpus[c], &set);
      pthread_attr_setaffinity_np(&attr, sizeof set, &set);
    }
    int rc = pthread_create(&threads[started], &attr, worker, &args[started]);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
      st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to start thread %d of %d: %s", started + 1, n, strerror(rc));
      break;
    }
  }
  if (started < n) {
    /* the started workers would wait for the missing ones forever */
    atomic_store(&g->failed, 1);
    pthread_mutex_lock(&g->gate.mu);
    g->gate.broken = true;
    pthread_cond_broadcast(&g->gate.cv);
    pthread_mutex_unlock(&g->gate.mu);
  }
  for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);
  pthread_cond_destroy(&g->gate.cv);
  pthread_mutex_destroy(&g->gate.mu);
  zn_free(threads);
  zn_free(args);
  if (st != ZN_OK) return st;
  for (int i = 0; i < n; i++)
    if (g->members[i].status != ZN_OK)
      return zn_error(g->members[i].status, "failed to run instance %d (part %d): %s", i + 1, g->members[i].part,
                      g->members[i].message);
  out->open_ns = g->open_ns;
  out->close_ns = g->open_ns;
  out->batch = g->batch;
  out->num_parts = g->num_parts;
  out->num_instances = n;
  for (int p = 0; p < g->num_parts; p++) g->part_results[p] = (zn_group_part_result){0, 0};
  for (int i = 0; i < n; i++) {
    member *m = &g->members[i];
    if (m->end_ns > out->close_ns) out->close_ns = m->end_ns;
    out->total_batches += m->batches;
    g->part_results[m->part].inferences += m->batches * g->batch;
    g->instance_results[i] = (zn_group_instance_result){m->part, m->batches, m->num_latencies, m->latencies, m->end_ns};
  }
  out->total_inferences = out->total_batches * g->batch;
  out->window_s = (double)(out->close_ns - out->open_ns) * 1e-9;
  out->throughput = out->window_s > 0 ? (double)out->total_inferences / out->window_s : 0;
  for (int p = 0; p < g->num_parts; p++)
    g->part_results[p].throughput = out->window_s > 0 ? (double)g->part_results[p].inferences / out->window_s : 0;
  out->parts = g->part_results;
  out->instances = g->instance_results;
  return ZN_OK;
}
