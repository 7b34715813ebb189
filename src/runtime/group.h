/* Concurrent model executions (CME): a group of instances, one model or a
 * mix, each on its own pthread with its own arena, sharing one zn_model per
 * model (weights packed once), started at one barrier and counted over one
 * common measurement window (thesis eq. 3.1). The DESIGN comment at the top
 * of group.c and docs/internals/scheduler.md describe the threads. */
#ifndef ZN_RUNTIME_GROUP_H
#define ZN_RUNTIME_GROUP_H

#include "core/common.h"
#include "core/time.h"

/* One model of the group and its number of instances. */
typedef struct zn_group_part {
  const zn_model *model;       /* borrowed, must outlive the group */
  int num_instances;           /* >= 1 */
} zn_group_part;

/* Supplies the inputs of one batch, called on the instance's thread before
 * each run (inside the window: when it decodes, decoding is timed).
 * scratch[i] are the instance's own input buffers (zn_instance_input_bytes);
 * the function either fills them and sets *inputs_out = scratch, or points
 * *inputs_out at read-only buffers of its own that stay valid until the
 * next call on this instance. seq counts the instance's calls from 0. */
typedef zn_status (*zn_group_input_fn)(void *user, int part, int instance, int64_t seq,
                                       void *const *scratch, const void *const **inputs_out);

typedef struct zn_group_options {
  int64_t batch;               /* default 1 */
  int threads_per_instance;    /* compute threads per instance, default 1 */
  const int *cpus;             /* the CPU set (copied, not kept); NULL: all CPUs of the process */
  int num_cpus;
  bool pin;                    /* pin instance i to threads_per_instance CPUs of the set, round-robin */
  zn_group_input_fn input_fn;  /* NULL: scratch filled once with seeded normal noise, reused */
  void *input_user;
  uint64_t seed;
} zn_group_options;

ZN_INTERNAL zn_group_options zn_group_options_default(void);

typedef struct zn_group zn_group;

/** Create every instance (in part order) and its I/O buffers on the calling
 *  thread; starts no thread. On failure *out = NULL and the message says which
 *  instance failed ("failed to create instance 5 of 8 (part 0): ..."), and
 *  *num_created_out (may be NULL) how many had been created. */
ZN_INTERNAL zn_status zn_group_create(const zn_group_part *parts, int num_parts, const zn_group_options *opts,
                                      zn_group **out, int *num_created_out);
ZN_INTERNAL void zn_group_destroy(zn_group *g);

ZN_INTERNAL int zn_group_num_instances(const zn_group *g);
/** Activation arenas + I/O buffers of every instance (bytes the group added
 *  on top of the shared models). */
ZN_INTERNAL size_t zn_group_instance_bytes(const zn_group *g);

/* One measurement window. */
typedef struct zn_group_window {
  int64_t warmup_batches;      /* per instance, before the start barrier (not counted) */
  int64_t batches;             /* per instance in the window; 0: use duration_ns */
  int64_t duration_ns;         /* instances start no new batch after open + duration */
  int64_t latency_capacity;    /* per instance, duration mode: 0 = from the warm-up pace */
} zn_group_window;

typedef struct zn_group_instance_result {
  int part;
  int64_t batches;             /* completed in the window */
  int64_t num_latencies;       /* recorded (<= batches; less only if capacity ran out) */
  const int64_t *latencies_ns; /* per batch, in order; borrowed until the next run or destroy */
  zn_time_ns end_ns;           /* when its last batch completed */
} zn_group_instance_result;

typedef struct zn_group_part_result {
  int64_t inferences;          /* instances x batch x batches of this part */
  double throughput;           /* inferences / common window, per second */
} zn_group_part_result;

typedef struct zn_group_result {
  zn_time_ns open_ns, close_ns;  /* the common window (zn_now_ns clock) */
  double window_s;
  int64_t batch;
  int64_t total_batches;
  int64_t total_inferences;      /* eq. 3.1: sum over instances of batch x batches */
  double throughput;             /* total_inferences / window_s */
  int num_parts, num_instances;
  const zn_group_part_result *parts;         /* borrowed until the next run or destroy */
  const zn_group_instance_result *instances; /* likewise */
} zn_group_result;

/** Run one window: start one thread per instance, warm up, meet at the
 *  barrier, measure, join. Blocks until every thread is joined. A failed run
 *  of any instance fails the window (its message is returned; the others stop
 *  after their current batch). */
ZN_INTERNAL zn_status zn_group_run(zn_group *g, const zn_group_window *window, zn_group_result *out);

#endif
