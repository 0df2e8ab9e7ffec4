"""docs/python.md's worked example runs as written (from the repository root)."""
import re

from conftest import source


def test_worked_example_runs(monkeypatch, capsys):
    with open(source("docs", "python.md")) as f:
        text = f.read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1
    monkeypatch.chdir(source())
    exec(compile(blocks[0], "docs/python.md", "exec"), {})
    out = capsys.readouterr().out
    assert '<dict> | /hardware/clok_mhz | a known key (did you mean "clock_mhz"?) | ' \
           'unknown key "clok_mhz"' in out
