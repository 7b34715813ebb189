/* The model zoo: the nine thesis CNNs built as IR graphs with seeded synthetic
 * weights (zn_zoo_count/get/find in zenith.h list them). */
#ifndef ZN_ZOO_ZOO_H
#define ZN_ZOO_ZOO_H

#include "core/common.h"
#include "graph/graph.h"

/* Build zoo model `name` ("resnet50", ...) with weights seeded by seed: the
 * same seed gives bit-identical weights. Input "input" float32 [N,3,S,S]
 * (batch_axis 0), output "logits" [N,1000] (no softmax). BN running statistics
 * are the defaults (mean 0, var 1): calibrate them before judging activations.
 * @param out the caller owns it, release with zn_graph_destroy; NULL on failure.
 * @return ZN_ERR_INVALID_ARGUMENT (unknown name: the message lists the valid
 *         ones), ZN_ERR_OUT_OF_MEMORY. */
ZN_INTERNAL zn_status zn_zoo_build(const char *name, uint64_t seed, zn_graph **out);

#endif
