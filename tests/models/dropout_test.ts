import assert from "node:assert/strict";
import { gradients } from "../../core/autodiff/mod.ts";
import { encode, Graph, mul, reduceSum } from "../../core/graph/mod.ts";
import { type Backend, BACKEND_NAMES, type HostTensor, scalar } from "../../core/runtime/mod.ts";
import { dropout, DROPOUT_KEY, DROPOUT_MODULUS, dropoutKey } from "../../models/dropout.ts";
import { buildGPTTraining, GPT_CONFIGS, gptLoss } from "../../models/gpt.ts";
import { probeBackends, titled } from "../_support/backends.ts";
import { rng } from "../_support/grad_check.ts";

const ROWS = 256, WIDTH = 512, P = 0.1;
const probes = await probeBackends();
const cpu = probes.cpu.backend!;

const ONES: HostTensor = {
  dtype: "float32",
  dims: [ROWS, WIDTH],
  data: new Float32Array(ROWS * WIDTH).fill(1),
};

/** The scaled mask of site `site`: dropout of ones, computed by the graph on `backend`. */
async function mask(backend: Backend, key: number, site = 0): Promise<Float32Array> {
  const g = new Graph("mask");
  const x = g.input("x", "float32", [ROWS, WIDTH]);
  g.output(dropout(x, P, g.input(DROPOUT_KEY, "int64", []), site), "mask");
  const session = await backend.createSession(encode(g));
  try {
    const out = await session.run({
      x: session.wrap(ONES),
      [DROPOUT_KEY]: session.wrap(scalar(key, "int64")),
    });
    return (await session.download(out.mask!)).data as Float32Array;
  } finally {
    await session.dispose();
  }
}

/** The hash of `models/dropout.ts` in exact BigInt arithmetic: 1 where element `i` is kept. */
function referenceKeep(key: number, site: number, n: number): Uint8Array {
  const M = BigInt(DROPOUT_MODULUS);
  const c = (BigInt(key) + BigInt(site + 1) * 0x9e3779bn) % M;
  const threshold = BigInt(Math.round(P * DROPOUT_MODULUS));
  return Uint8Array.from({ length: n }, (_, i) => {
    const x1 = ((BigInt(i) + c) * 48271n) % M;
    const x2 = (x1 * x1 + c) % M;
    const x3 = (x2 * x2 + c) % M;
    return x3 >= threshold ? 1 : 0;
  });
}

const kept = (m: Float32Array) => Uint8Array.from(m, (v) => (v > 0 ? 1 : 0));

Deno.test("a dropout mask keeps a 1 − p share of elements, each scaled by 1 / (1 − p)", async () => {
  const m = await mask(cpu, dropoutKey(1, 1));
  const mean = kept(m).reduce((a, b) => a + b, 0) / m.length;
  // 131 072 Bernoulli(0.9) draws: the share's standard deviation is 0.0008.
  assert.ok(Math.abs(mean - (1 - P)) < 0.004, `kept share ${mean}`);
  assert.ok(m.every((v) => v === 0 || v === Math.fround(1 / (1 - P))));
  const scaledMean = m.reduce((a, b) => a + b, 0) / m.length;
  assert.ok(Math.abs(scaledMean - 1) < 0.005, `mean of the scaled mask ${scaledMean}`);
});

Deno.test("the same (seed, step, micro-batch) gives the same mask, another step or site another one", async () => {
  const a = await mask(cpu, dropoutKey(7, 3)), b = await mask(cpu, dropoutKey(7, 3));
  assert.deepEqual(a, b);
  for (const other of [await mask(cpu, dropoutKey(7, 4)), await mask(cpu, dropoutKey(7, 3), 1)]) {
    // Independent masks agree where both keep or both drop: p² + (1 − p)² = 0.82.
    const agree = a.reduce((s, v, i) => s + (v === other[i] ? 1 : 0), 0) / a.length;
    assert.ok(Math.abs(agree - (P * P + (1 - P) ** 2)) < 0.01, `agreement ${agree}`);
  }
  assert.notEqual(dropoutKey(7, 3, 0), dropoutKey(7, 3, 1));
});

