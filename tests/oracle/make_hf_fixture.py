"""Hugging Face GPT-2 fixtures made by `transformers` itself, and their golden numbers (issue #21).

Usage: PYTHON tests/oracle/make_hf_fixture.py

PYTHON has torch, transformers, safetensors and tokenizers (`python3 -m venv /tmp/venv-hf &&
/tmp/venv-hf/bin/pip install torch transformers safetensors tokenizers`). Run from the repository
root. With the GPT-2-style fixture tokenizer (fixtures/tokenizers/gpt2/tokenizer.json) it trains,
with torch (seeded, one thread, so a rerun writes the same files), two tiny `GPT2LMHeadModel`s a
few AdamW steps on the fixture corpus and saves them with `save_pretrained` under fixtures/hf/:

- gpt2-tiny/: `activation_function` gelu_new, tied head, float32, one `model.safetensors`;
- gpt2-tiny-bf16-sharded/: the same weights in bfloat16, sharded (`max_shard_size` small, so
  `model.safetensors.index.json` lists several files);
- gpt2-gelu-untied-f16/: another model with the exact `gelu`, an untied `lm_head`, in float16;

each with the tokenizer.json beside it, and fixtures/hf/eval.txt (out-of-domain fixture text).
Then for each folder, loaded back with `GPT2LMHeadModel.from_pretrained` and run in float64
(`model.double()`), it writes to tests/oracle/golden/hf_gpt2.json:

- the loss of eval.txt under `moe eval --text`'s rule: the text's tokens (no BOS) in consecutive
  non-overlapping windows of n_positions tokens, the last one shorter; every token after the
  first of its window is predicted; the mean cross-entropy (nats) over the predicted tokens;
- the greedy continuation (argmax, no stop token) of a prompt, 20 tokens, with the smallest gap
  between the best and second-best logit along the way: of a few candidate prompts, the one whose
  smallest gap is the largest (float32 and float64 logits must not disagree on a near-tie).
"""
import gzip
import json
import os
import shutil

import torch
import torch.nn.functional as F
import transformers
from tokenizers import Tokenizer

OUT = "fixtures/hf"
GOLDEN = "tests/oracle/golden/hf_gpt2.json"
TOKENIZER = "fixtures/tokenizers/gpt2/tokenizer.json"
CLASSES = ["en", "fr", "de", "py"]
CTX = 64
# Greedy decoding is compared token by token, so each model gets the candidate prompt whose
# continuation stays farthest from a near-tie (float32 logits differ from float64 by ~1e-5).
PROMPTS = ["The history of the", "Il était une fois", "def main(", "Der Hund und"]
GREEDY_TOKENS = 20
STEPS = 1000


def corpus_text():
    """Every fixture corpus document, class by class, separated by <|endoftext|>."""
    docs = []
    for cls in CLASSES:
        with gzip.open(f"fixtures/corpus/{cls}.jsonl.gz", "rt", encoding="utf-8") as f:
            docs += [json.loads(line)["text"] for line in f]
    return docs


def eval_text():
    """A few out-of-domain sentences of each language and some NumPy source."""
    parts = []
    for name, count in [("en-ud-sentences", 12), ("fr-ud-sentences", 8),
                        ("de-ud-sentences", 8)]:
        with gzip.open(f"fixtures/ood/{name}.jsonl.gz", "rt", encoding="utf-8") as f:
            parts.append(" ".join(json.loads(next(f))["text"] for _ in range(count)))
    with gzip.open("fixtures/ood/py-numpy.jsonl.gz", "rt", encoding="utf-8") as f:
        parts.append(json.loads(next(f))["text"][:800])
    return "\n".join(parts) + "\n"


