"""train / eval / reproduce with a progress callback (tiny network, synthetic task; --quick)."""
import copy
import json

import pytest

from conftest import mixprec

TINY = {"input": {"frames": 2, "channels": 3, "height": 8, "width": 8},
        "cnn": {"stage_widths": [4, 8], "stage_strides": [1, 2], "blocks_per_stage": 1},
        "lstm": {"hidden": 4}}


@pytest.fixture(scope="module")
def tiny(default_scenario):
    d = copy.deepcopy(default_scenario.to_dict())
    for k, v in TINY.items():
        d["network"][k].update(v)
    d["precision"] = {"default": {"format": "int", "weights": 8, "activations": 8}, "layers": []}
    d["training"].update({"batch_size": 16, "micro_batches": 2, "epochs": 2})
    return mixprec.Scenario.from_dict(d)


def test_train_then_eval(tiny, tmp_path):
    seen = []
    s = mixprec.train(tiny, out=str(tmp_path / "fp32"), synthetic=64, progress=seen.append)
    assert [e["epoch"] for e in seen] == [1, 2]
    assert seen == s["epochs"]
    e = mixprec.eval(tiny, str(tmp_path / "fp32" / "best.ckpt"), synthetic=64)
    assert e["accuracy"] == s["test"]["accuracy"]
    assert e["samples"] == s["test"]["samples"]


def test_callback_exception_stops_training(tiny, tmp_path):
    def stop(_):
        raise KeyboardInterrupt("stop")
    with pytest.raises(KeyboardInterrupt):
        mixprec.train(tiny, out=str(tmp_path / "x"), synthetic=32, progress=stop)


def test_reproduce_refuses_dict_scenarios(tiny):
    with pytest.raises(mixprec.UsageError):
        mixprec.reproduce(tiny)


def test_reproduce_quick_with_progress(tmp_path):
    from conftest import DEFAULT
    events = []
    rep = mixprec.reproduce(DEFAULT, out=str(tmp_path / "run"), quick=True, threads=2,
                            progress=events.append)
    with open(tmp_path / "run" / "report.json") as f:
        assert rep == json.load(f)
    assert events and all(e["event"] == "stage" for e in events)
    assert events[0]["message"].startswith("seed ")
    assert events[-1]["message"].startswith("report: ")
