import assert from "node:assert/strict";
import { gradients } from "../../../core/autodiff/mod.ts";
import {
  add,
  full,
  Graph,
  matMul,
  mul,
  reduceSum,
  scatterND,
  stopGradient,
  tanh,
} from "../../../core/graph/mod.ts";
import { arr, evaluate } from "../../_support/reference.ts";

Deno.test("gradients() sums the gradients of a tensor used several times (fan-out)", () => {
  const g = new Graph("fan");
  const x = g.input("x", "float32", [3]);
  // L = Σ (x·x + tanh x + x)  ⇒  dL/dx = 2x + 1 − tanh²x + 1
  const loss = reduceSum(add(add(mul(x, x), tanh(x)), x));
  const dx = gradients(loss, [x]).get("x")!;
  assert.equal(dx.name, "x_grad");
  const xs = [0.3, -1.2, 2];
  const [got] = evaluate(g, new Map([["x", arr([3], xs)]]), [dx]);
  xs.forEach((v, i) =>
    assert.ok(Math.abs(got!.data[i]! - (2 * v + 2 - Math.tanh(v) ** 2)) < 1e-12)
  );
});

Deno.test("stopGradient() blocks the flow through its branch", () => {
  const g = new Graph("stop");
  const x = g.input("x", "float32", [2]);
  // L = Σ x · stop(x)  ⇒  dL/dx = stop(x) = x, not 2x
  const dx = gradients(reduceSum(mul(x, stopGradient(x))), [x]).get("x")!;
  const [got] = evaluate(g, new Map([["x", arr([2], [1.5, -2])]]), [dx]);
  assert.deepEqual(Array.from(got!.data), [1.5, -2]);
});

Deno.test("gradients() returns zeros for a tensor the loss does not depend on", () => {
  const g = new Graph("zero");
  const x = g.input("x", "float32", [2]), y = g.input("y", "float32", [2, 2]);
  const dy = gradients(reduceSum(mul(x, x)), [x, y]).get("y")!;
  const [got] = evaluate(g, new Map([["x", arr([2], [1, 2])], ["y", arr([2, 2])]]), [dy]);
  assert.deepEqual(Array.from(got!.data), [0, 0, 0, 0]);
});

Deno.test("gradients() emits no nodes for inputs it was not asked about", () => {
  const g = new Graph("frozen");
  const x = g.input("x", "float32", [2, 3]);
  const w = g.parameter("w", [3, 4], new Float32Array(12));
  const frozen = g.parameter("f", [4, 1], new Float32Array(4), { trainable: false });
  const loss = reduceSum(matMul(matMul(x, w), frozen));
  const before = g.nodes.length;
  gradients(loss, [w]);
  const names = g.nodes.slice(before).map((n) => n.outputs.map((o) => o.name).join()).join(" ");
  assert.ok(!names.includes("f_grad") && !names.includes("x_grad"), names);
  assert.ok(g.nodes.slice(before).length > 0);
});

Deno.test("gradients() names the op and the node when a rule is missing", () => {
  const g = new Graph("norule");
  const x = g.input("x", "float32", [4, 2]);
  const idx = g.constant(BigInt64Array.from([1n, 3n]), [2, 1], "int64");
  const u = g.input("u", "float32", [2, 2]);
  const y = scatterND(full(x, [4, 2], 0), idx, u, "add");
  assert.throws(
    () => gradients(reduceSum(mul(y, x)), [u]),
    /Cannot differentiate node "ScatterND_\d+": op "ScatterND" has no gradient rule/,
  );
});

Deno.test("building a node on mismatched shapes names both shapes and the node", () => {
  const g = new Graph("bad");
  const a = g.input("a", "float32", [2, 3]), b = g.input("b", "float32", [4, 5]);
  assert.throws(() => g.scope("block", () => matMul(a, b)), (e: Error) => {
    assert.match(e.message, /MatMul node "block\/MatMul_\d+" on shapes \[2,3\] and \[4,5\]/);
    return true;
  });
  assert.throws(
    () => add(a, b),
    /Add node "Add_\d+" on shapes \[2,3\] and \[4,5\]: shapes do not broadcast/,
  );
});

Deno.test("a custom gradient replaces the rules of its block, and its inputs receive it", () => {
  const g = new Graph("custom");
  const x = g.input("x", "float32", [3]);
  // y = tanh(x)·x, with a hand-written backward that is deliberately 3·dy (not the true one), so
  // the test can tell which backward ran.
  const inner = tanh(x);
  const y = g.withGradient(mul(inner, x), { inputs: [x], grad: (dy) => [mul(dy, 3)] });
  const before = g.nodes.length;
  const dx = gradients(reduceSum(add(y, x)), [x]).get("x")!;
  const [got] = evaluate(g, new Map([["x", arr([3], [0.5, -1, 2])]]), [dx]);
  assert.deepEqual(Array.from(got!.data), [4, 4, 4]); // 3 from the block + 1 from `+ x`
  // Nothing of the backward reads the block's intermediate (Mul's rule would), so the runtime
  // need not keep it.
  assert.ok(g.nodes.slice(before).every((n) => !n.inputs.includes(inner)));
  assert.throws(() => g.withGradient(y, { inputs: [x], grad: () => [null] }), /has one/);
  assert.throws(
    () => g.withGradient(x, { inputs: [x], grad: () => [null] }),
    /not a node's output/,
  );
});
