"""The symbol index: every definition in the pinned tree, by qualified name, from tree-sitter.

An anchor is `PATH::QUALNAME`, pytest-style: `vllm/v1/core/block_pool.py::BlockPool.get_new_blocks`.
Python qualified names join with `.` (classes, functions, methods, nested definitions alike);
C++/CUDA names join with `::` (namespaces, classes, structs, functions), as a C++ reader writes them.

Names defined more than once in one scope get a stable suffix, decided by rules a reader can apply
by eye (see `annotations/README.md`, "Anchors"):

- `@overload` stubs are `name[overload-1]`, `name[overload-2]`, … in source order; the
  implementation keeps the plain name.
- property setters and deleters are `name[setter]` and `name[deleter]`; the getter is plain.
- any other repeat (`if TYPE_CHECKING:` / `else:` twins, C++ overloads) is `name[2]`, `name[3]`, …
  in source order; the first keeps the plain name.

The fingerprint hashes a definition's code with comments dropped and white space folded, so it
changes when the code does and not when a comment or the indentation does.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import tree_sitter_cpp
import tree_sitter_cuda
import tree_sitter_python
from rich.progress import Progress
from tree_sitter import Language, Node, Parser, Query, QueryCursor

from .files import write_atomic

CHUNK = 64  # files a worker parses per task: small enough to balance the cores and move the bar
SCHEMA = 3  # bump when the records or the naming rules change: invalidates every cache

PY_QUERY = """
(function_definition name: (identifier) @name) @def
(class_definition name: (identifier) @name) @def
(comment) @comment
"""
CPP_QUERY = """
(function_definition declarator: (_) @decl) @def
(class_specifier name: (_) @name body: (field_declaration_list)) @def
(struct_specifier name: (_) @name body: (field_declaration_list)) @def
(namespace_definition name: (_) @name) @def
(comment) @comment
"""
_PARSED: dict[tuple[str, bytes], list["Symbol"]] = {}  # (path, sha1 of content) -> its symbols, per process
CPP_SUFFIXES = {".cpp", ".cc", ".cu", ".cuh", ".h", ".hpp", ".inl"}


@dataclass(frozen=True, slots=True)
class Symbol:
    """One definition in the tree."""

    path: str  # relative to the tree root, with forward slashes
    qualname: str
    kind: str  # class, function, method, struct, namespace
    line: int  # the line holding the name: what prose cites as `path:line`
    start: int  # first line, decorators and template headers included
    end: int  # last line
    fingerprint: str

    @property
    def anchor(self) -> str:
        return f"{self.path}::{self.qualname}"

    @property
    def name(self) -> str:
        return _last_name(self.qualname)


@cache
def _last_name(qualname: str) -> str:
    return re.split(r"\.|::", qualname)[-1]


@cache
def _grammar(suffix: str) -> tuple[Parser, Query]:
    if suffix == ".py":
        language = Language(tree_sitter_python.language())
        return Parser(language), Query(language, PY_QUERY)
    module = tree_sitter_cuda if suffix in {".cu", ".cuh"} else tree_sitter_cpp
    language = Language(module.language())
    return Parser(language), Query(language, CPP_QUERY)


def fingerprint(code: bytes) -> str:
    """Hash of code already stripped of comments, with all white space folded to single spaces."""
    return hashlib.blake2b(b" ".join(code.split()), digest_size=6).hexdigest()


def _strip(source: bytes, start: int, end: int, comments: list[tuple[int, int]]) -> bytes:
    pieces, cursor = [], start
    for c_start, c_end in comments:
        if c_end <= start or c_start >= end:
            continue
        pieces.append(source[cursor:c_start])
        cursor = c_end
    pieces.append(source[cursor:end])
    return b" ".join(pieces)


def _cpp_name(decl: Node) -> str | None:
    """The name a C++ function declarator declares, qualified as written (`Foo::bar`)."""
    node: Node | None = decl
    while node is not None and node.type != "function_declarator":
        node = node.child_by_field_name("declarator")
    if node is None:
        return None
    name = node.child_by_field_name("declarator")
    return name.text.decode("utf-8", "replace") if name is not None else None


def _python_suffix(outer: Node) -> str | None:
    """`[overload]`, `[setter]` or `[deleter]` from a definition's decorators, if any."""
    if outer.type != "decorated_definition":
        return None
    for child in outer.children:
        if child.type == "decorator":
            text = child.text.decode("utf-8", "replace").lstrip("@").strip()
            if text in {"overload", "typing.overload", "typing_extensions.overload"}:
                return "overload"
            if text.endswith((".setter", ".deleter")):
                return text.rsplit(".", 1)[1]
    return None


