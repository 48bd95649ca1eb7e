"""The vLLM plugin: `register()` is called by `load_general_plugins()` in every vLLM process.

It does nothing unless `VMASTERY_TRACE` names an output directory (set by `vmastery trace`), so an
installed-but-idle project costs vLLM one environment lookup. When on, it wraps the `span`-level
tracepoints of `tracepoints/*.yaml` in place — modules already imported now, the others the moment
they are imported — without touching upstream files, and starts VizTracer when the level is `fine`.
A tracepoint whose symbol is missing in the running vLLM is reported once and skipped; nothing here
may raise into vLLM.
"""
from __future__ import annotations

import functools
import importlib.abc
import inspect
import logging
import os
import sys
from pathlib import Path
from time import perf_counter_ns

from . import process
from .attributes import EXTRACTORS
from .spec import Tracepoint, load, site_link

logger = logging.getLogger("vmastery.tracing")
MARK = "__vmastery_tracepoint__"
# In CPU mode the simulated executor stands where the GPU model runner stands; its span keeps the
# real anchor (so the timeline reads the same) and carries vmastery.simulated=true.
STAND_INS = {"vllm/v1/worker/gpu_model_runner.py::GPUModelRunner.execute_model":
             ("vmastery.tracing.simulated", "SimulatedWorker.execute_model")}
STEP_LOOPS = ("EngineCore.step", "EngineCore.step_with_batch_queue")  # counted as engine steps
_installed = False


def register() -> None:
    """vLLM's plugin entry point; cheap and silent when tracing is off."""
    out = os.environ.get(process.ENV_DIR)
    if not out or _installed:
        return
    try:
        _install(Path(out))
    except Exception:
        logger.warning("vmastery tracing could not start; vLLM runs untraced", exc_info=True)


def _install(out: Path) -> None:
    global _installed
    _installed = True
    level = os.environ.get(process.ENV_LEVEL, "span")
    process.configure(out, level, os.environ.get(process.ENV_SITE, process.DEFAULT_SITE),
                      os.environ.get(process.ENV_OTLP) or None)
    root = Path(os.environ.get("VMASTERY_ROOT", Path(__file__).resolve().parents[2]))
    points, problems = load(root)
    for problem in problems:
        logger.warning("tracepoint skipped: %s", problem.render())
    targets: dict[str, list[tuple[str, Tracepoint, bool]]] = {}
    for point in points:
        if point.level != "span":
            continue  # `fine` tracepoints are VizTracer's: anchored when the trace is merged
        targets.setdefault(point.module, []).append((point.qualname, point, False))
        if point.anchor in STAND_INS:
            module, qualname = STAND_INS[point.anchor]
            targets.setdefault(module, []).append((qualname, point, True))
    for module_name in list(targets):
        if module_name in sys.modules:
            _patch_module(sys.modules[module_name], targets.pop(module_name))
    if targets:
        sys.meta_path.insert(0, _PatchOnImport(targets))


def _patch_module(module, entries) -> None:
    for qualname, point, simulated in entries:
        owner_name, _, attr = qualname.rpartition(".")
        owner = module
        for part in filter(None, owner_name.split(".")):
            owner = getattr(owner, part, None)
        original = getattr(owner, attr, None) if owner is not None else None
        if original is None:
            if not simulated:
                logger.warning("tracepoint %s (%s:%d): symbol not found in the running vLLM; "
                               "skipped", point.anchor, point.file, point.line)
            continue
        if getattr(original, MARK, None) is not None:
            continue  # already wrapped (a module reloaded, a second register)
        setattr(owner, attr, _wrap(original, point, simulated))
    if module.__name__ == "vllm.v1.engine.core" and hasattr(module, "EngineCore"):
        setattr(module.EngineCore, UTILITY, _engine_utility)


UTILITY = "vmastery_tracing"  # an EngineCore method the front-end reaches through vLLM's call_utility


def _engine_utility(self, level: str | None = None, flush: bool = False, auto_flush: bool | None = None) -> dict:
    """Tracing control inside an EngineCore process, called from the front-end (see `control`)."""
    return _control_here(level, flush, auto_flush)


def _control_here(level, flush, auto_flush) -> dict:
    if auto_flush is not None:
        process.AUTO_FLUSH = auto_flush
    if level is not None:
        process.set_level(level)
    state = process.current()
    if flush:
        state.flush("requested")
    return {"process": state.role, "cost_ns": state.cost_ns, "traced_calls": state.traced_calls}