Deno.test("neighbouring elements of a dropout mask are uncorrelated", async () => {
  const k = kept(await mask(cpu, dropoutKey(2, 9)));
  const corr = (lag: number) => {
    let sxy = 0, sx = 0, sxx = 0;
    const n = k.length - lag;
    for (let i = 0; i < n; i++) sxy += k[i]! * k[i + lag]!, sx += k[i]!, sxx += k[i]!;
    const m = sx / n;
    return (sxy / n - m * m) / (sxx / n - m * m);
  };
  // Along a row, down a column, and a power-of-two stride; |r| < 0.015 is ~5 standard errors.
  for (const lag of [1, WIDTH, 4096]) {
    assert.ok(Math.abs(corr(lag)) < 0.015, `lag ${lag}: correlation ${corr(lag)}`);
  }
});

for (const name of BACKEND_NAMES) {
  const probe = probes[name];
  Deno.test({
    name: titled(`the dropout mask on ${name} equals the exact integer hash`, probe),
    ignore: probe.backend === undefined,
    async fn() {
      const key = dropoutKey(5, 11, 2);
      assert.deepEqual(
        kept(await mask(probe.backend!, key, 3)),
        referenceKeep(key, 3, ROWS * WIDTH),
      );
    },
  });
}

Deno.test("the gradient through dropout is the upstream gradient times the scaled mask", async () => {
  const g = new Graph("drop-grad");
  const x = g.input("x", "float32", [ROWS, WIDTH]);
  const r = g.input("r", "float32", [ROWS, WIDTH]);
  const y = dropout(x, P, g.input(DROPOUT_KEY, "int64", []), 0);
  g.output(y, "mask"); // x is ones: the output is the scaled mask
  g.output(gradients(reduceSum(mul(y, r)), [x]).get("x")!, "dx");
  const next = rng(3);
  const upstream: HostTensor = {
    dtype: "float32",
    dims: [ROWS, WIDTH],
    data: Float32Array.from({ length: ROWS * WIDTH }, () => next() * 2 - 1),
  };
  const session = await cpu.createSession(encode(g));
  const out = await session.run({
    x: session.wrap(ONES),
    r: session.wrap(upstream),
    [DROPOUT_KEY]: session.wrap(scalar(dropoutKey(1, 2), "int64")),
  });
  const dx = (await session.download(out.dx!)).data as Float32Array;
  const mk = (await session.download(out.mask!)).data as Float32Array;
  await session.dispose();
  const r0 = upstream.data as Float32Array;
  assert.ok(dx.every((v, i) => v === Math.fround(mk[i]! * r0[i]!)));
});

Deno.test("dropout 0 builds today's training graph byte for byte, and evaluation graphs never drop", () => {
  const geometry = { batch: 2, seqLen: 16, seed: 3 };
  const plainStep = buildGPTTraining(GPT_CONFIGS.tiny, geometry);
  const zero = buildGPTTraining({ ...GPT_CONFIGS.tiny, dropout: 0 }, geometry);
  assert.deepEqual(zero.model, plainStep.model);
  const evalGraph = (dropout: number) => {
    const g = new Graph("eval");
    g.output(gptLoss({ ...GPT_CONFIGS.tiny, dropout }, geometry, false)(g), "loss");
    return encode(g);
  };
  assert.deepEqual(evalGraph(0.1), evalGraph(0));
  const dropping = buildGPTTraining({ ...GPT_CONFIGS.tiny, dropout: 0.1 }, geometry);
  assert.ok(dropping.dataInputs.some((t) => t.name === DROPOUT_KEY));
  // One mask per site, each ending in a Greater: the embeddings, then three per layer.
  const greaters = (tg: typeof plainStep) =>
    tg.graph.nodes.filter((n) => n.op === "Greater" && !n.name.includes("/grad/")).length;
  assert.equal(greaters(dropping) - greaters(plainStep), 1 + 3 * GPT_CONFIGS.tiny.layers);
});
