"""`vmastery check`'s engine: every way the repository can point at upstream code, validated at once.

The checks run over the whole repository, not over a list someone must keep: every Markdown page,
every note and tour, every docstring of `mini_vllm/`, `labs/` and `tools/`, and every tracepoint.
Problems come back as data (`Problem`), so tests assert on codes and the CLI decides the exit status.
"""
from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import annotations
from .anchors import AnchorError, find_quote, resolve
from .errors import Problem
from .markdown import scan, split_front_matter
from .pasted import UpstreamWindows
from .symbols import SymbolIndex

SKIP_DIRS = {"upstream", ".venv", ".cache", "_build", ".git", "node_modules", "test-artifacts", "tests",
             "__pycache__", ".whl", ".pytest_cache"}
PYTHON_DIRS = ("mini_vllm", "labs", "tools", "tracepoints")
PY_ROLE = re.compile(r"\{anchor\}`([^`]+)`")
PY_PASTE_WINDOW = 6  # Python of our own shares idioms with vLLM; demand a longer run as evidence


@dataclass(slots=True)
class Report:
    problems: list[Problem] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]


def walk(root: Path, suffix: str, under: tuple[str, ...] | None = None) -> list[Path]:
    """Files of the repository with `suffix`, skipping generated, vendored and test-fixture folders."""
    found = []
    tops = [root / u for u in under] if under else [root]
    for top in tops:
        if not top.exists():
            continue
        for path in top.rglob(f"*{suffix}"):
            parts = path.relative_to(root).parts
            if not any(part in SKIP_DIRS or part.startswith(".upstream-") for part in parts[:-1]):
                found.append(path)
    return sorted(found)


def run_checks(root: Path, index: SymbolIndex, strict: bool = False) -> Report:
    report = Report()
    windows = UpstreamWindows(index, root / ".cache")
    corpus = annotations.load(root)
    report.problems += corpus.problems
    report.counts["orphaned notes kept"] += len(corpus.orphans)
    _check_notes(index, corpus, report)
    _check_tours(index, corpus, report)
    for path in walk(root, ".md"):
        if (root / annotations.ANNOTATIONS / annotations.ORPHANS) in path.parents:
            continue
        _check_markdown(root, path, index, windows, report)
    for path in walk(root, ".py", PYTHON_DIRS):
        _check_python(root, path, index, windows, report)
    _check_tracepoints(root, index, corpus, report)
    _check_labs(root, report)
    if strict:
        report.problems = [_as_error(p) for p in report.problems]
    return report


def _as_error(problem: Problem) -> Problem:
    if problem.severity == "error":
        return problem
    return Problem(problem.path, problem.line, problem.code, problem.message, problem.fix, "error")


def _anchor_problem(path: str, line: int, anchor: str, error: AnchorError) -> Problem:
    return Problem(path, line, "anchor-unresolved", str(error),
                   "correct the anchor (`vmastery index --find NAME` lists real ones)")


def _check_notes(index: SymbolIndex, corpus: annotations.Corpus, report: Report) -> None:
    seen: dict[str, str] = {}
    for note in corpus.notes:
        report.counts["notes"] += 1
        if note.anchor in seen:
            report.problems.append(Problem(note.file, 2, "duplicate-note",
                                           f"{note.anchor} is already annotated in {seen[note.anchor]}",
                                           "merge the two notes into the one at the anchor's path"))
            continue
        seen[note.anchor] = note.file
        if annotations.PLACEHOLDER in note.body or not note.body.strip():
            report.problems.append(Problem(note.file, note.body_line, "note-unwritten",
                                           "the note has no commentary yet (still the template)",
                                           "write the note, or delete the file"))
        expected = annotations.note_path(note.anchor)
        if note.file != expected:
            report.problems.append(Problem(note.file, 2, "note-path",
                                           f"the note of {note.anchor} must live at {expected}",
                                           f"git mv {note.file} {expected}"))
        try:
            target = resolve(index, note.anchor)
        except AnchorError as error:
            report.problems.append(_anchor_problem(note.file, 2, note.anchor, error))
            continue
        if target.symbol is None:
            report.problems.append(Problem(note.file, 2, "note-on-file", "a note must name a symbol, not a file",
                                           "add ::QUALNAME to the anchor"))
            continue
        if note.meta.fingerprint != target.symbol.fingerprint:
            report.problems.append(Problem(
                note.file, 3, "drift",
                f"{note.anchor} changed since this note was written "
                f"(fingerprint {note.meta.fingerprint}, code now {target.symbol.fingerprint})",
                "re-read the code, update the note, then set fingerprint: " + target.symbol.fingerprint,
                severity="warning"))
        for line_note in note.line_notes:
            report.counts["line notes"] += 1
            try:
                find_quote(index, target.symbol, line_note.quote)
            except AnchorError as error:
                report.problems.append(Problem(note.file, line_note.line, "line-quote", str(error),
                                               "copy the quote from exactly one line of the symbol"))


def _check_tours(index: SymbolIndex, corpus: annotations.Corpus, report: Report) -> None:
    slugs: dict[str, str] = {}
    for tour in corpus.tours:
        report.counts["tours"] += 1
        if tour.slug in slugs:
            report.problems.append(Problem(tour.file, 2, "duplicate-tour",
                                           f"tour '{tour.slug}' is already defined in {slugs[tour.slug]}",
                                           "give this tour another slug"))
        slugs.setdefault(tour.slug, tour.file)
        if Path(tour.file).stem != tour.slug:
            report.problems.append(Problem(tour.file, 2, "tour-path",
                                           f"tour '{tour.slug}' must live in annotations/tours/{tour.slug}.md",
                                           "rename the file or the slug so they agree"))
        report.counts["tour steps"] += len(tour.steps)


