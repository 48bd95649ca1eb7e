"""The Sphinx extension that turns the repository into the annotated-source site.

Course pages, labs, notes and tours go through MyST like any Sphinx document; the ~2,040 upstream
files do not: pushing them through docutils would take many minutes, so `pages.py` writes them
directly from the `html-collect-pages` event (as `sphinx.ext.viewcode` does), coloured by
`highlight.py`. This module gives the Markdown its meaning: the `{anchor}` role, the `{upstream}`,
`{step}` and `{line}` directives, the "discussed in" bookkeeping they feed, the edit links and git
attribution of notes and tours (`links.py`), and the safety layers of `safety.py`. `setup()` reads as
the table of contents.

Git history is read once per build (`on_builder_inited`); a note or tour page whose attribution, or
a tour whose steps' annotated/unannotated state, differs from what its page shows is re-read
(`on_get_outdated`), so an incremental build after a commit or a new note is still correct.
"""
from __future__ import annotations

import posixpath
import re
from pathlib import Path

import yaml
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.errors import SphinxError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole

from ..anchors import AnchorError, Target, find_quote, resolve
from ..annotations import load
from ..history import changes, histories
from ..markdown import ROLE_TARGET, scan, split_front_matter
from . import drift, safety
from .links import Links, attribution_text, history_key
from .livecode import LiveCode, classes_for
from .paths import index_of, source_uri

logger = logging.getLogger(__name__)
LANGUAGE = {".py": "python", ".cu": "cuda", ".cuh": "cuda"}


def setup(app: Sphinx) -> dict:
    app.add_config_value("vmastery_root", "", "env", types=[str])
    app.add_config_value("vmastery_only", [], "env", types=[list])
    app.add_config_value("vmastery_repo_url", "", "env", types=[str])  # e.g. https://github.com/OWNER/REPO
    app.add_config_value("vmastery_branch", "main", "env", types=[str])
    app.add_config_value("vmastery_wiki", False, "env", types=[bool])  # edit links lead to `serve --edit`
    app.add_role("anchor", AnchorRole())
    app.add_role("source-tree", SourceTreeRole())
    app.add_directive("upstream", UpstreamDirective)
    app.add_directive("step", StepDirective)
    app.add_directive("line", LineDirective)
    app.add_directive("vm-notehead", NoteHeadDirective)
    app.add_directive("vm-tourhead", TourHeadDirective)
    app.connect("builder-inited", on_builder_inited)
    app.connect("env-get-outdated", on_get_outdated)
    app.connect("source-read", on_source_read)
    app.connect("doctree-read", on_doctree_read)
    app.connect("env-purge-doc", on_purge_doc)
    app.connect("env-merge-info", on_merge_info)
    app.connect("html-page-context", share_navigation, priority=400)  # before the theme builds its sidebar
    app.connect("html-page-context", on_page_context)
    app.connect("html-collect-pages", on_collect_pages)
    app.connect("build-finished", on_build_finished)
    app.add_css_file("vmastery.css")
    app.add_js_file("vmastery.js", loading_method="defer")
    return {"version": "1", "env_version": 2, "parallel_read_safe": False, "parallel_write_safe": True}


def _edit_links(env, docname: str, rel: str, anchor: str | None = None, tour: str | None = None) -> nodes.inline:
    """The edit link and the git attribution of a note or tour, remembered for `on_get_outdated`."""
    app = env.app
    box = nodes.inline(classes=["vm-wikihead"])
    link = app.vm_links.tour(tour) if tour else None
    if anchor:
        found = app.vm_links.note(anchor, "", exists=True)
        link = found[1] if found else None
    if link:
        box += nodes.reference("", "Edit this tour" if tour else "Edit this note", refuri=link, classes=["vm-edit"])
        box += nodes.Text(" · ")
    history = app.vm_histories.get(rel)
    env.vm_hist[docname] = history_key(history)
    box += nodes.inline("", attribution_text(history), classes=["vm-history"])
    return box


def _cite(env, anchor: str) -> None:
    env.vm_cites.setdefault(env.docname, {})[anchor] = None


