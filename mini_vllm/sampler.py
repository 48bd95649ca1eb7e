"""Turn logits into tokens: penalties, temperature, min-p, top-k, top-p, seeded sampling, logprobs.

Upstream: {anchor}`vllm/v1/sample/sampler.py::Sampler`,
{anchor}`vllm/v1/sample/ops/penalties.py::apply_all_penalties`,
{anchor}`vllm/v1/sample/ops/topk_topp_sampler.py::apply_top_k_top_p_pytorch`,
{anchor}`vllm/v1/sample/ops/topk_topp_sampler.py::random_sample`.

The order is vLLM's: (grammar mask) -> penalties -> temperature -> min-p -> top-k -> top-p -> sample.
Log-probabilities are taken from the *raw* logits (vLLM's default `raw_logprobs` mode).

Sampling uses the exponential race `argmax(p / E)`, E ~ Exp(1): it picks token i with probability
exactly p_i (the "Gumbel-max" trick in disguise) and, unlike `torch.multinomial`, lets each row draw
its noise from its own seeded generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mini_vllm.sampling_params import SamplingParams

_EPS = 1e-5


@dataclass
class SamplingRow:
    """Everything needed to sample one position: the request's knobs and token history."""

    params: SamplingParams
    prompt_token_ids: list[int]
    output_token_ids: list[int]
    generator: torch.Generator | None = None
    # Boolean [vocab] mask of allowed tokens (structured output), or None for no constraint.
    allowed: torch.Tensor | None = None
    # Token ids that may not be sampled yet (EOS and stop ids while min_tokens is not reached).
    blocked: list[int] | None = None


def apply_penalties(logits: torch.Tensor, rows: list[SamplingRow]) -> torch.Tensor:
    """Repetition (prompt + output), frequency and presence (output only) penalties, in place."""
    vocab = logits.shape[1]
    for i, row in enumerate(rows):
        p = row.params
        if p.repetition_penalty == 1.0 and p.frequency_penalty == 0.0 and p.presence_penalty == 0.0:
            continue
        counts = torch.bincount(torch.tensor(row.output_token_ids, dtype=torch.long), minlength=vocab)
        counts = counts[:vocab].to(logits.dtype)
        if p.repetition_penalty != 1.0:
            seen = counts > 0
            seen[torch.tensor(row.prompt_token_ids, dtype=torch.long)] = True
            # Dividing a positive logit and multiplying a negative one both make the token less likely.
            penalised = torch.where(logits[i] > 0, logits[i] / p.repetition_penalty,
                                    logits[i] * p.repetition_penalty)
            logits[i] = torch.where(seen, penalised, logits[i])
        logits[i] -= p.frequency_penalty * counts + p.presence_penalty * (counts > 0).to(logits.dtype)
    return logits


def apply_min_p(logits: torch.Tensor, min_p: torch.Tensor) -> torch.Tensor:
    """Drop tokens whose probability is below min_p times the most likely token's."""
    probs = logits.softmax(-1)
    threshold = probs.amax(-1, keepdim=True) * min_p[:, None]
    return logits.masked_fill(probs < threshold, float("-inf"))


