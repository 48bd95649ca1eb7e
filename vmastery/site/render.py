"""HTML of the generated pages: a source file with its notes beside the code, and directory listings.

Layout, in plain HTML and CSS so the largest file paints before any script runs: the file is cut
into segments, one starting at each annotated symbol and each line-note line; a segment is a grid row
with the code on the left and its notes on the right (wide screens) or above it (narrow screens).
Line numbers are CSS counters, so copying code never copies them, and every line has an `L<n>` id.
Symbol ids are the qualified names, on the name in the definition: `…/block_pool.py.html#BlockPool`.
"""
from __future__ import annotations

import html
import json
import posixpath
from collections import defaultdict

from docutils import nodes
from sphinx.application import Sphinx

from ..symbols import Symbol, SymbolIndex
from . import drift, safety
from .links import attribution

MAX_REFS = 200


def esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def _diff_html(diff: str) -> str:
    """A unified diff, one span per line so added and removed lines can be coloured by CSS alone."""
    out = []
    for line in diff.splitlines():
        kind = "" if line.startswith(("+++", "---")) else {"+": "vm-add", "-": "vm-del", "@": "vm-hunk"}.get(line[:1], "")
        out.append(f'<span class="{kind}">{esc(line)}</span>' if kind else esc(line))
    return "\n".join(out)


def _rel(from_page: str, to: str) -> str:
    return posixpath.relpath(to, posixpath.dirname(from_page) or ".")


def note_fragments(app: Sphinx, docname: str, pagename: str) -> tuple[str, list[tuple[int, str]]]:
    """A note's body and its line notes as HTML for `pagename`, links re-pointed from the note's own page."""
    doctree = app.env.get_and_resolve_doctree(docname, app.builder)
    for node in list(doctree.findall(nodes.reference)):
        uri = node.get("refuri", "")
        if uri and not uri.startswith(("#", "/")) and ":" not in uri.split("/", 1)[0]:
            node["refuri"] = _rel(pagename, posixpath.normpath(posixpath.join(posixpath.dirname(docname), uri)))
    for node in list(doctree.findall(nodes.paragraph)):
        if "vm-notehead" in node["classes"]:
            node.parent.remove(node)
    for node in list(doctree.findall(nodes.title)):
        if isinstance(node.parent, nodes.section) and node.parent.parent is doctree:
            node.parent.remove(node)  # the title is the symbol name, already on the code
    line_notes = []
    for box in list(doctree.findall(nodes.container)):
        if "vm-line-note" in box["classes"]:
            box.parent.remove(box)
            if box.children and "vm-line-head" in box.children[0].get("classes", []):
                box.remove(box.children[0])
            line_notes.append((box.get("line", 0), safety.clean(app.builder.render_partial(box)["fragment"])))
    body = nodes.container()
    body.extend(doctree.children)
    return safety.clean(app.builder.render_partial(body)["fragment"]), line_notes