def control(llm_engine, level: str | None = None, flush: bool = False, auto_flush: bool | None = None) -> list[dict]:
    """Switch level, flush or read tracing's own cost in this process and in EngineCore's.

    With EngineCore in its own process (vLLM's default), the request goes through vLLM's own
    utility-call channel, so one call from the front-end reaches both. Workers of a multi-GPU
    executor are not reached: their level is the one they started with.
    """
    remote = getattr(llm_engine.engine_core, "call_utility", None)  # None: EngineCore is in this process
    here = _control_here(level, flush, auto_flush)
    return [here] if remote is None else [here, remote(UTILITY, level, flush, auto_flush)]


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Wraps tracepoints of a module right after it is first imported, so none is imported early."""

    def __init__(self, targets: dict) -> None:
        self.targets = targets

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.targets:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, self.targets.pop(fullname))
                return spec
        return None


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, inner, entries) -> None:
        self.inner, self.entries = inner, entries

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module) -> None:
        self.inner.exec_module(module)
        try:
            _patch_module(module, self.entries)
        except Exception:
            logger.warning("vmastery tracing: could not patch %s", module.__name__, exc_info=True)


def _wrap(original, point: Tracepoint, simulated: bool):
    """A wrapper that records one span per call; the traced call itself is never altered.

    It also clocks itself: the time spent opening and closing spans (not the traced call) adds up
    per tracepoint in `ProcessState.costs`, which the summary reports as tracing's own cost.
    """
    from . import linkage
    from .lean import CURRENT

    names = [p for p in inspect.signature(original).parameters][1:]  # drop `self`
    positions = {name: i for i, name in enumerate(names)}
    extractors = [EXTRACTORS[name] for name in point.attributes]
    fixed = {"vmastery.anchor": point.anchor, "vmastery.level": point.level}
    if simulated:
        fixed["vmastery.simulated"] = True
    span_name = point.qualname
    after = linkage.AFTER.get(point.anchor)
    counts_steps = point.qualname in STEP_LOOPS
    anchor = point.anchor
    link = point.link

    def begin(obj, args, kwargs):
        """(state, span, token, args, kwargs, ns spent) for a traced call; None keeps tracing out."""
        t0 = perf_counter_ns()
        try:
            state = process.current()
            parent = linkage.parent_context(link, state, obj, names, args, kwargs) if link else None
            if link == "root":  # the request's root span points at the entry point that opened it
                state.pending_root.set_attributes({"vmastery.anchor": point.anchor,
                                                   "vmastery.link": site_link(state.site_base, point.anchor)})
            span = state.tracer.start_span(span_name, parent, fixed)
            if "vmastery.link" not in fixed:
                fixed["vmastery.link"] = site_link(state.site_base, point.anchor)
                span.set_attribute("vmastery.link", fixed["vmastery.link"])
            if link == "root":
                args, kwargs = linkage.open_root(state, span, names, args, kwargs)
            return state, span, CURRENT.set(span), args, kwargs, perf_counter_ns() - t0
        except Exception:
            return None

    def finish(opened, obj, result) -> None:
        """Close the span of a call that returned, and add what tracing it cost to the tally."""
        t2 = perf_counter_ns()
        state, span, token, args, kwargs, spent = opened
        flushed = state.flush_ns  # a flush in an after-hook is counted apart (ProcessState.flush_ns)
        try:
            CURRENT.reset(token)

            def get(name):
                if name in kwargs:
                    return kwargs[name]
                i = positions.get(name, -1)
                return args[i] if 0 <= i < len(args) else None

            if counts_steps:
                state.steps += 1
                span.set_attribute("vllm.step", state.steps)
            attributes = span.attributes
            for extract in extractors:
                attributes.update(extract(obj, get, result))
            if link == "scheduled":
                linkage.link_scheduled(state, span, obj, result)
            span.end()
            if after is not None:
                after(state, span, obj, get, result)
        except Exception as error:  # tracing bugs are reported once, never raised into vLLM
            _warn_once(error)
        tally = state.costs[anchor]
        tally[0] += spent + perf_counter_ns() - t2 - (state.flush_ns - flushed)
        tally[1] += 1

    def failed(opened, error: BaseException) -> None:
        try:
            CURRENT.reset(opened[2])
            opened[1].record_exception(error)
            opened[1].end()
        except Exception:
            pass

    if inspect.iscoroutinefunction(original):
        @functools.wraps(original)
        async def traced(self, *args, **kwargs):
            opened = begin(self, args, kwargs) if process.ENABLED else None
            if opened is None:
                return await original(self, *args, **kwargs)
            try:
                result = await original(self, *opened[3], **opened[4])
            except BaseException as error:
                failed(opened, error)
                raise
            finish(opened, self, result)
            return result
    else:
        @functools.wraps(original)
        def traced(self, *args, **kwargs):
            opened = begin(self, args, kwargs) if process.ENABLED else None
            if opened is None:
                return original(self, *args, **kwargs)
            try:
                result = original(self, *opened[3], **opened[4])
            except BaseException as error:
                failed(opened, error)
                raise
            finish(opened, self, result)
            return result

    setattr(traced, MARK, point.anchor)
    return traced


_warned: set[str] = set()


def _warn_once(error: Exception) -> None:
    key = f"{type(error).__name__}:{error}"
    if key not in _warned:
        _warned.add(key)
        logger.warning("vmastery tracing: %s", key, exc_info=error)
