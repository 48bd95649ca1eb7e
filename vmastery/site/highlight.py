"""Highlighting upstream files line by line, with names linked to their definitions.

Pygments lexes the pinned tree about five times slower than tree-sitter parses it, and the site has
~770,000 lines to colour, so source pages are coloured from the tree-sitter parse the symbol index
already relies on. Token classes reuse Pygments' short CSS names (`k`, `s`, `c1`, `nf`, ...), so the
theme's Pygments stylesheet colours our pages in light and dark mode alike.

Each file becomes a list of HTML lines (line n of the file is item n - 1, exactly as upstream counts
lines) plus the references it makes: `(line, anchor)` pairs, inverted later into "referenced by".
Names are resolved without running anything: definitions of the same file, `import`/`from ... import`
followed to upstream files (re-exports through `__init__.py` chased a few levels), `self.x`/`cls.x`
to the enclosing class's members, and `module.name` through an imported module.
"""
from __future__ import annotations

import html
import posixpath
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import tree_sitter_cpp
import tree_sitter_cuda
import tree_sitter_python
from tree_sitter import Language, Node, Parser, Query, QueryCursor

from ..symbols import Symbol, SymbolIndex

PY_KEYWORDS_SKIP = {"_", "__future__"}
PY_PATTERNS = """
(comment) @c1
(string) @s
[(integer) (float)] @m
[(none) (true) (false)] @kc
(function_definition name: (identifier) @nf)
(class_definition name: (identifier) @nc)
(keyword_argument name: (identifier) @kw)
(attribute object: (identifier) @obj attribute: (identifier) @attr)
(import_from_statement) @from
(import_statement) @import
(identifier) @n
"""
CPP_PATTERNS = """
(comment) @c1
[(string_literal) (raw_string_literal) (char_literal) (system_lib_string)] @s
(number_literal) @m
[(true) (false) (null) (this)] @kc
(primitive_type) @kt
(type_identifier) @nc
(preproc_include path: (string_literal) @include)
(function_declarator declarator: (identifier) @nf)
(function_declarator declarator: (field_identifier) @nf)
(function_declarator declarator: (qualified_identifier name: (identifier) @nf))
(namespace_definition name: (namespace_identifier) @nc)
(identifier) @n
"""
RANK = {"c1": 0, "s": 0, "include": 0, "nf": 1, "nc": 1, "kw": 1, "attr": 2, "m": 3, "kc": 3, "kt": 3,
        "k": 3, "cp": 3, "n": 9}  # which capture wins when two cover the same span


@cache
def _language(suffix: str) -> tuple[Parser, Query]:
    if suffix == ".py":
        module, patterns, skip = tree_sitter_python, PY_PATTERNS, PY_KEYWORDS_SKIP
    else:
        module = tree_sitter_cuda if suffix in {".cu", ".cuh"} else tree_sitter_cpp
        patterns, skip = CPP_PATTERNS, set()
    language = Language(module.language())
    # Keywords are the grammar's anonymous word tokens: read from the grammar, not listed by hand.
    words = sorted({kind for i in range(language.node_kind_count)
                    if not language.node_kind_is_named(i) and language.node_kind_is_visible(i)
                    and (kind := language.node_kind_for_id(i) or "").lstrip("#").replace("_", "a").isalpha()
                    and kind not in skip})
    plain = [w for w in words if not w.startswith("#")]
    directives = [w for w in words if w.startswith("#")]
    patterns += "[" + " ".join(f'"{w}"' for w in plain) + "] @k\n"
    if directives:
        patterns += "[" + " ".join(f'"{w}"' for w in directives) + "] @cp\n"
    return Parser(language), Query(language, patterns)


@dataclass(frozen=True, slots=True)
class Highlighted:
    """One file, coloured: HTML per line and the symbols it refers to."""

    lines: list[str]
    refs: list[tuple[int, str]]  # (line, anchor of a symbol defined elsewhere or in this file)


