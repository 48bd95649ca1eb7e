"""The local wiki mode: edit a note in the browser, preview it, save it through `check`.

`vmastery serve --edit` runs this server on 127.0.0.1 only. It serves the built site and three
endpoints:

- `GET /edit?anchor=ANCHOR` (or `?tour=SLUG`): an editor for the note at the anchor's one path,
  prefilled with the note, or with the `annotate` template when the symbol has none yet;
- `POST /preview`: the text rendered the way a note is rendered (untrusted Markdown: no HTML);
- `POST /save`: validates the text exactly as `vmastery check` would, then writes it atomically,
  rebuilds the site incrementally (`site_rebuild`) and answers with the URL of the page that shows
  the note beside its code, for the editor's "See the rebuilt page" link.

Safety: the Host header must name this server (no DNS rebinding); POSTs need this server's Origin,
a per-process token and a JSON body (so another site's page cannot forge one); only files under
`annotations/` can be written, and only at the path the anchor dictates; bodies over `MAX_BODY`
are refused. A save carries the hash of the text the editor started from: if the file changed
since, the save is refused with 409 and the editor keeps the user's text — no update is lost.
"""
from __future__ import annotations

import hashlib
import html
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import nh3
import yaml
from markdown_it import MarkdownIt

from .anchors import AnchorError, resolve
from .annotations import ANNOTATIONS, TOURS, note_path, note_template
from .check import check_note_text
from .files import write_atomic
from .markdown import split_front_matter
from .symbols import SymbolIndex

MAX_BODY = 256 * 1024
Rebuild = Callable[[str], str | None]  # rebuilds after a save of `rel`; returns the page URL to show


def render_untrusted(text: str) -> str:
    """Markdown from a stranger as safe HTML: raw HTML is escaped by the parser, then nh3 cleans."""
    rendered = MarkdownIt("commonmark", {"html": False}).render(text)
    return nh3.clean(rendered, url_schemes={"http", "https", "mailto"})


def page_of(root: Path, rel: str) -> str | None:
    """The site URL showing the note or tour at `rel`: a note on its source page, at its symbol."""
    if rel.startswith(f"{ANNOTATIONS}/{TOURS}/"):
        return "/" + quote(rel.removesuffix(".md")) + ".html"
    try:
        front, _, _ = split_front_matter((root / rel).read_text(encoding="utf-8"))
        anchor = yaml.safe_load(front or "")["anchor"]
    except (OSError, yaml.YAMLError, TypeError, KeyError):
        return None
    return code_url(str(anchor))


def code_url(anchor: str) -> str:
    """The site URL of an anchor's code: its source page, at the symbol."""
    path, _, qualname = anchor.partition("::")
    return f"/source/{quote(path)}.html" + (f"#{quote(qualname, safe='.:[]')}" if qualname else "")


def site_rebuild(root: Path, out: Path, only: list[str] = ()) -> Rebuild:
    """The `Wiki.rebuild` of `serve --edit`: an incremental wiki-mode build of `out`, one at a time.

    Saves of different notes may arrive together; Sphinx builds of one folder must not overlap, and
    the second build would redo the first one's work anyway, so they queue on a lock. A build with
    content problems still writes its pages (and prints the problems), but gets no link: the page
    may not show the note yet."""
    lock = threading.Lock()

    def rebuild(rel: str) -> str | None:
        from .site.cli import build
        with lock:
            status = build(root, out, only=list(only), quiet=True, wiki=True)
        return page_of(root, rel) if status == 0 else None

    return rebuild


