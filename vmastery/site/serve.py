"""Preview the built site on http://127.0.0.1:PORT (localhost only); build it first with `vmastery site`."""
from __future__ import annotations

import argparse
import functools
import http.server
from pathlib import Path

from ..errors import EXIT_OK, VmasteryError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None, help="the built site (default: ROOT/_build/site)")
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000; 0 picks one)")
    parser.add_argument("--edit", action="store_true", help="wiki mode: edit notes in the browser (not built yet)")


def run(args: argparse.Namespace) -> int:
    if args.edit:
        raise VmasteryError("`serve --edit` (the wiki mode of issue 8) is not built yet; edit notes under "
                            "annotations/ and run `vmastery site`")
    out = (args.out or args.root / "_build" / "site").resolve()
    if not (out / "index.html").exists():
        raise VmasteryError(f"no site in {out}\n    fix: run `vmastery site` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    with http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler) as server:
        print(f"serving {out} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return EXIT_OK
