#!/usr/bin/env python3
"""Export torchvision models with PyTorch's own ONNX exporter (torch.onnx.export)
into ONNX's test-data layout, so zenith's importer is checked on files a real
exporter writes: <out>/<case>/model.onnx + test_data_set_0/{input_0,output_0}.pb.

Weights are random (weights=None: nothing can be downloaded here); BatchNorm
running statistics are calibrated on seeded random batches so activations stay
O(1) (see PITFALLS.md), then the model is put in eval mode. Everything is seeded:
two runs write the same tensors. A case folder that already holds all three
files is skipped (cache); --force rewrites it.
"""
import argparse
import os
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torchvision

SEED = 1234

# name -> (constructor kwargs, input size)
MODELS = {
    "alexnet": ({}, 224),
    "densenet161": ({}, 224),
    "inception_v3": ({"aux_logits": False, "init_weights": True}, 299),
    "mobilenet_v2": ({}, 224),
    "resnet18": ({}, 224),
    "resnet50": ({}, 224),
    "squeezenet1_1": ({}, 224),
    "vgg16": ({}, 224),
    # Classifiers beyond the nine, with the ops edge models carry: hardswish
    # written as Mul(x, HardSigmoid(x)) and squeeze-excitation (MobileNet-V3),
    # SiLU and SE with Sigmoid (EfficientNet, RegNet-Y), channel split and
    # shuffle (Slice, 5-D Reshape/Transpose: ShuffleNet-V2), a decomposed
    # LayerNorm and Erf GELU (ConvNeXt).
    "mobilenet_v3_large": ({}, 224),
    "efficientnet_b0": ({}, 224),
    "regnet_y_400mf": ({}, 224),
    "shufflenet_v2_x1_0": ({}, 224),
    "googlenet": ({"aux_logits": False, "init_weights": True}, 224),
    "mnasnet1_0": ({}, 224),
    "convnext_tiny": ({}, 224),
    # A Vision Transformer: patch Conv, class token broadcast by Expand (its
    # shape from Shape/ConstantOfShape/Equal/Where arithmetic), attention as
    # MatMul/Softmax on [12N,197,64], LayerNorm, Erf GELU. One case (opset 14,
    # dynamic batch): a 346 MB file, ~45 s to export, ~10 s to run on the four
    # backends (onednn and xnnpack alone refuse Expand: run per node by auto).
    "vit_b_16": ({}, 224),
    # A shifted-window transformer: window padding whose pads come from the
    # input's shape through Mod, torch.roll as Slice + Concat, the attention
    # mask built by ScatterND onto ConstantOfShape with Range indices, then
    # Equal/Not/Where (all folded at load, the batch staying dynamic), Linear
    # as MatMul on [N,H,W,C], LayerNorm, Erf GELU. torchvision 0.14 writes its
    # attention dropout (p = 0) in training mode. One case (opset 14, dynamic
    # batch): a 115 MB file; see README.md for its times.
    "swin_t": ({}, 224),
}

# Models whose eval() forward under torch.no_grad() takes a fused fast path the
# exporter cannot write (PyTorch 1.13: nn.MultiheadAttention ->
# _native_multi_head_attention): they are exported with autograd on.
EXPORT_WITH_GRAD = {"vit_b_16"}

# (model, opset, variant). Variants:
#   dyn     dynamic_axes on the batch (dim_param N), input batch 2
#   b1      fixed batch 1 (the exporter writes batch-1 Reshape/Flatten constants)
#   nofold  dynamic batch, do_constant_folding=False (Shape/Gather/... survive)
#   view    dynamic batch, flatten written as x.view(x.size(0), -1) as much
#           pre-torchvision code does: Shape->Gather->Unsqueeze->Concat->Reshape
#   ext     dynamic batch, weights saved as external data
DEFAULT_CASES = [
    ("resnet18", 13, "dyn"), ("mobilenet_v2", 13, "dyn"), ("squeezenet1_1", 13, "dyn"),
    ("inception_v3", 13, "dyn"), ("densenet161", 13, "dyn"),
    ("resnet50", 11, "dyn"), ("resnet50", 17, "dyn"),
    ("alexnet", 13, "b1"), ("vgg16", 13, "b1"),
    ("resnet18", 13, "b1"), ("resnet18", 13, "nofold"), ("resnet18", 13, "view"),
    ("resnet18", 11, "view"), ("squeezenet1_1", 13, "ext"),
    ("mobilenet_v3_large", 13, "dyn"), ("efficientnet_b0", 13, "dyn"), ("regnet_y_400mf", 13, "dyn"),
    ("shufflenet_v2_x1_0", 13, "dyn"), ("googlenet", 13, "dyn"), ("mnasnet1_0", 13, "dyn"),
    ("convnext_tiny", 13, "dyn"), ("convnext_tiny", 17, "dyn"), ("vit_b_16", 14, "dyn"), ("swin_t", 14, "dyn"),
]


