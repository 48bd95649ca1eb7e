"""The wiki's two bookkeeping pages: Recent changes (from git) and Coverage (with the wanted pages).

Both are computed on every build from what the build already has: the git log read once in
`ext.on_builder_inited`, the notes, and the site's own cross-references. So they can never be
stale, and the cost is two small pages.

"Wanted pages" borrows the wiki term: the symbols most worth a note that have none. They are ranked
first by how many course pages, tours and notes cite them (the "Discussed in" count: each is a
reader who arrives at the symbol with a question), then by how often the code references them (the
"Referenced by" count on the source page). Both counts are shown, so the order can be checked.
"""
from __future__ import annotations

from collections import defaultdict

from sphinx.application import Sphinx

from ..symbols import SymbolIndex
from .render import esc

RECENT = 50  # commits on the Recent changes page
WANTED = 50  # symbols on the wanted list
PER_PACKAGE = 3  # wanted symbols named in each package's row


def pages(app: Sphinx, index: SymbolIndex, files: list[str], notes: dict, referenced_by: dict,
          cited_in: dict, titles: dict):
    """Yield (pagename, context, template) of the Recent changes and Coverage pages."""
    yield "recent", {"title": "Recent changes", "body": recent_html(app, files, notes, titles)}, "page.html"
    yield "coverage", {"title": "Coverage", "body": coverage_html(app, index, files, notes, referenced_by,
                                                                   cited_in)}, "page.html"


def _code_link(anchor: str, files: list[str] | set[str]) -> str | None:
    path, _, qualname = anchor.partition("::")
    return f"source/{path}.html" + (f"#{qualname}" if qualname else "") if path in files else None


def recent_html(app: Sphinx, files: list[str], notes: dict, titles: dict) -> str:
    docs, file_set, links = app.env.all_docs, set(files), app.vm_links
    rows = []
    for change in app.vm_log[:RECENT]:
        items = []
        for name in change.files:
            docname = name.removesuffix(".md")
            if docname in docs:
                item = f'<a href="{esc(docname)}.html">{esc(titles.get(docname, docname))}</a>'
                note = notes.get(docname)
                code = _code_link(note.anchor, file_set) if note else None
                if code:
                    item += f' (<a href="{esc(code)}">code</a>)'
            else:
                item = f'<span class="vm-gone">{esc(name)} (since removed or moved)</span>'
            items.append(f"<li>{item}</li>")
        sha = esc(change.sha[:10])
        commit = (f'<a href="{esc(links.repo_url)}/commit/{esc(change.sha)}"><code>{sha}</code></a>'
                  if links.repo_url else f"<code>{sha}</code>")
        rows.append(f"<tr><td>{esc(change.date[:10])}</td><td>{esc(change.author)}</td>"
                    f"<td>{esc(change.subject)} {commit}<ul>{''.join(items)}</ul></td></tr>")
    if not rows:
        return ('<div class="vm-wiki"><h1>Recent changes</h1><p>No history: this build is not in a git checkout, '
                "or no commit has touched <code>annotations/</code> yet.</p></div>")
    return ('<div class="vm-wiki"><h1>Recent changes</h1>'
            f"<p>The latest {len(rows)} commits that touched <code>annotations/</code>, newest first.</p>"
            '<table class="vm-listing vm-recent"><thead><tr><th>date</th><th>author</th><th>change</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def wanted(index: SymbolIndex, files: list[str], annotated: set[str], referenced_by: dict,
           cited_in: dict) -> list[tuple[int, int, str]]:
    """(references, citations, anchor) of every unannotated symbol either counts, most wanted first."""
    out = []
    for path in files:
        for symbol in index.by_file[path]:
            if symbol.kind == "namespace" or symbol.anchor in annotated:
                continue
            refs, cites = len(referenced_by.get(symbol.anchor, ())), len(cited_in.get(symbol.anchor, ()))
            if refs or cites:
                out.append((refs, cites, symbol.anchor))
    out.sort(key=lambda row: (-row[1], -row[0], row[2]))
    return out


def coverage_html(app: Sphinx, index: SymbolIndex, files: list[str], notes: dict, referenced_by: dict,
                  cited_in: dict) -> str:
    links, file_set = app.vm_links, set(files)
    annotated = {note.anchor for note in notes.values()}
    doc_of = {note.anchor: docname for docname, note in notes.items()}
    ranked = wanted(index, files, annotated, referenced_by, cited_in)
    fingerprint = {s.anchor: s.fingerprint for path in files for s in index.by_file[path]}

    def symbol_link(anchor: str) -> str:
        code = _code_link(anchor, file_set)
        label = f"<code>{esc(anchor.partition('::')[2] or anchor)}</code>"
        return f'<a href="{esc(code)}">{label}</a>' if code else label

    def annotate_link(anchor: str) -> str:
        link = links.note(anchor, fingerprint.get(anchor, ""), exists=False)
        return links.anchor_html(*link, "vm-annotate vm-shown") if link else ""

    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    mine: dict[str, list[str]] = defaultdict(list)
    for path in files:
        package = path.rsplit("/", 1)[0] if "/" in path else "."
        for symbol in index.by_file[path]:
            totals[package][1] += 1
            if symbol.anchor in annotated:
                totals[package][0] += 1
                mine[package].append(symbol.anchor)
    wanted_in: dict[str, list[str]] = defaultdict(list)
    for _, _, anchor in ranked:
        package = anchor.partition("::")[0].rsplit("/", 1)[0]
        if len(wanted_in[package]) < PER_PACKAGE:
            wanted_in[package].append(anchor)

    rows = []
    for package in sorted(totals):
        done, total = totals[package]
        names = ", ".join(f'<a href="{esc(doc_of[a])}.html">{esc(a.partition("::")[2])}</a>' for a in mine[package])
        notes_cell = f"<details><summary>{done}</summary>{names}</details>" if done else "0"
        want = ", ".join(symbol_link(a) for a in wanted_in.get(package, []))
        rows.append(f'<tr><td><a href="source/{esc(package)}/index.html">{esc(package)}/</a></td>'
                    f"<td>{notes_cell}</td><td>{total:,}</td><td>{100 * done / total:.1f}%</td><td>{want}</td></tr>"
                    if total else "")
    all_done = sum(t[0] for t in totals.values())
    all_total = sum(t[1] for t in totals.values())
    wanted_rows = "".join(
        f"<tr><td>{symbol_link(anchor)}<br><small>{esc(anchor.partition('::')[0])}</small></td>"
        f"<td>{refs:,}</td><td>{cites}</td><td>{annotate_link(anchor)}</td></tr>" for refs, cites, anchor in ranked[:WANTED])
    return (
        '<div class="vm-wiki"><h1>Coverage</h1>'
        f"<p>{all_done:,} of {all_total:,} symbols have a note ({100 * all_done / max(all_total, 1):.2f}%).</p>"
        "<h2>Wanted pages</h2><p>Symbols without a note, most cited by course pages, tours and notes first, "
        "then most referenced by the code.</p>"
        '<table class="vm-listing vm-wanted"><thead><tr><th>symbol</th><th>referenced by</th><th>cited in</th>'
        f"<th></th></tr></thead><tbody>{wanted_rows}</tbody></table>"
        "<h2>Per package</h2>"
        '<table class="vm-listing vm-coverage"><thead><tr><th>package</th><th>notes</th><th>symbols</th>'
        f"<th>covered</th><th>most wanted</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>")

