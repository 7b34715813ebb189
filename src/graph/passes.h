/* Graph passes, one function each; zn_graph_optimize (graph.h) runs them in
 * this order: fold constants, remove Identity, remove zero Pads, remove unit
 * pools, ReduceMean over H and W into GlobalAveragePool, decomposed LayerNorm
 * into LayerNormalization, Erf GELU into Gelu, Linear MatMul into Gemm, fold
 * zero Pads into AveragePool/Conv, fold BatchNormalization into Conv, fuse
 * residual Add into Conv, Mul(x, HardSigmoid(x)) into HardSwish and
 * Mul(x, Sigmoid(x)) into Swish, fuse activations into Conv/Gemm, dead code
 * elimination, toposort, shape inference. Each pass expects inferred shapes and a sorted graph and leaves
 * dead nodes/values for the DCE pass. */
#ifndef ZN_GRAPH_PASSES_H
#define ZN_GRAPH_PASSES_H

#include "graph/graph.h"

/* Nodes whose inputs are all constants (and Shape of any value with a known
 * shape) become constants. int64 results keep the batch symbol per element
 * (batch_elems) where it stays representable as c * N; otherwise the node stays. */
ZN_INTERNAL zn_status zn_graph_fold_constants(zn_graph *g);
/* Identity nodes vanish; consumers read the Identity's input. A graph output
 * keeps its name (the producer writes it directly). */
ZN_INTERNAL zn_status zn_graph_remove_identity(zn_graph *g);
/* Pad nodes whose pads are all zero (any mode) vanish like Identity. */
ZN_INTERNAL zn_status zn_graph_remove_zero_pads(zn_graph *g);
/* MaxPool/AveragePool with every kernel, stride and dilation 1 and no pads
 * (single output) vanish like Identity: exporters write AdaptiveAvgPool2d at
 * its identity size this way, and XNNPACK rejects 1x1 pooling. */
ZN_INTERNAL zn_status zn_graph_remove_unit_pools(zn_graph *g);
/* ReduceMean of a 4-D float32 tensor over axes {2, 3} (attributes) becomes
 * GlobalAveragePool, followed by Flatten(axis 1) when keepdims is 0: the same
 * numbers (a mean over H*W), in ops the fast backends run. PyTorch writes
 * x.mean((2, 3)) and Keras exports write global average pooling this way. */
ZN_INTERNAL zn_status zn_graph_spatial_mean_to_pool(zn_graph *g);
/* The LayerNorm exporters write at opset < 17 (PyTorch: ReduceMean over the
 * last axis, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div, Mul gamma, Add beta,
 * every intermediate read only inside the pattern) becomes one
 * LayerNormalization over the last axis, gamma/beta constants of [C]. The bias
 * Add is optional; anything else (another axis, a non-constant gamma, an
 * intermediate read elsewhere) is left alone. */
ZN_INTERNAL zn_status zn_graph_fuse_layer_norm(zn_graph *g);
/* x * (1 + Erf(x / sqrt(2))) * 0.5 (PyTorch's export of nn.GELU(), operands
 * of Add/Mul in either order, intermediates read once) becomes one Gelu. */
ZN_INTERNAL zn_status zn_graph_fuse_gelu(zn_graph *g);
/* MatMul of a float32 activation of rank >= 3 [..., K] by a constant [K, M]
 * (a Linear layer), with an optional following Add of a constant [M] and
 * Gelu, becomes Flatten(axis rank-1) -> Gemm (bias, fused Gelu) -> Reshape
 * back to [..., M]: one big matrix product instead of one per leading index,
 * in an op every backend has. When x is itself the Reshape of a [rows, K]
 * matrix (back-to-back Linear layers), the Gemm reads that matrix. */
ZN_INTERNAL zn_status zn_graph_linear_to_gemm(zn_graph *g);
/* A constant-mode Pad with value 0, no padding of the batch or channel axis,
 * whose output only feeds input 0 of one AveragePool (ceil_mode off, dilation
 * 1, pads 0 or count_include_pad) or one Conv: its spatial pads are added to
 * the consumer's pads (count_include_pad set), which is numerically the same.
 * Not into an AveragePool when a summed pad would reach the kernel size (a
 * window wholly in padding, which backends mishandle).
 * PyTorch writes count_include_pad average pooling as Pad + AveragePool.
 * MaxPool is left alone: its padding is -inf, not 0. */
ZN_INTERNAL zn_status zn_graph_fold_pads(zn_graph *g);
/* Conv -> BatchNormalization with constant params, conv output read only by the BN. */
ZN_INTERNAL zn_status zn_graph_fold_batch_norm(zn_graph *g);
/* Add(conv_out, other) -> Conv input 3, when shapes are equal. */
ZN_INTERNAL zn_status zn_graph_fuse_residual(zn_graph *g);
/* Mul(x, gate(x)) (either operand order), the gate's output read only by
 * that Mul, x float32, becomes one node (the Mul's output keeps its value):
 * - gate HardSigmoid with alpha 1/6 and beta 0.5 (to float rounding):
 *   HardSwish(x), which is x * max(0, min(1, x / 6 + 0.5)) exactly. PyTorch
 *   1.13 writes nn.Hardswish this way below opset 14 (MobileNet-V3);
 * - gate Sigmoid: Swish(x) with alpha 1, x * sigmoid(x): PyTorch's SiLU
 *   (EfficientNet). Squeeze-excitation gates, Mul(x, Sigmoid(fc(...))), do
 *   not match.
 * As one node it fuses into the Conv before it (x then has one reader). */
ZN_INTERNAL zn_status zn_graph_swish_from_mul(zn_graph *g);
/* Conv/Gemm followed by Relu/Clip/LeakyRelu/Sigmoid/HardSigmoid/HardSwish/Tanh/Gelu/Swish. */
ZN_INTERNAL zn_status zn_graph_fuse_activations(zn_graph *g);
/* Drop nodes that no graph output depends on and values nothing uses; compact
 * the arrays and renumber ids (value ids held outside the graph go stale). */
ZN_INTERNAL zn_status zn_graph_eliminate_dead(zn_graph *g);

/* The evaluator shared by folding and by shape inference (which needs the
 * contents of small shape tensors before they are folded). inputs[k] is the
 * value of input k (NULL when absent) with data set, except that Shape reads
 * only its input's dims. out carries the inferred dtype and dims. On success
 * *data_out (zn_alloc_aligned, caller owns) and *batch_elems_out are set and
 * *done is true; *done false means "cannot evaluate" (unsupported op or dtype,
 * the batch symbol not representable), with ZN_OK. */
ZN_INTERNAL zn_status zn_node_eval(const zn_node *n, const zn_value *const *inputs, const zn_value *out,
                                   void **data_out, size_t *bytes_out, uint64_t *batch_elems_out, bool *done);

/* Remove the nodes flagged in remove[] (node index order kept), fixing
 * producers; values stay (eliminate_dead drops the unused ones). */
ZN_INTERNAL zn_status zn_graph_remove_nodes(zn_graph *g, const bool *remove);

/* ONNX Slice on one axis of plain size dim: start/end/step as given (step != 0),
 * clamped like the spec. Returns the first index and the element count. */
ZN_INTERNAL void zn_slice_resolve(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *first_out,
                                  int64_t *count_out);

#endif
