/**
 * The PyTorch side of the engine benchmark, run side by side when Debian's `python3-torch` is
 * installed (`/usr/bin/python3`): raw MatMul, and a GPT-2 training step of the same shape as
 * `models/gpt.ts` (pre-LN, learned positions, GELU-tanh, tied head, causal attention, AdamW with
 * global-norm clipping). Each prints one number from its fastest repetition (best of N, like the
 * TypeScript side): GFLOP/s, or tokens/s.
 *
 * @module
 */
import type { GPTConfig } from "../models/gpt.ts";

const PYTHON = "/usr/bin/python3";

const BEST = `
import time
def best_seconds(fn, seconds, min_reps):
    fn()
    times, start = [], time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < seconds:
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    return min(times)
`;

function matMulScript(n: number, threads: number, seconds: number): string {
  return `${BEST}
import torch
torch.set_num_threads(${threads})
a = torch.rand(${n}, ${n})
print(2 * ${n} ** 3 / best_seconds(lambda: a @ a, ${seconds}, 3) / 1e9)
`;
}

/**
 * GPT-2 in PyTorch, the same architecture as `models/gpt.ts`, parameterised so that a script can
 * hold two (a teacher and a student): `GPT(V, ctx, L, H, C, T)`.
 */
const TORCH_GPT = `
import math, torch
import torch.nn as nn
import torch.nn.functional as F
class Block(nn.Module):
    def __init__(s, H, C, T):
        super().__init__()
        s.H, s.C = H, C
        s.ln1, s.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        s.qkv, s.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        s.fc, s.out = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)
        s.register_buffer("mask", torch.full((T, T), -1e9).triu(1))
    def forward(s, x):
        B, T, C, H = x.shape[0], x.shape[1], s.C, s.H
        q, k, v = s.qkv(s.ln1(x)).split(C, dim=2)
        heads = lambda t: t.view(B, T, H, C // H).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        att = (q @ k.transpose(-2, -1) / math.sqrt(C // H) + s.mask).softmax(-1)
        x = x + s.proj((att @ v).transpose(1, 2).reshape(B, T, C))
        return x + s.out(F.gelu(s.fc(s.ln2(x)), approximate="tanh"))
class GPT(nn.Module):
    def __init__(s, V, ctx, L, H, C, T):
        super().__init__()
        s.T = T
        s.wte, s.wpe = nn.Embedding(V, C), nn.Embedding(ctx, C)
        s.blocks, s.lnf = nn.ModuleList(Block(H, C, T) for _ in range(L)), nn.LayerNorm(C)
    def forward(s, idx):
        x = s.wte(idx) + s.wpe(torch.arange(s.T))
        for b in s.blocks: x = b(x)
        return s.lnf(x) @ s.wte.weight.t()
`;

/** The Python constructor call of `cfg` at sequence length `seq`. */
export function torchGpt(cfg: GPTConfig, seq: number): string {
  return `GPT(${cfg.vocabSize}, ${cfg.contextLength}, ${cfg.layers}, ${cfg.heads}, ${cfg.dModel}, ${seq})`;
}

/** A PyTorch script prelude: the best-of timer and the GPT model on `threads` threads. */
export function torchPrelude(threads: number): string {
  return `${BEST}${TORCH_GPT}
torch.set_num_threads(${threads}); torch.manual_seed(0)
`;
}

function gptScript(cfg: GPTConfig, batch: number, seq: number, threads: number, seconds: number) {
  const V = cfg.vocabSize, B = batch, T = seq;
  return `${torchPrelude(threads)}
model = ${torchGpt(cfg, seq)}
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05)
tokens = (torch.arange(${B} * ${T}) * 31 % ${V}).view(${B}, ${T})
targets = (tokens + 31) % ${V}
def step():
    loss = F.cross_entropy(model(tokens).view(${B} * ${T}, ${V}), targets.view(${B} * ${T}))
    opt.zero_grad(set_to_none=True); loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
print(${B} * ${T} / best_seconds(step, ${seconds}, 2))
`;
}

/** Runs a Python script and returns what it prints, or null (no torch, or it failed). */
export async function pythonOutput(script: string): Promise<string | null> {
  try {
    const out = await new Deno.Command(PYTHON, { args: ["-c", script], stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null; // no /usr/bin/python3 here
  }
}

/** Runs a Python script and returns the number it prints, or null (no torch, or it failed). */
export async function runPython(script: string): Promise<number | null> {
  const value = Number(await pythonOutput(script) ?? NaN);
  return Number.isFinite(value) ? value : null;
}

/** PyTorch's best MatMul GFLOP/s at n×n, or null without torch. */
export function torchMatMulGflops(n: number, threads: number, seconds: number) {
  return runPython(matMulScript(n, threads, seconds));
}

/** PyTorch's best GPT training tokens/s, or null without torch. */
export function torchGptTokensPerSecond(
  cfg: GPTConfig,
  batch: number,
  seq: number,
  threads: number,
  seconds: number,
) {
  return runPython(gptScript(cfg, batch, seq, threads, seconds));
}
