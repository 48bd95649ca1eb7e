"""N-gram (prompt-lookup) speculative decoding and the rejection sampler that keeps it exact.

Upstream: {anchor}`vllm/v1/spec_decode/ngram_proposer.py::NgramProposer`,
{anchor}`vllm/v1/spec_decode/ngram_proposer.py::_find_longest_matched_ngram_and_propose_tokens`,
{anchor}`vllm/v1/sample/rejection_sampler.py::RejectionSampler`,
{anchor}`vllm/v1/sample/rejection_sampler.py::rejection_sample`.

The proposer is free: it looks for the context's last n tokens earlier in the context and guesses
that what followed then follows now. The target model then scores all k guesses in one forward pass.

Why the output distribution is unchanged (Leviathan et al., 2023): the n-gram "draft model" is a
point mass q = 1 on its guess d. Accepting d with probability min(1, p(d)/q(d)) = p(d), and on
rejection sampling from norm(max(p - q, 0)) = p without d, gives
P(x = d) = p(d) and P(x = y != d) = (1 - p(d)) * p(y) / (1 - p(d)) = p(y). Greedy requests accept
exactly when the draft equals the argmax, so their tokens are identical to plain decoding.
"""

from __future__ import annotations

import torch


class NgramProposer:
    """Propose up to k tokens by matching the longest suffix n-gram (min_n <= n <= max_n)."""

    def __init__(self, num_speculative_tokens: int, prompt_lookup_min: int, prompt_lookup_max: int,
                 max_model_len: int) -> None:
        self.k = num_speculative_tokens
        self.min_n, self.max_n = prompt_lookup_min, prompt_lookup_max
        self.max_model_len = max_model_len

    def propose(self, token_ids: list[int]) -> list[int]:
        """Continuation of the most recent earlier occurrence of the longest matching suffix."""
        total = len(token_ids)
        k = min(self.k, self.max_model_len - total - 1)
        if k <= 0 or total < self.min_n + 1:
            return []
        for n in range(min(self.max_n, total - 1), self.min_n - 1, -1):
            suffix = token_ids[total - n:]
            # Scan right to left over earlier start positions: recent context predicts best.
            for start in range(total - n - 1, -1, -1):
                if token_ids[start:start + n] == suffix:
                    return token_ids[start + n:start + n + k]
        return []


def rejection_sample(target_probs: torch.Tensor, draft_token_ids: list[int], greedy: bool,
                     generator: torch.Generator | None = None) -> list[int]:
    """Verify k drafts against k+1 target distributions; returns 1..k+1 output tokens.

    `target_probs[j]` is the target's processed distribution at the position that predicts draft
    j (row k predicts the bonus token after all drafts). Stops at the first rejection.
    """
    k = len(draft_token_ids)
    assert target_probs.shape[0] == k + 1
    out: list[int] = []
    for j, draft in enumerate(draft_token_ids):
        p = target_probs[j]
        if greedy:
            best = int(p.argmax())
            out.append(best)
            if best != draft:
                return out
            continue
        u = torch.rand((), generator=generator)
        if u < p[draft]:
            out.append(draft)
            continue
        residual = p.clone()
        residual[draft] = 0.0
        if residual.sum() <= 0:  # p was a point mass on the draft: cannot reject in exact math
            out.append(draft)
            continue
        out.append(int(torch.multinomial(residual / residual.sum(), 1, generator=generator)))
        return out
    bonus = target_probs[k]
    out.append(int(bonus.argmax()) if greedy else
               int(torch.multinomial(bonus, 1, generator=generator)))
    return out
