"""Source pages: one HTML page per upstream file, written straight from the symbol index.

Called from Sphinx's `html-collect-pages` event, so every page still gets the theme's frame (header,
navigation, search), but the code itself never touches docutils. Three things keep builds fast:

- colouring (`highlight.py`) is cached per file under `.cache/site/hl/`, keyed by the file's bytes and
  a signature of the whole tree (links depend on other files), and runs on every core when cold;
- each page has a signature of everything it shows (code, notes, backlinks, figures, theme): a page
  whose signature and output are unchanged is not rendered again, which is what makes editing one
  note a seconds-long rebuild;
- notes are rendered from their already-resolved doctrees, only for pages that are written.

The two wiki pages, Recent changes and Coverage (`wikipages.py`), are written on every build: they
are two small pages, and Coverage needs the "referenced by" counts gathered here.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.display import status_iterator

from ..symbols import SymbolIndex
from . import render, wikipages
from .highlight import Linker, highlight
from .links import history_key
from .paths import index_of, page_url, selected

logger = logging.getLogger(__name__)
VERSION = "3"  # bump when the page layout changes: every page is written again
MANIFEST = ".vmastery-pages.json"
_WORK: dict = {}  # what forked highlight workers inherit


def _digest(*parts) -> str:
    return hashlib.blake2b(json.dumps(parts, sort_keys=True, default=str).encode(), digest_size=10).hexdigest()


def _highlight_one(path: str) -> tuple[str, list]:
    index, linker, files, cache_dir, key = (_WORK[k] for k in ("index", "linker", "files", "cache_dir", "keys"))
    here = f"source/{path}"

    def page_of(target: str) -> str | None:
        return page_url(here, f"source/{target}") if target in files else None

    done = highlight(index, linker, path, page_of)
    _write_json(cache_dir / f"{key[path]}.json", {"lines": done.lines, "refs": done.refs})
    return path, done.refs


def highlight_all(index: SymbolIndex, files: list[str], cache_dir: Path, only: list[str]) -> dict[str, dict]:
    """{path: {"key", "refs"}} for every selected file, colouring only what the cache lacks."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    shas = {f: hashlib.blake2b((index.root / f).read_bytes(), digest_size=10).hexdigest() for f in index.by_file}
    tree = _digest(sorted(shas.items()), only, VERSION)
    keys = {f: _digest(shas[f], tree) for f in files}
    summary_path = cache_dir / "refs.json"
    try:
        summary = json.loads(summary_path.read_text())
    except (OSError, ValueError):
        summary = {}
    result = {f: summary[f] for f in files if f in summary and summary[f]["key"] == keys[f]
              and (cache_dir / f"{keys[f]}.json").exists()}
    todo = [f for f in files if f not in result]
    if todo:
        _WORK.update(index=index, linker=Linker(index), files=set(files), cache_dir=cache_dir, keys=keys)
        workers = min(os.cpu_count() or 1, max(1, len(todo) // 100))
        if workers > 1:
            with ProcessPoolExecutor(workers) as pool:
                done = status_iterator(pool.map(_highlight_one, todo, chunksize=16), "colouring source... ",
                                       "purple", len(todo), 0, stringify_func=lambda item: item[0])
                done = list(done)
        else:
            done = [_highlight_one(f) for f in status_iterator(todo, "colouring source... ", "purple", len(todo))]
        for path, refs in done:
            result[path] = {"key": keys[path], "refs": refs}
        summary.update(result)
        _write_json(summary_path, {f: summary[f] for f in summary if f in index.by_file})
    return result


def _write_json(path: Path, data) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, separators=(",", ":")))
    tmp.replace(path)


def _write_if_changed(path: Path, text: str) -> None:
    if path.exists() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _runtime(root: Path) -> dict[str, dict]:
    """Per-symbol figures measured by the tracepoints, when a reference run has been recorded."""
    path = root / "tracepoints" / "reference" / "summary.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, dict)} if isinstance(data, dict) else {}