class Linker:
    """Resolves names in one tree to anchors; shared by every file of a build (memoises imports)."""

    def __init__(self, index: SymbolIndex):
        self.index = index
        self._imports: dict[str, dict[str, tuple[str, str | None]]] = {}

    def module_file(self, dotted: str) -> str | None:
        base = dotted.replace(".", "/")
        for candidate in (f"{base}.py", f"{base}/__init__.py"):
            if candidate in self.index.by_file:
                return candidate
        return None

    def imports(self, path: str, root: Node | None = None) -> dict[str, tuple[str, str | None]]:
        """Local name -> (upstream file, imported name or None for the module itself)."""
        if path in self._imports:
            return self._imports[path]
        if root is None:
            parser, _ = _language(".py")
            root = parser.parse((self.index.root / path).read_bytes()).root_node
        table: dict[str, tuple[str, str | None]] = {}
        stack = [root]
        while stack:  # import statements sit at module level or inside blocks; never inside expressions
            node = stack.pop()
            if node.type == "import_statement":
                self._import(path, node, table)
            elif node.type == "import_from_statement":
                self._from(path, node, table)
            elif node.type in {"module", "block", "if_statement", "try_statement", "else_clause", "elif_clause",
                               "except_clause", "finally_clause", "function_definition", "class_definition",
                               "decorated_definition", "with_statement"}:
                stack.extend(node.named_children)
        self._imports[path] = table
        return table

    def _import(self, path: str, node: Node, table: dict) -> None:
        for child in node.named_children:
            if child.type == "aliased_import":
                target = self.module_file(_text(child.child_by_field_name("name")))
                if target:
                    table[_text(child.child_by_field_name("alias"))] = (target, None)

    def _from(self, path: str, node: Node, table: dict) -> None:
        module_node = node.child_by_field_name("module_name")
        if module_node is None:
            return
        dotted = _module_dotted(path, module_node)
        source = self.module_file(dotted)
        for child in node.children_by_field_name("name"):
            if child.type == "aliased_import":
                name, alias = _text(child.child_by_field_name("name")), _text(child.child_by_field_name("alias"))
            else:
                name = alias = _text(child)
            submodule = self.module_file(f"{dotted}.{name}")
            if source and f"{source}::{name}" in self.index.by_anchor:
                table[alias] = (source, name)
            elif submodule:
                table[alias] = (submodule, None)
            elif source:
                table[alias] = (source, name)  # maybe a re-export: chased in resolve()

    def resolve(self, path: str, name: str, depth: int = 0) -> tuple[str, str | None] | None:
        """(file, qualname or None) that `name`, as imported in `path`, finally names."""
        entry = self.imports(path).get(name) if path.endswith(".py") else None
        if entry is None:
            return None
        target, imported = entry
        if imported is None or f"{target}::{imported}" in self.index.by_anchor:
            return entry
        if depth < 4:
            return self.resolve(target, imported, depth + 1)
        return None