def check_note_text(root: Path, index: SymbolIndex, rel: str, text: str) -> list[Problem]:
    """Every problem `check` would report for one note or tour if `text` were saved at `rel`."""
    report = Report()
    corpus = annotations.Corpus()
    model = annotations.TourMeta if annotations.is_tour_path(rel) else annotations.NoteMeta
    record = annotations.parse_text(rel, text, model, corpus.problems)
    if record is not None:
        (corpus.tours if model is annotations.TourMeta else corpus.notes).append(record)
    report.problems += corpus.problems
    _check_notes(index, corpus, report)
    _check_tours(index, corpus, report)
    _check_markdown_text(rel, text, index, UpstreamWindows(index, root / ".cache"), report)
    return report.problems


def _check_markdown(root: Path, path: Path, index: SymbolIndex, windows: UpstreamWindows,
                    report: Report) -> None:
    rel = path.relative_to(root).as_posix()
    _check_markdown_text(rel, path.read_text(encoding="utf-8", errors="replace"), index, windows, report)


def _check_markdown_text(rel: str, text: str, index: SymbolIndex, windows: UpstreamWindows,
                         report: Report) -> None:
    report.counts["markdown pages"] += 1
    _, body, body_line = split_front_matter(text)
    found = scan(body, body_line)
    for role in found.roles:
        if role.name != "anchor":
            continue
        report.counts["references"] += 1
        try:
            resolve(index, role.target)
        except AnchorError as error:
            report.problems.append(_anchor_problem(rel, role.line, role.target, error))
    for directive in found.directives:
        if directive.name not in {"upstream", "step"}:
            continue
        report.counts["references"] += 1
        try:
            target = resolve(index, directive.argument)
        except AnchorError as error:
            report.problems.append(_anchor_problem(rel, directive.line, directive.argument, error))
            continue
        for option in ("from", "to"):
            quote = directive.options.get(option)
            if quote is None:
                continue
            if target.symbol is None:
                report.problems.append(Problem(rel, directive.line, "quote-on-file",
                                               f":{option}: needs a symbol anchor, not a whole file",
                                               "add ::QUALNAME to the anchor"))
                continue
            try:
                find_quote(index, target.symbol, quote)
            except AnchorError as error:
                report.problems.append(Problem(rel, directive.line, "line-quote", str(error),
                                               f"copy the :{option}: quote from exactly one line of the symbol"))
    for line, snippet in found.html:
        report.problems.append(Problem(rel, line, "raw-html", f"raw HTML is not allowed: {snippet!r}",
                                       "use Markdown instead; to show a tag, put it in `backticks`"))
    for block in found.code_blocks:
        hit = windows.find(block.content)
        if hit is not None:
            report.problems.append(Problem(
                rel, block.line + 1 + hit[0], "pasted-upstream",
                f"this code block repeats lines of upstream {hit[1]} verbatim",
                "replace the block with ```{upstream} ANCHOR (add :from:/:to: quotes to narrow it)"))


def _check_python(root: Path, path: Path, index: SymbolIndex, windows: UpstreamWindows,
                  report: Report) -> None:
    rel = path.relative_to(root).as_posix()
    text = path.read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        for match in PY_ROLE.finditer(line):
            report.counts["references"] += 1
            anchor = match.group(1).rsplit("<", 1)[-1].rstrip(">").strip()
            try:
                resolve(index, anchor)
            except AnchorError as error:
                report.problems.append(_anchor_problem(rel, number, anchor, error))
    if rel.startswith("mini_vllm/") and not rel.startswith("mini_vllm/tests/") \
            and path.name != "__init__.py" and path.name != "__main__.py":
        try:
            docstring = ast.get_docstring(ast.parse(text)) or ""
        except SyntaxError as error:
            report.problems.append(Problem(rel, error.lineno or 0, "python-syntax", str(error.msg),
                                           "fix the syntax error"))
            return
        if not PY_ROLE.search(docstring):
            report.problems.append(Problem(rel, 1, "missing-upstream-citation",
                                           "this mini_vllm module does not cite its upstream counterpart",
                                           "add a line like 'Upstream: {anchor}`vllm/...::Name`' to its docstring"))
    hit = windows.find(text, PY_PASTE_WINDOW)
    if hit is not None:
        report.problems.append(Problem(rel, hit[0] + 1, "pasted-upstream",
                                       f"{PY_PASTE_WINDOW} lines here repeat upstream {hit[1]} verbatim",
                                       "write the code in your own words, or cite it by anchor"))


def _check_tracepoints(root: Path, index: SymbolIndex, corpus: annotations.Corpus, report: Report) -> None:
    try:
        from .tracing import spec
    except ImportError:
        return
    tracepoints, problems = spec.load(root)
    report.problems += problems
    for tracepoint in tracepoints:
        report.counts["tracepoints"] += 1
        try:
            resolve(index, tracepoint.anchor)
        except AnchorError as error:
            report.problems.append(_anchor_problem(tracepoint.file, tracepoint.line, tracepoint.anchor, error))
        if tracepoint.annotation and corpus.note_for(tracepoint.annotation) is None:
            report.problems.append(Problem(tracepoint.file, tracepoint.line, "tracepoint-annotation",
                                           f"no note annotates {tracepoint.annotation}",
                                           f"write {annotations.note_path(tracepoint.annotation)} or drop the key"))


def _check_labs(root: Path, report: Report) -> None:
    try:
        from . import labs
    except ImportError:
        return
    problems, count = labs.check(root)
    report.problems += problems
    report.counts["labs"] += count
