import assert from "node:assert/strict";
import { gradients } from "../../../core/autodiff/mod.ts";
import { Graph, type Tensor } from "../../../core/graph/mod.ts";
import { forwardKL, forwardKLTopK, reverseKL, reverseKLTopK } from "../../../core/losses/mod.ts";
import {
  forwardKLReference,
  forwardKLTopKReference,
  reverseKLReference,
  reverseKLTopKReference,
  topKReference,
} from "../../_support/loss_reference.ts";
import { checkGradients } from "../../_support/grad_check.ts";
import {
  type Feed,
  ortValues,
  randomMatrix,
  referenceValues,
  relErr,
  runOrt,
  runReference,
} from "./_run.ts";

type FullLoss = typeof forwardKL;
type FullRef = typeof forwardKLReference;
const FULL: [string, FullLoss, FullRef][] = [
  ["forwardKL", forwardKL, forwardKLReference],
  ["reverseKL", reverseKL, reverseKLReference],
];
const TOPK: [string, typeof forwardKLTopK, typeof forwardKLTopKReference][] = [
  ["forwardKLTopK", forwardKLTopK, forwardKLTopKReference],
  ["reverseKLTopK", reverseKLTopK, reverseKLTopKReference],
];

/** A graph with inputs s [n, v], t [n, v], y [n] and the loss `f` at τ. */
function fullGraph(f: FullLoss, n: number, v: number, tau: number) {
  const g = new Graph("kl");
  const s = g.input("s", "float32", [n, v]), t = g.input("t", "float32", [n, v]);
  const loss = f(s, t, g.input("y", "int64", [n]), tau);
  return { g, s, t, loss };
}

function fullFeeds(s: number[][], t: number[][], y: number[]): Record<string, Feed> {
  return {
    s: { dtype: "float32", value: s },
    t: { dtype: "float32", value: t },
    y: { dtype: "int64", value: y },
  };
}

/** A graph with inputs s [n, v], ids/lp [n, k], y [n] and the top-k loss `f` at τ. */
function topKGraph(f: typeof forwardKLTopK, n: number, v: number, k: number, tau: number) {
  const g = new Graph("kl_topk");
  const s = g.input("s", "float32", [n, v]);
  const ids = g.input("ids", "int64", [n, k]), lp = g.input("lp", "float32", [n, k]);
  return { g, s, loss: f(s, ids, lp, g.input("y", "int64", [n]), tau) };
}

function topKFeeds(s: number[][], c: { ids: number[][]; logProbs: number[][] }, y: number[]) {
  return {
    s: { dtype: "float32", value: s },
    ids: { dtype: "int64", value: c.ids },
    lp: { dtype: "float32", value: c.logProbs },
    y: { dtype: "int64", value: y },
  } satisfies Record<string, Feed>;
}

