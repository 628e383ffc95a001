"""A failing check in a notebook fails ``pytest --nbval-lax`` (and so ``make test``); a passing
one does not. The same notebook is also shown to fail the book build's execution."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

TEMPLATE = """import overparam as op
checks = op.Checks("00_fixture")
checks.add("x", claim="measured ≤ 1", source="fixture", measured={value}, op="<=", bound=1.0,
           kind="letter")
checks.report()
"""


def _run_nbval(tmp_path, value: float) -> subprocess.CompletedProcess:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(TEMPLATE.format(value=value))]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / f"fixture_{str(value).replace('.', '_')}.ipynb"
    nbformat.write(nb, path)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q",
         "-o", "addopts=", "--rootdir", str(tmp_path), str(path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)


def test_failing_check_fails_nbval(tmp_path):
    bad = _run_nbval(tmp_path, 2.0)
    assert bad.returncode != 0, bad.stdout
    assert "ChecksFailed" in bad.stdout


def test_passing_check_passes_nbval(tmp_path):
    good = _run_nbval(tmp_path, 0.5)
    assert good.returncode == 0, good.stdout + good.stderr


def test_root_is_the_repository():
    assert (ROOT / "_config.yml").exists()
