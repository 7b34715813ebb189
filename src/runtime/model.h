/* The internals of zn_model and zn_instance, shared by the runtime's files. */
#ifndef ZN_RUNTIME_MODEL_H
#define ZN_RUNTIME_MODEL_H

#include "backend/backend.h"
#include "graph/graph.h"

struct zn_model {
  zn_graph *graph;                 /* optimised graph (owned); compiled may point into it */
  const zn_backend_ops *backend;   /* zn_partition_backend when "auto" split the graph per node */
  const char *backend_name;        /* backend->name, or the partition's "onednn+ref" (owned by compiled) */
  void *compiled;                  /* owned; destroyed before graph */
  zn_precision precision;
  zn_tensor_info *inputs;          /* names borrowed from graph */
  zn_tensor_info *outputs;
  int64_t macs_per_image;
  int64_t num_params;              /* counted before passes (torchvision's count) */
  size_t released_bytes;           /* graph constants freed after compile (the backend packed its own);
                                      from then on the graph serves shapes and names, not weights */
  size_t retained_bytes;           /* graph constants still held after that (a backend that packs its own
                                      keeps some: BN parameters, f32 weights it may re-pack from) */
};

struct zn_instance {
  const zn_model *model;
  void *backend_instance;
  int64_t batch;                   /* 0 while the last reshape failed */
  size_t *input_bytes;
  size_t *output_bytes;
};

/* The argument and state checks of zn_instance_run (also for zn_instance_profile). */
ZN_INTERNAL zn_status zn_instance_check_run(const zn_instance *inst, const void *const *inputs,
                                            void *const *outputs);

/* Give freed heap pages back to the OS after freeing big blocks (weights,
 * arenas). glibc's mmap threshold grows as big blocks are freed during
 * loading (up to 32 MiB), so packed weights and arenas live in the brk heap,
 * and free() keeps their pages resident below the trim threshold (2x the
 * mmap threshold): without this, RSS after destroying 8 ResNet-50 instances
 * stays where it was with them alive (benchmarks/bench_memory.c). */
ZN_INTERNAL void zn_runtime_trim_heap(void);
/* Only destroys that free at least this much trim (a trim walks every malloc arena). */
#define ZN_TRIM_MIN_BYTES ((size_t)1 << 20)

/* Largest batch an instance accepts: a bound on memory claims, not a tuning knob. */
#define ZN_MAX_BATCH 65536

#endif
