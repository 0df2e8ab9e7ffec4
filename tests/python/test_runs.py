"""train / eval with a progress callback (a tiny network on the synthetic task)."""
import copy

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
