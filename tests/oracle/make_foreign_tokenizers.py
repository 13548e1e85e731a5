"""Hugging Face `tokenizers` oracle for foreign tokenizer.json files (issue #21).

Usage: PYTHON tests/oracle/make_foreign_tokenizers.py

PYTHON has `tokenizers` (`python3 -m venv /tmp/venv-tok && /tmp/venv-tok/bin/pip install
tokenizers`; transformers is not needed). Run from the repository root. It trains, with
`tokenizers` itself, on every document of fixtures/corpus/*.jsonl.gz:

- fixtures/tokenizers/gpt2/tokenizer.json: GPT-2's layout: byte-level BPE (ByteLevel
  pre-tokenizer without prefix space, ByteLevel post-processor and decoder, all 256 byte tokens,
  `continuing_subword_prefix`/`end_of_word_suffix` "" as in GPT-2's own file, merges in the
  legacy "a b" form) and <|endoftext|>;
- fixtures/tokenizers/mistral/tokenizer.json: a Mistral-style SentencePiece BPE (Metaspace "▁"
  with prepend_scheme "first" and split false, byte_fallback with the 256 <0x..> tokens in the
  vocab, <unk> fused, <s> and </s>, decoders Replace/ByteFallback/Fuse/Strip, merges as pairs).

Then it writes tests/oracle/golden/foreign_tokenizers.json: for each variant (a base file plus
a patch of dotted JSON paths, which the Deno test applies the same way) and every fixture
document, per class in file order, the token count and the first 16 hex digits of the sha256 of
"id,id,…" and of the decoded text (to keep the file small), and the full ids and decoded text of
a list of extra strings (spaces, newlines, tabs, emoji/CJK, characters outside the vocabulary,
special tokens inside text). Encoding adds no special tokens (`add_special_tokens=False`);
decoding keeps them (`skip_special_tokens=False`). Training is deterministic: a rerun rewrites the
same three files.
"""
import copy
import gzip
import hashlib
import json
import os
import sys

import tokenizers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

CLASSES = ["en", "fr", "de", "py"]
GOLDEN = "tests/oracle/golden/foreign_tokenizers.json"

# Llama 3's split pattern (GPT-4's cl100k with inline case-insensitive contractions).
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                  r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

EXTRA_STRINGS = [
    "",
    " ",
    "a",
    "   three leading spaces",
    "trailing spaces   ",
    "multiple   spaces  between\twords",
    "\n",
    "line one\nline two\n\n\nline five\n",
    "\ttab\tseparated\tvalues\r\nwindows line\r\n",
    "emoji 😀👍🏽🇫🇷 and CJK 日本語のテキスト，中文。한국어",
    "outside the vocabulary: ǅ ȸ ⅷ ∰ ⧫ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ℌ \u0007bell",
    "compatibility forms: ﬁne ﬂow ① ㎏ Ｆｕｌｌ　ｗｉｄｔｈ ½",
    "combining: e\u0301 vs \u00e9, A\u030a vs \u00c5",
    "odd spaces:\u00a0nbsp\u2003em\u3000ideographic\ufeffbom\u0085nel\u2028ls",
    "special tokens inside text: a<|endoftext|>b <|endoftext|> end",
    "<|endoftext|>",
    "<s>sentencepiece</s> specials <unk> and </s>",
    "</s>   after a special",
    "literal byte token text <0x41> <0xE2>",
    "contractions: I'm sure they'll say it's DON'T o'clock",
    "digits 1234567890 and 3.14159",
    "    def f(x):\n        return x  # comment\n",
    "\u2581 a literal metaspace \u2581\u2581 here",
    "\u0120 byte-level chars \u010a in text",
    "moe moel MOE xmoe <|sep|> after   <|sep|>   x<|sep|>y",
]


def documents():
    """(class, index, text) of every fixture document, in file order."""
    for cls in CLASSES:
        with gzip.open(f"fixtures/corpus/{cls}.jsonl.gz", "rt", encoding="utf-8") as f:
            for i, line in enumerate(l for l in f if l.strip()):
                yield cls, i, json.loads(line)["text"]


def train_gpt2(texts):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1500, min_frequency=2, show_progress=False,
                                  special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    data = json.loads(tok.to_str())
    # GPT-2's own tokenizer.json has "" for both and the legacy "a b" merges.
    data["model"]["continuing_subword_prefix"] = ""
    data["model"]["end_of_word_suffix"] = ""
    data["model"]["merges"] = [f"{a} {b}" for a, b in data["model"]["merges"]]
    return data


def train_mistral(texts):
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first",
                                                 split=True)
    tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(),
                                     decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A $B",
                                                       special_tokens=[("<s>", 1)])
    # Rare characters stay out of the alphabet, so byte fallback has work on the fixtures too.
    trainer = trainers.BpeTrainer(vocab_size=2000, min_frequency=2, show_progress=False,
                                  limit_alphabet=110,
                                  special_tokens=["<unk>", "<s>", "</s>"] + byte_tokens)
    tok.train_from_iterator(texts, trainer)
    data = json.loads(tok.to_str())
    # As in Mistral's file: the byte tokens are ordinary vocab entries, not added tokens, and the
    # whole text is one piece (split false) for the BPE model.
    data["added_tokens"] = [t for t in data["added_tokens"] if t["content"] not in byte_tokens]
    data["pre_tokenizer"]["split"] = False
    return data


