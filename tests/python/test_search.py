"""search(): the CLI's chosen precision and Pareto front, exactly."""
import json
import os

import numpy as np
import pytest

from conftest import DEFAULT, cli, mixprec, source

SENS = source("results", "venue_cnn_lstm", "sensitivity_measured.json")


def test_search_equals_cli(default_scenario, tmp_path):
    code, out, err = cli("search", DEFAULT, "--sensitivity", SENS, "--budget", "0.6",
                         "--format", "json", "--out", str(tmp_path))
    assert code == 0, err
    doc = json.loads(out)
    with open(tmp_path / "precision.json") as f:
        cli_precision = json.load(f)
    with open(tmp_path / "pareto.json") as f:
        cli_pareto = json.load(f)

    r = default_scenario.search(budget=0.6, sensitivity=SENS)
    assert r.precision == cli_precision
    for key in ("energy_uj", "latency_ms", "size_bytes", "sensitivity", "saving_percent",
                "feasible", "method"):
        assert r.chosen[key] == doc["chosen"][key], key
    for name, s in doc["solvers"].items():
        assert r.solvers[name]["energy_uj"] == s["energy_uj"], name
        assert r.solvers[name]["sensitivity"] == s["sensitivity"], name
    assert r.budget["baseline_energy_uj"] == doc["budget"]["baseline_energy_uj"]
    for key in ("energy_uj", "latency_ms", "size_bytes", "sensitivity", "saving_percent"):
        a = r.pareto[key]
        assert a.dtype == np.float64 and a.shape == (len(cli_pareto),)
        assert a.tolist() == [p[key] for p in cli_pareto], key


def test_chosen_precision_is_a_precision_file(default_scenario, tmp_path):
    r = default_scenario.search(budget=0.6, sensitivity=SENS)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(r.precision))
    via_file = default_scenario.simulate(precision=str(path)).total
    assert default_scenario.simulate(precision=r.precision).total == via_file
    assert via_file["energy_uj"] == pytest.approx(r.chosen["energy_uj"], rel=1e-9)


def test_search_errors(default_scenario):
    with pytest.raises(mixprec.UsageError):
        default_scenario.search(budget=0.6)
    with pytest.raises(mixprec.UsageError):
        default_scenario.search(budget=1.5, sensitivity=SENS)
    with pytest.raises(mixprec.SpecError) as info:
        default_scenario.search(budget=0.6, sensitivity=os.path.join("nonexistent", "s.json"))
    assert info.value.file == os.path.join("nonexistent", "s.json")
