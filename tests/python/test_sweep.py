"""sweep(): the generator's points equal `mixprec sweep`'s results.csv; merge."""
import csv
import json
import os
import types

import pytest

from conftest import DEFAULT, cli, mixprec, source

SWEEP = {
    "mixprec_sweep": 1,
    "name": "py_small",
    "base": DEFAULT,
    "axes": [
        {"name": "array", "keys": ["/hardware/pe_array/rows", "/hardware/pe_array/cols"],
         "values": [8, 16, 32]},
        {"name": "weight_kib", "key": "/hardware/buffers/weight/size_kib", "values": [32, 128]},
        {"name": "budget", "key": "/constraints/energy_budget/fraction", "values": [0.5, 0.7]},
    ],
    "compute": {"kind": "search", "engine": "analytical",
                "sensitivity": source("results", "venue_cnn_lstm", "sensitivity_measured.json")},
}


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep")
    path = d / "small.json"
    path.write_text(json.dumps(SWEEP))
    code, _, err = cli("sweep", str(path), "--jobs", "2", "--quiet", "--out", str(d / "out"))
    assert code == 0, err
    return path, d / "out"


def test_generator_equals_cli_results_csv(cli_run, tmp_path):
    path, out = cli_run
    gen = mixprec.sweep(SWEEP, jobs=2, out=str(tmp_path))
    assert isinstance(gen, types.GeneratorType)
    points = list(gen)
    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(points) == len(rows) == 12
    for p, row in zip(points, rows):
        assert str(p["index"]) == row["index"] and p["key"] == row["key"]
        assert p["status"] == row["status"] == "ok"
        for name, value in p["results"].items():
            if name in row and row[name] != "":
                # results.csv prints numbers with up to 10 significant digits (%.10g)
                if isinstance(value, bool):
                    assert row[name] == ("true" if value else "false"), (name, value, row[name])
                elif isinstance(value, float):
                    assert float(row[name]) == float("%.10g" % value), (name, value, row[name])
                else:
                    assert str(value) == row[name], (name, value, row[name])
    # the same bytes as the CLI writes
    for name in ("results.csv", "pareto.csv", "pareto.json", "points.jsonl"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_generator_from_path_and_jobs_agree(cli_run):
    path, _ = cli_run
    one = list(mixprec.sweep(str(path), jobs=1))
    two = list(mixprec.sweep(SWEEP, jobs=3))
    assert one == two


def test_merge_of_shards_equals_whole(cli_run, tmp_path):
    path, out = cli_run
    shards = []
    for i in (1, 2):
        d = tmp_path / ("s%d" % i)
        code, _, err = cli("sweep", str(path), "--shard", "%d/2" % i, "--quiet", "--out", str(d))
        assert code == 0, err
        shards.append(str(d))
    s = mixprec.merge(shards, str(tmp_path / "all"))
    assert s["total"] == 12 and s["complete"]
    assert (tmp_path / "all" / "results.csv").read_bytes() == (out / "results.csv").read_bytes()


def test_run_sweep_writes_the_cli_outputs(cli_run, tmp_path):
    _, out = cli_run
    s = mixprec.run_sweep(SWEEP, out=str(tmp_path / "o"), jobs=2)
    assert s["evaluated"] == 12 and s["complete"]
    assert (tmp_path / "o" / "results.csv").read_bytes() == (out / "results.csv").read_bytes()


def test_bad_sweep_dict():
    bad = dict(SWEEP, axes=[dict(SWEEP["axes"][0], key="/hardware/nope")])
    with pytest.raises(mixprec.SpecError) as info:
        list(mixprec.sweep(bad))
    assert info.value.file == "<dict>"
    assert info.value.pointer.startswith("/axes/0")
