import assert from "node:assert/strict";
import { Graph } from "../../../core/graph/mod.ts";
import { crossEntropy } from "../../../core/losses/mod.ts";
import { checkGradients, rng } from "../../_support/grad_check.ts";
import { arr, evaluate } from "../../_support/reference.ts";

/** Float64 reference: mean over counted rows of −log softmax(z)[t]. */
function referenceCE(logits: number[][], targets: number[]): number {
  let sum = 0, count = 0;
  logits.forEach((row, i) => {
    const t = targets[i]!;
    if (t < 0) return;
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    sum += lse - row[t]!;
    count++;
  });
  return count ? sum / count : 0;
}

Deno.test("crossEntropy() matches the float64 reference and skips targets of −1", () => {
  const r = rng(3);
  const n = 5, v = 7, targets = [3, -1, 0, 6, -1];
  const logits = Array.from({ length: n }, () => Array.from({ length: v }, () => r() * 6 - 3));
  const g = new Graph("ce");
  const z = g.input("z", "float32", [n, v]), t = g.input("t", "int64", [n]);
  const loss = crossEntropy(z, t);
  const [got] = evaluate(
    g,
    new Map([["z", arr([n, v], logits.flat())], ["t", arr([n], targets)]]),
    [loss],
  );
  assert.ok(Math.abs(got!.data[0]! - referenceCE(logits, targets)) < 1e-12);
});

Deno.test("crossEntropy() is zero, not NaN, when every target is padding", () => {
  const g = new Graph("ce");
  const loss = crossEntropy(g.input("z", "float32", [2, 3]), g.input("t", "int64", [2]));
  const [got] = evaluate(
    g,
    new Map([["z", arr([2, 3], [1, 2, 3, 4, 5, 6])], ["t", arr([2], [-1, -1])]]),
    [loss],
  );
  assert.ok(got!.data[0] === 0, `loss ${got!.data[0]}`);
});

Deno.test("crossEntropy() gradient matches finite differences", async () => {
  const r = await checkGradients((g) => {
    const z = g.input("z", "float32", [4, 6]);
    const t = g.constant(BigInt64Array.from([2n, -1n, 5n, 0n]), [4], "int64");
    return { wrt: [z], ys: [crossEntropy(z, t)] };
  }, 11);
  assert.ok(r.maxFdError < 1e-6 && r.maxOrtError < 1e-3, JSON.stringify(r));
});
