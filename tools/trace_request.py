#!/usr/bin/env python3
"""Trace requests through vLLM: a thin entry point to `vmastery trace` (see vmastery/tracing/cli.py).

    python tools/trace_request.py                      # CPU mode when no GPU: simulated executor
    python tools/trace_request.py --mode gpu --model DIR --load-format dummy
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vmastery.tracing.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
