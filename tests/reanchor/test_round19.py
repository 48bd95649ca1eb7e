"""Round 19: a rival of less structural standing does not make a clear rename in its own class ambiguous."""
from __future__ import annotations

from vmastery.reanchor.match import Matcher

BODY = '''
    def {name}(self, mm_data: dict, mm_kwargs: dict, processed: dict) -> dict:
        """Count the pan-and-scan crops of every image, so the prompt gets one placeholder per crop."""
        images = mm_data.get("images", [])
        if not images or not mm_kwargs.get("do_pan_and_scan", False):
            processed["num_patches"] = torch.ones(len(images), dtype=torch.long)
            return processed
        sizes = [self.info.get_image_size(image) for image in images]
        crops = [self.info.get_num_crops(width=w, height=h, min_crop=mm_kwargs["pan_and_scan_min_crop"])
                 for w, h in sizes]
        processed["num_patches"] = torch.tensor(crops, dtype=torch.long) + 1
        {tail}
'''
OLD = {"vllm/models/gemma3_mm.py": "class Gemma3Processor(BaseProcessor):\n    def info_cls(self):\n        return Gemma3Info\n"
       + BODY.format(name="_call_hf_processor", tail="return processed")}
OTHER = BODY.format(name="_postprocess_hf_mm_data", tail="processed.pop('pixel_attention_mask', None)\n        return processed") \
    .replace("do_pan_and_scan", "do_image_splitting").replace("pan_and_scan_min_crop", "min_tile_size") \
    .replace("get_num_crops", "get_num_tiles").replace("images", "pictures").replace("crops", "tiles") \
    .replace("sizes", "dims")
NEW = {"vllm/models/gemma3_mm.py": "class Gemma3Processor(BaseProcessor):\n    def info_cls(self):\n        return Gemma3Info\n"
       + BODY.format(name="_postprocess_hf_mm_data", tail="processed['num_crops'] = processed['num_patches'] - 1\n"
                     "        return processed"),
       "vllm/models/idefics3.py": "class Idefics3Processor(BaseProcessor):" + OTHER}
ANCHOR = "vllm/models/gemma3_mm.py::Gemma3Processor._call_hf_processor"


def test_a_rename_in_its_own_class_beats_a_namesake_in_another(tmp_path, staged):
    old, new = staged(tmp_path / "old", OLD), staged(tmp_path / "new", NEW)
    m = Matcher(old, new)
    d = m.decide(ANCHOR)
    assert (d.state, d.new) == ("renamed", "vllm/models/gemma3_mm.py::Gemma3Processor._postprocess_hf_mm_data"), d
    rival = m.sim(old.get(ANCHOR), new.get("vllm/models/idefics3.py::Idefics3Processor._postprocess_hf_mm_data"))
    assert d.similarity - 0.1 <= rival < d.similarity - 0.02, (d.similarity, rival)  # close, not a tie
    plain = Matcher(old, new)
    plain.standing = False  # without the rule the other class's namesake still counts as a rival
    assert plain.decide(ANCHOR).state == "orphaned"
