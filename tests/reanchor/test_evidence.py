"""Round-2 evidence: a class split into a base and variants, ties broken by literals, prose ignored."""
from __future__ import annotations

import textwrap
from pathlib import Path

from vmastery.reanchor.evidence import class_bases, identifiers, overlap
from vmastery.reanchor.match import Matcher
from vmastery.symbols import SymbolIndex

OLD_BACKEND = '''
class SparseBackend:
    """One backend for every GPU generation."""

    @staticmethod
    def get_name() -> str:
        return "SPARSE"

    @classmethod
    def supports_capability(cls, capability) -> bool:
        return capability.major == 10

    @classmethod
    def get_impl_cls(cls):
        return SparseImpl

    @staticmethod
    def is_sparse() -> bool:
        return True

    @staticmethod
    def page_count(total: int, per_page: int) -> int:
        return Counter(total // per_page for _ in range(3)).most_common(1)[0][1]

    def describe_layout(self, layers: list[str], pages: dict[str, int]) -> list[str]:
        # deleted in the new tree: most of the old class's code has no heir
        lines = []
        for index, layer in enumerate(sorted(layers)):
            count = pages.get(layer, 0)
            if count <= 0:
                lines.append(f"{index:>3} {layer}: no pages yet")
                continue
            share = count / max(sum(pages.values()), 1)
            lines.append(f"{index:>3} {layer}: {count} pages ({share:.0%})")
        lines.append(f"{len(layers)} layers, {sum(pages.values())} pages in all")
        return lines
'''

NEW_BACKEND = '''
class _SparseBackendBase:
    @staticmethod
    def get_name() -> str:
        return "SPARSE"

    @staticmethod
    def is_sparse() -> bool:
        return True

    @staticmethod
    def pages_per_bucket(total: int, per_page: int) -> int:
        """How many pages one bucket holds: a docstring added, the code unchanged."""
        return Counter(total // per_page for _ in range(3)).most_common(1)[0][1]


class SparseBackendGen10(_SparseBackendBase):
    @classmethod
    def supports_capability(cls, capability) -> bool:
        return capability.major == 10

    @classmethod
    def get_impl_cls(cls):
        return SparseImplGen10


class SparseBackendGen12(_SparseBackendBase):
    @classmethod
    def supports_capability(cls, capability) -> bool:
        return capability.major == 12

    @classmethod
    def get_impl_cls(cls):
        return SparseImplGen12
'''


def _tree(root: Path, text: str) -> SymbolIndex:
    path = root / "vllm/backends/sparse.py"
    path.parent.mkdir(parents=True)
    path.write_text(textwrap.dedent(text))
    return SymbolIndex.build(root, None, progress=False)


def test_class_split_goes_to_the_base_and_members_to_their_heirs(tmp_path):
    m = Matcher(_tree(tmp_path / "old", OLD_BACKEND), _tree(tmp_path / "new", NEW_BACKEND))
    p = "vllm/backends/sparse.py::"
    cls = m.decide(p + "SparseBackend")
    assert (cls.state, cls.new) == ("renamed", p + "_SparseBackendBase")
    assert any("split" in e and "SparseBackendGen10" in e for e in cls.evidence)
    assert m.decide(p + "SparseBackend.describe_layout").state == "orphaned"
    # each variant returns its own implementation: nothing tells which one is the old one's heir
    assert m.decide(p + "SparseBackend.get_impl_cls").state == "orphaned"
    assert m.decide(p + "SparseBackend.is_sparse").new == p + "_SparseBackendBase.is_sparse"
    # both variants define it with the same token shape; the literal 10 decides
    assert m.decide(p + "SparseBackend.supports_capability").new == p + "SparseBackendGen10.supports_capability"
    # renamed in its class with a docstring added: prose-free similarity is 1.0
    d = m.decide(p + "SparseBackend.page_count")
    assert (d.state, d.new) == ("renamed", p + "_SparseBackendBase.pages_per_bucket")


def test_helpers():
    assert class_bases("class A(pkg.B, C[int]):\n    pass") == ["B", "C"]
    assert class_bases("class A:\n    pass") == []
    a, b = identifiers("return x.major == 10  # ten"), identifiers("return x.major == 12")
    assert "ten" not in a and "10" in a
    assert overlap(a, a) == 1.0 and overlap(a, b) < 1.0
