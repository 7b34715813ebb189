#!/usr/bin/env python3
"""Write the small ONNX models in this folder: seeds for fuzz_model_run and
fuzz_onnx_import (scripts/fuzz.sh) that carry the forms real exports use and
ONNX's node tests do not (constant Slice parameters, a channel shuffle, SiLU
and hardswish written as Mul(x, gate(x)), a squeeze-excitation gate, a
decomposed LayerNorm). Needs python3-onnx and python3-numpy; the .onnx files
are committed, so the fuzz run itself does not. Seeded: reruns write the same
bytes."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(8)


def const(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def conv_w(name, co, ci, k):
    return const(name, (rng.standard_normal((co, ci, k, k)) * 0.3).astype(np.float32))


def save(name, nodes, inits, x_shape, y_shape, opset=13):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="zenith fuzz seeds")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(HERE, name + ".onnx"))


# conv -> x * Sigmoid(x) (SiLU) and conv -> x * HardSigmoid(x) (hardswish, opset 13)
for gate, kw in (("Sigmoid", {}), ("HardSigmoid", {"alpha": 1.0 / 6.0, "beta": 0.5})):
    save("silu" if gate == "Sigmoid" else "hardswish",
         [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
          helper.make_node(gate, ["c"], ["g"], **kw),
          helper.make_node("Mul", ["c", "g"], ["y"])],
         [conv_w("w", 4, 3, 3)], ["N", 3, 6, 6], ["N", 4, 6, 6])

# squeeze-excitation: x * Sigmoid(conv(relu(conv(GAP(x)))))
save("se_block",
     [helper.make_node("GlobalAveragePool", ["x"], ["p"]),
      helper.make_node("Conv", ["p", "w1"], ["r"]), helper.make_node("Relu", ["r"], ["rr"]),
      helper.make_node("Conv", ["rr", "w2"], ["s"]), helper.make_node("Sigmoid", ["s"], ["g"]),
      helper.make_node("Mul", ["x", "g"], ["y"])],
     [conv_w("w1", 2, 8, 1), conv_w("w2", 8, 2, 1)], ["N", 8, 5, 5], ["N", 8, 5, 5])

# ShuffleNet-V2 unit: channel split by Slice, a conv on one half, concat, shuffle
save("channel_shuffle",
     [helper.make_node("Slice", ["x", "s0", "e0", "ax"], ["a"]),
      helper.make_node("Slice", ["x", "s1", "e1", "ax"], ["b"]),
      helper.make_node("Conv", ["b", "w"], ["bc"]), helper.make_node("Relu", ["bc"], ["br"]),
      helper.make_node("Concat", ["a", "br"], ["cat"], axis=1),
      helper.make_node("Reshape", ["cat", "shp5"], ["r5"]),
      helper.make_node("Transpose", ["r5"], ["t5"], perm=[0, 2, 1, 3, 4]),
      helper.make_node("Reshape", ["t5", "shp4"], ["y"])],
     [const("s0", np.array([0], np.int64)), const("e0", np.array([4], np.int64)),
      const("s1", np.array([4], np.int64)), const("e1", np.array([8], np.int64)),
      const("ax", np.array([1], np.int64)), conv_w("w", 4, 4, 1),
      const("shp5", np.array([0, 2, 4, 5, 5], np.int64)), const("shp4", np.array([0, 8, 5, 5], np.int64))],
     ["N", 8, 5, 5], ["N", 8, 5, 5])

# LayerNorm over the last axis, decomposed as opset-13 exports write it, then Erf GELU
nodes = [helper.make_node("ReduceMean", ["x"], ["m"], axes=[-1]), helper.make_node("Sub", ["x", "m"], ["d"]),
         helper.make_node("Pow", ["d", "two"], ["d2"]), helper.make_node("ReduceMean", ["d2"], ["v"], axes=[-1]),
         helper.make_node("Add", ["v", "eps"], ["ve"]), helper.make_node("Sqrt", ["ve"], ["sd"]),
         helper.make_node("Div", ["d", "sd"], ["n"]), helper.make_node("Mul", ["n", "gamma"], ["ng"]),
         helper.make_node("Add", ["ng", "beta"], ["ln"]),
         helper.make_node("Div", ["ln", "sqrt2"], ["q"]), helper.make_node("Erf", ["q"], ["e"]),
         helper.make_node("Add", ["e", "one"], ["e1"]), helper.make_node("Mul", ["ln", "e1"], ["h"]),
         helper.make_node("Mul", ["h", "half"], ["y"])]
save("layer_norm_gelu", nodes,
     [const("two", np.float32(2.0)), const("eps", np.float32(1e-6)),
      const("gamma", rng.standard_normal(6).astype(np.float32)), const("beta", rng.standard_normal(6).astype(np.float32)),
      const("sqrt2", np.float32(1.4142135)), const("one", np.float32(1.0)), const("half", np.float32(0.5))],
     ["N", 4, 4, 6], ["N", 4, 4, 6])

# nodes no fast backend runs between convs (ReduceMean over channels, Erf):
# under ZN_FUZZ_BACKEND=auto the graph is cut into segments (runtime/partition.c)
save("partition",
     [helper.make_node("Conv", ["x", "w1"], ["c"], pads=[1, 1, 1, 1]),
      helper.make_node("ReduceMean", ["c"], ["m"], axes=[1], keepdims=1),
      helper.make_node("Add", ["c", "m"], ["a"]),
      helper.make_node("Conv", ["a", "w2"], ["c2"]),
      helper.make_node("Erf", ["c2"], ["y"])],
     [conv_w("w1", 8, 4, 3), conv_w("w2", 8, 8, 1)], [1, 4, 6, 6], [1, 8, 6, 6])

# self-attention's MatMuls of two activations: softmax(x x^T) x
g = helper.make_graph(
    [helper.make_node("Transpose", ["x"], ["xt"], perm=[0, 2, 1]),
     helper.make_node("MatMul", ["x", "xt"], ["s"]),
     helper.make_node("Softmax", ["s"], ["a"], axis=-1),
     helper.make_node("MatMul", ["a", "x"], ["y"])],
    "attention", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 5, 8])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5, 8])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="zenith fuzz seeds")
m.ir_version = 8
onnx.checker.check_model(m)
onnx.save(m, os.path.join(HERE, "attention.onnx"))

# ViT's class token, as PyTorch 1.13 writes it at opset 14 with a dynamic batch:
# the batch taken from Shape, the target shape [N,1,-1] made safe for Expand by
# Shape -> ConstantOfShape -> Mul(-1) -> Equal -> Where, then Expand and Concat
nodes = [helper.make_node("Reshape", ["x", "pshape"], ["p"]),
         helper.make_node("Transpose", ["p"], ["pt"], perm=[0, 2, 1]),
         helper.make_node("Shape", ["pt"], ["s"]), helper.make_node("Gather", ["s", "i0"], ["n"], axis=0),
         helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"]),
         helper.make_node("Concat", ["n1", "one1", "minus1"], ["t"], axis=0),
         helper.make_node("Shape", ["t"], ["ts"]),
         helper.make_node("ConstantOfShape", ["ts"], ["ones"],
                          value=helper.make_tensor("value", TensorProto.INT64, [1], [1])),
         helper.make_node("Mul", ["ones", "m1"], ["neg"]), helper.make_node("Equal", ["t", "neg"], ["eq"]),
         helper.make_node("Where", ["eq", "ones", "t"], ["w"]),
         helper.make_node("Expand", ["class_token", "w"], ["cls"]),
         helper.make_node("Concat", ["cls", "pt"], ["y"], axis=1)]
save("class_token", nodes,
     [const("pshape", np.array([0, 4, -1], np.int64)), const("i0", np.array(0, np.int64)),
      const("ax0", np.array([0], np.int64)), const("one1", np.array([1], np.int64)),
      const("minus1", np.array([-1], np.int64)), const("m1", np.array(-1, np.int64)),
      const("class_token", rng.standard_normal((1, 1, 4)).astype(np.float32))],
     ["N", 4, 2, 2], ["N", 5, 4], opset=14)

# Swin's shifted-window arithmetic in small: window pads computed from the
# input's shape (Shape -> Gather -> Mod -> Sub -> Mod -> Concat -> Pad), and an
# attention-style mask made by ScatterND onto ConstantOfShape with Range
# indices, compared with Equal/Not and chosen by Where, added to the activation
nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Gather", ["s", "i3"], ["w"], axis=0),
         helper.make_node("Mod", ["w", "win"], ["r"]), helper.make_node("Sub", ["win", "r"], ["p0"]),
         helper.make_node("Mod", ["p0", "win"], ["p"]), helper.make_node("Unsqueeze", ["p", "ax0"], ["p1"]),
         helper.make_node("Concat", ["zeros6", "p1", "zero1"], ["pads"], axis=0),
         helper.make_node("Pad", ["x", "pads"], ["xp"]),
         helper.make_node("ConstantOfShape", ["mshape"], ["m0"],
                          value=helper.make_tensor("value", TensorProto.FLOAT, [1], [0.0])),
         helper.make_node("Range", ["r0", "r6", "r1"], ["idx"]),
         helper.make_node("Unsqueeze", ["idx", "ax1"], ["idx2"]),
         helper.make_node("ScatterND", ["m0", "idx2", "upd"], ["m1"]),
         helper.make_node("Equal", ["m1", "zero_f"], ["eq"]), helper.make_node("Not", ["eq"], ["ne"]),
         helper.make_node("Where", ["ne", "neg", "m1"], ["mask"]),
         helper.make_node("Add", ["xp", "mask"], ["y"])]
save("swin_window", nodes,
     [const("i3", np.array(3, np.int64)), const("win", np.array(4, np.int64)), const("ax0", np.array([0], np.int64)),
      const("ax1", np.array([1], np.int64)), const("zeros6", np.zeros(7, np.int64)),
      const("zero1", np.zeros(0, np.int64)), const("mshape", np.array([8], np.int64)),
      const("r0", np.array(0, np.int64)), const("r6", np.array(8, np.int64)), const("r1", np.array(2, np.int64)),
      const("upd", np.array([1.0, 2.0, 3.0, 4.0], np.float32)), const("zero_f", np.array(0.0, np.float32)),
      const("neg", np.array(-100.0, np.float32))],
     ["N", 2, 6, 6], ["N", 2, 6, 8], opset=14)
