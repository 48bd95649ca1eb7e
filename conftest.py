"""Repository-wide pytest setup: GPU tests run only where a CUDA device exists."""
from __future__ import annotations

import shutil

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if not gpu_items or _has_gpu():
        return
    skip = pytest.mark.skip(reason="needs an NVIDIA GPU (marked gpu)")
    for item in gpu_items:
        item.add_marker(skip)


def _has_gpu() -> bool:
    if shutil.which("nvidia-smi") is None:
        return False
    import torch

    return torch.cuda.is_available()