for (const [name, f, ref] of FULL) {
  Deno.test(`${name}() matches its float64 reference in float64 and on onnxruntime`, async () => {
    const n = 6, v = 11, tau = 2, y = [3, -1, 0, 10, 5, -1];
    const s = randomMatrix(1, n, v), t = randomMatrix(2, n, v);
    const want = ref(s, t, y, tau);
    assert.ok(want > 0.05, `a non-trivial case: ${want}`);
    const { g, loss } = fullGraph(f, n, v, tau);
    const [got64] = runReference(g, fullFeeds(s, t, y), [loss]);
    assert.ok(relErr(got64!, want) < 1e-12, `${got64} vs ${want}`);
    const [got32] = await runOrt(g, fullFeeds(s, t, y), [loss]);
    assert.ok(relErr(got32!, want) < 1e-5, `${got32} vs ${want}`);
  });

  Deno.test(`${name}() is non-negative and zero for identical distributions`, () => {
    const n = 5, v = 9, y = [0, 1, 2, 3, 4];
    const { g, loss } = fullGraph(f, n, v, 1.5);
    for (let seed = 10; seed < 15; seed++) {
      const s = randomMatrix(seed, n, v, 6), t = randomMatrix(seed + 100, n, v, 6);
      const [kl] = runReference(g, fullFeeds(s, t, y), [loss]);
      assert.ok(kl! > 0, `seed ${seed}: ${kl}`);
      // Shifting a row by a constant leaves its softmax unchanged.
      const shifted = s.map((row, i) => row.map((x) => x + i - 2));
      const [same] = runReference(g, fullFeeds(s, shifted, y), [loss]);
      assert.ok(Math.abs(same!) < 1e-12, `seed ${seed}: ${same}`);
    }
  });

  Deno.test(`${name}() ignores padded positions and gives 0 for an all-padding batch`, async () => {
    const n = 4, v = 7, tau = 2;
    const s = randomMatrix(3, n, v), t = randomMatrix(4, n, v);
    const { g, loss } = fullGraph(f, n, v, tau);
    const y = [1, -1, 2, -1];
    const [base] = runReference(g, fullFeeds(s, t, y), [loss]);
    // Wild values on the padded rows change nothing, not even into NaN.
    const s2 = s.map((row, i) => (y[i]! < 0 ? row.map((x) => x * 1e4) : row));
    const t2 = t.map((row, i) => (y[i]! < 0 ? row.map((x) => -x * 1e4) : row));
    const [padded] = await runOrt(g, fullFeeds(s2, t2, y), [loss]);
    assert.ok(relErr(padded!, base!) < 1e-5, `${padded} vs ${base}`);
    const kept = [0, 2];
    const want = ref(kept.map((i) => s[i]!), kept.map((i) => t[i]!), [1, 2], tau);
    assert.ok(relErr(base!, want) < 1e-12);
    const [none] = await runOrt(g, fullFeeds(s2, t2, [-1, -1, -1, -1]), [loss]);
    assert.equal(none, 0);
  });

  Deno.test(`${name}() at τ equals τ² times the divergence of the logits divided by τ`, () => {
    const n = 3, v = 8, y = [0, 1, 2], tau = 4; // 1/τ exact in float32
    const s = randomMatrix(5, n, v), t = randomMatrix(6, n, v);
    const [atTau] = runReference(...buildAndFeed(f, s, t, y, tau));
    const scaled = (m: number[][]) => m.map((row) => row.map((x) => x / tau));
    const [atOne] = runReference(...buildAndFeed(f, scaled(s), scaled(t), y, 1));
    assert.ok(relErr(atTau!, tau * tau * atOne!) < 1e-12, `${atTau} vs ${tau * tau * atOne!}`);
  });

  Deno.test(`${name}() gradient w.r.t. the student matches finite differences`, async () => {
    const r = await checkGradients((g) => {
      const s = g.input("s", "float32", [4, 6]);
      const t = g.constant(Float32Array.from(randomMatrix(7, 4, 6).flat()), [4, 6]);
      const y = g.constant(BigInt64Array.from([2n, -1n, 5n, 0n]), [4], "int64");
      return { wrt: [s], ys: [f(s, t, y, 2)] };
    }, 21);
    assert.ok(r.maxFdError < 1e-6 && r.maxOrtError < 1e-4, JSON.stringify(r));
  });

  Deno.test(`${name}() sends no gradient to the teacher logits`, () => {
    const { g, s, t, loss } = fullGraph(f, 3, 5, 2);
    const before = g.nodes.length;
    const grads = gradients(loss, [s, t]);
    const dt = grads.get(t.name)!;
    // The teacher's gradient is the zero fill that gradients() gives unrelated tensors…
    assert.equal(dt.producer?.op, "ConstantOfShape");
    // …while the student's is computed.
    assert.notEqual(grads.get(s.name)!.producer?.op, "ConstantOfShape");
    assert.ok(g.nodes.length > before + 1);
  });
}

/** The graph and feeds of `f` on these values, as arguments of `runReference`. */
function buildAndFeed(
  f: FullLoss,
  s: number[][],
  t: number[][],
  y: number[],
  tau: number,
): [Graph, Record<string, Feed>, Tensor[]] {
  const { g, loss } = fullGraph(f, s.length, s[0]!.length, tau);
  return [g, fullFeeds(s, t, y), [loss]];
}