class SourcePage:
    """One upstream file as a page: code, notes beside it, badges on definitions, data for the symbol panel."""

    def __init__(self, app: Sphinx, index: SymbolIndex, path: str, pagename: str, lines: list[str], notes: list,
                 referenced_by: dict, cited_in: dict, titles: dict, runtime: dict, files: set[str]):
        self.app, self.index, self.path, self.pagename, self.lines = app, index, path, pagename, lines
        self.notes, self.referenced_by, self.cited_in, self.titles = notes, referenced_by, cited_in, titles
        self.runtime, self.files = runtime, files
        self.symbols = index.by_file[path]
        self.annotated = {note.anchor for _, note in notes}

    def doc_url(self, docname: str) -> str:
        return _rel(self.pagename, f"{docname}.html")

    def html(self) -> str:
        asides: dict[int, list[str]] = defaultdict(list)
        marked: set[int] = set()
        for docname, note in self.notes:
            symbol = self.index.get(note.anchor)
            body, line_notes = note_fragments(self.app, docname, self.pagename)
            asides[symbol.start if symbol else 1].append(self.note_html(docname, note, symbol, body))
            for line, fragment in line_notes:
                if line:
                    marked.add(line)
                    asides[line].append(f'<aside class="vm-note vm-linenote"><div class="vm-note-head">'
                                        f'<a href="#L{line}">line {line}</a></div>{fragment}</aside>')
        by_line: dict[int, list[Symbol]] = defaultdict(list)
        for symbol in self.symbols:
            by_line[symbol.line].append(symbol)
        starts = sorted({1, *asides})
        out = [self.header(), f'<div class="vm-grid{" vm-annotated" if asides else ""}">']
        for i, start in enumerate(starts):
            end = starts[i + 1] - 1 if i + 1 < len(starts) else len(self.lines)
            out.append(f'<section class="vm-seg"><div class="vm-code highlight"><pre style="counter-reset:ln {start - 1}">')
            for number in range(start, end + 1):
                here = by_line.get(number, ())
                badges = "".join(self.badges(s) for s in here)
                css = "ln vm-marked" if number in marked else "ln"
                code = self.lines[number - 1]
                for symbol in here:  # a name the highlighter could not pin (e.g. `operator()`) still gets its id
                    if f' id="{esc(symbol.qualname)}"' not in code:
                        code = f'<a class="vm-sym" id="{esc(symbol.qualname)}" data-def=""></a>' + code
                out.append(f'<span class="{css}" id="L{number}">{code}{badges}</span>\n')
            out.append("</pre></div>")
            if start in asides:
                out.append('<div class="vm-notes">' + "".join(asides[start]) + "</div>")
            out.append("</section>")
        if not self.lines:
            out.append('<p class="vm-empty">(empty file)</p>')
        out.append("</div>")
        out.append(self.data_script())
        return f'<div class="vm-src" data-path="{esc(self.path)}">' + "".join(out) + "</div>"

    def header(self) -> str:
        parts = self.path.split("/")
        crumbs = [f'<a href="{esc(_rel(self.pagename, "source/index.html"))}">source</a>']
        for depth in range(1, len(parts)):
            crumbs.append(f'<a href="{esc(_rel(self.pagename, "source/" + "/".join(parts[:depth]) + "/index.html"))}">'
                          f"{esc(parts[depth - 1])}</a>")
        crumbs.append(f"<strong>{esc(parts[-1])}</strong>")
        outline = "".join(f'<li class="vm-k-{esc(s.kind)}"><a href="#{esc(s.qualname)}">{esc(s.qualname)}</a>'
                          f' <span class="vm-lineno">{s.line}</span></li>' for s in self.symbols)
        stats = f"{len(self.lines):,} lines · {len(self.symbols):,} symbols · {len(self.notes)} notes"
        return (f'<h1 class="vm-title">{esc(parts[-1])}</h1><nav class="vm-crumbs">{" / ".join(crumbs)}</nav>'
                f'<p class="vm-stats">{stats}</p>'
                + (f'<details class="vm-outline"><summary>Outline</summary><ul>{outline}</ul></details>' if outline else ""))

    def note_html(self, docname: str, note, symbol: Symbol | None, body: str) -> str:
        name = symbol.qualname if symbol else self.path
        head = [f'<a href="#{esc(name)}">{esc(note.meta.title or name)}</a>']
        changed = ""
        if symbol is not None and note.meta.fingerprint != symbol.fingerprint:
            head.append(f'<span class="vm-drift" title="note fingerprint {esc(note.meta.fingerprint)}, code '
                        f'{esc(symbol.fingerprint)}: re-read the code, then update the fingerprint">'
                        "drifted: the code changed since this note was written</span>")
            change = drift.for_note(self.app.vm_code_changes, note.anchor, note.meta.fingerprint)
            if change is not None:
                changed = (f'<details class="vm-drift-diff"><summary>What changed in the code (vLLM '
                           f"{esc(change.since)})</summary><pre>{_diff_html(change.diff)}</pre></details>")
        head.append(f'<a class="vm-notelink" href="{esc(self.doc_url(docname))}">note page</a>')
        links = self.app.vm_links
        edit = links.note(note.anchor, "", exists=True)
        if edit:
            head.append(links.anchor_html(*edit, "vm-edit"))
        head.append(attribution(self.app.vm_histories.get(note.file)))
        extra = ""
        if symbol is not None:
            extra = self.backlinks(symbol.anchor)
        return (f'<aside class="vm-note" data-anchor="{esc(note.anchor)}"><div class="vm-note-head">{" ".join(head)}'
                f"</div>{changed}{body}{extra}</aside>")

    def backlinks(self, anchor: str) -> str:
        cited = self.cited_in.get(anchor, [])
        refs = self.referenced_by.get(anchor, [])
        out = ""
        if cited:
            out += ('<div class="vm-disc">Discussed in: ' + ", ".join(
                f'<a href="{esc(self.doc_url(d))}">{esc(self.titles.get(d, d))}</a>' for d in cited) + "</div>")
        if refs:
            items = "".join(f'<li><a href="{esc(self.ref_url(p, n))}">{esc(p)}:{n}</a></li>' for p, n in refs[:MAX_REFS])
            out += f'<details class="vm-refs"><summary>Referenced by {len(refs)}</summary><ul>{items}</ul></details>'
        return out

    def ref_url(self, path: str, line: int) -> str:
        return (f"#L{line}" if path == self.path else _rel(self.pagename, f"source/{path}.html") + f"#L{line}")

    def badges(self, symbol: Symbol) -> str:
        out = []
        if symbol.anchor not in self.annotated:
            link = self.app.vm_links.note(symbol.anchor, symbol.fingerprint, exists=False)
            if link:
                out.append(self.app.vm_links.anchor_html(*link, "vm-annotate"))
        cited = self.cited_in.get(symbol.anchor, [])
        if cited:
            out.append(f'<a class="vm-badge vm-disc-badge" href="{esc(self.doc_url(cited[0]))}" '
                       f'title="discussed in {len(cited)} page(s)">discussed in {len(cited)}</a>')
        figures = self.runtime.get(symbol.anchor)
        if figures:
            def number(key: str) -> str:
                value = figures.get(key)
                return f"{value:,.3g}" if isinstance(value, (int, float)) else "?"
            out.append(f'<span class="vm-badge vm-rt" title="measured by the reference trace">'
                       f'{esc(number("calls"))} calls · p50 {esc(number("p50_ms"))} ms · p99 {esc(number("p99_ms"))} ms '
                       f'· total {esc(number("total_ms"))} ms</span>')
        return f'<span class="vm-badges">{"".join(out)}</span>' if out else ""

    def data_script(self) -> str:
        data: dict = {"anchors": {}, "refs": {}, "disc": {}}
        for symbol in self.symbols:
            refs = self.referenced_by.get(symbol.anchor)
            if refs:
                data["refs"][symbol.qualname] = [[self.ref_url(p, n), f"{p}:{n}"] for p, n in refs[:MAX_REFS]]
                if len(refs) > MAX_REFS:
                    data["refs"][symbol.qualname].append(["", f"… {len(refs) - MAX_REFS} more"])
            cited = self.cited_in.get(symbol.anchor)
            if cited:
                data["disc"][symbol.qualname] = [[self.doc_url(d), self.titles.get(d, d)] for d in cited]
        text = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
        return f'<script type="application/json" id="vm-data">{text}</script>'


