"""Keeping contributed Markdown inert: no raw HTML, no script, no `javascript:`/`data:` links.

Notes and course pages are written by strangers, and the site is served from a real domain, so we
defend in depth, each layer enough on its own for the cases it covers:

1. docutils settings: the `raw` directive and file insertion (`include`, `literalinclude`) are off,
   so neither `{raw} html` nor `{eval-rst}` + `.. raw::` nor reading `/etc/passwd` works.
2. MyST passes HTML blocks and inline HTML through as `raw` nodes; `neutralise_raw` turns every one
   into visible literal text before anything is written.
3. markdown-it refuses `javascript:`, `vbscript:`, `file:` and `data:` link targets (entities are
   decoded before that check), and `myst_url_schemes` keeps only http, https and mailto.
4. `clean` runs nh3 (the Rust `ammonia` sanitiser) over every rendered page body and note fragment
   with an allowlist of the tags and attributes Sphinx itself emits: the last line of defence.
"""
from __future__ import annotations

import nh3
from docutils import nodes

URL_SCHEMES = {"http", "https", "mailto"}
TAGS = {
    "a", "abbr", "aside", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del",
    "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "section", "small", "span", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var", "nav",
}
ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir", "role", "aria-hidden", "aria-label"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "loading"},
    "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"},
    "ol": {"start"}, "col": {"span"}, "details": {"open"},
}


def clean(fragment: str) -> str:
    """Sanitise rendered HTML; everything outside the allowlist goes, `<script>` with its content."""
    return nh3.clean(fragment, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel=None,
                     strip_comments=True)


def disable_raw(settings: dict) -> None:
    """docutils settings that switch off raw output and file insertion for every document."""
    settings["raw_enabled"] = False
    settings["file_insertion_enabled"] = False


def neutralise_raw(doctree: nodes.Node) -> int:
    """Replace every raw node with literal text showing its source; returns how many were replaced."""
    count = 0
    for raw in list(doctree.findall(nodes.raw)):
        text = raw.astext()
        inline = isinstance(raw.parent, nodes.TextElement)
        replacement = nodes.literal(text, text) if inline else nodes.literal_block(text, text, language="html")
        replacement["classes"].append("vm-raw-html")
        raw.replace_self(replacement)
        count += 1
    return count
