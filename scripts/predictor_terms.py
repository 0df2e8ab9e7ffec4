#!/usr/bin/env python3
"""Held-out Kendall tau of a predictor run's tables split into their two terms (docs/predictor.md).

usage: scripts/predictor_terms.py RUN METHOD...   (RUN: a `mixprec predictor --out` directory;
METHOD: hessian or ggn, whose cached tables in RUN/seed*/fp32/ keep weight and activation terms)

Per method: tau-b (test loss) over the held-out configurations of the weight terms alone, the
activation terms alone, their sum (the method's own number), and weight + a x activation with a
chosen on the structured (non-held-out) configurations from 10^(k/4), k = -12..12; each with a
95% percentile bootstrap over the held-out configurations (1000 resamples, seed 1). Pure Python.
"""
import glob
import json
import math
import random
import sys


def tau(x, y):
    c = d = tx = ty = 0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            a = (x[i] > x[j]) - (x[i] < x[j])
            b = (y[i] > y[j]) - (y[i] < y[j])
            if a == 0 and b == 0:
                continue
            if a == 0:
                tx += 1
            elif b == 0:
                ty += 1
            elif a == b:
                c += 1
            else:
                d += 1
    den = math.sqrt((c + d + tx) * (c + d + ty))
    return (c - d) / den if den > 0 else 0.0


def main():
    run, methods = sys.argv[1], sys.argv[2:]
    rep = json.load(open(run + "/report.json"))
    cf = rep["configs"]
    seeds = sorted(glob.glob(run + "/seed*/fp32"))
    held = [i for i, c in enumerate(cf) if c["held_out"]]
    structured = [i for i, c in enumerate(cf) if not c["held_out"]]
    loss = [c["test_loss"]["mean"] for c in cf]
    sub = lambda v, idx: [v[i] for i in idx]

    def tables(m):
        out = []
        for s in seeds:
            f = glob.glob(s + "/*.sens-%s-*.json" % m)[0]
            e = json.load(open(f))["entries"]
            out.append(e)
        return out

    def predicted(T, aw, aa):
        v = [0.0] * len(cf)
        for e in T:
            O = len(e) // len(cf[0]["option_of_layer"])
            for i, c in enumerate(cf):
                v[i] += sum(aw * e[l * O + o].get("weight_term", 0.0) + aa * e[l * O + o].get("activation_term", 0.0)
                            for l, o in enumerate(c["option_of_layer"]))
        return [x / len(T) for x in v]

    def boot(p, B=1000):
        rng = random.Random(1)
        ts = sorted(tau(sub(p, s), sub(loss, s)) for s in ([rng.choice(held) for _ in held] for _ in range(B)))
        return ts[int(0.025 * B)], ts[int(0.975 * B) - 1]

    for m in methods:
        T = tables(m)
        rows = [("sum (the method)", 1, 1), ("weight terms only", 1, 0), ("activation terms only", 0, 1)]
        grid = [10 ** (k / 4) for k in range(-12, 13)]
        a = max(grid, key=lambda a: tau(sub(predicted(T, 1, a), structured), sub(loss, structured)))
        rows.append(("weight + %.3g x activation (fitted on structured)" % a, 1, a))
        for name, aw, aa in rows:
            p = predicted(T, aw, aa)
            lo, hi = boot(p)
            print("%s, %s: held-out tau %.2f [%.2f, %.2f], all %.2f" %
                  (m, name, tau(sub(p, held), sub(loss, held)), lo, hi, tau(p, loss)), flush=True)


if __name__ == "__main__":
    main()