def collect_pages(app: Sphinx):
    """Yield (pagename, context, template) for every source page and directory page that changed."""
    env, config = app.env, app.config
    root = Path(config.vmastery_root)
    index = index_of(env)
    only = list(config.vmastery_only)
    files = [f for f in index.by_file if selected(f, only)]
    xref = highlight_all(index, files, root / ".cache" / "site" / "hl", only)

    referenced_by: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for path in files:
        for line, anchor in xref[path]["refs"]:
            if not referenced_by[anchor] or referenced_by[anchor][-1] != (path, line):
                referenced_by[anchor].append((path, line))
    cited_in: dict[str, list[str]] = defaultdict(list)
    for docname, anchors in sorted(env.vm_cites.items()):
        for anchor in anchors:
            if env.vm_note_anchor.get(docname) != anchor:  # a note is shown whole, not as a backlink
                cited_in[anchor].append(docname)
    titles = {d: env.titles[d].astext() if d in env.titles else d for d in env.all_docs}
    notes = {n.file[:-3]: n for n in app.vm_corpus.notes if n.file[:-3] in env.all_docs}
    notes_by_path: dict[str, list] = defaultdict(list)
    for docname, note in notes.items():
        notes_by_path[note.anchor.partition("::")[0]].append((docname, note))
    runtime = _runtime(root)

    static = Path(app.outdir) / "_static"
    _write_if_changed(static / "vm-symbols.js", render.symbols_js(index, files))
    theme = _digest(VERSION, config.html_theme, app.vm_links,
                    *(p.read_text() for d in (app.confdir / "_templates", app.confdir / "_static")
                      for p in sorted(Path(d).rglob("*")) if p.is_file()),
                    sorted((d, t) for d, t in titles.items() if not d.startswith(("annotations/vllm", "annotations/csrc"))))
    manifest = _load_manifest(app)
    app.vm_manifest = manifest
    outdir = Path(app.outdir)

    pages = []
    for path in files:
        symbols = index.by_file[path]
        anchors = [s.anchor for s in symbols]
        mine = notes_by_path.get(path, [])
        signature = _digest(
            theme, xref[path]["key"],
            [(d, (root / n.file).read_text(encoding="utf-8", errors="replace"),
              history_key(app.vm_histories.get(n.file))) for d, n in mine],
            {a: referenced_by.get(a, [])[:200] for a in anchors if a in referenced_by},
            {a: [(d, titles.get(d)) for d in cited_in[a]] for a in anchors if a in cited_in},
            {a: runtime[a] for a in anchors if a in runtime},
            [app.vm_code_changes.get(n.anchor) for _, n in mine])
        pages.append((f"source/{path}", path, signature))
    listings = render.directories(index, files, notes_by_path)
    for directory, listing in listings.items():
        pagename = f"source/{directory}/index" if directory else "source/index"
        signature = _digest(theme, listing if directory else listings)
        pages.append((pagename, (directory, listing), signature))

    todo = [p for p in pages if manifest.get(p[0]) != p[2] or not (outdir / f"{p[0]}.html").exists()]
    logger.info(f"source pages: {len(todo)} of {len(pages)} to write")
    for pagename, what, signature in status_iterator(todo, "writing source pages... ", "darkgreen", len(todo),
                                                     app.verbosity, stringify_func=lambda p: p[0]):
        if isinstance(what, str):
            lines = json.loads((root / ".cache" / "site" / "hl" / f"{xref[what]['key']}.json").read_text())["lines"]
            page = render.SourcePage(app, index, what, pagename, lines, notes_by_path.get(what, []),
                                     referenced_by, cited_in, titles, runtime, set(files))
            context = {"title": what, "body": page.html(), "vm_source": True}
        else:
            directory, listing = what
            context = {"title": (directory or "Source") + "/",
                       "body": render.directory_html(pagename, directory, listing, listings)}
        manifest[pagename] = signature
        yield pagename, context, "page.html"
    yield from wikipages.pages(app, index, files, notes, referenced_by, cited_in, titles)


def _load_manifest(app: Sphinx) -> dict[str, str]:
    try:
        return json.loads((Path(app.outdir) / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def save_manifest(app: Sphinx) -> None:
    if hasattr(app, "vm_manifest"):
        _write_json(Path(app.outdir) / MANIFEST, app.vm_manifest)
