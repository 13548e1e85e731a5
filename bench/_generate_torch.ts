/**
 * The PyTorch side of `bench/generate.ts` and `bench/generate_sizes.ts`: greedy decoding of the same GPT-2 shape with an
 * HF-style `past_key_values` cache written by hand (keys and values concatenated each step, no
 * fixed-size buffer), the same prompt length and the same sliding rule (a full context
 * re-prefills its last half). Runs when Debian's `python3-torch` is installed.
 *
 * @module
 */
import type { GPTConfig } from "../models/gpt.ts";

const PYTHON = "/usr/bin/python3";

function script(cfg: GPTConfig, promptLength: number, tokens: number, threads: number): string {
  return `
import time
t_start = time.perf_counter()
import json, math, resource, torch
import torch.nn as nn
import torch.nn.functional as F
torch.set_num_threads(${threads}); torch.manual_seed(0)
V, ctx, L, H, C = ${cfg.vocabSize}, ${cfg.contextLength}, ${cfg.layers}, ${cfg.heads}, ${cfg.dModel}
P, N, hs = ${promptLength}, ${tokens}, C // H
class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.ln1, s.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        s.qkv, s.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        s.fc, s.out = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)
    def forward(s, x, past):
        B, T, _ = x.shape
        q, k, v = s.qkv(s.ln1(x)).split(C, dim=2)
        heads = lambda t: t.view(B, T, H, hs).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        att = q @ k.transpose(-2, -1) / math.sqrt(hs)
        if T > 1:
            att = att + torch.full((T, k.shape[2]), float("-inf")).triu(k.shape[2] - T + 1)
        x = x + s.proj((att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C))
        return x + s.out(F.gelu(s.fc(s.ln2(x)), approximate="tanh")), (k, v)
class GPT(nn.Module):
    def __init__(s):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(V, C), nn.Embedding(ctx, C)
        s.blocks, s.lnf = nn.ModuleList(Block() for _ in range(L)), nn.LayerNorm(C)
    def forward(s, idx, pasts, start):
        x = s.wte(idx) + s.wpe(torch.arange(start, start + idx.shape[1]))
        present = []
        for block, past in zip(s.blocks, pasts):
            x, kv = block(x, past)
            present.append(kv)
        return s.lnf(x[:, -1]) @ s.wte.weight.t(), present
model = GPT().eval()
prompt = [(i * 977 + 13) % V for i in range(P)]
def decode(n):
    t0 = time.perf_counter()
    seq = list(prompt)
    logits, past = model(torch.tensor([seq]), [None] * L, 0)
    length, out, first = len(seq), [], None
    while len(out) < n:
        nxt = int(logits[0].argmax())
        if first is None: first = time.perf_counter()
        out.append(nxt); seq.append(nxt)
        if len(out) == n: break
        if length < ctx:
            logits, past = model(torch.tensor([[nxt]]), past, length)
            length += 1
        else:
            window = seq[-(ctx // 2):]
            logits, past = model(torch.tensor([window]), [None] * L, 0)
            length = len(window)
    return (first - t0) * 1000, (n - 1) / (time.perf_counter() - first), first
with torch.no_grad():
    _, _, cold_first = decode(8)
    first_ms, tps, _ = decode(N)
print(json.dumps({"firstTokenMs": first_ms, "tokensPerSecond": tps, "startupSeconds": cold_first - t_start,
  "peakRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
`;
}

/** What the PyTorch script measured. */
export interface TorchDecoding {
  /** Prefill plus one draw, on the second (warm) decode. */
  firstTokenMs: number;
  /** Tokens after the first, per second, on the second decode. */
  tokensPerSecond: number;
  /** From the script's start (before `import torch`) to the first token of the first decode. */
  startupSeconds: number;
  /** The process's peak resident set. */
  peakRssMB: number;
}

/** PyTorch's first-token latency, tokens/s, start-up and peak RSS, or null without torch. */
export async function torchKvDecoding(
  cfg: GPTConfig,
  promptLength: number,
  tokens: number,
  threads: number,
): Promise<TorchDecoding | null> {
  try {
    const out = await new Deno.Command(PYTHON, {
      args: ["-c", script(cfg, promptLength, tokens, threads)],
      stderr: "null",
    }).output();
    if (!out.success) return null;
    return JSON.parse(new TextDecoder().decode(out.stdout).trim());
  } catch {
    return null; // no /usr/bin/python3 here
  }
}
