"""Run vLLM 0.22.1's real CUDA backend selection on this CPU for several pretend GPU generations.

Run:  python course/phase-04-attention-backends/measurements/backend_selection.py > course/phase-04-attention-backends/measurements/backend_selection.txt

`vllm/platforms/cuda.py` imports two compiled extension modules only to register kernels; this CPU
install has neither, so empty stand-ins are placed in sys.modules for the import and removed after.
The selection itself — priorities, validate_configuration, ImportError handling — is vLLM's code.
Packages missing here (flashinfer, the compiled FlashAttention/FlashMLA extensions) make their
backends invalid, exactly as they would on a GPU box without them; the table records that.
"""
from __future__ import annotations

import logging
import sys
import types

import torch

for name in ("vllm._C", "vllm._C_stable_libtorch"):
    sys.modules.setdefault(name, types.ModuleType(name))
from vllm.platforms import cuda  # noqa: E402

for name in ("vllm._C", "vllm._C_stable_libtorch"):
    sys.modules.pop(name, None)
logging.disable(logging.WARNING)

from vllm.config import DeviceConfig, VllmConfig, set_current_vllm_config  # noqa: E402
from vllm.platforms.interface import DeviceCapability  # noqa: E402
from vllm.v1.attention.selector import AttentionSelectorConfig  # noqa: E402

CASES = [  # (label, head_size, use_mla, block_size)
    ("Llama-style GQA, head 128", 128, False, None),
    ("head 128, user --block-size 8", 128, False, 8),
    ("head 256", 256, False, None),
    ("head 512", 512, False, None),
    ("MLA, head 576", 576, True, None),
]


def main() -> None:
    print(f"torch {torch.__version__}; vllm selection code from upstream/ (0.22.1)")
    with set_current_vllm_config(VllmConfig(device_config=DeviceConfig("cpu"))):
        for cap in [(7, 5), (8, 0), (9, 0), (10, 0)]:
            capability = DeviceCapability(*cap)

            class PretendGPU(cuda.CudaPlatformBase):
                @classmethod
                def get_device_capability(cls, device_id: int = 0):
                    return capability

            for label, head, mla, bs in CASES:
                cfg = AttentionSelectorConfig(head_size=head, dtype=torch.bfloat16, kv_cache_dtype="auto",
                                              block_size=bs, use_mla=mla)
                try:
                    valid, invalid = PretendGPU.get_valid_backends(capability, cfg)
                except Exception as e:  # noqa: BLE001 - e.g. a backend class that touches CUDA at import
                    print(f"\nsm{cap[0]}{cap[1]} | {label} -> selection raised {type(e).__name__}: {str(e)[:80]}")
                    continue
                try:
                    chosen = PretendGPU.get_attn_backend_cls(None, cfg).rsplit(".", 1)[-1]
                except Exception as e:  # noqa: BLE001 - recorded, not hidden
                    chosen = f"ERROR {type(e).__name__}: {str(e)[:80]}"
                print(f"\nsm{cap[0]}{cap[1]} | {label} -> {chosen}")
                print("  valid (priority): " + ", ".join(f"{b.name}({p})" for b, p in valid))
                for b, (p, reasons) in invalid.items():
                    print(f"  rejected {b.name}({p}): {'; '.join(reasons)[:140]}")


if __name__ == "__main__":
    main()