def all_cases():
    cases = []
    for name in MODELS:
        if name in ("vit_b_16", "swin_t"):
            continue  # one case each below: 346 and 115 MB per export
        for opset in (11, 13, 17):
            for variant in ("dyn", "b1"):
                cases.append((name, opset, variant))
    cases += [("resnet18", 13, "nofold"), ("mobilenet_v2", 11, "nofold"),
              ("resnet18", 11, "view"), ("resnet18", 13, "view"), ("resnet18", 17, "view"),
              ("squeezenet1_1", 13, "ext"), ("resnet50", 13, "ext"), ("vit_b_16", 14, "dyn"), ("swin_t", 14, "dyn")]
    return cases


class ViewFlatten(torch.nn.Module):
    """ResNet-18 whose flatten is x.view(x.size(0), -1)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
        x = n.layer4(n.layer3(n.layer2(n.layer1(x))))
        x = n.avgpool(x)
        x = x.view(x.size(0), -1)
        return n.fc(x)


def draw_zero_inits(net):
    """ViT starts with a zero class token and a zero classifier head: its logits
    would be 0 for any input, and a wrong class-token broadcast would go unseen.
    Draw them from the seeded generator instead (O(1) tokens and logits)."""
    if isinstance(net, torchvision.models.VisionTransformer):
        with torch.no_grad():
            net.class_token.normal_(0.0, 1.0)
            net.heads.head.weight.normal_(0.0, net.hidden_dim ** -0.5)
            net.heads.head.bias.normal_(0.0, 0.1)


def build(name):
    kwargs, size = MODELS[name]
    torch.manual_seed(SEED)
    net = getattr(torchvision.models, name)(weights=None, **kwargs)
    draw_zero_inits(net)
    # BN calibration: cumulative running averages over seeded random batches
    # in train mode, then eval. Dropout is inactive in eval, so outputs are
    # deterministic.
    bns = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if bns:
        for m in bns:
            m.reset_running_stats()
            m.momentum = None
        net.train()
        g = torch.Generator().manual_seed(SEED + 1)
        with torch.no_grad():
            for _ in range(3):
                net(torch.randn(4, 3, size, size, generator=g))
    net.eval()
    return net, size


def save_tensor(path, array):
    t = onnx.numpy_helper.from_array(np.ascontiguousarray(array))
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def export_case(out_dir, name, opset, variant, force):
    case = f"{name}_op{opset}_{variant}"
    cdir = os.path.join(out_dir, case)
    sdir = os.path.join(cdir, "test_data_set_0")
    files = [os.path.join(cdir, "model.onnx"), os.path.join(sdir, "input_0.pb"), os.path.join(sdir, "output_0.pb")]
    if not force and all(os.path.exists(f) for f in files):
        print(f"  {case}: cached", flush=True)
        return
    t0 = time.time()
    net, size = build(name)
    if variant == "view":
        net = ViewFlatten(net).eval()
    batch = 1 if variant == "b1" else 2
    g = torch.Generator().manual_seed(SEED + 2)
    x = torch.randn(batch, 3, size, size, generator=g)
    with torch.no_grad():
        y = net(x)
    os.makedirs(sdir, exist_ok=True)
    model_path = files[0]
    kwargs = dict(opset_version=opset, input_names=["input"], output_names=["logits"],
                  do_constant_folding=(variant != "nofold"))
    if variant != "b1":
        kwargs["dynamic_axes"] = {"input": {0: "N"}, "logits": {0: "N"}}
    with torch.set_grad_enabled(name in EXPORT_WITH_GRAD):
        torch.onnx.export(net, x, model_path, **kwargs)
    if variant == "ext":
        m = onnx.load(model_path)
        os.remove(model_path)
        onnx.save_model(m, model_path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="weights.bin", size_threshold=1024)
    onnx.checker.check_model(model_path)
    save_tensor(files[1], x.numpy())
    save_tensor(files[2], y.numpy())
    ops = sorted({n.op_type for n in onnx.load(model_path, load_external_data=False).graph.node})
    print(f"  {case}: {time.time() - t0:.1f} s, |logit| max {float(y.abs().max()):.3g}, ops {' '.join(ops)}",
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--all", action="store_true", help="every model at opsets 11, 13, 17, dynamic and fixed batch")
    ap.add_argument("--only", help="comma-separated case-name prefixes to export")
    ap.add_argument("--force", action="store_true", help="re-export cached cases")
    ap.add_argument("--list", action="store_true", help="print the selected case names and stop")
    a = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    cases = all_cases() if a.all else DEFAULT_CASES
    if a.only:
        pre = a.only.split(",")
        cases = [c for c in cases if any(f"{c[0]}_op{c[1]}_{c[2]}".startswith(p) for p in pre)]
    if a.list:
        print("\n".join(f"{n}_op{o}_{v}" for n, o, v in cases))
        return 0
    print(f"export: {len(cases)} cases into {a.out_dir} (torch {torch.__version__}, "
          f"torchvision {torchvision.__version__}, onnx {onnx.__version__})", flush=True)
    failed = 0
    for name, opset, variant in cases:
        try:
            export_case(a.out_dir, name, opset, variant, a.force)
        except Exception as e:  # an exporter limitation is reported, the rest continue
            failed += 1
            print(f"  {name}_op{opset}_{variant}: EXPORT FAILED: {type(e).__name__}: {e}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
