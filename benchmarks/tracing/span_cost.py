"""Cost of one traced call at the span level, on this machine: our wrapper vs a bare OTel span.

    python benchmarks/tracing/span_cost.py

Explains the H200 overhead figures: per step the span level opens a handful of spans, and per
request a root span plus the EngineCore request span with W3C context injection/extraction.
"""
from __future__ import annotations

import os
import tempfile
import timeit
from pathlib import Path

os.environ["VMASTERY_TRACE"] = tempfile.mkdtemp()

from vmastery.tracing import plugin, process  # noqa: E402
from vmastery.tracing.spec import Tracepoint  # noqa: E402


class Engine:
    def step(self, x: int = 1) -> int:
        return x


def main(n: int = 20_000) -> None:
    process.configure(Path(os.environ["VMASTERY_TRACE"]), "span", "https://example.org", None)
    process.AUTO_FLUSH = False
    point = Tracepoint.model_construct(anchor="vllm/x.py::Engine.step", file="bench.yaml", line=1,
                                       level="span", attributes=[], link=None, annotation=None, why="")
    Engine.traced = plugin._wrap(Engine.step, point, False)
    engine, lean = Engine(), process.current().tracer
    sdk = process.current().provider.get_tracer("bench")
    process.set_level("span")
    traced = timeit.timeit(engine.traced, number=n) / n
    plain = timeit.timeit(engine.step, number=n) / n
    lean_span = timeit.timeit(lambda: lean.start_span("x").end(), number=n) / n
    sdk_span = timeit.timeit(lambda: sdk.start_span("x").end(), number=n) / n
    print(f"traced call {traced * 1e6:.1f} us; untraced {plain * 1e6:.2f} us; lean span {lean_span * 1e6:.1f} us; "
          f"SDK span {sdk_span * 1e6:.1f} us ({n} calls each, load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