def train(tokenizer, activation, tied, seed):
    torch.manual_seed(seed)
    config = transformers.GPT2Config(
        vocab_size=tokenizer.get_vocab_size(), n_positions=CTX, n_embd=32, n_layer=2, n_head=4,
        activation_function=activation, tie_word_embeddings=tied,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        bos_token_id=tokenizer.token_to_id("<|endoftext|>"),
        eos_token_id=tokenizer.token_to_id("<|endoftext|>"))
    model = transformers.GPT2LMHeadModel(config)
    eot = tokenizer.token_to_id("<|endoftext|>")
    ids = []
    for doc in corpus_text():
        ids += tokenizer.encode(doc, add_special_tokens=False).ids + [eot]
    data = torch.tensor(ids, dtype=torch.long)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    g = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(STEPS):
        starts = torch.randint(0, len(data) - CTX - 1, (16,), generator=g)
        x = torch.stack([data[s:s + CTX] for s in starts])
        loss = model(input_ids=x, labels=x).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"trained {activation}, tied {tied}: last batch loss {loss.item():.4f}")
    return model.eval()


def save(model, name, dtype, max_shard_size=None):
    path = f"{OUT}/{name}"
    shutil.rmtree(path, ignore_errors=True)
    kwargs = {"max_shard_size": max_shard_size} if max_shard_size else {}
    model.to(dtype).save_pretrained(path, safe_serialization=True, **kwargs)
    model.to(torch.float32)
    shutil.copy(TOKENIZER, f"{path}/tokenizer.json")
    return path


def window_loss(model, ids):
    """Mean cross-entropy (nats) of the windows rule, and the token and prediction counts."""
    total, predicted = 0.0, 0
    for at in range(0, len(ids), CTX):
        window = torch.tensor([ids[at:at + CTX]], dtype=torch.long)
        if window.shape[1] < 2:
            continue
        logits = model(input_ids=window).logits[0]
        total += F.cross_entropy(logits[:-1], window[0, 1:], reduction="sum").item()
        predicted += window.shape[1] - 1
    return total / predicted, len(ids), predicted


def greedy(model, ids):
    ids, out, gap = list(ids), [], float("inf")
    for _ in range(GREEDY_TOKENS):
        logits = model(input_ids=torch.tensor([ids], dtype=torch.long)).logits[0, -1]
        top = torch.topk(logits, 2)
        gap = min(gap, (top.values[0] - top.values[1]).item())
        ids.append(int(top.indices[0]))
        out.append(int(top.indices[0]))
    return out, gap


def golden(path, tokenizer, text):
    model, info = transformers.GPT2LMHeadModel.from_pretrained(path, output_loading_info=True)
    problems = {k: v for k, v in info.items() if v}
    if problems:
        raise SystemExit(f"{path}: transformers loaded it with problems: {problems}")
    model = model.double().eval()
    with torch.no_grad():
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        loss, tokens, predicted = window_loss(model, ids)
        tries = []
        for text in PROMPTS:
            prompt = tokenizer.encode(text, add_special_tokens=False).ids
            tries.append((*greedy(model, prompt), text, prompt))
        continuation, gap, text, prompt = max(tries, key=lambda t: t[1])
    files = sorted(f for f in os.listdir(path) if f.endswith(".safetensors"))
    print(f"{path}: loss {loss:.6f} over {predicted} predictions, greedy gap {gap:.4f}, {files}")
    return {"loss": loss, "tokens": tokens, "predicted": predicted,
            "prompt": text, "prompt_ids": prompt, "greedy": continuation,
            "greedy_min_gap": gap, "files": files}


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    tokenizer = Tokenizer.from_file(TOKENIZER)
    os.makedirs(OUT, exist_ok=True)
    text = eval_text()
    with open(f"{OUT}/eval.txt", "w", encoding="utf-8") as f:
        f.write(text)
    tied = train(tokenizer, "gelu_new", True, seed=1)
    untied = train(tokenizer, "gelu", False, seed=2)
    folders = [
        save(tied, "gpt2-tiny", torch.float32),
        save(tied, "gpt2-tiny-bf16-sharded", torch.bfloat16, max_shard_size="60KB"),
        save(untied, "gpt2-gelu-untied-f16", torch.float16),
    ]
    result = {
        "made_by": {"transformers": transformers.__version__, "torch": torch.__version__},
        "eval_text": f"{OUT}/eval.txt",
        "context": CTX,
        "models": {os.path.basename(p): golden(p, tokenizer, text) for p in folders},
    }
    with open(GOLDEN, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
