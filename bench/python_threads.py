#!/usr/bin/env python3
"""Thread-pool scaling of the Python bindings: the GIL is released while C++ works, so Python
threads calling mixprec run in parallel. Not a test (timings depend on the machine and its load).

    PYTHONPATH=build/python /usr/bin/python3 bench/python_threads.py [--seconds 5] [--threads 1 2]

For each workload, calls it from a ThreadPoolExecutor of 1, 2, ... threads for a few seconds and
prints calls per second, the speed-up over one thread and the cores the process used. Workloads:
  simulate   Scenario.simulate() of the default scenario (analytical engine, with baselines)
  evaluate   CostTable.evaluate() of 20,000 random design points per call
  sweep      a 3-point simulate sweep (mixprec.sweep with jobs=1 per call)
and, independent of free cores, how much pure-Python work another thread gets done while one
thread calls each workload (GIL held: about 0.5 or less, like the pure-Python reference "python").
"""
import argparse
import os
import resource
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import mixprec

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DEFAULT = os.path.join(ROOT, "scenarios", "venue_cnn_lstm.json")


def workloads():
    sc = mixprec.Scenario.load(DEFAULT)
    table = sc.cost_table()
    layers, options = table.shape
    choices = np.random.default_rng(1).integers(0, options, size=(20000, layers), dtype=np.int32)
    sweep = {
        "mixprec_sweep": 1, "name": "bench", "base": DEFAULT,
        "axes": [{"name": "array", "keys": ["/hardware/pe_array/rows", "/hardware/pe_array/cols"],
                  "values": [8, 16, 32]}],
        "compute": {"kind": "simulate"},
    }
    return {
        "simulate": lambda: sc.simulate(),
        "evaluate": lambda: table.evaluate(choices),
        "sweep": lambda: sum(1 for _ in mixprec.sweep(sweep, jobs=1)),
    }


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def rate(fn, threads, seconds):
    """Calls per second over at least `seconds` of wall time, and the process's CPU time over
    the wall time (cores in use: about 1.0 at most when the GIL serializes the threads, up to
    `threads` when it does not and the cores are free)."""
    with ThreadPoolExecutor(threads) as ex:
        list(ex.map(lambda _: fn(), range(threads)))  # warm up every thread
        calls, c0, t0 = 0, cpu_seconds(), time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            list(ex.map(lambda _: fn(), range(4 * threads)))
            calls += 4 * threads
        wall = time.perf_counter() - t0
        return calls / wall, (cpu_seconds() - c0) / wall


def python_share(fn, seconds):
    """How much pure-Python work the main thread gets done while another thread loops over fn,
    relative to when it runs alone: near 1 when fn releases the GIL (and a core is free), about
    0.5 or less for code that holds it (the reference workload "python")."""
    def spin(until):
        n = 0
        while time.perf_counter() < until:
            n += 1
        return n
    alone = spin(time.perf_counter() + seconds)
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            fn()
    worker = threading.Thread(target=loop)
    worker.start()
    time.sleep(0.05)
    shared = spin(time.perf_counter() + seconds)
    stop.set()
    worker.join()
    return shared / alone


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=5, help="wall time per measurement")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--only", nargs="+", help="workloads to run (default: all)")
    args = ap.parse_args()
    print("cores: %d (os.cpu_count); load average %.2f %.2f %.2f" % ((os.cpu_count(),) + os.getloadavg()))
    work = workloads()
    work["python"] = lambda: sum(i * i for i in range(20000))  # holds the GIL: the reference
    for name, fn in work.items():
        if args.only and name not in args.only:
            continue
        print("%-9s main-thread Python progress while another thread calls it: %.2f of alone"
              % (name, python_share(fn, args.seconds / 2)), flush=True)
        if name == "python":
            continue
        base = None
        for t in args.threads:
            r, cores = rate(fn, t, args.seconds)
            base = base or r
            print("%-9s threads %d: %8.2f calls/s  speed-up %.2fx  cores in use %.2f"
                  % (name, t, r, r / base, cores), flush=True)


if __name__ == "__main__":
    main()
