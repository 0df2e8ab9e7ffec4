#!/usr/bin/env python3
"""Regenerates tests/scenarios_bad/*.json: each is the default scenario with one defect.

The expected message of each file lives in tests/scenarios_bad/expected.json and is written by
hand (checked against the CLI), not by this script.
"""
import copy
import json
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
base = json.loads((root / "scenarios/venue_cnn_lstm.json").read_text())
out = root / "tests/scenarios_bad"
out.mkdir(parents=True, exist_ok=True)


def mutate(name, fn):
    s = copy.deepcopy(base)
    fn(s)
    (out / f"{name}.json").write_text(json.dumps(s, indent=2) + "\n")


def set_(path, value):
    def f(s):
        d = s
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = value
    return f


def rename(path, old, new):
    def f(s):
        d = s
        for k in path:
            d = d[k]
        d[new] = d.pop(old)
    return f


def delete(path, key):
    def f(s):
        d = s
        for k in path:
            d = d[k]
        del d[key]
    return f


mutate("wrong_version", set_(["mixprec_scenario"], 2))
mutate("missing_version", delete([], "mixprec_scenario"))
mutate("unknown_top_key", rename([], "hardware", "hardwre"))
mutate("unknown_hardware_key", rename(["hardware"], "clock_mhz", "clok_mhz"))
mutate("zero_clock", set_(["hardware", "clock_mhz"], 0))
mutate("negative_buffer", set_(["hardware", "buffers", "weight", "size_kib"], -64))
mutate("string_rows", set_(["hardware", "pe_array", "rows"], "16"))
mutate("fractional_rows", set_(["hardware", "pe_array", "rows"], 16.5))
mutate("negative_bandwidth", set_(["hardware", "dram", "bandwidth_gbps"], -12.8))
mutate("bad_mac_style", set_(["hardware", "pe_array", "mac", "style"], "composible"))
mutate("mac_key_of_other_style", set_(["hardware", "pe_array", "mac", "native_bits"], 8))
mutate("fused_not_multiple", set_(["hardware", "pe_array", "mac", "fused_bits"], 7))
mutate("bits_too_high", set_(["precision", "default", "weights"], 33))
mutate("bits_zero", set_(["precision", "default", "activations"], 0))
mutate("bad_format", set_(["precision", "default", "format"], "fp8"))
mutate("float_with_bits", set_(["precision", "default", "format"], "fp16"))
mutate("precision_pattern_no_match", set_(["precision", "layers", 0, "match"], "cnn.stage9.*"))
mutate("precision_name_typo", set_(["precision", "layers", 0, "match"], "cnn.stme"))
mutate("unknown_precision_key", set_(["precision", "layers", 1, "weigths"], 4))
mutate("micro_batches_not_divisor", set_(["training", "micro_batches"], 5))
mutate("budget_both", set_(["constraints", "energy_budget", "energy_uj"], 10.0))
mutate("budget_fraction_above_one", set_(["constraints", "energy_budget", "fraction"], 1.5))
mutate("fixed_layer_no_match", set_(["search", "fixed_layers"], ["cnn.stem", "classifier"]))
mutate("template_and_layers", set_(["network", "layers"], []))
mutate("unknown_template", set_(["network", "template"], "resnet50"))
mutate("negative_width_multiplier", set_(["network", "cnn", "width_multiplier"], -1))

explicit = {
    "name": "tiny", "batch": 1,
    "input": {"frames": 2, "channels": 3, "height": 8, "width": 8},
    "layers": [
        {"name": "c1", "kind": "conv2d", "out_channels": 8, "kernel": 3, "padding": 1, "relu": True},
        {"name": "c2", "kind": "conv2d", "out_channels": 8, "kernel": 3, "padding": 1},
        {"name": "sum", "kind": "add", "inputs": ["c1", "c2"], "relu": True},
        {"name": "gap", "kind": "pool", "pool": "global_avg"},
        {"name": "seq", "kind": "frames_to_sequence"},
        {"name": "rnn", "kind": "lstm", "hidden": 16},
        {"name": "fc", "kind": "linear", "out_features": 4}
    ]
}


def explicit_net(fn):
    def f(s):
        net = copy.deepcopy(explicit)
        fn(net)
        s["network"] = net
        s["precision"] = {"default": {"format": "int", "weights": 8, "activations": 8}}
        s["search"]["fixed_layers"] = []
    return f


mutate("layer_input_missing", explicit_net(lambda n: n["layers"][2].__setitem__("inputs", ["c1", "c9"])))
mutate("add_shape_mismatch", explicit_net(lambda n: n["layers"][1].__setitem__("out_channels", 4)))
mutate("kernel_too_large", explicit_net(lambda n: n["layers"][0].update({"kernel": 11, "padding": 0})))
mutate("duplicate_layer_name", explicit_net(lambda n: n["layers"][1].__setitem__("name", "c1")))
mutate("lstm_on_image", explicit_net(lambda n: n["layers"].__delitem__(3) or n["layers"].__delitem__(3)))
mutate("empty_layers", explicit_net(lambda n: n.__setitem__("layers", [])))
mutate("layer_unknown_kind", explicit_net(lambda n: n["layers"][0].__setitem__("kind", "conv3d")))

(out / "bad_json.json").write_text('{\n  "mixprec_scenario": 1,\n  "name": "x",\n  "hardware": {\n')
(out / "root_not_object.json").write_text('[1, 2, 3]\n')
# Found by hand before the fuzzers existed: a number beyond a double, and nesting past the
# reader's depth limit (a deep enough file crashed the CLI's recursive copies: issue 19).
(out / "number_beyond_double.json").write_text('{"mixprec_scenario": 1e400}\n')
(out / "deep_nesting.json").write_text('{"mixprec_scenario": 1, "network": ' + '[' * 100 + ']' * 100 + '}\n')
print("wrote", len(list(out.glob("*.json"))), "files")
