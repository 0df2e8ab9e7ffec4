"""Scenario: load, dict round trips, SpecError attributes (the CLI's messages)."""
import copy
import json
import os

import pytest

from conftest import DEFAULT, cli, mixprec, source


def test_load_matches_the_file(default_scenario):
    with open(DEFAULT) as f:
        doc = json.load(f)
    assert default_scenario.to_dict() == doc
    assert default_scenario.file == DEFAULT
    assert default_scenario.name == doc["name"]
    assert len(default_scenario.layers) > 10


@pytest.mark.parametrize("name", ["venue_cnn_lstm", "venue_dense_lstm", "fpga_lstm_traffic",
                                  "video_tt_lstm", "uci_room_occupancy"])
def test_dict_scenario_dict_round_trip(name):
    with open(source("scenarios", name + ".json")) as f:
        doc = json.load(f)
    s = mixprec.Scenario.from_dict(doc)
    assert s.file == "<dict>"
    back = s.to_dict()
    assert back == doc
    # and again: the dict it gives is a valid scenario with the same network
    again = mixprec.Scenario.from_dict(back)
    assert again.to_dict() == doc
    assert again.layers == mixprec.Scenario.load(source("scenarios", name + ".json")).layers


def test_to_dict_is_a_copy(default_scenario):
    d = default_scenario.to_dict()
    d["name"] = "changed"
    assert default_scenario.to_dict()["name"] != "changed"


def test_bad_file_error_attributes():
    path = source("tests", "scenarios_bad", "unknown_hardware_key.json")
    with pytest.raises(mixprec.SpecError) as info:
        mixprec.Scenario.load(path)
    e = info.value
    assert isinstance(e, ValueError)
    with open(source("tests", "scenarios_bad", "expected.json")) as f:
        expected = json.load(f)["unknown_hardware_key.json"].replace("{file}", path)
    assert str(e) == expected
    assert e.file == path
    assert e.pointer == "/hardware/clok_mhz"
    assert e.expected == 'a known key (did you mean "clock_mhz"?)'
    assert e.found == 'unknown key "clok_mhz"'
    # the CLI prints the same message
    code, _, err = cli("validate", path)
    assert code == 2
    assert err.strip() == "error: " + expected


def test_every_bad_file_gives_the_cli_message():
    folder = source("tests", "scenarios_bad")
    with open(os.path.join(folder, "expected.json")) as f:
        expected = json.load(f)
    for name, message in expected.items():
        path = os.path.join(folder, name)
        with pytest.raises(mixprec.SpecError) as info:
            mixprec.Scenario.load(path)
        assert str(info.value) == message.replace("{file}", path), name
        assert info.value.file == path
        assert str(info.value).startswith(path + ": " + info.value.pointer + ": ")


def test_bad_dict_names_dict(default_scenario):
    d = default_scenario.to_dict()
    d["hardware"]["clok_mhz"] = d["hardware"].pop("clock_mhz")
    with pytest.raises(mixprec.SpecError) as info:
        mixprec.Scenario.from_dict(d)
    e = info.value
    assert (e.file, e.pointer, e.expected, e.found) == (
        "<dict>", "/hardware/clok_mhz", 'a known key (did you mean "clock_mhz"?)',
        'unknown key "clok_mhz"')
    assert str(e) == '<dict>: /hardware/clok_mhz: expected a known key (did you mean "clock_mhz"?), ' \
                     'found unknown key "clok_mhz"'


def test_bad_value_type_in_dict(default_scenario):
    d = copy.deepcopy(default_scenario.to_dict())
    d["hardware"]["pe_array"]["rows"] = "sixteen"
    with pytest.raises(mixprec.SpecError) as info:
        mixprec.Scenario.from_dict(d)
    assert info.value.pointer == "/hardware/pe_array/rows"
    assert info.value.file == "<dict>"


def test_non_json_values_are_type_errors():
    with pytest.raises(TypeError):
        mixprec.Scenario.from_dict({"mixprec_scenario": 1, "name": object()})


def test_missing_file():
    with pytest.raises(mixprec.SpecError) as info:
        mixprec.Scenario.load("/nonexistent/x.json")
    assert info.value.file == "/nonexistent/x.json"


def test_precision_dict_and_file(default_scenario):
    p = default_scenario.precision()
    assert p["mixprec_precision"] == 1
    # a precision file and the same content as a dict resolve to the same precision
    f = source("scenarios", "precision", "venue_uniform_int4.json")
    with open(f) as fh:
        d = json.load(fh)
    assert default_scenario.precision(f) == default_scenario.precision(d)
    bad = dict(d, default={"weights": 0})
    with pytest.raises(mixprec.SpecError) as info:
        default_scenario.precision(bad)
    assert info.value.file == "<dict>"
    assert info.value.pointer == "/default/weights"
