"""Benchmark the annotated-source site on this machine; raw results go to benchmarks/site/results.json.

    python benchmarks/site/bench.py                     # everything (about 3 minutes on 2 cores)
    python benchmarks/site/bench.py --screenshots-only  # only the two screenshots, from _build/site

Runs on a scratch copy of the repository's Markdown (upstream/ is linked, not copied) so that editing
a note for the incremental case never touches the real annotations/. Steps:

1. cold full build: no symbol-index cache, no colouring cache, no output (what a fresh clone pays);
2. full build with warm caches (what CI pays when .cache/ is restored), then a no-op rebuild;
3. incremental rebuild after editing one note (checks the edit shows on the source page);
4. output size;
5. first paint of the largest page (vllm/v1/worker/gpu_model_runner.py) in headless Chromium, 5 loads;
6. wide and narrow screenshots of the most annotated source page, saved beside this script.
"""
from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from vmastery.files import write_atomic

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SCRATCH = REPO / "_build" / "bench"
LARGEST = "vllm/v1/worker/gpu_model_runner.py"
CHROMIUM = "/usr/bin/chromium"


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def make_scratch() -> Path:
    shutil.rmtree(SCRATCH, ignore_errors=True)
    root = SCRATCH / "repo"
    root.mkdir(parents=True)
    (root / "upstream").symlink_to(REPO / "upstream")
    for name in ("annotations", "course", "labs"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.py", "*.pyc"))
    for name in ("README.md", "UPSTREAM_PIN.md", "PUBLISHING.md", "tracepoints/reference/summary.json"):
        if (REPO / name).exists():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
    return root


def build(root: Path, label: str, results: dict) -> None:
    before_load, before = load(), resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [sys.executable, "-m", "vmastery.cli", "--root", str(root), "site", "-q"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    results[label] = {"wall_s": round(wall, 2), "cpu_s": round(after.ru_utime + after.ru_stime
                                                                - before.ru_utime - before.ru_stime, 2),
                      "exit": done.returncode, "load_before": before_load, "load_after": load(),
                      "warnings": done.stderr.count("WARNING"), "command": " ".join(command[1:])}
    print(f"{label}: {results[label]}", flush=True)
    if done.returncode:
        print(done.stderr[-3000:], file=sys.stderr)


def notes_per_page(root: Path) -> list[tuple[int, str]]:
    counts: dict[str, int] = {}
    for note in (root / "annotations").rglob("*.md"):
        rel = note.relative_to(root / "annotations").as_posix()
        if rel.startswith(("vllm/", "csrc/")):
            path = rel.rsplit("/", 1)[0]
            counts[path] = counts.get(path, 0) + 1
    return sorted(((n, p) for p, n in counts.items()), reverse=True)


def first_paint(out: Path, results: dict) -> None:
    from playwright.sync_api import sync_playwright

    url = (out / "source" / f"{LARGEST}.html").as_uri()
    runs = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for _ in range(5):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            page.goto(url, wait_until="load")
            runs.append(page.evaluate("""() => {
                const paint = Object.fromEntries(performance.getEntriesByType('paint').map(e => [e.name, e.startTime]));
                const nav = performance.getEntriesByType('navigation')[0];
                return {first_paint_ms: paint['first-paint'], first_contentful_paint_ms: paint['first-contentful-paint'],
                        dom_content_loaded_ms: nav.domContentLoadedEventEnd, load_ms: nav.loadEventEnd,
                        lines: document.querySelectorAll('.vm-code .ln').length};
            }"""))
            context.close()
        browser.close()
    results["largest_page"] = {
        "page": f"source/{LARGEST}.html", "bytes": (out / "source" / f"{LARGEST}.html").stat().st_size, "runs": runs,
        **{f"median_{key}": round(statistics.median(r[key] for r in runs), 1)
           for key in ("first_paint_ms", "first_contentful_paint_ms", "dom_content_loaded_ms", "load_ms")}}
    print(f"largest page: {results['largest_page']}", flush=True)


def screenshots(root: Path, out: Path, results: dict) -> None:
    from playwright.sync_api import sync_playwright

    ranked = notes_per_page(root)
    if not ranked:
        return
    path = ranked[0][1]
    first_note = sorted((root / "annotations" / path).glob("*.md"))[0].stem.replace("..", "::")
    url = (out / "source" / f"{path}.html").as_uri()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for name, width in (("wide", 1280), ("narrow", 400)):
            page = browser.new_page(viewport={"width": width, "height": 800})
            page.goto(url, wait_until="load")
            page.locator(f'[id="{first_note}"]').first.scroll_into_view_if_needed()
            page.evaluate("document.querySelectorAll('.vm-code pre').forEach(pre => pre.scrollLeft = 0)")
            page.wait_for_timeout(200)
            page.screenshot(path=str(HERE / f"{name}.png"))
            page.close()
        browser.close()
    results["screenshots"] = {"page": f"source/{path}.html#{first_note}", "files": ["wide.png", "narrow.png"]}


def main() -> int:
    if sys.argv[1:] == ["--screenshots-only"]:  # from the site already built in _build/site
        results = json.loads((HERE / "results.json").read_text())
        screenshots(REPO, REPO / "_build" / "site", results)
        write_atomic(HERE / "results.json", json.dumps(results, indent=1) + "\n")
        return 0
    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cpus": os.cpu_count(),
                     "cpu": platform.processor() or platform.machine(), "python": platform.python_version()}
    try:
        results["cpu"] = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if "model name" in line)
    except (OSError, StopIteration):
        pass
    root = make_scratch()
    out = root / "_build" / "site"
    build(root, "full_cold", results)
    for folder in (out, out.with_name("site-src"), out.with_name("site-doctrees")):
        shutil.rmtree(folder, ignore_errors=True)
    build(root, "full_warm_cache", results)
    build(root, "noop_rebuild", results)
    ranked = notes_per_page(root)
    if ranked:
        path = ranked[0][1]
        note = sorted((root / "annotations" / path).glob("*.md"))[0]
        marker = f"Benchmark edit {int(time.time())}."
        note.write_text(note.read_text(encoding="utf-8").rstrip("\n") + f"\n\n{marker}\n", encoding="utf-8")
        build(root, "incremental_one_note", results)
        shown = marker in (out / "source" / f"{path}.html").read_text(encoding="utf-8")
        results["incremental_one_note"].update(note=note.relative_to(root).as_posix(), edit_shown_on_source_page=shown)
    files = [p for p in out.rglob("*") if p.is_file()]
    results["output"] = {"bytes": sum(p.stat().st_size for p in files), "files": len(files),
                         "source_pages": len(list((out / "source").rglob("*.py.html")))
                         + len([p for p in (out / "source").rglob("*.html") if not p.name.endswith((".py.html", "index.html"))]),
                         "source_bytes": sum(p.stat().st_size for p in (out / "source").rglob("*.html"))}
    print(f"output: {results['output']}", flush=True)
    first_paint(out, results)
    try:
        screenshots(root, out, results)
    except Exception as error:  # a screenshot is evidence, not a figure: keep the numbers
        results["screenshots"] = {"error": repr(error)[:500]}
    write_atomic(HERE / "results.json", json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
