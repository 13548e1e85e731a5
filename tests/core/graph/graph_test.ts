import assert from "node:assert/strict";
import onnx from "onnx-proto";
import * as ort from "onnxruntime-node";
import {
  add,
  encode,
  encodeWithExternalData,
  gemm,
  Graph,
  layerNorm,
  OPSET,
  reshape,
  split,
  transpose,
} from "../../../core/graph/mod.ts";

function small(): Graph {
  const g = new Graph("small");
  const x = g.input("x", "float32", [2, 3]);
  const w = g.parameter("w", [3, 4], Float32Array.from({ length: 12 }, (_, i) => i / 10));
  const y = g.scope("block", () => gemm(x, w, null, { alpha: 0.5, transB: 0 }));
  const [a, b] = split(y, [1, 3], 1);
  g.output(add(a!, b!), "out");
  return g;
}

Deno.test("the builder names nodes deterministically from scope, op and order", () => {
  const names = (g: Graph) => g.nodes.map((n) => n.name).join(" ");
  assert.equal(names(small()), names(small()));
  assert.match(names(small()), /^block\/Gemm_0 Split_\d+ Add_\d+ Identity_\d+$/);
});

Deno.test("shape inference follows reshape, transpose, split and LayerNormalization", () => {
  const g = new Graph("shapes");
  const x = g.input("x", "float32", [2, 6, 4]);
  assert.deepEqual(reshape(x, [0, -1]).shape, [2, 24]);
  assert.deepEqual(transpose(x, [2, 0, 1]).shape, [4, 2, 6]);
  assert.deepEqual(split(x, [2, 4], 1).map((t) => t.shape), [[2, 2, 4], [2, 4, 4]]);
  const ln = layerNorm(x, g.input("s", "float32", [4]), null);
  assert.deepEqual([ln.y.shape, ln.mean.shape, ln.invStd.shape], [[2, 6, 4], [2, 6, 1], [2, 6, 1]]);
  assert.throws(
    () => reshape(x, [5, -1]),
    /Reshape node "Reshape_\d+" on shapes \[2,6,4\] and \[2\]/,
  );
});

Deno.test("encode() writes opset 18, typed attributes and parameters as inputs or initializers", () => {
  const g = small();
  const asInputs = onnx.onnx.ModelProto.decode(encode(g));
  assert.equal(Number(asInputs.opsetImport![0]!.version), OPSET);
  const gemmNode = asInputs.graph!.node!.find((n) => n.opType === "Gemm")!;
  const alpha = gemmNode.attribute!.find((a) => a.name === "alpha")!;
  assert.equal(alpha.type, onnx.onnx.AttributeProto.AttributeType.FLOAT);
  assert.equal(alpha.f, 0.5);
  assert.deepEqual(asInputs.graph!.input!.map((i) => i.name), ["x", "w"]);
  const baked = onnx.onnx.ModelProto.decode(encode(g, { parameters: "initializers" }));
  assert.deepEqual(baked.graph!.input!.map((i) => i.name), ["x"]);
  assert.ok(baked.graph!.initializer!.some((t) => t.name === "w"));
});

Deno.test("an encoded graph runs on onnxruntime-node and computes what it says", async () => {
  const session = await ort.InferenceSession.create(
    encode(small(), { parameters: "initializers" }),
  );
  const x = Float32Array.of(1, 2, 3, -1, 0, 1);
  const out = await session.run({ x: new ort.Tensor("float32", x, [2, 3]) });
  // y = 0.5 · x · W with W[k][j] = (4k + j)/10; out = y[:, 0] + y[:, 1:4]
  const want: number[] = [];
  for (let r = 0; r < 2; r++) {
    const y = [0, 1, 2, 3].map((j) =>
      0.5 * [0, 1, 2].reduce((s, k) => s + x[r * 3 + k]! * (4 * k + j) / 10, 0)
    );
    want.push(y[0]! + y[1]!, y[0]! + y[2]!, y[0]! + y[3]!);
  }
  const got = Array.from(out.out!.data as Float32Array);
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-6, `${v} vs ${want[i]}`));
  await session.release();
});

Deno.test("a tensor from another graph is rejected with its name", () => {
  const other = new Graph("other").input("z", "float32", [1]);
  const g = new Graph("g");
  assert.throws(
    () => add(g.input("x", "float32", [1]), other),
    /Cannot use "z": it belongs to another graph/,
  );
});

Deno.test("a model saved with external data loads from its file and computes the same", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const g = small();
    const { model, data } = encodeWithExternalData(g, {
      parameters: "initializers",
      location: "small.onnx.data",
      threshold: 16,
    });
    const decoded = onnx.onnx.ModelProto.decode(model);
    const w = decoded.graph!.initializer!.find((t) => t.name === "w")!;
    assert.equal(w.dataLocation, onnx.onnx.TensorProto.DataLocation.EXTERNAL);
    await Deno.writeFile(`${dir}/small.onnx`, model);
    const file = await Deno.open(`${dir}/small.onnx.data`, { write: true, create: true });
    for (const piece of data) await file.write(piece);
    file.close();
    const x = new ort.Tensor("float32", Float32Array.of(1, 2, 3, -1, 0, 1), [2, 3]);
    const fromFile = await ort.InferenceSession.create(`${dir}/small.onnx`);
    const inline = await ort.InferenceSession.create(encode(g, { parameters: "initializers" }));
    const [a, b] = [await fromFile.run({ x }), await inline.run({ x })];
    assert.deepEqual(
      Array.from(a.out!.data as Float32Array),
      Array.from(b.out!.data as Float32Array),
    );
    await fromFile.release();
    await inline.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an output named after a node's result is written under that name, with no Identity copy", async () => {
  const g = new Graph("named");
  const x = g.input("x", "float32", [2]);
  const y = add(x, x);
  g.output(y, "double"); // renames y: its Add writes "double"
  g.output(y, "again"); // y is taken: this one stays an Identity
  g.output(x, "echo"); // an input cannot be renamed: an Identity too
  g.output(add(g.output(add(y, 1), "plus"), 1), "plus_plus"); // a renamed result read further on
  const model = onnx.onnx.ModelProto.decode(encode(g)).graph!;
  assert.deepEqual(model.node!.filter((n) => n.opType === "Identity").map((n) => n.output![0]), [
    "again",
    "echo",
  ]);
  assert.ok(model.node!.some((n) => n.opType === "Add" && n.output![0] === "double"));
  const session = await ort.InferenceSession.create(encode(g));
  const out = await session.run({ x: new ort.Tensor("float32", Float32Array.of(1, 2), [2]) });
  const got = Object.fromEntries(
    ["double", "again", "echo", "plus", "plus_plus"].map((
      n,
    ) => [n, [...out[n]!.data as Float32Array]]),
  );
  assert.deepEqual(got, {
    double: [2, 4],
    again: [2, 4],
    echo: [1, 2],
    plus: [3, 5],
    plus_plus: [4, 6],
  });
  await session.release();
});
