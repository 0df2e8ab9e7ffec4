"""ctest entry for the Python bindings: runs pytest on tests/python/, or skips (exit code 77,
ctest's SKIP_RETURN_CODE) with a clear message when NumPy or pytest is missing."""
import sys

missing = []
for name, package in (("numpy", "python3-numpy"), ("pytest", "python3-pytest")):
    try:
        __import__(name)
    except ImportError:
        missing.append(package)
if missing:
    print("python_bindings: skipped: %s not installed for %s (scripts/setup.sh installs them)"
          % (" and ".join(missing), sys.executable))
    sys.exit(77)

import pytest  # noqa: E402

sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[1:]]))
