#!/usr/bin/env python3
"""Thread-pool scaling of the Python bindings: the GIL is released while C++ works, so Python
threads calling mixprec run in parallel. Not a test (timings depend on the machine and its load).

    PYTHONPATH=build/python /usr/bin/python3 bench/python_threads.py [--calls 40] [--threads 1 2]

For each workload, runs the same number of calls on a ThreadPoolExecutor of 1, 2, ... threads and
prints calls per second and the speed-up over one thread. Workloads:
  simulate   Scenario.simulate() of the default scenario (analytical engine, with baselines)
  evaluate   CostTable.evaluate() of 20,000 random design points per call
  sweep      points of a 12-point search sweep (mixprec.sweep with jobs=1 per call)
"""
import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import mixprec

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DEFAULT = os.path.join(ROOT, "scenarios", "venue_cnn_lstm.json")
SENS = os.path.join(ROOT, "results", "venue_cnn_lstm", "reference", "fp32",
                    "best.ckpt.sens-measured-887ca98a5988.json")


def workloads():
    sc = mixprec.Scenario.load(DEFAULT)
    table = sc.cost_table()
    layers, options = table.shape
    choices = np.random.default_rng(1).integers(0, options, size=(20000, layers), dtype=np.int32)
    sweep = {
        "mixprec_sweep": 1, "name": "bench", "base": DEFAULT,
        "axes": [{"name": "array", "keys": ["/hardware/pe_array/rows", "/hardware/pe_array/cols"],
                  "values": [8, 16, 32]},
                 {"name": "weight_kib", "key": "/hardware/buffers/weight/size_kib",
                  "values": [32, 128]},
                 {"name": "budget", "key": "/constraints/energy_budget/fraction",
                  "values": [0.5, 0.7]}],
        "compute": {"kind": "search", "sensitivity": SENS},
    }
    return {
        "simulate": lambda: sc.simulate(),
        "evaluate": lambda: table.evaluate(choices),
        "sweep": lambda: sum(1 for _ in mixprec.sweep(sweep, jobs=1)),
    }


def rate(fn, threads, calls):
    with ThreadPoolExecutor(threads) as ex:
        list(ex.map(lambda _: fn(), range(threads)))  # warm up every thread
        t0 = time.perf_counter()
        list(ex.map(lambda _: fn(), range(calls)))
        return calls / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=40, help="calls per measurement")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--only", nargs="+", help="workloads to run (default: all)")
    args = ap.parse_args()
    print("cores: %d (os.cpu_count); load average %.2f %.2f %.2f" % ((os.cpu_count(),) + os.getloadavg()))
    for name, fn in workloads().items():
        if args.only and name not in args.only:
            continue
        calls = max(4, args.calls // 8) if name == "sweep" else args.calls
        base = None
        for t in args.threads:
            r = rate(fn, t, calls)
            base = base or r
            print("%-9s threads %d: %8.2f calls/s  speed-up %.2fx" % (name, t, r, r / base), flush=True)


if __name__ == "__main__":
    main()
