"""ctest entry for the Python bindings: runs pytest on tests/python/, or skips (exit code 77,
ctest's SKIP_RETURN_CODE) with a clear message when NumPy or pytest is missing."""
import os
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

# The module must import here: ctest builds it (a failure to import is a failure, not a skip).
try:
    import mixprec  # noqa: F401
except ImportError as e:
    print("python_bindings: cannot import mixprec (PYTHONPATH=%s): %s"
          % (os.environ.get("PYTHONPATH", ""), e))
    sys.exit(1)

sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[1:]]))
