"""Tracepoint declarations: `tracepoints/*.yaml` parsed into `Tracepoint`s, with file:line problems.

A tracepoint names one upstream symbol by its anchor (the same key annotations use), says how it is
recorded — `span` (an OpenTelemetry span per call, also visible in the VizTracer timeline) or `fine`
(VizTracer only: too hot for a span) — and which attributes it records. Attribute names come from a
fixed vocabulary (`ATTRIBUTES`), so a typo fails `vmastery check` instead of silently recording
nothing. `vmastery check` also resolves every anchor in the symbol index.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import Problem, rel

# What each attribute name records; the code that computes them is `vmastery/tracing/attributes.py`.
ATTRIBUTES: dict[str, str] = {
    "request_id": "the request's id",
    "prompt_tokens": "number of prompt tokens of the request",
    "max_tokens": "the request's max_tokens",
    "step": "per-process counter of EngineCore steps",
    "scheduled_tokens": "tokens scheduled in this step (all requests)",
    "batch": "batch composition: requests scheduled, new, resumed, prompt chunks (>1 token), decodes",
    "prefix_hit_tokens": "prompt tokens of newly scheduled requests already in the prefix cache",
    "kv_blocks": "KV blocks in use and total, after the call",
    "preempted": "requests preempted in this step",
    "request_ids": "ids of the scheduled requests (first 64)",
    "finished_requests": "requests that finished during the call",
    "num_outputs": "outputs returned by the call",
    "rank": "the worker's global rank",
    "sampled_tokens": "tokens sampled in this step (all requests)",
}

# How a span finds its parent or its related requests.
#  root: opens the request's root span and injects its context into trace_headers (front-end);
#  request: parent is the request's context from Request.trace_headers (EngineCore side);
#  scheduled: links to every scheduled request; its own context is attached to the SchedulerOutput;
#  step: parent is the scheduler span carried on the SchedulerOutput (workers in other processes).
Link = Literal["none", "root", "request", "scheduled", "step"]


class Tracepoint(BaseModel):
    """One declared tracepoint; `file`/`line` say where it was declared."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    anchor: str = Field(pattern=r"^[\w./-]+\.py::[\w.\[\]-]+$")
    level: Literal["span", "fine"]
    link: Link = "none"
    attributes: tuple[str, ...] = ()
    annotation: str | None = None
    why: str
    file: str = ""
    line: int = 0

    @property
    def module(self) -> str:
        """The importable module of the anchor: `vllm/v1/core/block_pool.py` -> `vllm.v1.core.block_pool`."""
        return self.anchor.split("::")[0].removesuffix(".py").replace("/", ".")

    @property
    def qualname(self) -> str:
        return self.anchor.split("::", 1)[1]


def site_link(site_base: str, anchor: str) -> str:
    """The annotated-source page of a symbol: `<base>/source/<path>.html#<qualname>`."""
    path, _, qualname = anchor.partition("::")
    return f"{site_base.rstrip('/')}/source/{path}.html#{qualname}"


def load(root: Path) -> tuple[list[Tracepoint], list[Problem]]:
    """Every tracepoint under `root/tracepoints/`, and every problem found, each with file:line."""
    points: list[Tracepoint] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in sorted((root / "tracepoints").glob("*.yaml")):
        where = rel(path, root)
        try:
            doc = yaml.compose(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            problems.append(Problem(where, mark.line + 1 if mark else 0, "tracepoint-yaml",
                                    f"not valid YAML: {getattr(error, 'problem', error)}",
                                    "fix the YAML syntax at this line"))
            continue
        items = _items(doc)
        if items is None:
            problems.append(Problem(where, 1, "tracepoint-shape", "expected a mapping with a "
                                    "`tracepoints:` list", "start the file with `tracepoints:` "
                                    "followed by `- anchor: ...` entries"))
            continue
        for node in items:
            line = node.start_mark.line + 1
            raw = yaml.safe_load(yaml.serialize(node))
            if not isinstance(raw, dict):
                problems.append(Problem(where, line, "tracepoint-shape", "an entry must be a mapping",
                                        "write `- anchor: ...` with level, why and attributes"))
                continue
            try:
                point = Tracepoint(**raw, file=where, line=line)
            except (ValidationError, TypeError) as error:
                problems.append(Problem(where, line, "tracepoint-invalid", _explain(error),
                                        "see tracepoints/README.md for the keys and their values"))
                continue
            found = [Problem(where, line, "tracepoint-attribute", f"unknown attribute {name!r}",
                             f"use one of: {', '.join(sorted(ATTRIBUTES))}")
                     for name in point.attributes if name not in ATTRIBUTES]
            if point.level == "fine" and (point.attributes or point.link != "none"):
                found.append(Problem(where, line, "tracepoint-fine", "a `fine` tracepoint records no "
                                     "attributes or links (VizTracer only sees the call)",
                                     "drop them, or make it `level: span`"))
            if point.anchor in seen:
                found.append(Problem(where, line, "tracepoint-duplicate",
                                     f"{point.anchor} is already declared at {seen[point.anchor]}",
                                     "keep one declaration per symbol"))
            if found:  # an entry with a problem is not traced: half a tracepoint misleads
                problems.extend(found)
                continue
            seen[point.anchor] = f"{where}:{line}"
            points.append(point)
    return points, problems


def _items(doc) -> list | None:
    if not isinstance(doc, yaml.MappingNode):
        return None
    for key, value in doc.value:
        if key.value == "tracepoints" and isinstance(value, yaml.SequenceNode):
            return value.value
    return None


def _explain(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in error.errors())
    return str(error)
