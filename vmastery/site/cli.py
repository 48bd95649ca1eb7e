"""Build the annotated-source site: every upstream file, the notes beside their code, tours, course.

The site is static HTML (it works from any static host and from file://) written to _build/site.
Rebuilds are incremental: only changed documents and the source pages they affect are written.
`--only vllm/v1/core` restricts source pages to some packages, for quick previews and tests.
Exit 0 built, 1 the content has problems (e.g. an anchor that does not resolve), 2 could not run.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

from ..errors import EXIT_OK, EXIT_PROBLEMS, VmasteryError

SITE = Path(__file__).resolve().parents[2] / "site"  # conf.py, templates and static files
LINKED = ["course", "labs", "annotations", "README.md", "UPSTREAM_PIN.md", "PUBLISHING.md"]
PHASE_ORDER = ["00-guide", "01-", "02-mini-build", "EXERCISES", "INTERVIEW", "CHEATSHEET"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: ROOT/_build/site)")
    parser.add_argument("--only", action="append", default=[], metavar="PREFIX",
                        help="source pages only for files under PREFIX (repeatable), e.g. vllm/v1/core")
    parser.add_argument("--clean", action="store_true", help="forget earlier builds and write everything")
    parser.add_argument("--repo-url", default=None, metavar="URL",
                        help="the repository on its host, e.g. https://github.com/OWNER/REPO: adds 'Edit this note' "
                             "and 'Annotate this symbol' links to its web editor (default: vmastery_repo_url in "
                             "site/conf.py; none there, no links)")
    parser.add_argument("--branch", default=None, help="the branch those links edit (default: main)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only warnings and errors")


def run(args: argparse.Namespace) -> int:
    out = (args.out or args.root / "_build" / "site").resolve()
    return build(args.root, out, only=args.only, clean=args.clean, quiet=args.quiet, repo_url=args.repo_url,
                 branch=args.branch)


def build(root: Path, out: Path, only: list[str] = (), clean: bool = False, quiet: bool = False,
          repo_url: str | None = None, branch: str | None = None, wiki: bool = False) -> int:
    """Build the site into `out`; 0 built, 1 content problems. `wiki`: edit links lead to `serve --edit`."""
    from sphinx.application import Sphinx
    from sphinx.errors import SphinxError
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    if not (root / "upstream" / "vllm").is_dir():
        raise VmasteryError("upstream/ is missing.\n    fix: run `vmastery fetch` (see UPSTREAM_PIN.md)")
    stage, doctrees = out.with_name(out.name + "-src"), out.with_name(out.name + "-doctrees")
    if clean:
        for folder in (out, doctrees):
            shutil.rmtree(folder, ignore_errors=True)
    stage_sources(root, stage)
    overrides = {"vmastery_root": str(root), "vmastery_only": list(only), "vmastery_wiki": wiki}
    overrides |= {k: v for k, v in (("vmastery_repo_url", repo_url), ("vmastery_branch", branch)) if v is not None}
    # docutils keeps roles and directives in globals: the namespace scopes them to this build, so
    # `serve --edit`, which builds again after every save, starts each build clean.
    with patch_docutils(str(SITE)), docutils_namespace():
        app = Sphinx(str(stage), str(SITE), str(out), str(doctrees), "html", confoverrides=overrides,
                     status=None if quiet else sys.stdout, warning=sys.stderr, freshenv=clean, keep_going=True)
        try:
            app.build()
        except SphinxError as error:
            print(f"vmastery site: {error}", file=sys.stderr)
            return EXIT_PROBLEMS
    if app.statuscode == 0 and not quiet:
        print(f"site: {out / 'index.html'}")
    return EXIT_OK if app.statuscode == 0 else EXIT_PROBLEMS


def stage_sources(root: Path, stage: Path) -> None:
    """The Sphinx source folder: links to the project's Markdown plus generated landing and phase pages."""
    stage.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        link, target = stage / name, root / name
        if link.is_symlink() and link.resolve() == target.resolve() and target.exists():
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        if target.exists():
            link.symlink_to(target.resolve(), target_is_directory=target.is_dir())
    phases = []
    for folder in sorted((root / "course").glob("phase-*")):
        if folder.is_dir():
            phases.append(folder.name)
            _write_if_changed(stage / "phases" / f"{folder.name}.md", phase_page(root, folder))
    for stale in (stage / "phases").glob("*.md") if (stage / "phases").is_dir() else []:
        if stale.stem not in phases:
            stale.unlink()
    _write_if_changed(stage / "index.md", landing_page(root, phases))


def phase_page(root: Path, folder: Path) -> str:
    pages = sorted(folder.glob("*.md"), key=lambda p: (next((i for i, k in enumerate(PHASE_ORDER)
                                                                if p.stem.startswith(k)), 99), p.stem))
    number = re.match(r"phase-(\d+)", folder.name)
    slug = folder.name.split("-", 2)[-1].replace("-", " ")
    title = f"Phase {int(number.group(1))}: {slug}" if number else folder.name
    entries = [f"/course/{folder.name}/{p.stem}" for p in pages]
    if (root / "annotations" / "tours" / f"{folder.name}.md").exists():
        entries.append(f"/annotations/tours/{folder.name}")
    if number:
        for lab in sorted((root / "labs").glob(f"phase-{number.group(1)}/*/README.md")):
            entries.append(f"/labs/{lab.parent.parent.name}/{lab.parent.name}/README")
    toctree = "\n".join(entries)
    return f"# {title}\n\n```{{toctree}}\n:maxdepth: 1\n\n{toctree}\n```\n"


def landing_page(root: Path, phases: list[str]) -> str:
    intro = (SITE / "index.md").read_text(encoding="utf-8")
    sections = []
    if phases:
        sections.append(("Course", [f"phases/{p}" for p in phases]))
    phase_tours = set(phases)
    tours = [p.stem for p in sorted((root / "annotations" / "tours").glob("*.md")) if p.stem not in phase_tours]
    if tours:
        sections.append(("Tours", [f"annotations/tours/{t}" for t in tours]))
    reference = [name for name in ("README", "UPSTREAM_PIN", "labs/README", "annotations/README", "PUBLISHING")
                 if (root / f"{name}.md").exists()]
    sections.append(("Reference", reference))
    body = "".join(f"\n```{{toctree}}\n:caption: {caption}\n:maxdepth: 1\n\n" + "\n".join(entries) + "\n```\n"
                   for caption, entries in sections if entries)
    return intro + body


def _write_if_changed(path: Path, text: str) -> None:
    """Unchanged generated pages keep their mtime, so Sphinx does not re-read them."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
