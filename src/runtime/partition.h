/* Per-node backend choice for "auto": when the first backend of the auto
 * order refuses some nodes, each node runs on the first backend of the order
 * that supports it, and the graph is cut into segments, maximal runs of
 * consecutive nodes (topological order) on one backend. Each segment is its
 * own sub-graph, compiled by its backend; values crossing a cut are dense
 * NCHW buffers of the partition's instance, the backend interface's run()
 * boundary. The partition is itself a backend table (zn_partition_backend),
 * so the runtime creates, reshapes, runs and profiles it like any other. */
#ifndef ZN_RUNTIME_PARTITION_H
#define ZN_RUNTIME_PARTITION_H

#include "backend/backend.h"

/* For each node of g, the index in order[count] of the first backend whose
 * supports_node accepts it, in assign[g->num_nodes]; -1 where none does
 * (why then holds the last refusal). The first refusal of order[0] for each
 * node is reported through warn(node, backend, reason) when warn is set. */
ZN_INTERNAL void zn_partition_assign(const zn_graph *g, const zn_backend_ops *const *order, size_t count, int *assign,
                                     void (*warn)(const zn_graph *g, int node, const zn_backend_ops *b,
                                                  const char *why));

/* Compile g cut by assign[] (indexes into order[]): one sub-graph per segment,
 * compiled by its backend. ref segments compile in fp32 whatever the
 * requested precision (ref has no bf16; zn_model_describe says so). The
 * sub-graphs copy the constants they read, and the backends pack or keep
 * those copies: the compiled partition never reads g's constants, so the
 * caller may free them (constant_releasable answers true). g itself must
 * outlive the compiled partition (names, shapes). */
ZN_INTERNAL zn_status zn_partition_compile(const zn_graph *g, const zn_backend_ops *const *order, const int *assign,
                                           const zn_backend_compile_options *opts, void **compiled_out);

/* "onednn+ref": the backends the segments run on, in order of first use. */
ZN_INTERNAL const char *zn_partition_name(const void *compiled);
ZN_INTERNAL int zn_partition_num_segments(const void *compiled);

/* A partition instance's memory after reshape: block_bytes is the one arena
 * every segment runs in (the largest segment's), segments_bytes what the
 * segments' arenas would take each on its own (their sum), slot_bytes the
 * values crossing segments, planned by lifetime. The instance's arena bytes
 * are block_bytes + slot_bytes. */
typedef struct zn_partition_memory {
  size_t block_bytes, segments_bytes, slot_bytes;
} zn_partition_memory;
ZN_INTERNAL void zn_partition_instance_memory(const void *instance, zn_partition_memory *out);

/* The table the runtime uses for a compiled partition; its compile and
 * supports_node are not for use (compile with zn_partition_compile). */
ZN_INTERNAL extern const zn_backend_ops zn_partition_backend;

#endif
