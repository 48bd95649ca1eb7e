"""Grading switch for every lab: `impl` is the solution, or the learner's starter under LAB_IMPL=starter."""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

CHOICES = ("solution", "starter")


@pytest.fixture
def impl(request: pytest.FixtureRequest):
    """The module under test, loaded from the lab folder of the requesting test file."""
    which = os.environ.get("LAB_IMPL", "solution")
    if which not in CHOICES:
        raise pytest.UsageError(f"LAB_IMPL={which!r}: choose one of {', '.join(CHOICES)}")
    lab = Path(request.path).parent
    spec = importlib.util.spec_from_file_location(f"{lab.name.replace('-', '_')}_{which}", lab / f"{which}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look their module up by name
    spec.loader.exec_module(module)
    return module