def parse_file(root: Path, relpath: str) -> list[Symbol]:
    """All symbols in one file, in source order, with qualified and disambiguated names."""
    source = (root / relpath).read_bytes()
    suffix = Path(relpath).suffix
    parser, query = _grammar(suffix)
    tree = parser.parse(source)
    is_py = suffix == ".py"
    joiner = "." if is_py else "::"

    comments: list[tuple[int, int]] = []
    found: list[tuple[Node, str]] = []
    for _, captures in QueryCursor(query).matches(tree.root_node):
        if "comment" in captures:
            node = captures["comment"][0]
            comments.append((node.start_byte, node.end_byte))
            continue
        node = captures["def"][0]
        if "name" in captures:
            name = captures["name"][0].text.decode("utf-8", "replace")
        else:
            name = _cpp_name(captures["decl"][0])
        if name:
            found.append((node, name))
    comments.sort()
    found.sort(key=lambda item: item[0].start_byte)

    stack: list[tuple[int, str, str]] = []  # (end_byte, qualname, kind) of enclosing definitions
    seen: Counter[str] = Counter()
    overloads: Counter[str] = Counter()
    symbols: list[Symbol] = []
    for node, name in found:
        while stack and stack[-1][0] <= node.start_byte:
            stack.pop()
        parent_qual, parent_kind = (stack[-1][1], stack[-1][2]) if stack else ("", "")
        outer = node
        while outer.parent is not None and outer.parent.type in {"decorated_definition", "template_declaration"}:
            outer = outer.parent
        kind = _kind(node.type, parent_kind)
        base = f"{parent_qual}{joiner}{name}" if parent_qual else name
        stack.append((node.end_byte, base, kind))  # children nest under the undecorated name

        suffix_tag = _python_suffix(outer) if is_py else None
        if suffix_tag == "overload":
            overloads[base] += 1
            qualname = f"{base}[overload-{overloads[base]}]"
        elif suffix_tag:
            qualname = f"{base}[{suffix_tag}]"
        else:
            seen[base] += 1
            qualname = base if seen[base] == 1 else f"{base}[{seen[base]}]"
        code = _strip(source, outer.start_byte, outer.end_byte, comments)
        symbols.append(Symbol(
            path=relpath, qualname=qualname, kind=kind,
            line=node.start_point[0] + 1 if is_py else _name_line(node),
            start=outer.start_point[0] + 1, end=node.end_point[0] + 1,
            fingerprint=fingerprint(code),
        ))
    return symbols


def _kind(node_type: str, parent_kind: str) -> str:
    if node_type == "function_definition":
        return "method" if parent_kind in {"class", "struct"} else "function"
    return {"class_definition": "class", "class_specifier": "class",
            "struct_specifier": "struct", "namespace_definition": "namespace"}[node_type]


def _name_line(node: Node) -> int:
    """For C++ the name may sit below a return type or template header: cite the declarator's line."""
    target = node.child_by_field_name("declarator") or node.child_by_field_name("name") or node
    return target.start_point[0] + 1


def source_files(root: Path) -> list[str]:
    """The files the index covers: `vllm/**/*.py` and the C++/CUDA/Python sources under `csrc/`."""
    files = [p for p in (root / "vllm").rglob("*.py")]
    files += [p for p in (root / "csrc").rglob("*") if p.suffix in CPP_SUFFIXES | {".py"}]
    return sorted(str(p.relative_to(root)).replace(os.sep, "/") for p in files if p.is_file())


