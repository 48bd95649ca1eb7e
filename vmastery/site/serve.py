"""Serve the built site on http://127.0.0.1:PORT (localhost only); `--edit` adds the wiki editor.

Plain `serve` shows what `vmastery site` built. `serve --edit` first builds the site in wiki mode
into its own folder (`_build/wiki`: its edit links lead to the local editor, so it must not replace
the publishable build), then serves it with `vmastery.wiki`: every "Edit this note" and "Annotate
this symbol" opens an editor with live preview, and a save is checked, written and followed by an
incremental rebuild of the page.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import sys
from pathlib import Path

from ..errors import EXIT_OK, VmasteryError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None,
                        help="the built site (default: ROOT/_build/site; with --edit ROOT/_build/wiki)")
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000; 0 picks one)")
    parser.add_argument("--edit", action="store_true",
                        help="wiki mode: edit notes in the browser; saves are checked, written and rebuilt")
    parser.add_argument("--only", action="append", default=[], metavar="PREFIX",
                        help="with --edit: source pages only for files under PREFIX (repeatable), for a quick start")


def run(args: argparse.Namespace) -> int:
    if args.edit:
        server = wiki_server(args.root, (args.out or args.root / "_build" / "wiki").resolve(), args.port,
                             getattr(args, "only", []))
        what = "the wiki (edit links open the editor; Ctrl-C stops)"
    else:
        out = (args.out or args.root / "_build" / "site").resolve()
        if not (out / "index.html").exists():
            raise VmasteryError(f"no site in {out}\n    fix: run `vmastery site` first")
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
        what = f"{out} (Ctrl-C stops)"
    with server:
        print(f"serving {what} at http://127.0.0.1:{server.server_address[1]}/")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return EXIT_OK


def wiki_server(root: Path, out: Path, port: int = 8000, only: list[str] = ()) -> http.server.ThreadingHTTPServer:
    """Build the wiki-mode site into `out` (incrementally) and return its server, not yet serving."""
    from ..symbols import index_for
    from ..wiki import Wiki, make_server, site_rebuild
    from .cli import build

    print(f"building the wiki-mode site in {out} ...")
    if build(root, out, only=list(only), quiet=True, wiki=True) != 0:
        print("the site has content problems (listed above); serving what was built", file=sys.stderr)
    if not (out / "index.html").exists():
        raise VmasteryError(f"the wiki-mode build wrote no site to {out}; see the errors above")
    wiki = Wiki(root, index_for(root, progress=False), out, rebuild=site_rebuild(root, out, only))
    return make_server(wiki, port)
