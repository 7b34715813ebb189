#!/usr/bin/env python3
"""zenith (xnnpack, onednn) against PyTorch 1.13's fastest CPU path, batch 1.

For MobileNet-V1 (the original 28-layer net, defined below), MobileNet-V2 and
ResNet-18 (torchvision, weights=None, BN statistics calibrated on one seeded
random batch so activations stay O(1)), at 1 and 2 threads, it times every
PyTorch path that gives the right answer -- eager no_grad (NCHW and
channels_last), eager MKLDNN tensors, jit.trace + freeze +
optimize_for_inference (NCHW and channels_last), optimize_for_mobile -- and
zenith's `bench_engine MODEL --backend xnnpack|onednn`, interleaved in the same
run for R rounds, and prints medians and the ratio zenith / PyTorch's fastest
path. A path whose logits differ from eager's (max |a-b| / max |eager| > 1e-3)
is reported and left out. A benchmark: it prints, it never asserts.

usage: bench_vs_pytorch.py [--build DIR] [--models a,b] [--threads 1,2]
       [--rounds 5] [--seconds 2] [--backends xnnpack,onednn] [--json FILE]
(--backends may also name xnnpack-noslice: xnnpack without its conv slicing.)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torchvision


def conv_bn_relu(cin, cout, k, stride, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class MobileNetV1(nn.Module):
    """Howard et al. 2017, width 1.0: conv3x3/s2 32, 13 depthwise-separable
    blocks (dw3x3 + pw1x1, BN + ReLU after each conv), global avgpool, fc 1000."""

    CFG = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
           (512, 1), (1024, 2), (1024, 1)]

    def __init__(self, num_classes=1000):
        super().__init__()
        layers = [conv_bn_relu(3, 32, 3, 2)]
        cin = 32
        for cout, stride in self.CFG:
            layers += [conv_bn_relu(cin, cin, 3, stride, groups=cin), conv_bn_relu(cin, cout, 1, 1)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


def build_model(name):
    torch.manual_seed(0)
    if name == "mobilenet_v1":
        m = MobileNetV1()
    elif name == "mobilenet_v2":
        m = torchvision.models.mobilenet_v2(weights=None)
    elif name == "resnet18":
        m = torchvision.models.resnet18(weights=None)
    else:
        raise ValueError(f"unknown model {name}")
    # Calibrate BN running statistics on one seeded batch (cumulative average),
    # as zenith's zoo does: default statistics make logits vanish.
    bns = [b for b in m.modules() if isinstance(b, nn.BatchNorm2d)]
    for b in bns:
        b.reset_running_stats()
        b.momentum = None
    m.train()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        m(torch.rand(8, 3, 224, 224, generator=g) * 2 - 1)
    return m.eval()


def make_paths(model, x):
    """name -> (callable, input) for each PyTorch path; a failing build is reported, not fatal."""
    paths, errors = {}, {}

    def add(name, fn):
        try:
            paths[name] = fn()
        except Exception as e:  # a path PyTorch cannot build here is skipped and said so
            errors[name] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"

    xcl = x.contiguous(memory_format=torch.channels_last)

    def eager():
        return (lambda inp: model(inp)), x

    def eager_cl():
        mc = build_like(model).to(memory_format=torch.channels_last)
        return (lambda inp: mc(inp)), xcl

    def eager_mkldnn():
        from torch.utils import mkldnn as mkldnn_utils
        mm = mkldnn_utils.to_mkldnn(build_like(model))
        xm = x.to_mkldnn()
        return (lambda inp: mm(inp).to_dense()), xm

    def jit_opt(channels_last):
        def f():
            mc = build_like(model)
            inp = x
            if channels_last:
                mc = mc.to(memory_format=torch.channels_last)
                inp = xcl
            with torch.no_grad():
                t = torch.jit.trace(mc, inp)
                fr = torch.jit.optimize_for_inference(torch.jit.freeze(t))
                for _ in range(3):  # the profiling executor specialises on the first runs
                    fr(inp)
            return (lambda i: fr(i)), inp
        return f

    def mobile():
        from torch.utils.mobile_optimizer import optimize_for_mobile
        with torch.no_grad():
            t = torch.jit.trace(build_like(model), x)
            mo = optimize_for_mobile(torch.jit.freeze(t))
            for _ in range(3):
                mo(x)
        return (lambda i: mo(i)), x

    add("eager", eager)
    add("eager_channels_last", eager_cl)
    add("eager_mkldnn", eager_mkldnn)
    add("jit_freeze_ofi", jit_opt(False))
    add("jit_freeze_ofi_channels_last", jit_opt(True))
    add("optimize_for_mobile", mobile)
    return paths, errors


def build_like(model):
    import copy
    return copy.deepcopy(model).eval()


def rel_err(a, b):
    d = (a.float() - b.float()).abs().max().item()
    r = b.float().abs().max().item()
    return d / r if r > 0 else d


def time_torch(fn, inp, seconds, warmup=3):
    with torch.no_grad():
        for _ in range(warmup):
            fn(inp)
        n, t0 = 0, time.perf_counter()
        t = t0
        while t - t0 < seconds or n < 3:
            fn(inp)
            n += 1
            t = time.perf_counter()
    return n / (t - t0)


def time_zenith(build, model, backend, threads, seconds):
    """backend "xnnpack-noslice": xnnpack with its conv output-channel slicing off (ZN_XNNPACK_SLICE_KB=0)."""
    exe = os.path.join(build, "bench_engine")
    env = dict(os.environ)
    if backend == "xnnpack-noslice":
        backend = "xnnpack"
        env["ZN_XNNPACK_SLICE_KB"] = "0"
    cmd = [exe, model, "--backend", backend, "--threads", str(threads), "--seconds", str(seconds), "--warmup", "3"]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        return None, p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)["images_per_s"], None
    return None, "no JSON line"


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--models", default="mobilenet_v1,mobilenet_v2,resnet18")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--backends", default="xnnpack,onednn")
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    models = a.models.split(",")
    threads = [int(t) for t in a.threads.split(",")]
    backends = a.backends.split(",")
    ncpu = os.cpu_count()

    print(f"# torch {torch.__version__}, torchvision {torchvision.__version__}, {ncpu} CPUs, "
          f"zenith {a.build}/bench_engine; batch 1; {a.rounds} rounds x {a.seconds:g} s, interleaved")
    setups = {}
    g = torch.Generator().manual_seed(2)
    x = torch.rand(1, 3, 224, 224, generator=g) * 2 - 1
    for m in models:
        model = build_model(m)
        nparams = sum(p.numel() for p in model.parameters())
        torch.set_num_threads(1)
        paths, errors = make_paths(model, x)
        with torch.no_grad():
            ref = model(x)
            for name in list(paths):
                fn, inp = paths[name]
                try:
                    err = rel_err(fn(inp), ref)
                except Exception as e:
                    errors[name] = f"run failed: {type(e).__name__}"
                    del paths[name]
                    continue
                if not err <= 1e-3:
                    errors[name] = f"wrong output: max rel err {err:.3g} vs eager, discarded"
                    del paths[name]
                else:
                    print(f"# {m}: {name} ok (max rel err vs eager {err:.2g})")
        print(f"# {m}: {nparams} parameters; PyTorch paths timed: {', '.join(paths)}")
        for k, v in errors.items():
            print(f"# {m}: {k} left out: {v}")
        setups[m] = paths

    # samples[(model, threads, engine)] = [images/s per round]
    samples, loads, failures = {}, [], {}
    for r in range(a.rounds):
        loads.append(loadavg())
        for m in models:
            for t in threads:
                torch.set_num_threads(t)
                jobs = [("zenith " + b, b) for b in backends] + [("torch " + p, p) for p in setups[m]]
                if r % 2:
                    jobs.reverse()  # alternate who goes first
                for engine, what in jobs:
                    if engine.startswith("zenith"):
                        ips, err = time_zenith(a.build, m, what, t, a.seconds)
                        if ips is None:
                            failures[(m, t, engine)] = err
                            continue
                    else:
                        fn, inp = setups[m][what]
                        ips = time_torch(fn, inp, a.seconds)
                    samples.setdefault((m, t, engine), []).append(ips)
        print(f"# round {r + 1}/{a.rounds} done (load average at start {loads[-1]:.2f})", flush=True)

    busy = max(loads) > 0.5 * ncpu
    print(f"\n# load average at the start of each round: {', '.join(f'{l:.2f}' for l in loads)}"
          + (f"  -> UNDER LOAD (other processes on these {ncpu} cores)" if busy else ""))
    for k, v in failures.items():
        print(f"# zenith failed for {k}: {v}")
    rows = []
    print("\n| model | threads | engine / path | images/s median | min–max |")
    print("|---|---|---|---|---|")
    for m in models:
        for t in threads:
            for (mm, tt, e), v in samples.items():
                if mm == m and tt == t:
                    print(f"| {m} | {t} | {e} | {statistics.median(v):.1f} | {min(v):.1f}–{max(v):.1f} |")
    print("\n| model | threads | PyTorch fastest path | PyTorch img/s | "
          + " | ".join(f"zenith {b} img/s | {b} / PyTorch" for b in backends) + " |")
    print("|---|---|---|---|" + "---|---|" * len(backends))
    for m in models:
        for t in threads:
            tp = {e[len("torch "):]: statistics.median(v) for (mm, tt, e), v in samples.items()
                  if mm == m and tt == t and e.startswith("torch ")}
            if not tp:
                continue
            best = max(tp, key=tp.get)
            row = {"model": m, "threads": t, "torch_path": best, "torch_ips": tp[best], "load": loads}
            cells = []
            for b in backends:
                v = samples.get((m, t, "zenith " + b))
                if v:
                    z = statistics.median(v)
                    row[b + "_ips"] = z
                    cells.append(f"{z:.1f} | {z / tp[best]:.2f}")
                else:
                    cells.append("failed | –")
            rows.append(row)
            print(f"| {m} | {t} | {best} | {tp[best]:.1f} | " + " | ".join(cells) + " |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": rows, "samples": {"|".join(map(str, k)): v for k, v in samples.items()},
                       "under_load": busy}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
