"""Shared fixtures and paths for the test suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _quiet_progress():
    os.environ.setdefault("OVERPARAM_QUIET", "1")
    yield