def symbols_js(index: SymbolIndex, files: list[str]) -> str:
    """Every symbol name, grouped by file, as a script: the jump box loads it even from file://."""
    rows = [[f, [s.qualname for s in index.by_file[f]]] for f in files]
    return "window.VM_SYMBOLS=" + json.dumps(rows, separators=(",", ":")) + ";\n"


def directories(index: SymbolIndex, files: list[str], notes_by_path: dict) -> dict[str, dict]:
    """Per directory: its subdirectories and files with line, symbol and note counts."""
    listing: dict[str, dict] = defaultdict(lambda: {"dirs": {}, "files": []})
    for f in files:
        parts = f.split("/")
        for depth in range(len(parts) - 1):
            parent, child = "/".join(parts[:depth]), "/".join(parts[:depth + 1])
            listing[parent]["dirs"][child] = listing[parent]["dirs"].get(child, 0) + 1
        listing["/".join(parts[:-1])]["files"].append(
            [f, len(index.lines(f)), len(index.by_file[f]), len(notes_by_path.get(f, []))])
    return {d: {"dirs": sorted(v["dirs"].items()), "files": v["files"]} for d, v in listing.items()}


def directory_html(pagename: str, directory: str, listing: dict, listings: dict | None = None) -> str:
    rows = []
    for child, count in listing["dirs"]:
        rows.append(f'<tr><td><a href="{esc(_rel(pagename, f"source/{child}/index.html"))}">'
                    f'{esc(child.rsplit("/", 1)[-1])}/</a></td><td>{count} files</td><td></td><td></td></tr>')
    for f, lines, symbols, notes in listing["files"]:
        rows.append(f'<tr><td><a href="{esc(_rel(pagename, f"source/{f}.html"))}">{esc(f.rsplit("/", 1)[-1])}</a></td>'
                    f"<td>{lines:,} lines</td><td>{symbols} symbols</td><td>{notes or ''}"
                    f"{' notes' if notes > 1 else ' note' if notes else ''}</td></tr>")
    title = esc(directory + "/") if directory else "The pinned source tree"
    tree = f"<h2>Every file</h2>{tree_html(pagename, '', listings)}" if listings and not directory else ""
    return (f'<div class="vm-dir"><h1>{title}</h1><table class="vm-listing"><tbody>{"".join(rows)}</tbody></table>'
            f"{tree}</div>")


def tree_html(pagename: str, directory: str, listings: dict[str, dict]) -> str:
    """The whole tree as nested <details>: plain HTML, so it needs no script and works from file://."""
    listing = listings.get(directory, {"dirs": [], "files": []})
    items = [f'<li><details><summary>{esc(child.rsplit("/", 1)[-1])}/</summary>{tree_html(pagename, child, listings)}'
             "</details></li>" for child, _ in listing["dirs"]]
    items += [f'<li><a href="{esc(_rel(pagename, f"source/{f}.html"))}">{esc(f.rsplit("/", 1)[-1])}</a></li>'
              for f, *_ in listing["files"]]
    return f'<ul class="vm-tree">{"".join(items)}</ul>'

