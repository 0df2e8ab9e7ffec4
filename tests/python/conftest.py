"""Shared fixtures: the source tree, the CLI (ctest sets MIXPREC_CLI and MIXPREC_SOURCE_DIR;
run by hand, the defaults point at build/), and a skip when the module is not built."""
import json
import os
import subprocess

import pytest

SOURCE_DIR = os.environ.get("MIXPREC_SOURCE_DIR",
                            os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
CLI = os.environ.get("MIXPREC_CLI", os.path.join(SOURCE_DIR, "build", "bin", "mixprec"))
DEFAULT = os.path.join(SOURCE_DIR, "scenarios", "venue_cnn_lstm.json")

try:
    import mixprec
    IMPORT_ERROR = None
except ImportError as e:  # every test is skipped with the reason
    mixprec = None
    IMPORT_ERROR = ("the mixprec module is not importable (built with MIXPREC_BUILD_PYTHON? "
                    "PYTHONPATH=build/python?): %s" % e)


def pytest_collection_modifyitems(config, items):
    if IMPORT_ERROR:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=IMPORT_ERROR))


def source(*parts):
    return os.path.join(SOURCE_DIR, *parts)


def cli(*args, cwd=None):
    """Runs the CLI; returns (exit code, stdout, stderr)."""
    env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
    p = subprocess.run([CLI, *args], capture_output=True, text=True, cwd=cwd, env=env)
    return p.returncode, p.stdout, p.stderr


def cli_json(*args):
    code, out, err = cli(*args)
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="session")
def default_scenario():
    return mixprec.Scenario.load(DEFAULT)
