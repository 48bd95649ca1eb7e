"""Batched multi-LoRA: one forward pass, a different adapter (or none) per request.

Upstream: {anchor}`vllm/lora/request.py::LoRARequest`,
{anchor}`vllm/lora/layers/base_linear.py::BaseLinearLayerWithLoRA`,
{anchor}`vllm/lora/punica_wrapper/punica_cpu.py::PunicaWrapperCPU`,
{anchor}`vllm/lora/ops/torch_ops/lora_ops.py::sgmv_shrink`,
{anchor}`vllm/lora/ops/torch_ops/lora_ops.py::sgmv_expand`.

Every adapted linear layer holds `max_loras` stacked (A, B) pairs, zero-padded to `max_lora_rank`
(zero rows add exactly nothing). A step's tokens arrive grouped by request, so the tokens using one
adapter form contiguous *segments*; for each segment we do the two thin matmuls `x A^T` ("shrink"
to rank r) then `(x A^T) B^T` ("expand" back), which is Punica's SGMV in plain torch.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class LoRARequest:
    """Names an adapter: `lora_path` is a PEFT-format folder (adapter_config.json + safetensors)."""

    lora_name: str
    lora_int_id: int
    lora_path: str


@dataclass
class LoRAMapping:
    """Which adapter slot each run of tokens uses: (start, end, slot) with end exclusive."""

    segments: list[tuple[int, int, int]]


class LinearWithLoRA(nn.Module):
    """A bias-free linear layer plus `max_loras` stacked low-rank deltas."""

    def __init__(self, in_features: int, out_features: int, max_loras: int, max_rank: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features), requires_grad=False)
        self.register_buffer("lora_a", torch.zeros(max_loras, max_rank, in_features), persistent=False)
        # The adapter's alpha/r scaling is folded into B when it is loaded.
        self.register_buffer("lora_b", torch.zeros(max_loras, out_features, max_rank), persistent=False)

    def forward(self, x: torch.Tensor, mapping: LoRAMapping | None = None) -> torch.Tensor:
        y = F.linear(x, self.weight)
        if mapping is not None:
            for start, end, slot in mapping.segments:
                shrunk = x[start:end] @ self.lora_a[slot].T  # [n, r]
                y[start:end] += shrunk @ self.lora_b[slot].T  # [n, out]
        return y


def load_peft_adapter(path: str | Path) -> tuple[dict[str, tuple[torch.Tensor, torch.Tensor]], float, int]:
    """Read a PEFT LoRA folder -> ({module path: (A, B)}, scaling alpha/r, rank)."""
    path = Path(path)
    cfg_file = path / "adapter_config.json"
    if not cfg_file.is_file():
        raise FileNotFoundError(f"{cfg_file}: not a PEFT LoRA folder (create one with "
                                "mini_vllm.tiny.create_tiny_lora)")
    cfg = json.loads(cfg_file.read_text())
    if cfg.get("peft_type", "LORA") != "LORA" or cfg.get("use_rslora") or cfg.get("use_dora"):
        raise ValueError(f"{cfg_file}: only plain LoRA is supported (no rsLoRA/DoRA)")
    rank, alpha = int(cfg["r"]), float(cfg["lora_alpha"])
    tensors = load_file(str(path / "adapter_model.safetensors"))
    pairs: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for key, a in tensors.items():
        if not key.endswith(".lora_A.weight"):
            continue
        module = key.removeprefix("base_model.model.").removesuffix(".lora_A.weight")
        b = tensors[key.replace("lora_A", "lora_B")]
        if module.rsplit(".", 1)[-1] not in LORA_TARGETS:
            raise ValueError(f"{path}: LoRA on {module} is not supported; targets: {LORA_TARGETS}")
        pairs[module] = (a.float(), b.float())
    return pairs, alpha / rank, rank


class LoRAManager:
    """Keeps up to `max_loras` adapters resident in the model's slots, evicting the least recent."""

    def __init__(self, model: nn.Module, max_loras: int, max_rank: int) -> None:
        self.model = model
        self.max_loras = max_loras
        self.max_rank = max_rank
        self.layers = {name: m for name, m in model.named_modules() if isinstance(m, LinearWithLoRA)}
        self.slots: OrderedDict[str, int] = OrderedDict()  # lora_name -> slot, in LRU order

    def activate(self, requests: list[LoRARequest]) -> dict[str, int]:
        """Make every adapter of this batch resident; returns lora_name -> slot."""
        names = {r.lora_name for r in requests}
        if len(names) > self.max_loras:
            raise RuntimeError(f"{len(names)} adapters in one batch but max_loras={self.max_loras}")
        for req in requests:
            if req.lora_name in self.slots:
                self.slots.move_to_end(req.lora_name)
                continue
            if len(self.slots) < self.max_loras:
                slot = len(self.slots)
            else:
                victim = next(n for n in self.slots if n not in names)
                slot = self.slots.pop(victim)
            self._load(req, slot)
            self.slots[req.lora_name] = slot
        return dict(self.slots)

    def _load(self, req: LoRARequest, slot: int) -> None:
        pairs, scaling, rank = load_peft_adapter(req.lora_path)
        if rank > self.max_rank:
            raise ValueError(f"{req.lora_path}: rank {rank} > max_lora_rank {self.max_rank}")
        for layer in self.layers.values():
            layer.lora_a[slot].zero_()
            layer.lora_b[slot].zero_()
        for module, (a, b) in pairs.items():
            if module not in self.layers:
                raise ValueError(f"{req.lora_path}: adapter targets unknown module {module}")
            layer = self.layers[module]
            layer.lora_a[slot, :rank] = a
            layer.lora_b[slot, :, :rank] = b * scaling
