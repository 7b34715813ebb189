/* The internals of zn_model and zn_instance, shared by the runtime's files. */
#ifndef ZN_RUNTIME_MODEL_H
#define ZN_RUNTIME_MODEL_H

#include "backend/backend.h"
#include "graph/graph.h"

struct zn_model {
  zn_graph *graph;                 /* optimised graph (owned); compiled may point into it */
  const zn_backend_ops *backend;
  void *compiled;                  /* owned; destroyed before graph */
  zn_precision precision;
  zn_tensor_info *inputs;          /* names borrowed from graph */
  zn_tensor_info *outputs;
  int64_t macs_per_image;
  int64_t num_params;              /* counted before passes (torchvision's count) */
  size_t released_bytes;           /* graph constants freed after compile (the backend packed its own);
                                      from then on the graph serves shapes and names, not weights */
};

/* Largest batch an instance accepts: a bound on memory claims, not a tuning knob. */
#define ZN_MAX_BATCH 65536

#endif
