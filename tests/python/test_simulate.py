"""simulate(): the CLI's JSON numbers exactly, NumPy columns, SystemC serialization and
recovery, cost tables as views."""
import copy

import numpy as np
import pytest

from conftest import DEFAULT, cli_json, mixprec, source


def without_manifest(doc):
    doc = dict(doc)
    doc.pop("manifest", None)
    return doc


def test_default_scenario_equals_cli_json(default_scenario):
    cli_doc = cli_json("simulate", DEFAULT, "--format", "json")
    r = default_scenario.simulate()
    # exact equality of every number (both sides are the same doubles printed and read back)
    assert r.to_dict() == without_manifest(cli_doc)
    assert r.total == cli_doc["total"]
    assert r.layers == cli_doc["layers"]
    assert r.baselines == cli_doc["baselines"]
    assert r.engine == "mapping"  # the scenario's cost_model default on asic hardware


def test_mapping_records_equal_cli_show_mapping(default_scenario):
    cli_doc = cli_json("simulate", DEFAULT, "--show-mapping", "--format", "json")
    r = default_scenario.simulate()
    # the loop nests and their per-level analysis: the CLI's records exactly
    assert r.mappings == cli_doc["mappings"]
    # every layer with MACs has at least one nest (pools, adds and the like have none)
    assert {m["layer"] for m in r.mappings} == {l["name"] for l in r.layers if l["macs"] > 0}
    cols = r.level_records()
    n = len(cols["level"])
    for k in ("layer", "nest", "repeats", "utilized_instances", "utilized_capacity", "reads", "fills",
              "updates"):
        assert cols[k].dtype == np.int64 and cols[k].shape == (n,)
    assert cols["energy_pj"].dtype == np.float64
    assert len(cols["pass"]) == len(cols["tensor"]) == n
    # one row per data space a level keeps, in the records' order; counts x utilized instances
    rows = []
    for m in cli_doc["mappings"]:
        for lv in m["result"]["levels"]:
            for name, ds in lv["data_spaces"].items():
                rows.append((m["layer"], lv["name"], name, ds["reads"] * ds["utilized_instances"],
                             ds["fills"] * ds["utilized_instances"], ds["energy_pj"]))
    # data_spaces is a JSON object (sorted keys): compare as multisets per (layer, level, tensor)
    got = sorted((r.layer_names[int(cols["layer"][i])], cols["level"][i], cols["tensor"][i],
                  int(cols["reads"][i]), int(cols["fills"][i]), float(cols["energy_pj"][i])) for i in range(n))
    assert got == sorted(rows)
    with pytest.raises(mixprec.UsageError, match="per-level records come from the mapping engine"):
        default_scenario.simulate(engine="analytical").level_records()


def test_analytical_engine_equals_cli_json(default_scenario):
    cli_doc = cli_json("simulate", DEFAULT, "--engine", "analytical", "--format", "json")
    r = default_scenario.simulate(engine="analytical")
    assert r.to_dict() == without_manifest(cli_doc)
    assert r.engine == "analytical"


def test_precision_file_equals_cli_json(default_scenario):
    f = source("scenarios", "precision", "venue_uniform_int4.json")
    cli_doc = cli_json("simulate", DEFAULT, "--precision", f, "--format", "json")
    assert default_scenario.simulate(precision=f).to_dict() == without_manifest(cli_doc)


def test_systemc_equals_cli_json(default_scenario):
    cli_doc = cli_json("simulate", DEFAULT, "--engine", "systemc", "--format", "json")
    r = default_scenario.simulate(engine="systemc")
    assert r.engine == "systemc"
    assert r.to_dict() == without_manifest(cli_doc)


