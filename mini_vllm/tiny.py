"""Create tiny Llama models, their tokenizer and LoRA adapters locally: nothing downloaded.

Upstream: {anchor}`vllm/model_executor/models/llama.py::LlamaForCausalLM` (the architecture the
weights are laid out for). The output folder is a standard Hugging Face checkpoint (config.json,
model.safetensors, tokenizer.json, tokenizer_config.json), so `transformers` loads the very same
model and tests can compare token for token.

The tokenizer is a byte-level BPE trained with the `tokenizers` library on a small corpus generated
here from a fixed seed, so every machine builds the same vocabulary.

Random weights never continue a repetition, so they cannot show what n-gram speculative decoding
buys. `create_induction_model` therefore *trains* one toy model (about a minute on one CPU thread)
to do a single thing: induction, i.e. copy what followed the previous occurrence of the current
token. It is cached under `.cache/` keyed by its hyper-parameters, so it is trained once.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path

import torch
from safetensors.torch import save_file

BOS, EOS = "<s>", "</s>"

_WORDS = ("the a an engine token block cache request batch model prefix decode prefill memory "
          "schedule page table attention query key value layer head sample step queue time "
          "first last next free full hash chunk budget speculative draft accept reject adapter "
          "grammar json schema regex number string true false null is was will can must not "
          "and or but with without for from into of on in at by to as it this that we you they "
          "run runs ran fast slow small large long short new old one two three four five").split()


def make_corpus(num_lines: int = 2000, seed: int = 0) -> list[str]:
    """Deterministic English-like sentences plus JSON snippets (so braces and quotes get merges)."""
    rng = random.Random(seed)
    lines = []
    for i in range(num_lines):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(4, 16))]
        if i % 5 == 0:
            lines.append(json.dumps({rng.choice(_WORDS): rng.choice([rng.randint(0, 999), True, None,
                                                                     " ".join(words[:3])])}))
        else:
            lines.append(" ".join(words).capitalize() + rng.choice([".", "!", "?", ","]))
    return lines


def train_tokenizer(vocab_size: int = 512, seed: int = 0):
    """A byte-level BPE `tokenizers.Tokenizer`; ids 0 and 1 are BOS and EOS."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[BOS, EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(make_corpus(seed=seed), trainer=trainer)
    return tok


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def create_tiny_model(path: str | Path, *, vocab_size: int = 512, hidden_size: int = 64,
                      intermediate_size: int = 128, num_hidden_layers: int = 2,
                      num_attention_heads: int = 4, num_key_value_heads: int = 2,
                      max_position_embeddings: int = 1024, tie_word_embeddings: bool = False,
                      init_std: float = 0.15, seed: int = 0) -> Path:
    """Write a random-weight Llama checkpoint to `path` and return it.

    `init_std` is larger than a trained model's (~0.02) on purpose: it spreads the logits so that
    greedy argmaxes are far apart and float rounding can't flip a comparison test.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tok = train_tokenizer(vocab_size, seed)
    vocab_size = tok.get_vocab_size()
    head_dim = hidden_size // num_attention_heads
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "vocab_size": vocab_size, "hidden_size": hidden_size,
        "intermediate_size": intermediate_size, "num_hidden_layers": num_hidden_layers,
        "num_attention_heads": num_attention_heads, "num_key_value_heads": num_key_value_heads,
        "head_dim": head_dim, "max_position_embeddings": max_position_embeddings,
        "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
        "rope_parameters": {"rope_theta": 10000.0, "rope_type": "default"},
        "hidden_act": "silu", "attention_bias": False, "mlp_bias": False,
        "tie_word_embeddings": tie_word_embeddings, "bos_token_id": 0, "eos_token_id": 1,
        "torch_dtype": "float32", "dtype": "float32",
    }
    g = torch.Generator().manual_seed(seed)

    def rand(*shape: int, std: float = init_std) -> torch.Tensor:
        return torch.randn(*shape, generator=g) * std

    def norm(size: int) -> torch.Tensor:  # near 1 but not exactly, so a missed norm weight shows
        return 1.0 + rand(size, std=0.1)

    h, i, d = hidden_size, intermediate_size, head_dim
    w: dict[str, torch.Tensor] = {"model.embed_tokens.weight": rand(vocab_size, h, std=1.0),
                                  "model.norm.weight": norm(h)}
    for n in range(num_hidden_layers):
        p = f"model.layers.{n}."
        w |= {p + "self_attn.q_proj.weight": rand(num_attention_heads * d, h),
              p + "self_attn.k_proj.weight": rand(num_key_value_heads * d, h),
              p + "self_attn.v_proj.weight": rand(num_key_value_heads * d, h),
              p + "self_attn.o_proj.weight": rand(h, num_attention_heads * d),
              p + "mlp.gate_proj.weight": rand(i, h), p + "mlp.up_proj.weight": rand(i, h),
              p + "mlp.down_proj.weight": rand(h, i),
              p + "input_layernorm.weight": norm(h), p + "post_attention_layernorm.weight": norm(h)}
    if not tie_word_embeddings:
        w["lm_head.weight"] = rand(vocab_size, h, std=0.5)
    _atomic_write(path / "config.json", json.dumps(config, indent=2).encode())
    tmp = path / ".model.safetensors.tmp"
    save_file({k: v.contiguous() for k, v in w.items()}, str(tmp), metadata={"format": "pt"})
    os.replace(tmp, path / "model.safetensors")
    _atomic_write(path / "tokenizer.json", tok.to_str().encode())
    tok_cfg = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": BOS, "eos_token": EOS,
               "model_max_length": max_position_embeddings, "add_bos_token": False}
    _atomic_write(path / "tokenizer_config.json", json.dumps(tok_cfg, indent=2).encode())
    _atomic_write(path / "generation_config.json",
                  json.dumps({"bos_token_id": 0, "eos_token_id": 1}).encode())
    return path


def create_tiny_lora(model_dir: str | Path, path: str | Path, *, rank: int = 8, alpha: float = 16.0,
                     targets: tuple[str, ...] = ("q_proj", "v_proj", "down_proj"), std: float = 0.1,
                     seed: int = 0) -> Path:
    """Write a random PEFT-format LoRA adapter for the model at `model_dir`.

    Both A and B are random (PEFT initialises B to zero, which would make the adapter a no-op).
    """
    cfg = json.loads((Path(model_dir) / "config.json").read_text())
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    h, i = cfg["hidden_size"], cfg["intermediate_size"]
    q = cfg["num_attention_heads"] * cfg["head_dim"]
    kv = cfg["num_key_value_heads"] * cfg["head_dim"]
    shapes = {"q_proj": (h, q), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (q, h),
              "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}
    tensors = {}
    for n in range(cfg["num_hidden_layers"]):
        for t in targets:
            part = "self_attn" if t in ("q_proj", "k_proj", "v_proj", "o_proj") else "mlp"
            key = f"base_model.model.model.layers.{n}.{part}.{t}"
            fan_in, fan_out = shapes[t]
            tensors[f"{key}.lora_A.weight"] = torch.randn(rank, fan_in, generator=g) * std
            tensors[f"{key}.lora_B.weight"] = torch.randn(fan_out, rank, generator=g) * std
    tmp = path / ".adapter_model.safetensors.tmp"
    save_file(tensors, str(tmp))
    os.replace(tmp, path / "adapter_model.safetensors")
    _atomic_write(path / "adapter_config.json", json.dumps({
        "peft_type": "LORA", "r": rank, "lora_alpha": alpha, "target_modules": list(targets),
        "base_model_name_or_path": str(model_dir), "bias": "none"}, indent=2).encode())
    return path


# --- a trained toy "induction model" -------------------------------------------------------------
INDUCTION_DEFAULTS = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                          num_attention_heads=4, seq_len=64, batch_size=32, steps=1500, lr=3e-3,
                          warmup=100, random_frac=0.25, random_from=500, min_span=6, seed=0)
_INDUCTION_FORMAT = 1  # bump when the training recipe changes, so stale caches are not reused
SPECIAL_TOKENS = ("<s>", "</s>", "<unk>")


def word_tokenizer():
    """A word-level tokenizer: BOS, EOS, UNK, then one id per word of `_WORDS` (95 ids in all).

    Whole words keep the toy model small (a 95-row embedding) while prompts stay readable text.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {t: i for i, t in enumerate(SPECIAL_TOKENS + tuple(dict.fromkeys(_WORDS)))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return tok


def induction_batch(batch_size: int, seq_len: int, vocab_size: int, min_span: int,
                    random_frac: float, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids [B, T] and a bool mask of the targets the loss counts.

    Most rows are: random prefix, a random span of random length L, then that span repeated to the
    end of the row. The loss counts only tokens after the first copy of the span, which are
    predictable only by looking back (the span and its length are new in every row, so no fixed
    offset works: the model must find the earlier occurrence of the current token and copy its
    successor). The other rows are pure random tokens, loss everywhere: there, coincidental
    repeats of one token must not be copied with confidence.
    """
    first = len(SPECIAL_TOKENS)
    x = torch.randint(first, vocab_size, (batch_size, seq_len), generator=g)
    mask = torch.zeros(batch_size, seq_len, dtype=torch.bool)
    spans = torch.randint(min_span, seq_len // 2 + 1, (batch_size,), generator=g).tolist()
    starts = torch.rand(batch_size, generator=g).tolist()
    rand_rows = (torch.rand(batch_size, generator=g) < random_frac).tolist()
    for b in range(batch_size):
        if rand_rows[b]:
            mask[b, :] = True  # mask[:, 0] is never a target; set here only to tag the row
            continue
        span = spans[b]
        p = int(starts[b] * (seq_len - 2 * span))
        x[b, p + span:] = x[b, p:p + span].repeat(seq_len // span + 1)[:seq_len - p - span]
        mask[b, p + span + 1:] = True  # the span's first repeated token is not predictable yet
    return x, mask


def create_induction_model(cache_dir: str | Path | None = None, **overrides) -> Path:
    """Train (once) and return a toy Llama that has learned induction; HF-format folder.

    The folder name carries every hyper-parameter and the seed, so a different recipe gets a new
    folder and an existing one is simply reused. `training.json` in it records the loss curve:
    the copy loss (repeat rows only) sits near uniform (ln 92 = 4.52) for a few hundred steps, then drops suddenly
    (the induction "phase change") to a fraction of a nat.
    """
    unknown = sorted(set(overrides) - set(INDUCTION_DEFAULTS))
    if unknown:
        raise TypeError(f"unknown induction hyper-parameter(s) {unknown}; valid: {sorted(INDUCTION_DEFAULTS)}")
    hp = {**INDUCTION_DEFAULTS, **overrides}
    root = Path(cache_dir) if cache_dir is not None else Path(__file__).resolve().parents[1] / ".cache" / "mini_vllm"
    name = f"induction-v{_INDUCTION_FORMAT}-" + "-".join(f"{k}{v}" for k, v in sorted(hp.items()))
    path = root / name
    if (path / "model.safetensors").is_file():
        return path
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{name}."))
    _train_induction(tmp, hp)
    try:
        os.replace(tmp, path)  # atomic: a half-trained folder is never visible under `name`
    except OSError:  # another process finished first; its model is the same recipe
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _train_induction(path: Path, hp: dict) -> None:
    import math
    import time

    from rich.progress import Progress
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = word_tokenizer()
    vocab_size = tok.get_vocab_size()
    h, heads = hp["hidden_size"], hp["num_attention_heads"]
    torch.manual_seed(hp["seed"])
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=h, intermediate_size=hp["intermediate_size"],
                         num_hidden_layers=hp["num_hidden_layers"], num_attention_heads=heads,
                         num_key_value_heads=heads, head_dim=h // heads, max_position_embeddings=1024,
                         rms_norm_eps=1e-6, tie_word_embeddings=False, bos_token_id=0, eos_token_id=1)
    model = LlamaForCausalLM(config).train()
    opt = torch.optim.AdamW(model.parameters(), lr=hp["lr"], weight_decay=0.01, betas=(0.9, 0.98))
    steps, warmup = hp["steps"], hp["warmup"]
    # Linear warm-up (Adam's early steps are noisy), then cosine decay to 10% to settle the copy.
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) * max(
        0.1, 0.5 * (1 + math.cos(math.pi * s / steps))))
    g = torch.Generator().manual_seed(hp["seed"])
    curve, t0 = [], time.perf_counter()
    with Progress(transient=True) as progress:
        task = progress.add_task("training the toy induction model", total=steps)
        for step in range(steps):
            # Random rows only after the copy circuit has formed: from the start they delay the
            # phase change by more than 2x (measured: ~1000 steps instead of ~400).
            x, mask = induction_batch(hp["batch_size"], hp["seq_len"], vocab_size, hp["min_span"],
                                      hp["random_frac"] if step >= hp["random_from"] else 0.0, g)
            logits = model(input_ids=x).logits[:, :-1]
            nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), x[:, 1:], reduction="none")
            m = mask[:, 1:]
            loss = (nll * m).sum() / m.sum()
            copy = m & ~mask[:, :1]  # repeat rows only (random rows have mask[:, 0] set)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            if step % 50 == 0 or step == steps - 1:
                copy_loss = ((nll * copy).sum() / copy.sum()).item()
                curve.append((step, round(loss.item(), 4), round(copy_loss, 4)))
                progress.update(task, description=f"training the toy induction model (copy loss {copy_loss:.2f})")
            progress.advance(task)
    model.eval()
    model.save_pretrained(path, safe_serialization=True)
    _atomic_write(path / "tokenizer.json", tok.to_str().encode())
    tok_cfg = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>",
               "unk_token": "<unk>", "model_max_length": 1024, "add_bos_token": False}
    _atomic_write(path / "tokenizer_config.json", json.dumps(tok_cfg, indent=2).encode())
    info = {"what": "toy induction model: trained only to copy repeated spans, NOT a language model",
            "hyper_parameters": hp, "train_seconds": round(time.perf_counter() - t0, 1),
            "torch_threads": torch.get_num_threads(), "uniform_loss": round(math.log(vocab_size - len(SPECIAL_TOKENS)), 4),
            "loss_curve (step, loss, copy loss)": curve}
    _atomic_write(path / "training.json", json.dumps(info, indent=1).encode())


if __name__ == "__main__":
    import sys

    out = create_tiny_model(sys.argv[1] if len(sys.argv) > 1 else "tiny-llama")
    print(f"wrote {out}")
