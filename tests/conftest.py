"""pytest fixtures for the pshare native-vs-pshare comparison tests.

Fixtures:
  apps_bin       (session) dict app name -> compiled binary (all tests/apps/*.c)
  pshare_launch  (session) path of pshare-launch, or skip
  mpiexec        (session) path of mpiexec, or skip

Marker:
  @pytest.mark.pshare  - the test needs pshare-launch; skipped (with the
                         reason) when it is not found: $PSHARE_LAUNCH if set,
                         else next to sys.executable, else on PATH.
"""

import os
import sys
from pathlib import Path

import pytest

# make `import helpers` work whatever pytest's import mode is
_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)
# `import pshare` is the installed package (its compiled parts exist only
# there), not the source tree that `python -m pytest` puts on the path
_ROOT = str(Path(__file__).resolve().parent.parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _ROOT]

import helpers  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "pshare: needs pshare-launch (skipped when it is not installed)")


def pytest_collection_modifyitems(config, items):
    if helpers.find_pshare_launch() is not None:
        return
    skip = pytest.mark.skip(
        reason=f"pshare-launch not found ($PSHARE_LAUNCH, next to {sys.executable}, or on PATH)")
    for item in items:
        if item.get_closest_marker("pshare") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def apps_bin(tmp_path_factory):
    """Compile every tests/apps/*.c once per session; name -> binary Path."""
    out_dir = tmp_path_factory.mktemp("apps_bin")
    try:
        return helpers.compile_apps(out_dir)
    except RuntimeError as exc:
        pytest.fail(f"test programs failed to compile:\n{exc}", pytrace=False)


@pytest.fixture(scope="session")
def pshare_launch():
    path = helpers.find_pshare_launch()
    if path is None:
        pytest.skip(f"pshare-launch not found ($PSHARE_LAUNCH, next to {sys.executable}, or on PATH)")
    return path


@pytest.fixture(scope="session")
def mpiexec():
    path = helpers.find_mpiexec()
    if path is None:
        pytest.skip(f"mpiexec not found next to {sys.executable} or on PATH")
    return path
