#!/usr/bin/env python3
"""Prepare (here) and unpack (on the GPU box) an offline bundle to run real vLLM 0.22.1 there.

The lent GPU box has torch 2.11 (CUDA 13), Python 3.12 and no network. vLLM's python-only build is
"pinned source + the release wheel's compiled extensions": so the bundle holds

- `site/`: the pinned `upstream/vllm` Python tree, overlaid with the compiled extensions of the
  vllm 0.22.1 wheel (and any file the wheel has that the sdist lacks), the wheel's dist-info, and
  vLLM's missing runtime dependencies for cp312, unpacked (so xz compresses source text, not zips);
- a `vllm_mastery` dist-info whose only content is the `vllm.general_plugins` entry point, so vLLM
  finds our plugin when the repository root is on PYTHONPATH;
- `model/`: a Llama config and a tokenizer trained here with `tokenizers` (weights: load_format=dummy).

It is written as `.whl/bundle/part-NN` pieces of at most --part-mb MB (the device tool moves at most
64 MiB per call) plus a SHA-256 manifest. Usage:

  python tools/gpu_bundle.py download       # here: the vllm wheel + vLLM's dependencies for cp312
  python tools/gpu_bundle.py build          # here: .whl/bundle/part-NN + manifest.json
  python tools/gpu_bundle.py unpack DIR     # there, once every part is in DIR: writes DIR/site, DIR/model
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WHL = ROOT / ".whl"
VLLM_WHEEL = "vllm-0.22.1-cp38-abi3-manylinux_2_28_x86_64.whl"
VLLM_SHA256 = "cc50536c93827a577b2bc45f038b8b866c31ed220631008521a337c9b2558f4d"
# Compiled extensions a dense model needs on Hopper (seen working; see shared/gpu-box-notes.md).
KEEP_SO = {"vllm/_C.abi3.so", "vllm/_C_stable_libtorch.abi3.so", "vllm/_flashmla_C.abi3.so",
           "vllm/_flashmla_extension_C.abi3.so", "vllm/cumem_allocator.abi3.so", "vllm/spinloop.abi3.so",
           "vllm/vllm_flash_attn/_vllm_fa3_C.abi3.so"}
# Already on the box, with everything they depend on (torch's, transformers' and aiohttp's closures):
# shipping them would shadow the box's own, matched builds.
ON_BOX = set("""torch triton transformers tokenizers numba llvmlite aiohttp protobuf msgpack numpy sympy
mpmath networkx jinja2 markupsafe filelock fsspec typing_extensions setuptools huggingface_hub hf_xet
safetensors regex pyyaml requests urllib3 idna certifi charset_normalizer tqdm packaging aiosignal
frozenlist multidict yarl propcache aiohappyeyeballs attrs opencv_python_headless""".split())
PRUNE = ("viztracer/web_dist", "pycountry/locales")  # viewer assets and translations: not needed to run


def _norm(name: str) -> str:
    return name.replace("-", "_").replace(".", "_").lower()


BOX_TAGS = ["--python-version", "3.12", "--implementation", "cp", "--abi", "cp312", "--abi", "abi3",
            "--abi", "none", "--only-binary=:all:"] + [
    a for x in [*(f"manylinux_2_{v}_x86_64" for v in range(5, 40)), "manylinux2014_x86_64",
                "manylinux1_x86_64", "linux_x86_64", "any"] for a in ("--platform", x)]


def download() -> None:
    """Resolve vLLM's requirements for the box's Python with pip, then fetch the wheels it needs."""
    pip = [sys.executable, "-m", "pip"]
    WHL.mkdir(exist_ok=True)
    subprocess.run(pip + ["download", "vllm==0.22.1", "--no-deps", "-d", str(WHL)] + BOX_TAGS, check=True)
    report = WHL / "resolve.json"
    subprocess.run(pip + ["install", "--dry-run", "--ignore-installed", "--report", str(report),
                          "--target", str(WHL / "dry-run"), "-r", str(ROOT / "upstream/requirements/common.txt"),
                          "viztracer>=1.1,<2", "mistral_common[image]>=1.11.2", "torch==2.11.0"] + BOX_TAGS,
                   check=True)
    wanted = [f"{i['metadata']['name']}=={i['metadata']['version']}"
              for i in json.loads(report.read_text())["install"]
              if _norm(i["metadata"]["name"]) not in ON_BOX and not i["metadata"]["name"].startswith(("nvidia-", "cuda-"))]
    subprocess.run(pip + ["download", "--no-deps", "-d", str(WHL / "deps")] + wanted + BOX_TAGS, check=True)


def build(part_mb: int) -> None:
    wheel = WHL / VLLM_WHEEL
    if not wheel.exists():
        sys.exit(f"missing {wheel}: pip download vllm==0.22.1 --no-deps --only-binary=:all: "
                 f"--python-version 3.12 --platform manylinux_2_28_x86_64 -d .whl/")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != VLLM_SHA256:
        sys.exit(f"{wheel}: sha256 {digest} is not the pinned release's {VLLM_SHA256}")
    stage = WHL / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    site = stage / "site"
    site.mkdir(parents=True)
    deps = sorted((WHL / "deps").glob("*.whl"))
    shipped = [d for d in deps if _norm(d.name.split("-")[0]) not in ON_BOX]
    for dep in shipped:
        zipfile.ZipFile(dep).extractall(site)
    upstream = {str(p.relative_to(ROOT / "upstream")) for p in (ROOT / "upstream" / "vllm").rglob("*") if p.is_file()}
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            name = info.filename
            if name.endswith(".so") and name not in KEEP_SO:
                continue
            if name.startswith("vllm/") and name in upstream:
                continue  # the pinned source wins: same commit, and it is what we annotate
            if name.startswith(("vllm/", "vllm-0.22.1.dist-info/")):
                z.extract(info, site)
    shutil.copytree(ROOT / "upstream" / "vllm", site / "vllm", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for prune in PRUNE:
        shutil.rmtree(site / prune, ignore_errors=True)
    info = site / "vllm_mastery-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: vllm-mastery\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(
        "[vllm.general_plugins]\nvmastery_tracepoints = vmastery.tracing.plugin:register\n")
    make_model(stage / "model")
    out = WHL / "bundle"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    archive = out / "bundle.tar.xz"
    subprocess.run(f"tar -C {stage} -cf - site model | xz -T2 -6 > {archive}", shell=True, check=True)
    data = archive.read_bytes()
    archive.unlink()
    size = part_mb * 1_000_000
    manifest = {"sha256": hashlib.sha256(data).hexdigest(), "parts": [], "shipped_wheels": [d.name for d in shipped]}
    for i in range(0, len(data), size):
        part = out / f"part-{i // size:02d}"
        part.write_bytes(data[i:i + size])
        manifest["parts"].append(part.name)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print(f"{len(data) / 1e6:.1f} MB in {len(manifest['parts'])} parts under {out}; "
          f"{len(shipped)} dependency wheels shipped, {len(deps) - len(shipped)} left to the box")


def make_model(path: Path) -> None:
    """A Llama-shaped config (dummy weights) and a BPE tokenizer trained on local text."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, PreTrainedTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    LlamaConfig(hidden_size=2048, intermediate_size=5632, num_hidden_layers=16, num_attention_heads=32,
                num_key_value_heads=8, vocab_size=8192, max_position_embeddings=4096, torch_dtype="bfloat16",
                bos_token_id=1, eos_token_id=2).save_pretrained(path)
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = [p.read_text(errors="ignore") for p in sorted((ROOT / "upstream" / "docs").rglob("*.md"))[:400]]
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=8192, special_tokens=["<unk>", "<s>", "</s>"]))
    PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>"
                            ).save_pretrained(path)


def unpack(src: Path, dest: Path) -> None:
    manifest = json.loads((src / "manifest.json").read_text())
    data = b"".join((src / name).read_bytes() for name in manifest["parts"])
    digest = hashlib.sha256(data).hexdigest()
    if digest != manifest["sha256"]:
        sys.exit(f"bundle corrupt or incomplete: sha256 {digest} != {manifest['sha256']}")
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-C", str(dest), "-xJf", "-"], input=data, check=True)
    print(f"unpacked into {dest}: PYTHONPATH={dest / 'site'}, model {dest / 'model'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("download")
    b = sub.add_parser("build")
    b.add_argument("--part-mb", type=int, default=51)
    u = sub.add_parser("unpack")
    u.add_argument("src", type=Path)
    u.add_argument("dest", type=Path, nargs="?")
    args = parser.parse_args()
    if args.cmd == "download":
        download()
    elif args.cmd == "build":
        build(args.part_mb)
    else:
        unpack(args.src, args.dest or args.src)


if __name__ == "__main__":
    main()
