"""Round 22: a method renamed with every override of it follows the interface, whatever its body became."""
from __future__ import annotations

from vmastery.reanchor.match import Matcher

PATH = "vllm/pooling/codec.py"

OLD_BASE = '''
class Codec:
    def encode_online(self, ctx):
        request = ctx.request
        if request.kind == "chat":
            ctx.inputs = self.tokenizer.apply_template(request.messages)
        else:
            ctx.inputs = self.tokenizer.encode(request.prompt)

    def encode_offline(self, ctx):
        prompts = list(ctx.prompts)
        return [self.tokenizer.encode(p) for p in prompts]
'''

NEW_BASE = '''
class Codec:
    def build_online(self, ctx):
        params = self.default_params.merge(ctx.overrides)
        factories = [self.factory_for(item, params) for item in ctx.request.items()]
        self.metrics.observe(len(factories))
        return factories

    def build_offline(self, ctx):
        batches = self.batcher.split(ctx.prompts, self.max_batch)
        return lambda: (self.factory_for(b, self.default_params) for b in batches)
'''


def _subclass(name: str, online: str, offline: str, new: bool) -> str:
    if not new:
        return f'''
class {name}(Codec):
    def {online}(self, ctx):
        ctx.inputs = self.{name.lower()}_tokenize(ctx.request.text, pad=True)

    def {offline}(self, ctx):
        return [self.{name.lower()}_tokenize(p, pad=False) for p in ctx.prompts]
'''
    return f'''
class {name}(Codec):
    def {online}(self, ctx):
        spec = self.{name.lower()}_spec(ctx.overrides)
        return [spec.factory(item) for item in ctx.request.items()]

    def {offline}(self, ctx):
        spec = self.{name.lower()}_spec(None)
        return lambda: map(spec.factory, ctx.prompts)
'''


def _trees(staged, tmp_path, new_names: dict[str, tuple[str, str]], subclasses=("Embed", "Score")):
    old = "".join([OLD_BASE, *(_subclass(c, "encode_online", "encode_offline", False) for c in subclasses)])
    new = "".join([NEW_BASE, *(_subclass(c, *new_names.get(c, ("build_online", "build_offline")), True)
                               for c in subclasses)])
    return staged(tmp_path / "old", {PATH: old}), staged(tmp_path / "new", {PATH: new})


def test_the_base_and_every_override_follow_the_interface(tmp_path, staged):
    old, new = _trees(staged, tmp_path, {})
    m = Matcher(old, new)
    for cls in ("Codec", "Embed", "Score"):
        for mode in ("online", "offline"):
            d = m.decide(f"{PATH}::{cls}.encode_{mode}")
            assert (d.state, d.new) == ("renamed", f"{PATH}::{cls}.build_{mode}"), d
    assert m.decide(f"{PATH}::Embed.encode_online").evidence[0].startswith(
        "interface renamed: Codec.encode_online and every override of it became build_online")
    plain = Matcher(old, new)
    plain.interfaces = False
    assert plain.decide(f"{PATH}::Codec.encode_online").state == "orphaned"


def test_a_single_override_is_no_pattern(tmp_path, staged):
    old, new = _trees(staged, tmp_path, {}, subclasses=("Embed",))
    assert Matcher(old, new).decide(f"{PATH}::Codec.encode_online").state == "orphaned"


def test_an_override_keeping_the_old_name_means_no_rename(tmp_path, staged):
    old, new = _trees(staged, tmp_path, {"Score": ("encode_online", "build_offline")})
    m = Matcher(old, new)
    assert m.decide(f"{PATH}::Codec.encode_online").state == "orphaned"
    assert m.decide(f"{PATH}::Embed.encode_online").state == "orphaned"


def test_a_new_name_two_old_methods_could_continue_is_left_alone(tmp_path, staged):
    # Both hooks gave way to one `encode_requests`: which one it continues is a judgement, not a rename.
    old, new = _trees(staged, tmp_path, {})
    text = (tmp_path / "new" / PATH).read_text().replace("build_online", "encode_requests").replace("build_offline", "flush")
    new = staged(tmp_path / "new2", {PATH: text})
    m = Matcher(old, new)
    assert m.decide(f"{PATH}::Codec.encode_online").state == "orphaned"
    assert m.decide(f"{PATH}::Embed.encode_offline").state == "orphaned"


def test_overrides_do_not_follow_a_name_the_base_method_did_not_take(tmp_path, staged):
    # The base's own body went word for word into `tokenize_online`: the interface went that way,
    # whatever new method the classes also gained.
    old, new = _trees(staged, tmp_path, {})
    moved_body = OLD_BASE.split("class Codec:\n")[1].split("    def encode_offline")[0].replace("encode_online", "tokenize_online")
    text = (tmp_path / "new" / PATH).read_text().replace("class Codec:\n", "class Codec:\n" + moved_body, 1)
    new = staged(tmp_path / "new2", {PATH: text})
    m = Matcher(old, new)
    assert m.decide(f"{PATH}::Codec.encode_online").new == f"{PATH}::Codec.tokenize_online"
    assert m.decide(f"{PATH}::Embed.encode_online").new != f"{PATH}::Embed.build_online"
