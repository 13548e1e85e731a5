"""PyTorch oracle for moe's GPT-2: loss and every parameter's gradient on one batch.

Usage: /usr/bin/python3 tests/oracle/gpt2_torch.py IN_DIR OUT.safetensors

IN_DIR holds what `make_golden.ts` wrote from our engine: `model.safetensors` (Hugging Face
GPT-2 names, written by pipeline/hf), `config.json` (Hugging Face GPT-2 config) and `batch.json`
(`tokens`, `targets`, B x T, target -1 = padding). The model is GPT-2 as in transformers'
modeling_gpt2.py (Conv1D weights [in, out], pre-LN, gelu_new, tied head, causal attention
scaled by 1/sqrt(head size)), written out here so only torch is needed. Writes the loss (metadata)
and the gradient of every parameter under its Hugging Face name, in float32, to OUT.
"""
import json, math, struct, sys
import torch
import torch.nn.functional as F

DT = {"F32": torch.float32}


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:e]), dtype=DT[info["dtype"]]).clone()
        out[name] = t.view(info["shape"]) if info["shape"] else t.view(())
    return out


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        b = tensors[name].contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def gpt2_loss(p, cfg, tokens, targets):
    B, T = tokens.shape
    C, H, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    ln = lambda x, k: F.layer_norm(x, (C,), p[k + ".weight"], p[k + ".bias"], eps)
    conv1d = lambda x, k: x @ p[k + ".weight"] + p[k + ".bias"]
    x = p["transformer.wte.weight"][tokens] + p["transformer.wpe.weight"][:T]
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    for l in range(cfg["n_layer"]):
        h = f"transformer.h.{l}."
        q, k, v = conv1d(ln(x, h + "ln_1"), h + "attn.c_attn").split(C, dim=2)
        heads = lambda t: t.view(B, T, H, C // H).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // H)
        att = att.masked_fill(~mask, torch.finfo(att.dtype).min).softmax(-1)
        x = x + conv1d((att @ v).transpose(1, 2).reshape(B, T, C), h + "attn.c_proj")
        m = F.gelu(conv1d(ln(x, h + "ln_2"), h + "mlp.c_fc"), approximate="tanh")
        x = x + conv1d(m, h + "mlp.c_proj")
    logits = ln(x, "transformer.ln_f") @ p["transformer.wte.weight"].t()
    return F.cross_entropy(logits.view(B * T, -1), targets.view(B * T), ignore_index=-1)


def main(in_dir, out):
    torch.set_num_threads(1)
    cfg = json.load(open(f"{in_dir}/config.json"))
    batch = json.load(open(f"{in_dir}/batch.json"))
    params = read_safetensors(f"{in_dir}/model.safetensors")
    for t in params.values():
        t.requires_grad_(True)
    tokens = torch.tensor(batch["tokens"], dtype=torch.long)
    targets = torch.tensor(batch["targets"], dtype=torch.long)
    # float64 for the reference: the oracle's own rounding stays far below the 1e-4 tolerance
    p64 = {k: v.double() for k, v in params.items()}
    for v in p64.values():
        v.retain_grad()
    loss = gpt2_loss(p64, cfg, tokens, targets)
    loss.backward()
    grads = {k: p64[k].grad for k in params}
    write_safetensors(out, grads, {"loss": repr(loss.item()), "torch": torch.__version__,
                                "weights_sha256": batch["weights_sha256"]})
    print(f"loss {loss.item():.6f}, {len(grads)} gradients -> {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