class SymbolIndex:
    """All symbols of one tree, by anchor and by file; built once, then served from a cache."""

    def __init__(self, root: Path, by_file: dict[str, list[Symbol]]):
        self.root = root
        self.by_file = by_file
        self.by_anchor = {s.anchor: s for symbols in by_file.values() for s in symbols}

    def __len__(self) -> int:
        return len(self.by_anchor)

    def get(self, anchor: str) -> Symbol | None:
        return self.by_anchor.get(anchor)

    def has(self, anchor: str) -> bool:
        """Whether `anchor` names a symbol here, or (without `::`) a whole file."""
        return anchor in self.by_anchor if "::" in anchor else anchor in self.by_file

    def lines(self, path: str) -> list[str]:
        """The file's lines as text (1-based access: `lines(path)[n - 1]`)."""
        return _read_lines(self.root / path)

    def code(self, symbol: Symbol) -> str:
        return "\n".join(self.lines(symbol.path)[symbol.start - 1:symbol.end])

    @classmethod
    def build(cls, root: Path, cache_path: Path | None = None, progress: bool = True,
              workers: int | None = None) -> "SymbolIndex":
        """Index `root`, reusing cached per-file results whose size and mtime still match."""
        return cls.build_many([(root, cache_path)], progress, workers)[0]

    @classmethod
    def build_many(cls, trees: list[tuple[Path, Path | None]], progress: bool = True,
                   workers: int | None = None) -> list["SymbolIndex"]:
        """Index several trees (root, cache path) at once.

        Releases share most files byte for byte, so a file already parsed in another tree (same
        path, same content) is not parsed again; and the files no cache holds, from every tree, are
        parsed in one pool of workers, so ten releases cost one start-up and keep both cores busy.
        """
        loaded = [_Cached.load(root, cache_path) for root, cache_path in trees]
        digests = {(c.root, f): hashlib.sha1((c.root / f).read_bytes()).digest() for c in loaded for f in c.stale}
        todo = list({(f, digest): (root, f) for (root, f), digest in digests.items()
                     if (f, digest) not in _PARSED}.values())
        for (root, f), symbols in zip(todo, _parse_many(todo, progress, workers)):
            _PARSED[(f, digests[(root, f)])] = symbols
        indexes = []
        for c, (_, cache_path) in zip(loaded, trees):
            for f in c.stale:
                c.by_file[f] = _PARSED[(f, digests[(c.root, f)])]
            if c.stale and cache_path is not None:
                _write_cache(cache_path, c.root, c.by_file, c.stamps)
            indexes.append(cls(c.root, {f: c.by_file[f] for f in c.files}))
        return indexes


@dataclass(slots=True)
class _Cached:
    """One tree as its cache finds it: every file, their stamps, the symbols the cache still vouches
    for, and the stale files left to parse."""

    root: Path
    files: list[str]
    stamps: dict[str, list[int]]
    by_file: dict[str, list[Symbol]]
    stale: list[str]

    @classmethod
    def load(cls, root: Path, cache_path: Path | None) -> "_Cached":
        files = source_files(root)
        stamps = {f: _stamp(root / f) for f in files}
        cached: dict = {}
        if cache_path is not None and cache_path.exists():
            try:
                blob = json.loads(cache_path.read_bytes())
                if blob.get("schema") == SCHEMA and blob.get("root") == str(root.resolve()):
                    cached = blob["files"]
            except (ValueError, KeyError):
                cached = {}  # a damaged cache is only a slower start
        by_file: dict[str, list[Symbol]] = {}
        stale = []
        for f in files:
            entry = cached.get(f)
            if entry is not None and entry["stamp"] == stamps[f]:
                by_file[f] = [Symbol(f, *row) for row in entry["symbols"]]
            else:
                stale.append(f)
        return cls(root, files, stamps, by_file, stale)


def _parse_many(files: list[tuple[Path, str]], progress: bool, workers: int | None) -> list[list[Symbol]]:
    """Symbols of each (root, relative path), in order: in this process for a few files, else in a pool."""
    workers = workers or min(len(files) // 200 + 1, os.cpu_count() or 1)
    results: list[list[Symbol]] = []
    with Progress(transient=True, disable=not progress) as bar:
        task = bar.add_task("index symbols", total=len(files))
        if workers <= 1:
            for root, f in files:
                results.append(parse_file(root, f))
                bar.advance(task)
            return results
        chunks = [files[i:i + CHUNK] for i in range(0, len(files), CHUNK)]
        with ProcessPoolExecutor(workers) as pool:
            for part in pool.map(_parse_chunk, chunks):  # in order, each chunk as it is done
                results.extend(part)
                bar.advance(task, len(part))
    return results


def _parse_chunk(files: list[tuple[Path, str]]) -> list[list[Symbol]]:
    return [parse_file(root, f) for root, f in files]


def _stamp(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _write_cache(cache_path: Path, root: Path, by_file: dict[str, list[Symbol]], stamps: dict) -> None:
    blob = {
        "schema": SCHEMA, "root": str(root.resolve()),
        "files": {f: {"stamp": stamps[f], "symbols": [
            [s.qualname, s.kind, s.line, s.start, s.end, s.fingerprint] for s in syms]}
            for f, syms in by_file.items()},
    }
    write_atomic(cache_path, json.dumps(blob, separators=(",", ":")), durable=False)  # a cache: rebuilt if lost


@cache
def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def index_for(root: Path, progress: bool = True) -> SymbolIndex:
    """The index of the repository's pinned tree, `root/upstream`, cached under `root/.cache`."""
    from .errors import VmasteryError

    upstream = root / "upstream"
    if not (upstream / "vllm").is_dir():
        raise VmasteryError("upstream/ is missing.\n    fix: run `vmastery fetch` (see UPSTREAM_PIN.md)")
    return SymbolIndex.build(upstream, root / ".cache" / "symbols.json", progress=progress)
