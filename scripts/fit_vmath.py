#!/usr/bin/env python3
"""Fits the rational approximations of erf and tanh in src/backend/vmath.h.

Both functions are odd, so f(x) = x * g(x*x) and g(t) ~ P(t) / Q(t) with
Q(0) = 1, fitted on [0, c] where c is the clamp past which float f(x) rounds
to +-1. Near-minimax by Lawson's iteratively reweighted least squares on the
linearised residual (P - g Q) / Q_prev (Loeb), solved by Householder QR in
the scaled variable u = t / c^2. erf minimises the absolute error of f
(weight x), tanh the relative error (weight 1 / g). Pure Python (math.erf and
math.tanh in double are the reference); prints the coefficients as float
literals in t and the fitted error in double, before float rounding (the
unit test tests/unit/backend/test_vmath.c measures the float code).
  python3 scripts/fit_vmath.py erf 6 4; python3 scripts/fit_vmath.py tanh 4 4 (vmath.h)
  ("erfc np nq lo" fits erfc(x) on [lo, 3.925], a second piece that was tried)
"""
import math
import struct
import sys


def f32(v):
    return struct.unpack("f", struct.pack("f", v))[0]


def lstsq(rows, rhs):
    """Least squares by Householder QR (rows: list of lists)."""
    m, n = len(rows), len(rows[0])
    a = [r[:] for r in rows]
    b = rhs[:]
    for k in range(n):
        norm = math.sqrt(sum(a[i][k] ** 2 for i in range(k, m)))
        if norm == 0.0:
            continue
        alpha = -norm if a[k][k] >= 0 else norm
        v = [0.0] * m
        v[k] = a[k][k] - alpha
        for i in range(k + 1, m):
            v[i] = a[i][k]
        vv = sum(v[i] ** 2 for i in range(k, m))
        if vv == 0.0:
            continue
        for j in range(k, n):
            s = 2.0 * sum(v[i] * a[i][j] for i in range(k, m)) / vv
            for i in range(k, m):
                a[i][j] -= s * v[i]
        s = 2.0 * sum(v[i] * b[i] for i in range(k, m)) / vv
        for i in range(k, m):
            b[i] -= s * v[i]
    x = [0.0] * n
    for k in range(n - 1, -1, -1):
        x[k] = (b[k] - sum(a[k][j] * x[j] for j in range(k + 1, n))) / a[k][k]
    return x


def horner(c, u):
    r = 0.0
    for v in reversed(c):
        r = r * u + v
    return r


def fit(name, np_, nq, iters=60, npts=1500, lo=0.0):
    if name == "erfc":
        c = 3.925
        fn = math.erfc
    elif name == "erf":
        c = 3.925  # erfc(3.925) < 2^-25: float erf rounds to 1 beyond
        fn = math.erf
    else:
        c = 9.02  # 1 - tanh(9.02) < 2^-25
        fn = math.tanh
    # Points clustered towards both ends (Chebyshev) plus a uniform grid.
    w_ = c - lo
    xs = sorted(set([lo + w_ * 0.5 * (1 - math.cos(math.pi * (i + 0.5) / npts)) for i in range(npts)] +
                    [lo + w_ * i / npts for i in range(1, npts + 1)]))
    if name == "erfc":  # erfc(x) ~ P(x) / Q(x) on [lo, c], absolute error
        t = xs[:]
        g = [fn(x) for x in xs]
        scale = [1.0] * len(xs)
        tmax = c
    else:
        t = [x * x for x in xs]
        g = [fn(x) / x for x in xs]
        scale = [x if name == "erf" else 1.0 / gi for x, gi in zip(xs, g)]
        tmax = c * c
    u = [ti / tmax for ti in t]
    w = [1.0] * len(xs)
    qprev = [1.0] * len(xs)
    best = None
    for it in range(iters):
        rows, rhs = [], []
        for ui, gi, si, wi, qi in zip(u, g, scale, w, qprev):
            k = math.sqrt(wi) * si / qi
            rows.append([k * ui ** j for j in range(np_ + 1)] + [-k * gi * ui ** j for j in range(1, nq + 1)])
            rhs.append(k * gi)
        sol = lstsq(rows, rhs)
        p, q = sol[:np_ + 1], [1.0] + sol[np_ + 1:]
        qv = [horner(q, ui) for ui in u]
        err = [si * (gi - horner(p, ui) / qi) for ui, gi, si, qi in zip(u, g, scale, qv)]
        emax = max(abs(e) for e in err)
        if best is None or emax < best[0]:
            best = (emax, p, q)
        if min(qv) <= 0:
            break
        qprev = qv
        w = [wi * abs(e) for wi, e in zip(w, err)]
        s = sum(w)
        w = [wi / s for wi in w]
    emax, p, q = best
    # Back to the variable t and to float.
    pt = [f32(v / tmax ** j) for j, v in enumerate(p)]
    qt = [f32(v / tmax ** j) for j, v in enumerate(q)]
    # Error of the float-rounded coefficients, evaluated in double.
    dense = [lo + w_ * i / 20000 for i in range(1, 20001)]
    e2 = 0.0
    for x in dense:
        tt = x if name == "erfc" else x * x
        r = (1.0 if name == "erfc" else x) * horner(pt, tt) / horner(qt, tt)
        e = abs(r / fn(x) - 1) if name == "tanh" else abs(r - fn(x))
        e2 = max(e2, e)
    kind = "rel" if name == "tanh" else "abs"
    var = "x" if name == "erfc" else "t = x*x"
    print(f"/* {name}: P degree {np_}, Q degree {nq} in {var} on {lo} <= |x| <= {c}; "
          f"max {kind} error {emax:.3g} (fit), {e2:.3g} (float coefficients, double arithmetic) */")
    print("P:", ", ".join(f"{v:.9g}f" for v in pt))
    print("Q:", ", ".join(f"{v:.9g}f" for v in qt))


if __name__ == "__main__":
    name = sys.argv[1] if len(sys.argv) > 1 else "erf"
    np_ = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    nq = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    lo = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    fit(name, np_, nq, lo=lo)
