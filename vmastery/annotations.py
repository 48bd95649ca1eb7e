"""Sidecar notes and tours: reading `annotations/` into records, and the rules of where a note lives.

A note explains one symbol (`annotations/<path>/<qualname>.md`); a tour walks several
(`annotations/tours/<slug>.md`). Reading never drops anything silently: a file that cannot be
understood yields a `Problem` naming the file, the line and the fix, and the rest still loads.
See `annotations/README.md` for the format as contributors see it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import Problem
from .markdown import Directive, scan, split_front_matter

ANNOTATIONS = "annotations"
TOURS = "tours"
ORPHANS = "orphans"  # notes `vmastery reanchor` could not place; kept whole, outside the checked set
GUIDE = "README.md"
MIN_QUOTE = 8


class NoteMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")
    anchor: str = Field(min_length=3)
    fingerprint: str = Field(pattern=r"^[0-9a-f]{12}$")
    phase: int | None = Field(default=None, ge=0, le=19)
    tags: list[str] = Field(default_factory=list)
    title: str | None = None


class TourMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tour: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    phase: int | None = Field(default=None, ge=0, le=19)
    tags: list[str] = Field(default_factory=list)
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class LineNote:
    quote: str
    body: str
    line: int  # line of the ```{line} fence in the note file


@dataclass(frozen=True, slots=True)
class Note:
    file: str  # repository-relative path of the note
    meta: NoteMeta
    body: str  # Markdown after the front matter (line notes included, as written)
    body_line: int
    line_notes: list[LineNote] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return self.meta.anchor


@dataclass(frozen=True, slots=True)
class TourStep:
    anchor: str
    caption: str
    line: int


@dataclass(frozen=True, slots=True)
class Tour:
    file: str
    meta: TourMeta
    body: str
    body_line: int
    steps: list[TourStep] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return self.meta.tour


@dataclass(slots=True)
class Corpus:
    notes: list[Note] = field(default_factory=list)
    tours: list[Tour] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)

    def note_for(self, anchor: str) -> Note | None:
        return next((n for n in self.notes if n.anchor == anchor), None)


def note_path(anchor: str) -> str:
    """Where the note of `anchor` must live, relative to the repository root."""
    path, _, qualname = anchor.partition("::")
    return f"{ANNOTATIONS}/{path}/{qualname.replace('::', '..')}.md"


PLACEHOLDER = "What is this symbol for, and why is it shaped this way? Say what the code cannot."


def note_template(anchor: str, fingerprint: str, phase: int | None = None) -> str:
    """The text `vmastery annotate` writes for a new note."""
    phase_line = f"phase: {phase}\n" if phase is not None else ""
    return (f"---\nanchor: {anchor}\nfingerprint: {fingerprint}\n{phase_line}tags: []\n---\n"
            f"{PLACEHOLDER}\n")


def load(root: Path) -> Corpus:
    """Every note and tour under `root/annotations`, with the problems met on the way."""
    corpus = Corpus()
    base = root / ANNOTATIONS
    for path in sorted(base.rglob("*.md")):
        rel = path.relative_to(root).as_posix()
        if path.parent == base and path.name == GUIDE:
            continue
        if (base / ORPHANS) in path.parents:
            corpus.orphans.append(rel)
            continue
        if path.parent == base / TOURS:
            tour = _parse(root, rel, TourMeta, corpus.problems)
            if tour is not None:
                corpus.tours.append(tour)
        else:
            note = _parse(root, rel, NoteMeta, corpus.problems)
            if note is not None:
                corpus.notes.append(note)
    return corpus


def _parse(root: Path, rel: str, model: type[BaseModel], problems: list[Problem]):
    try:
        text = (root / rel).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        problems.append(Problem(rel, 0, "not-utf8", f"file is not UTF-8 ({error.reason})", "save it as UTF-8"))
        return None
    return parse_text(rel, text, model, problems)


def is_tour_path(rel: str) -> bool:
    return rel.startswith(f"{ANNOTATIONS}/{TOURS}/")


def parse_text(rel: str, text: str, model: type[BaseModel], problems: list[Problem]):
    """A note (model=NoteMeta) or tour (TourMeta) from its text; None, with problems, if unreadable."""
    front, body, body_line = split_front_matter(text)
    if front is None:
        problems.append(Problem(rel, 1, "front-matter-missing", "no front matter",
                                "open the file with a '---' line, the YAML keys, and a closing '---' line"))
        return None
    try:
        # Every scalar stays a string (a hex fingerprint like 000123456789 must not become a number);
        # pydantic then converts the few typed keys, such as `phase`.
        data = yaml.load(front, Loader=yaml.BaseLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problems.append(Problem(rel, line, "front-matter-yaml", f"front matter is not valid YAML: {error}",
                                "fix the YAML syntax (quote values containing ':' or '#')"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(rel, 2, "front-matter-yaml", "front matter must be a mapping of keys",
                                "write one 'key: value' per line"))
        return None
    try:
        meta = model.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            key = str(item["loc"][0]) if item["loc"] else ""
            line = _key_line(front, key)
            if item["type"] == "extra_forbidden":
                allowed = ", ".join(model.model_fields)
                problems.append(Problem(rel, line, "front-matter-key", f"unknown key '{key}'",
                                        f"remove it; the keys are: {allowed}"))
            else:
                problems.append(Problem(rel, line, "front-matter-value", f"'{key}': {item['msg']}",
                                        "see annotations/README.md for each key's type"))
        return None
    found = scan(body, body_line)
    if model is NoteMeta:
        return Note(rel, meta, body, body_line, _line_notes(rel, found.directives, problems))
    return Tour(rel, meta, body, body_line, _steps(rel, found.directives, problems))


def _key_line(front: str, key: str) -> int:
    for number, line in enumerate(front.splitlines(), start=2):
        if line.split(":", 1)[0].strip() == key:
            return number
    return 1


def _line_notes(rel: str, directives: list[Directive], problems: list[Problem]) -> list[LineNote]:
    notes = []
    for d in directives:
        if d.name != "line":
            continue
        if len(d.argument) < MIN_QUOTE:
            problems.append(Problem(rel, d.line, "line-quote-short",
                                    f"line-note quote {d.argument!r} is shorter than {MIN_QUOTE} characters",
                                    "quote more of the line, so it identifies one line unambiguously"))
            continue
        if not d.body.strip():
            problems.append(Problem(rel, d.line, "line-note-empty", "line note has no text",
                                    "write the explanation inside the {line} block"))
            continue
        notes.append(LineNote(d.argument, d.body, d.line))
    return notes


def _steps(rel: str, directives: list[Directive], problems: list[Problem]) -> list[TourStep]:
    steps = [TourStep(d.argument, d.body, d.line) for d in directives if d.name == "step"]
    if not steps:
        problems.append(Problem(rel, 1, "tour-empty", "tour has no ```{step} blocks",
                                "add one ```{step} ANCHOR block per stop of the walk"))
    return steps