def _fail(env, message: str, location) -> None:
    """An unresolvable reference: logged as an error and counted per document, so the build exits
    non-zero, and keeps doing so on incremental builds until that document is fixed."""
    env.vm_bad[env.docname] = env.vm_bad.get(env.docname, 0) + 1
    logger.error(message, location=location, type="vmastery", subtype="anchor")


class AnchorRole(SphinxRole):
    """{anchor}`PATH::QUALNAME` or {anchor}`shown words <PATH::QUALNAME>`: a link to the code."""

    def run(self):
        match = ROLE_TARGET.match(self.text.strip())
        target = ((match.group("target") or match.group("bare") or "") if match else "").strip()
        title = match.group("title") if match and match.group("target") else None
        try:
            found = resolve(index_of(self.env), target)
        except AnchorError as error:
            _fail(self.env, f"{{anchor}}: {error}", self.get_location())
            problem = nodes.problematic(self.rawtext, self.rawtext)
            return [problem], []
        _cite(self.env, target)
        label = title or found.label()
        inner = nodes.Text(label) if title else nodes.literal(label, label)
        ref = nodes.reference("", "", inner, refuri=source_uri(self.env.docname, found.path,
                                                                 found.symbol.qualname if found.symbol else None),
                              classes=["vm-anchor"])
        return [ref], []


class SourceTreeRole(SphinxRole):
    """{source-tree}`vllm/v1/core` links to that directory's listing; {source-tree}`.` to the whole tree."""

    def run(self):
        match = ROLE_TARGET.match(self.text.strip())
        target = ((match.group("target") or match.group("bare") or "") if match else "").strip().strip("/")
        title = match.group("title") if match and match.group("target") else None
        page = "source/index.html" if target in {"", "."} else f"source/{target}/index.html"
        if target not in {"", "."} and not any(f.startswith(target + "/") for f in index_of(self.env).by_file):
            _fail(self.env, f"{{source-tree}}: no directory '{target}' in the pinned tree", self.get_location())
            return [nodes.problematic(self.rawtext, self.rawtext)], []
        uri = posixpath.relpath(page, posixpath.dirname(self.env.docname) or ".")
        label = title or (target if target not in {"", "."} else "the source tree")
        return [nodes.reference("", label, refuri=uri, classes=["vm-tree"])], []


class _CodeDirective(SphinxDirective):
    """Shared by {upstream} and {step}: the live code of a symbol at the pin, with upstream line numbers."""

    required_arguments = 1
    final_argument_whitespace = True
    has_content = True

    def resolve_target(self) -> Target | None:
        try:
            found = resolve(index_of(self.env), self.arguments[0])
        except AnchorError as error:
            _fail(self.env, f"{{{self.name}}}: {error}", self.get_location())
            return None
        _cite(self.env, self.arguments[0].strip())
        return found

    def code_nodes(self, found: Target, first: int, last: int) -> list[nodes.Node]:
        index = index_of(self.env)
        lines = index.lines(found.path)
        if found.symbol is None:
            first, last = 1, min(len(lines), 40)
        code = "\n".join(lines[first - 1:last])
        head = nodes.paragraph(classes=["vm-code-head"])
        head += nodes.reference("", "", nodes.literal(found.label(), found.label()),
                                refuri=source_uri(self.env.docname, found.path,
                                                  found.symbol.qualname if found.symbol else None))
        block = nodes.literal_block(code, code, language=LANGUAGE.get(Path(found.path).suffix, "cpp"),
                                    linenos=True, highlight_args={"linenostart": first},
                                    classes=classes_for(found.path, first, last))
        return [head, block]


class UpstreamDirective(_CodeDirective):
    """```{upstream} ANCHOR``` with optional :from: / :to: quotes narrowing it to a stretch."""

    option_spec = {"from": directives.unchanged, "to": directives.unchanged}

    def run(self):
        found = self.resolve_target()
        if found is None:
            return []
        first, last = (found.symbol.start, found.symbol.end) if found.symbol else (1, 1)
        # Quotes are read the way `vmastery check` reads them: MyST's YAML option parsing would take
        # a quoted Python comment (`:from: # keep the order`) for a YAML comment and see nothing.
        scanned = scan(self.block_text).directives
        options = scanned[0].options if scanned else self.options
        try:
            if found.symbol and options.get("from"):
                first = find_quote(index_of(self.env), found.symbol, options["from"])
            if found.symbol and options.get("to"):
                last = find_quote(index_of(self.env), found.symbol, options["to"])
        except AnchorError as error:
            _fail(self.env, f"{{upstream}}: {error}", self.get_location())
            return []
        return [nodes.container("", *self.code_nodes(found, first, last), classes=["vm-upstream"])]