def digest(text: str | None) -> str:
    return "new" if text is None else hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Wiki:
    """The state the handlers share: where to write, what to check against, how to rebuild."""

    root: Path
    index: SymbolIndex
    site_dir: Path
    rebuild: Rebuild
    token: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.token = self.token or secrets.token_urlsafe(24)

    def target(self, query: dict[str, list[str]]) -> tuple[str, str]:
        """(repository-relative path, template for a new file) from `anchor=` or `tour=`; ValueError if bad."""
        if "tour" in query:
            slug = query["tour"][0]
            if not slug.replace("-", "").isalnum() or not slug.islower():
                raise ValueError("a tour slug is lowercase letters, digits and dashes")
            template = f"---\ntour: {slug}\ntitle: \n---\nOpening prose.\n"
            return f"{ANNOTATIONS}/{TOURS}/{slug}.md", template
        anchor = (query.get("anchor") or [""])[0]
        try:
            found = resolve(self.index, anchor)
        except AnchorError as error:
            raise ValueError(str(error)) from None
        if found.symbol is None:
            raise ValueError("a note explains one symbol: the anchor needs ::QUALNAME")
        return note_path(found.symbol.anchor), note_template(found.symbol.anchor, found.symbol.fingerprint)

    def contained(self, rel: str) -> Path:
        """The absolute path of `rel`, refusing anything that resolves outside annotations/."""
        base = (self.root / ANNOTATIONS).resolve()
        path = (self.root / rel).resolve()
        if base not in path.parents or path.suffix != ".md":
            raise PermissionError(f"{rel}: only Markdown files under {ANNOTATIONS}/ can be edited")
        return path

    def save(self, rel: str, text: str, base: str) -> tuple[int, dict]:
        path = self.contained(rel)
        found = check_note_text(self.root, self.index, rel, text)
        problems = [p for p in found if p.severity == "error"]
        if problems:
            return HTTPStatus.UNPROCESSABLE_ENTITY, {"problems": [p.render() for p in problems]}
        with self.lock:
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if digest(current) != base:
                return HTTPStatus.CONFLICT, {"problems": [
                    f"{rel}: someone saved this note after you opened it; nothing was written. "
                    "Your text is still in the editor: copy it, reload, and merge."]}
            write_atomic(path, text)
        page = self.rebuild(rel)
        # Warnings (drift) do not block a save, as in `vmastery check`; CI's --strict refuses them.
        warnings = [p.render() for p in found if p.severity != "error"]
        return HTTPStatus.OK, {"saved": rel, "base": digest(text), "page": page, "warnings": warnings}