for (const [[name, f, ref], [, full, fullRef]] of TOPK.map((x, i) => [x, FULL[i]!] as const)) {
  Deno.test(`${name}() matches its float64 reference with k < V, on onnxruntime too`, async () => {
    const n = 5, v = 12, k = 4, tau = 2, y = [1, 4, -1, 0, 11];
    const s = randomMatrix(30, n, v), t = randomMatrix(31, n, v);
    const c = topKReference(t, k, tau);
    const want = ref(s, c.ids, c.logProbs, y, tau);
    // Merging tokens into one bucket loses information: a lower bound of the full divergence.
    assert.ok(want > 0.01 && want < fullRef(s, t, y, tau), `${want}`);
    const { g, loss } = topKGraph(f, n, v, k, tau);
    const [got64] = runReference(g, topKFeeds(s, c, y), [loss]);
    assert.ok(relErr(got64!, want) < 1e-12, `${got64} vs ${want}`);
    const [got32] = await runOrt(g, topKFeeds(s, c, y), [loss]);
    assert.ok(relErr(got32!, want) < 1e-5, `${got32} vs ${want}`);
  });

  Deno.test(`${name}() with k = V equals the full divergence`, async () => {
    const n = 4, v = 9, tau = 2, y = [0, -1, 8, 3];
    const s = randomMatrix(40, n, v), t = randomMatrix(41, n, v);
    const c = topKReference(t, v, tau);
    const want = fullRef(s, t, y, tau);
    const { g, loss } = topKGraph(f, n, v, v, tau);
    const [got64] = runReference(g, topKFeeds(s, c, y), [loss]);
    assert.ok(relErr(got64!, want) < 1e-12, `${got64} vs ${want}`);
    const [got32] = await runOrt(g, topKFeeds(s, c, y), [loss]);
    assert.ok(relErr(got32!, want) < 1e-5, `${got32} vs ${want}`);
    // The same values through the full-logit graph.
    const [viaFull] = runReference(...buildAndFeed(full, s, t, y, tau));
    assert.ok(relErr(got64!, viaFull!) < 1e-12);
  });

  Deno.test(`${name}() stays finite when the rest mass vanishes on either side`, async () => {
    const n = 3, v = 10, k = 3, tau = 1, y = [0, 1, 2];
    // Row 0: a near one-hot student and teacher on the same token (both rest masses ≈ e^-60).
    // Row 1: the teacher's top 3 hold all its mass, the student's mass is all outside.
    // Row 2: a stored log-probability of −∞ (a cache written from an underflowed softmax).
    const s = [
      Array.from({ length: v }, (_, j) => (j === 0 ? 60 : 0)),
      Array.from({ length: v }, (_, j) => (j === 9 ? 80 : 0)),
      randomMatrix(50, 1, v)[0]!,
    ];
    const c = {
      ids: [[0, 1, 2], [0, 1, 2], [3, 4, 5]],
      logProbs: [[0, -60, -60], [Math.log(0.5), Math.log(0.25), Math.log(0.25)], [
        -0.5,
        -1.5,
        -Infinity,
      ]],
    };
    const want = ref(s, c.ids, c.logProbs, y, tau);
    const { g, s: st, loss } = topKGraph(f, n, v, k, tau);
    const ds = gradients(loss, [st]).get(st.name)!;
    const [got32, grad32] = await ortValues(g, topKFeeds(s, c, y), [loss, ds]);
    assert.ok(Number.isFinite(want) && relErr(got32![0]!, want) < 1e-4, `${got32} vs ${want}`);
    assert.ok(grad32!.every(Number.isFinite), `float32 gradient ${grad32}`);
    const [got64, grad64] = referenceValues(g, topKFeeds(s, c, y), [loss, ds]);
    assert.ok(relErr(got64!.data[0]!, want) < 1e-9, `${got64!.data[0]} vs ${want}`);
    grad64!.data.forEach((d, j) =>
      assert.ok(relErr(grad32![j]!, d) < 1e-4, `∂s[${j}] ${d} vs ${grad32![j]}`)
    );
  });

  Deno.test(`${name}() gradient w.r.t. the student matches finite differences`, async () => {
    for (const k of [3, 6]) {
      const tk = topKReference(randomMatrix(60 + k, 4, 6), k, 2);
      const r = await checkGradients((g) => {
        const s = g.input("s", "float32", [4, 6]);
        const ids = g.constant(BigInt64Array.from(tk.ids.flat(), BigInt), [4, k], "int64");
        const lp = g.constant(Float32Array.from(tk.logProbs.flat()), [4, k]);
        const y = g.constant(BigInt64Array.from([2n, -1n, 5n, 0n]), [4], "int64");
        return { wrt: [s], ys: [f(s, ids, lp, y, 2)] };
      }, 22 + k);
      assert.ok(r.maxFdError < 1e-6 && r.maxOrtError < 1e-4, `k ${k}: ${JSON.stringify(r)}`);
    }
  });
}

Deno.test("forwardKLTopK() refuses top ids that do not fit the logits, naming the shapes", () => {
  const g = new Graph("bad");
  const s = g.input("s", "float32", [2, 5]), y = g.input("y", "int64", [2]);
  assert.throws(
    () => forwardKLTopK(s, g.input("ids", "int64", [2, 6]), g.input("lp", "float32", [2, 6]), y, 1),
    /top ids \[2,6\] must be \[N, k\] with N = 2 and 1 ≤ k ≤ V = 5/,
  );
  assert.throws(() => forwardKL(s, s, y, 0), /temperature 0 must be a positive finite number/);
});