class StepDirective(_CodeDirective):
    """One stop of a tour: the caption (its body), then the symbol's live code."""

    def run(self):
        found = self.resolve_target()
        if found is None:
            return []
        box = nodes.container(classes=["vm-step"])
        if self.content:
            caption = nodes.container(classes=["vm-step-caption"])
            self.state.nested_parse(self.content, self.content_offset, caption)
            box += caption
        first, last = (found.symbol.start, found.symbol.end) if found.symbol else (1, 1)
        code = self.code_nodes(found, first, last)
        if found.symbol is not None:  # "Edit this note" / "Annotate this symbol", kept current by on_get_outdated
            anchor, app = found.symbol.anchor, self.env.app
            exists = anchor in app.vm_annotated
            self.env.vm_steps.setdefault(self.env.docname, {})[anchor] = exists
            link = app.vm_links.note(anchor, found.symbol.fingerprint, exists)
            if link:
                code[0] += nodes.Text(" ")
                code[0] += nodes.reference("", link[0], refuri=link[1], classes=["vm-edit"])
        box.extend(code)
        return [box]


class LineDirective(SphinxDirective):
    """```{line} QUOTE``` inside a note: commentary attached to the one line of the symbol it quotes."""

    required_arguments = 1
    final_argument_whitespace = True
    has_content = True

    def run(self):
        anchor = self.env.vm_note_anchor.get(self.env.docname)
        # On the note's own page a line note shows its line; on the source page it moves beside it.
        node = nodes.container(classes=["vm-line-note"], quote=self.arguments[0])
        line = None
        if anchor:
            try:
                symbol = resolve(index_of(self.env), anchor).symbol
                line = find_quote(index_of(self.env), symbol, self.arguments[0]) if symbol else None
            except AnchorError as error:
                _fail(self.env, f"{{line}}: {error}", self.get_location())
                return []
        node["line"] = line or 0
        label = f"line {line}: " if line else ""
        head = nodes.paragraph(classes=["vm-line-head"])
        head += nodes.Text(label)
        head += nodes.literal(self.arguments[0], self.arguments[0])
        node += head
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


class NoteHeadDirective(SphinxDirective):
    """Inserted by `on_source_read` under a note's title: which symbol it explains, linked to the code."""

    required_arguments = 1
    final_argument_whitespace = True

    def run(self):
        try:
            found = resolve(index_of(self.env), self.arguments[0])
        except AnchorError as error:
            _fail(self.env, f"note anchor: {error}", self.get_location())
            return [nodes.paragraph(text="(unresolvable anchor)", classes=["vm-notehead", "vm-error"])]
        para = nodes.paragraph(classes=["vm-notehead"])
        para += nodes.Text("Explains ")
        para += nodes.reference("", "", nodes.literal(found.label(), found.label()),
                                refuri=source_uri(self.env.docname, found.path,
                                                  found.symbol.qualname if found.symbol else None))
        para += nodes.Text(" · ")
        para += _edit_links(self.env, self.env.docname, self.env.docname + ".md",
                            anchor=found.symbol.anchor if found.symbol else None)
        return [para]


class TourHeadDirective(SphinxDirective):
    """Inserted by `on_source_read` under a tour's title: its edit link and attribution."""

    required_arguments = 1

    def run(self):
        para = nodes.paragraph(classes=["vm-notehead"])
        para += _edit_links(self.env, self.env.docname, self.env.docname + ".md", tour=self.arguments[0])
        return [para]


def on_builder_inited(app: Sphinx) -> None:
    if not app.config.vmastery_root:
        raise SphinxError("vmastery_root is not set; build with `vmastery site`")
    safety.disable_raw(app.env.settings)
    for attr in DOC_STATE:
        if not hasattr(app.env, attr):
            setattr(app.env, attr, {})
    root = Path(app.config.vmastery_root)
    app.vm_links = Links.of(app.config)
    app.vm_log = changes(root)  # the one git call of the build
    app.vm_histories = histories(app.vm_log)
    app.vm_corpus = load(root)
    app.vm_annotated = {note.anchor for note in app.vm_corpus.notes}
    app.vm_code_changes = drift.load(root)  # diffs shown under drifted notes