def apply_top_k_top_p(logits: torch.Tensor, k: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Top-k then top-p (over the top-k-renormalised distribution). k=vocab / p=1 disable them."""
    sorted_logits, order = logits.sort(dim=-1, descending=False)
    vocab = logits.shape[1]
    # Top-k: everything strictly below the k-th largest value goes (ties at the boundary stay).
    kth = sorted_logits.gather(1, (vocab - k).clamp(0, vocab - 1)[:, None].long())
    sorted_logits = sorted_logits.masked_fill(sorted_logits < kth, float("-inf"))
    # Top-p: drop the low tail whose total mass is <= 1 - p, but always keep the best token.
    cum = sorted_logits.softmax(-1).cumsum(-1)
    drop = cum <= (1 - p)[:, None]
    drop[:, -1] = False
    sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
    return torch.empty_like(logits).scatter_(1, order, sorted_logits)


def random_sample(probs: torch.Tensor, rows: list[SamplingRow],
                  default_generator: torch.Generator) -> torch.Tensor:
    """One draw per row via the exponential race; seeded rows use their own generator.

    Unseeded rows share the engine's generator, so their noise is drawn in one call; only seeded
    rows need a call each (their stream must not depend on who else is in the batch).
    """
    q = torch.empty_like(probs)
    shared = [i for i, row in enumerate(rows) if row.generator is None]
    if shared:
        q[shared] = torch.empty(len(shared), probs.shape[1]).exponential_(generator=default_generator)
    for i, row in enumerate(rows):
        if row.generator is not None:
            q[i].exponential_(generator=row.generator)
    return (probs / q).argmax(-1)


def _is_plain(row: SamplingRow) -> bool:
    """True when a row needs nothing but temperature (the common case: no masks, penalties, cuts)."""
    p = row.params
    return (row.allowed is None and not row.blocked and p.repetition_penalty == 1.0
            and p.frequency_penalty == 0.0 and p.presence_penalty == 0.0 and p.min_p == 0.0
            and p.top_k <= 0 and p.top_p >= 1.0)


class Sampler:
    """Stateless apart from the generator used by unseeded requests."""

    def __init__(self, seed: int = 0) -> None:
        self.generator = torch.Generator().manual_seed(seed)

    def process_logits(self, logits: torch.Tensor, rows: list[SamplingRow]) -> torch.Tensor:
        """Masks and penalties, then temperature/min-p/top-k/top-p; greedy rows stay unscaled."""
        temps = torch.tensor([r.params.temperature if r.params.temperature >= _EPS else 1.0
                              for r in rows])
        if all(_is_plain(r) for r in rows):  # fast path: one division for the whole batch
            return logits.float() / temps[:, None]
        logits = logits.float().clone()
        for i, row in enumerate(rows):
            if row.allowed is not None:
                logits[i].masked_fill_(~row.allowed, float("-inf"))
        # Blocked (row, token) pairs of the whole batch, set in one indexed write.
        blocked = [(i, t) for i, row in enumerate(rows) if row.blocked for t in row.blocked]
        if blocked:
            r_idx, t_idx = zip(*blocked)
            logits[list(r_idx), list(t_idx)] = float("-inf")
        logits = apply_penalties(logits, rows)
        logits = logits / temps[:, None]
        min_p = torch.tensor([r.params.min_p for r in rows])
        if (min_p > 0).any():
            logits = apply_min_p(logits, min_p)
        vocab = logits.shape[1]
        k = torch.tensor([r.params.top_k if r.params.top_k > 0 else vocab for r in rows])
        p = torch.tensor([r.params.top_p for r in rows])
        if (k < vocab).any() or (p < 1).any():
            logits = apply_top_k_top_p(logits, k, p)
        return logits

    def __call__(self, logits: torch.Tensor, rows: list[SamplingRow]
                 ) -> tuple[torch.Tensor, list[dict[int, float] | None]]:
        """Sample one token per row; also return the requested logprobs per row."""
        processed = self.process_logits(logits, rows)
        greedy = torch.tensor([r.params.temperature < _EPS for r in rows])
        tokens = processed.argmax(-1)
        if not greedy.all():
            sampled = random_sample(processed.softmax(-1), rows, self.generator)
            tokens = torch.where(greedy, tokens, sampled)
        return tokens, self.compute_logprobs(logits, tokens, rows)

    @staticmethod
    def compute_logprobs(logits: torch.Tensor, tokens: torch.Tensor,
                         rows: list[SamplingRow]) -> list[dict[int, float] | None]:
        """{token: logprob} with the sampled token plus the top `params.logprobs` tokens."""
        out: list[dict[int, float] | None] = []
        logprobs = None
        for i, row in enumerate(rows):
            n = row.params.logprobs
            if n is None:
                out.append(None)
                continue
            if logprobs is None:
                logprobs = logits.float().log_softmax(-1)
            top = logprobs[i].topk(n) if n > 0 else None
            entry = {int(tokens[i]): float(logprobs[i, tokens[i]])}
            if top is not None:
                entry.update({int(t): float(v) for v, t in zip(top.values, top.indices)})
            out.append(entry)
        return out