def _text(node: Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None else ""


def highlight(index: SymbolIndex, linker: Linker, path: str, page_of) -> Highlighted:
    """Colour `path` and link its names. `page_of(path)` gives the site URL of a file, relative to `path`'s page."""
    source = (index.root / path).read_bytes()
    suffix = Path(path).suffix
    parser, query = _language(suffix)
    tree = parser.parse(source)
    is_py = suffix == ".py"
    symbols = index.by_file.get(path, [])
    # `name[2]`, `name[setter]`, `Vec<half, 2>`: the token in the code is the bare name
    defs_at = {(s.line, re.sub(r"\[[^\]]*\]$", "", s.name).split("<")[0]): s for s in symbols}
    top = {s.qualname: s for s in symbols if "." not in s.qualname and "::" not in s.qualname}
    by_name: dict[str, list[Symbol]] = {}
    for s in symbols:
        by_name.setdefault(s.name, []).append(s)
    classes = [s for s in symbols if s.kind in {"class", "struct"}]
    imports = linker.imports(path, tree.root_node) if is_py else {}

    spans: dict[tuple[int, int], tuple[str, Node]] = {}
    objects: dict[int, str] = {}  # start byte of an attribute name -> the object it is read from
    for _, match in QueryCursor(query).matches(tree.root_node):
        for kind, nodes in match.items():
            if kind in {"from", "import"}:
                module = nodes[0].child_by_field_name("module_name")
                if module is not None and module.named_children:
                    spans[(module.named_children[-1].start_byte, module.named_children[-1].end_byte)] = (
                        "module", module)
                continue
            if kind == "obj":
                objects[match["attr"][0].start_byte] = _text(nodes[0])
                continue
            node = nodes[0]
            key = (node.start_byte, node.end_byte)
            current = spans.get(key)
            if current is None or RANK.get(kind, 5) < RANK.get(current[0], 5):
                spans[key] = (kind, node)

    refs: list[tuple[int, str]] = []

    def link(kind: str, node: Node) -> tuple[str, str | None, str | None]:
        """(css class, href, id) for one token."""
        name = _text(node)
        line = node.start_point[0] + 1
        if kind in {"nf", "nc"}:
            symbol = defs_at.get((line, name))
            return kind, (f"#{symbol.qualname}" if symbol else None), (symbol.qualname if symbol else None)
        if kind == "module":
            target = linker.module_file(_module_dotted(path, node))
            return "nn", (page_of(target) if target else None), None
        if kind == "include":
            target = _include_target(index, path, name.strip('"'))
            return "s", (page_of(target) if target else None), None
        if kind not in {"n", "attr"}:
            return kind, None, None
        found: tuple[str, str | None] | None = None
        if kind == "attr":
            owner = objects.get(node.start_byte)
            if owner in {"self", "cls"}:
                klass = _enclosing(classes, line)
                if klass and f"{path}::{klass.qualname}.{name}" in index.by_anchor:
                    found = (path, f"{klass.qualname}.{name}")
            elif owner in imports and imports[owner][1] is None:
                module = imports[owner][0]
                if f"{module}::{name}" in index.by_anchor:
                    found = (module, name)
        elif is_py:
            if name in imports:
                found = linker.resolve(path, name)
            elif name in top:
                found = (path, name)
        elif len(by_name.get(name, [])) == 1 and by_name[name][0].kind in {"function", "method"}:
            found = (path, by_name[name][0].qualname)
        if found is None:
            return "", None, None
        target, qualname = found
        page = "" if target == path else page_of(target)
        if page is None:
            return "", None, None  # a file outside this build (see `vmastery site --only`)
        if qualname:
            refs.append((line, f"{target}::{qualname}"))
        return "", (page + (f"#{qualname}" if qualname else "")) or None, None

    lines: list[list[str]] = [[]]
    cursor = 0

    def emit(chunk: bytes, open_tag: str = "", close_tag: str = "") -> None:
        parts = chunk.split(b"\n")
        for number, part in enumerate(parts):
            if number:
                lines.append([])
            if part:
                text = html.escape(part.decode("utf-8", "replace").rstrip("\r") if number < len(parts) - 1
                                   else part.decode("utf-8", "replace"), quote=False)
                lines[-1].append(f"{open_tag}{text}{close_tag}" if open_tag else text)

    for (start, end), (kind, node) in sorted(spans.items()):
        if start < cursor:
            continue  # nested in a string or comment already emitted
        emit(source[cursor:start])
        css, href, ident = link(kind, node)
        if href or ident:
            attrs = (f' class="{css}"' if css else "") + (f' id="{html.escape(ident)}"' if ident else "")
            if ident:
                attrs += ' data-def=""'
            if href:
                attrs += f' href="{html.escape(href)}"'
            emit(source[start:end], f"<a{attrs}>", "</a>")
        elif css and css != "n":
            emit(source[start:end], f'<span class="{css}">', "</span>")
        else:
            emit(source[start:end])
        cursor = end
    emit(source[cursor:])
    if source.endswith(b"\n"):
        lines.pop()  # the newline ends the last line; it does not start another
    return Highlighted(["".join(parts) for parts in lines], refs)


def _enclosing(classes: list[Symbol], line: int) -> Symbol | None:
    inside = [c for c in classes if c.start <= line <= c.end]
    return max(inside, key=lambda c: c.start) if inside else None


def _module_dotted(path: str, module: Node) -> str:
    dotted = _text(module)
    if module.type != "relative_import":
        return dotted
    level = len(dotted) - len(dotted.lstrip("."))
    package = posixpath.dirname(path).split("/")
    package = package[:len(package) - (level - 1)] if level > 1 else package
    rest = dotted.lstrip(".")
    return ".".join(package + ([rest] if rest else []))


def _include_target(index: SymbolIndex, path: str, include: str) -> str | None:
    for candidate in (posixpath.normpath(posixpath.join(posixpath.dirname(path), include)), f"csrc/{include}"):
        if candidate in index.by_file:
            return candidate
    return None
