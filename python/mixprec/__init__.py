"""mixprec: hardware-aware energy simulation and precision search (docs/python.md).

Every function calls the C++ libraries (the compiled module mixprec._mixprec); this file only
re-exports them and wraps the sweep iterator in a generator.
"""
from ._mixprec import (COMPONENTS, LEVELS, STALLS, TENSORS, CostTable, Scenario, SearchResult,
                       SimulationResult, SpecError, SweepRun, UsageError, eval, merge, reproduce,
                       run_sweep, train)

__all__ = ["COMPONENTS", "LEVELS", "STALLS", "TENSORS", "CostTable", "Scenario", "SearchResult",
           "SimulationResult", "SpecError", "SweepRun", "UsageError", "eval", "merge",
           "reproduce", "run_sweep", "sweep", "train"]


def sweep(spec, jobs=1, out=None, base_dir=None):
    """Yields a sweep's point results in index order, evaluated on `jobs` C++ threads.

    spec: a sweep file path or a dict in that format (relative paths against base_dir). Each
    item is the point's points.jsonl line as a dict. With out=DIR, the final outputs
    (results.csv, pareto.csv, pareto.json: the bytes `mixprec sweep` writes) go to DIR once the
    last point has been taken.
    """
    run = SweepRun(spec, jobs, base_dir)
    yield from run
    if out is not None:
        run.write(out)