DOC_STATE = ("vm_cites", "vm_note_anchor", "vm_bad", "vm_hist", "vm_steps")  # per-document, kept in the env


def on_get_outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Notes and tours whose attribution changed (a commit), and tours whose steps gained or lost a note."""
    stale = [d for d, key in env.vm_hist.items() if key != history_key(app.vm_histories.get(d + ".md"))]
    stale += [d for d, steps in env.vm_steps.items()
              if any((anchor in app.vm_annotated) != had for anchor, had in steps.items())]
    return stale


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]<>()#+\-.!|~&])", r"\\\1", text)


def on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    """Give notes and tours a title from their front matter, and notes a link to their code."""
    if not docname.startswith("annotations/") or docname == "annotations/README":
        return
    front, body, _ = split_front_matter(source[0])
    try:
        meta = yaml.safe_load(front) if front is not None else None
    except yaml.YAMLError:
        meta = None
    if not isinstance(meta, dict):
        return  # `vmastery check` reports it; MyST renders what it can
    head = ""
    if docname.startswith("annotations/tours/"):
        slug = docname.rsplit("/", 1)[-1]
        head = f"# {_md_escape(str(meta.get('title') or slug))}\n\n"
        if re.fullmatch(r"[a-z0-9-]+", slug):  # `check` requires this; anything else gets no edit link
            head += f"```{{vm-tourhead}} {slug}\n```\n\n"
    elif isinstance(meta.get("anchor"), str):
        anchor = meta["anchor"]
        app.env.vm_note_anchor[docname] = anchor
        title = meta.get("title") or anchor.partition("::")[2] or anchor
        head = f"# {_md_escape(str(title))}\n\n```{{vm-notehead}} {anchor.splitlines()[0]}\n```\n\n"
    if not body.lstrip().startswith("# "):
        source[0] = f"---\n{front}\n---\n{head}{body}"


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    safety.neutralise_raw(doctree)


def on_purge_doc(app: Sphinx, env, docname: str) -> None:
    for attr in DOC_STATE:
        getattr(env, attr, {}).pop(docname, None)


def on_merge_info(app: Sphinx, env, docnames, other) -> None:
    for attr in DOC_STATE:
        getattr(env, attr).update({d: getattr(other, attr)[d] for d in docnames if d in getattr(other, attr)})


def on_page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Every page made from project Markdown is sanitised; generated source pages sanitise their notes."""
    if doctree is not None and "body" in context:
        context["body"] = safety.clean(context["body"])
        if "vm-live-code" in context["body"]:  # after cleaning: this HTML is ours, made from upstream code
            if getattr(app, "vm_live", None) is None:
                app.vm_live = LiveCode(index_of(app.env), list(app.config.vmastery_only))
            context["body"] = app.vm_live.link(pagename, context["body"])


def share_navigation(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Generated pages are in no toctree, so their navigation differs only by folder depth: build it
    once per depth instead of once per page (it was half the cost of writing ~2,040 source pages)."""
    if not pagename.startswith("source/") or "toctree" not in context:
        return
    toctree, depth = context["toctree"], pagename.count("/")
    memo = app.__dict__.setdefault("vm_nav_memo", {})

    def shared(**kwargs):
        key = (depth, tuple(sorted(kwargs.items())))
        if key not in memo:
            memo[key] = toctree(**kwargs)
        return memo[key]

    context["toctree"] = shared


def on_collect_pages(app: Sphinx):
    from .pages import collect_pages
    yield from collect_pages(app)


def on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    from .pages import save_manifest
    if exception is None:
        save_manifest(app)
        (Path(app.outdir) / ".nojekyll").touch()  # GitHub Pages would otherwise hide _static/
    bad = {d: n for d, n in getattr(app.env, "vm_bad", {}).items() if d in app.env.all_docs}
    if exception is None and bad:
        raise SphinxError(f"{sum(bad.values())} unresolvable reference(s) in {', '.join(sorted(bad))}; "
                          "`vmastery check` lists them with fixes")