class Handler(SimpleHTTPRequestHandler):
    wiki: Wiki  # set on the subclass made by `make_server`

    def log_message(self, format: str, *args) -> None:  # quiet: one line per save is printed instead
        pass

    def _host_ok(self) -> bool:
        host = self.headers.get("Host", "")
        port = self.server.server_address[1]
        return host in {f"127.0.0.1:{port}", f"localhost:{port}"}

    def _send(self, status: int, body: str, kind: str = "application/json") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Security-Policy",
                         "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._send(status, json.dumps({"problems": [message]}))

    def do_GET(self) -> None:
        if not self._host_ok():
            return self._error(HTTPStatus.FORBIDDEN, "unknown Host header; open the wiki at 127.0.0.1")
        url = urlsplit(self.path)
        if url.path != "/edit":
            return super().do_GET()  # the built site, from site_dir
        try:
            rel, template = self.wiki.target(parse_qs(url.query))
            path = self.wiki.contained(rel)
        except (ValueError, PermissionError) as error:
            return self._send(HTTPStatus.BAD_REQUEST, _page("Cannot edit", f"<p>{html.escape(str(error))}</p>"),
                              "text/html")
        current = path.read_text(encoding="utf-8") if path.exists() else None
        query = parse_qs(url.query)
        back = code_url(query["anchor"][0]) if "anchor" in query else "/" + rel.removesuffix(".md") + ".html"
        self._send(HTTPStatus.OK, _editor(rel, current if current is not None else template,
                                          digest(current), self.wiki.token, back), "text/html")

    def do_POST(self) -> None:
        port = self.server.server_address[1]
        origin = self.headers.get("Origin", "")
        if not self._host_ok() or origin not in {f"http://127.0.0.1:{port}", f"http://localhost:{port}"}:
            return self._error(HTTPStatus.FORBIDDEN, "cross-site request refused")
        if self.headers.get("X-Wiki-Token") != self.wiki.token:
            return self._error(HTTPStatus.FORBIDDEN, "missing or wrong wiki token; reload the editor")
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            return self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send JSON")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"a note is at most {MAX_BODY // 1024} KiB")
        try:
            payload = json.loads(self.rfile.read(length).decode("utf-8"))
            text, rel = str(payload["text"]), str(payload.get("path", ""))
        except (ValueError, KeyError, UnicodeDecodeError):
            return self._error(HTTPStatus.BAD_REQUEST, "malformed request: expected JSON with 'text'")
        if self.path == "/preview":  # the body as the page shows it; the front matter is not prose
            body = split_front_matter(text)[1]
            return self._send(HTTPStatus.OK, json.dumps({"html": render_untrusted(body)}))
        if self.path != "/save":
            return self._error(HTTPStatus.NOT_FOUND, "no such endpoint")
        try:
            status, body = self.wiki.save(rel, text, str(payload.get("base", "")))
        except PermissionError as error:
            return self._error(HTTPStatus.FORBIDDEN, str(error))
        if status == HTTPStatus.OK:
            print(f"saved {rel}")
        self._send(status, json.dumps(body))


def make_server(wiki: Wiki, port: int = 0) -> ThreadingHTTPServer:
    """A server bound to 127.0.0.1 (port 0: any free port); call serve_forever() on it."""
    handler = type("WikiHandler", (Handler,), {"wiki": wiki})
    directory = str(wiki.site_dir)

    class Server(ThreadingHTTPServer):
        def finish_request(self, request, client_address):
            handler(request, client_address, self, directory=directory)

    return Server(("127.0.0.1", port), handler)


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>")


def _editor(rel: str, text: str, base: str, token: str, back: str = "/") -> str:
    state = json.dumps({"path": rel, "base": base, "token": token}).replace("<", "\\u003c")
    return _page(f"Edit {rel}", f"""
<h1>Editing <code>{html.escape(rel)}</code></h1>
<p class="hint">Markdown; see annotations/README.md. Saving runs the same checks as <code>vmastery check</code>.
<a href="{html.escape(back, quote=True)}">Back to the page</a></p>
<div class="panes"><textarea id="text" spellcheck="false">{html.escape(text)}</textarea>
<div id="preview" class="preview"></div></div>
<p><button id="save">Save</button> <span id="status" role="status"></span></p>
<ul id="problems"></ul>
<script>
const state = {state};
const text = document.getElementById("text");
async function post(url, body) {{
  const response = await fetch(url, {{method: "POST", headers: {{"Content-Type": "application/json",
    "X-Wiki-Token": state.token}}, body: JSON.stringify(body)}});
  return [response.status, await response.json()];
}}
async function preview() {{
  const [, body] = await post("/preview", {{text: text.value, path: state.path}});
  document.getElementById("preview").innerHTML = body.html;  // sanitised by the server
}}
function show(problems) {{
  const list = document.getElementById("problems");
  list.replaceChildren(...problems.map(p => {{ const li = document.createElement("li");
    li.textContent = p; return li; }}));
}}
text.addEventListener("input", () => {{ clearTimeout(window.pending); window.pending = setTimeout(preview, 250); }});
document.getElementById("save").addEventListener("click", async () => {{
  const label = document.getElementById("status");
  label.textContent = "Checking, saving and rebuilding the page...";
  const [status, body] = await post("/save", {{text: text.value, path: state.path, base: state.base}});
  if (status === 200) {{
    state.base = body.base; show(body.warnings || []);
    label.textContent = "Saved.";
    if (body.page) {{ const a = document.createElement("a"); a.href = body.page; a.id = "rebuilt";
      a.textContent = "See the rebuilt page"; label.append(" ", a); }}
    else label.textContent = "Saved; the site was not rebuilt cleanly (see the terminal).";
  }} else {{ label.textContent = "Not saved (" + status + ")"; show(body.problems || []); }}
}});
preview();
</script>""")


STYLE = """body{font:15px/1.5 system-ui,sans-serif;margin:1.5rem;max-width:110rem}
.panes{display:flex;gap:1rem}textarea{flex:1;min-height:32rem;font:13px/1.4 monospace}
.preview{flex:1;border:1px solid #ccc;padding:0 1rem;overflow:auto;max-height:34rem}
#problems li{color:#a00;white-space:pre-wrap;font-family:monospace}.hint{color:#555}
@media (max-width:800px){.panes{flex-direction:column}}"""