def test_failed_systemc_run_leaves_the_session_usable(default_scenario):
    d = copy.deepcopy(default_scenario.to_dict())
    for b in d["hardware"]["buffers"].values():
        b["size_kib"] = 0.001
    tiny = mixprec.Scenario.from_dict(d)
    with pytest.raises(mixprec.SpecError) as info:
        tiny.simulate(engine="systemc")
    assert info.value.pointer == "/hardware/buffers"
    with pytest.raises(mixprec.UsageError):
        default_scenario.simulate(engine="spice")
    # the kernel still runs, and gives the same numbers as before the failure
    a = default_scenario.simulate(engine="systemc").total
    b = default_scenario.simulate(engine="systemc").total
    assert a == b


def test_to_numpy_shapes_and_dtypes(default_scenario):
    r = default_scenario.simulate()
    cols = r.to_numpy()
    n = len(r.layers)
    assert n == len(default_scenario.layers) == len(r.layer_names)
    for name in ("macs", "nonlinear_ops", "register_file_accesses", "interconnect_hops"):
        assert cols[name].shape == (n,) and cols[name].dtype == np.int64, name
    for name in ("cycles", "compute_cycles", "utilization", "energy_total_pj"):
        assert cols[name].shape == (n,) and cols[name].dtype == np.float64, name
    assert cols["energy_pj"].shape == (n, len(mixprec.COMPONENTS))
    assert cols["energy_pj"].dtype == np.float64
    assert cols["stall_cycles"].shape == (n, len(mixprec.STALLS))
    for name in ("reads", "writes", "read_bits", "write_bits"):
        assert cols[name].shape == (n, len(mixprec.LEVELS), len(mixprec.TENSORS))
        assert cols[name].dtype == np.int64
    assert cols["fits"].dtype == np.bool_ and cols["fits"].all()
    # the columns are the records' numbers
    for i, layer in enumerate(r.layers):
        assert cols["macs"][i] == layer["macs"]
        assert cols["cycles"][i] == layer["cycles"]
        for c, comp in enumerate(mixprec.COMPONENTS):
            assert cols["energy_pj"][i, c] == layer["energy_pj"][comp]
        assert cols["energy_total_pj"][i] == layer["energy_pj"]["total"]
    assert mixprec.COMPONENTS[0] == "mac" and mixprec.TENSORS == ("weights", "inputs", "outputs")
    assert cols["energy_total_pj"].sum() * 1e-6 == pytest.approx(r.total["energy_uj"], rel=1e-12)


def test_cost_table_views_and_evaluate(default_scenario):
    t = default_scenario.cost_table()
    layers, options = t.shape
    assert layers == len(default_scenario.layers) and options == len(t.options)
    for name in ("energy_pj", "cycles", "dram_bytes", "weight_bytes"):
        a = getattr(t, name)
        assert a.shape == (layers, options) and a.dtype == np.float64
        assert not a.flags.writeable and not a.flags.owndata  # a view of the C++ table
    assert t.fits.dtype == np.bool_
    choice = np.zeros(layers, dtype=np.int32)
    p = t.evaluate(choice)
    rows = np.arange(layers)
    assert p["energy_uj"] == pytest.approx(t.energy_pj[rows, choice].sum() * 1e-6, rel=1e-12)
    assert p["size_bytes"] == pytest.approx(t.weight_bytes[rows, choice].sum(), rel=1e-12)
    # many points at once: the same sums
    rng = np.random.default_rng(1)
    many = rng.integers(0, options, size=(50, layers))
    out = t.evaluate(many)
    assert out["energy_uj"].shape == (50,)
    for k in (0, 17, 49):
        assert out["energy_uj"][k] == t.evaluate(many[k])["energy_uj"]
    with pytest.raises(IndexError):
        t.evaluate(np.full(layers, options))
    with pytest.raises(ValueError):
        t.evaluate(np.zeros(layers + 1, dtype=np.int32))


def test_cost_table_options(default_scenario):
    t = default_scenario.cost_table({"weight_bits": [4, 8], "activation_bits": [8]})
    assert t.options[:2] == ["w4a8", "w8a8"]
    with pytest.raises(mixprec.SpecError) as info:
        default_scenario.cost_table({"weight_bitz": [4]})
    assert info.value.pointer == "/search/weight_bitz"