def patched(data, patch):
    """A copy of `data` with each dotted path of `patch` set to its value."""
    out = copy.deepcopy(data)
    for path, value in patch.items():
        keys = path.split(".")
        node = out
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(keys[-1])] = value
        else:
            node[keys[-1]] = value
    return out


def added(content, id, special, lstrip=False, rstrip=False, single_word=False, normalized=False):
    return {"id": id, "content": content, "single_word": single_word, "lstrip": lstrip,
            "rstrip": rstrip, "normalized": normalized, "special": special}


def variants(gpt2, mistral):
    eot = gpt2["added_tokens"][0]
    next_id = max(gpt2["model"]["vocab"].values()) + 1
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                  "use_regex": False}
    sp_decoder = mistral["decoder"]
    return [
        ("gpt2", "gpt2", {}),
        ("gpt2-prefix-nfc", "gpt2", {
            "pre_tokenizer.add_prefix_space": True,
            "normalizer": {"type": "NFC"},
            "model.continuing_subword_prefix": None,
            "model.end_of_word_suffix": None,
            "added_tokens": [eot, added("<|sep|>", next_id, True, lstrip=True, rstrip=True),
                             added("moe", next_id + 1, False, single_word=True, normalized=True)],
        }),
        ("gpt2-whole-text", "gpt2", {"pre_tokenizer.use_regex": False}),
        ("llama3-split", "gpt2", {
            "normalizer": {"type": "NFKC"},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": LLAMA3_PATTERN}, "behavior": "Isolated",
                 "invert": False},
                byte_level]},
            "model.ignore_merges": True,
        }),
        ("split-behaviors", "gpt2", {
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious",
                 "invert": False},
                {"type": "Split", "pattern": {"Regex": "\\d+|\\s+"}, "behavior": "Contiguous",
                 "invert": True},
                {"type": "Split", "pattern": {"Regex": "[.,;]"}, "behavior": "MergedWithNext",
                 "invert": False},
                byte_level]},
        }),
        # Oniguruma's line anchors, Unicode \w \d \b, "." (not "\n"), a class with \w and \-.
        ("oniguruma-regex", "gpt2", {
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "behavior": "Isolated", "invert": False, "pattern": {
                    "Regex": r"(?i:the)|^\s+|\d+$|\b\w{1,4}\b|[\w\-]{5,}|[^\s\w]+|."}},
                byte_level]},
        }),
        ("mistral", "mistral", {}),
        ("mistral-always-split-nfkc", "mistral", {
            "normalizer": {"type": "NFKC"},
            "pre_tokenizer.prepend_scheme": "always",
            "pre_tokenizer.split": True,
            "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                        "split": True},
        }),
        ("mistral-never", "mistral", {
            "pre_tokenizer.prepend_scheme": "never",
            "pre_tokenizer.split": True,
            "decoder": {"type": "Sequence", "decoders": sp_decoder["decoders"][:3]},
        }),
        ("llama2", "mistral", {
            "normalizer": {"type": "Sequence", "normalizers": [
                {"type": "Prepend", "prepend": "\u2581"},
                {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
            "pre_tokenizer": None,
        }),
        ("mistral-unk", "mistral", {"model.byte_fallback": False, "model.fuse_unk": True}),
    ]


def sha16(text):
    """The first 16 hex digits of the sha256 of `text` (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def document_line(ids, decoded):
    """One document's golden: "<token count> <sha16 of "id,id,…"> <sha16 of the decoded text>"."""
    return f"{len(ids)} {sha16(','.join(map(str, ids)))} {sha16(decoded)}"


def compact(value, depth=0):
    """JSON with one line per item down to depth 4, so the golden file diffs well."""
    if depth >= 4 or not isinstance(value, (dict, list)) or not value:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    pad = " " * (depth + 1)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {compact(v, depth + 1)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    items = [pad + compact(v, depth + 1) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * depth + "]"


def write_json(path, data, golden=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(compact(data) if golden else json.dumps(data, ensure_ascii=False))
        f.write("\n")


def main():
    docs = list(documents())
    texts = [text for _, _, text in docs]
    bases = {"gpt2": train_gpt2(texts), "mistral": train_mistral(texts)}
    for name, data in bases.items():
        write_json(f"fixtures/tokenizers/{name}/tokenizer.json", data)
    golden = {"tokenizers": tokenizers.__version__, "variants": []}
    for name, base, patch in variants(bases["gpt2"], bases["mistral"]):
        tok = Tokenizer.from_str(json.dumps(patched(bases[base], patch)))
        entry = {"name": name, "base": f"fixtures/tokenizers/{base}/tokenizer.json",
                 "patch": patch, "documents": {cls: [] for cls in CLASSES}, "strings": []}
        for cls, _, text in docs:
            ids = tok.encode(text, add_special_tokens=False).ids
            entry["documents"][cls].append(document_line(ids, tok.decode(ids, False)))
        for text in EXTRA_STRINGS:
            ids = tok.encode(text, add_special_tokens=False).ids
            entry["strings"].append({"text": text, "ids": ids, "decoded": tok.decode(ids, False)})
        golden["variants"].append(entry)
        tokens = sum(int(line.split()[0]) for lines in entry["documents"].values()
                     for line in lines)
        print(f"{name}: {tokens} tokens in {len(docs)} documents", file=sys.stderr)
    write_json(GOLDEN, golden, golden=True)
    print(f"tokenizers {tokenizers.__version__}: wrote {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    main()
