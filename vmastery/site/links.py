"""Where "Edit this note" and "Annotate this symbol" lead, and the attribution line from git.

Two targets, chosen at build time:

- the repository host's web editor (`vmastery site --repo-url URL --branch B`): an existing note
  opens at `URL/edit/B/PATH`, a missing one at `URL/new/B?filename=PATH&value=TEMPLATE`, which
  GitHub prefills with the `vmastery annotate` template: anchor and fingerprint (GitHub's URL forms;
  another host needs its own two formats here);
- the local wiki (`vmastery serve --edit`): `/edit?anchor=ANCHOR` or `/edit?tour=SLUG`, served by
  `vmastery.wiki` next to the site.

With neither configured there are no links: a published site without a repository to send
contributions to should not show buttons that lead nowhere.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from ..annotations import ANNOTATIONS, TOURS, note_path, note_template
from ..history import NoteHistory

EDIT, ANNOTATE = "Edit this note", "Annotate this symbol"


@dataclass(frozen=True, slots=True)
class Links:
    repo_url: str = ""
    branch: str = "main"
    wiki: bool = False

    @classmethod
    def of(cls, config) -> Links:
        return cls(config.vmastery_repo_url.rstrip("/"), config.vmastery_branch or "main", config.vmastery_wiki)

    @property
    def enabled(self) -> bool:
        return self.wiki or bool(self.repo_url)

    def note(self, anchor: str, fingerprint: str, exists: bool) -> tuple[str, str] | None:
        """(label, URL) of the edit link of `anchor`'s note; None when links are off."""
        if self.wiki:
            return (EDIT if exists else ANNOTATE), "/edit?" + urlencode({"anchor": anchor}, safe="/:")
        if not self.repo_url:
            return None
        path = note_path(anchor)
        if exists:
            return EDIT, f"{self.repo_url}/edit/{quote(self.branch)}/{quote(path)}"
        query = urlencode({"filename": path, "value": note_template(anchor, fingerprint)}, quote_via=quote, safe="/")
        return ANNOTATE, f"{self.repo_url}/new/{quote(self.branch)}?{query}"

    def tour(self, slug: str) -> str | None:
        if self.wiki:
            return "/edit?" + urlencode({"tour": slug})
        if not self.repo_url:
            return None
        return f"{self.repo_url}/edit/{quote(self.branch)}/{ANNOTATIONS}/{TOURS}/{quote(slug)}.md"

    def anchor_html(self, label: str, url: str, css: str) -> str:
        return f'<a class="{css}" href="{html.escape(url, quote=True)}">{html.escape(label)}</a>'


def attribution_text(history: NoteHistory | None) -> str:
    """ "by Ann, Bo · last changed 2026-11-29": authors by number of commits; git knows nothing of
    a note that was never committed."""
    if history is None or history.last is None:
        return "not in git history yet"
    authors = ", ".join(name for name, _ in history.authors.most_common())
    return f"by {authors} · last changed {history.last.date[:10]}"


def attribution(history: NoteHistory | None) -> str:
    """The attribution as HTML, the last commit's subject in its tooltip."""
    title = "" if history is None or history.last is None else \
        f' title="{html.escape(history.last.sha[:10] + ": " + history.last.subject, quote=True)}"'
    return f'<span class="vm-history"{title}>{html.escape(attribution_text(history))}</span>'


def history_key(history: NoteHistory | None) -> list | None:
    """What the attribution line shows, as a value for page signatures."""
    if history is None or history.last is None:
        return None
    return [sorted(history.authors.items()), history.last.sha, history.last.date, history.last.subject]
