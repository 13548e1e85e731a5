/**
 * A training step written by hand for the engine benchmark, independent of the graph builder and
 * the autodiff: a stack of square linear layers with ReLU between them, squared-error loss,
 * backward pass and SGD update in one graph. It measures what the runtime itself costs around
 * the matrix products.
 *
 * @module
 */
import onnx from "onnx-proto";
import type { StateBinding } from "../core/runtime/mod.ts";

const P = onnx.onnx;
const FLOAT = P.TensorProto.DataType.FLOAT;

function info(name: string, dims: number[]) {
  const dim = dims.map((d) => P.TensorShapeProto.Dimension.create({ dimValue: d }));
  const tensorType = P.TypeProto.Tensor.create({
    elemType: FLOAT,
    shape: P.TensorShapeProto.create({ dim }),
  });
  return P.ValueInfoProto.create({ name, type: P.TypeProto.create({ tensorType }) });
}

function op(opType: string, input: string[], output: string, ints: Record<string, number> = {}) {
  const attribute = Object.entries(ints).map(([name, i]) =>
    P.AttributeProto.create({ name, i, type: P.AttributeProto.AttributeType.INT })
  );
  return P.NodeProto.create({ opType, input, output: [output], attribute, name: output });
}

/**
 * The step graph of `layers` linear layers of width `width` on a batch of `batch` rows:
 *
 * ```text
 * forward   z_i = h_i·W_i;  h_{i+1} = relu(z_i) (no ReLU after the last)
 * loss      ½/B Σ (h_L − target)²
 * backward  d_L = (h_L − target)/B;  dW_i = h_iᵀ·d_{i+1};  d_i = (d_{i+1}·W_iᵀ) ⊙ [z_{i−1} > 0]
 * update    W_i' = W_i − lr·dW_i
 * ```
 *
 * @returns The model, its state bindings and the FLOPs of its matrix products.
 */
export function linearStackStepModel(layers: number, width: number, batch: number) {
  const nodes = [];
  const h = (i: number) => (i === 0 ? "x" : `h${i}`);
  for (let i = 0; i < layers; i++) {
    const z = i === layers - 1 ? h(i + 1) : `z${i}`;
    nodes.push(op("MatMul", [h(i), `W${i}`], z)); // [B, n]·[n, n] → [B, n]
    if (i < layers - 1) nodes.push(op("Relu", [z], h(i + 1)));
  }
  nodes.push(op("Sub", [h(layers), "target"], "err"));
  nodes.push(op("Mul", ["err", "err"], "err2"));
  nodes.push(op("ReduceSum", ["err2"], "err2sum", { keepdims: 0 }));
  nodes.push(op("Mul", ["err2sum", "half_over_B"], "loss"));
  nodes.push(op("Mul", ["err", "one_over_B"], `d${layers}`));
  for (let i = layers - 1; i >= 0; i--) {
    nodes.push(op("Gemm", [h(i), `d${i + 1}`], `dW${i}`, { transA: 1 })); // h_iᵀ·d → [n, n]
    nodes.push(op("Mul", ["lr", `dW${i}`], `step${i}`));
    nodes.push(op("Sub", [`W${i}`, `step${i}`], `W${i}_next`));
    if (i > 0) {
      nodes.push(op("Gemm", [`d${i + 1}`, `W${i}`], `dh${i}`, { transB: 1 })); // d·Wᵀ → [B, n]
      nodes.push(op("Greater", [`z${i - 1}`, "zero"], `mask${i}`));
      nodes.push(op("Where", [`mask${i}`, `dh${i}`, "zero"], `d${i}`));
    }
  }
  const weights = Array.from({ length: layers }, (_, i) => `W${i}`);
  const constant = (name: string, value: number) =>
    P.TensorProto.create({ name, dims: [], dataType: FLOAT, floatData: [value] });
  const graph = P.GraphProto.create({
    name: "linear_stack_step",
    node: nodes,
    input: [
      ...weights.map((w) => info(w, [width, width])),
      info("x", [batch, width]),
      info("target", [batch, width]),
      info("lr", []),
    ],
    output: [info("loss", []), ...weights.map((w) => info(`${w}_next`, [width, width]))],
    initializer: [
      constant("half_over_B", 0.5 / batch),
      constant("one_over_B", 1 / batch),
      constant("zero", 0),
    ],
  });
  const model = P.ModelProto.encode(P.ModelProto.create({
    irVersion: 8,
    producerName: "moe-bench",
    opsetImport: [P.OperatorSetIdProto.create({ domain: "", version: 17 })],
    graph,
  })).finish();
  const bindings: StateBinding[] = weights.map((w) => ({ input: w, output: `${w}_next` }));
  // forward L, dW L, dh L−1 products of 2·B·n² FLOPs each
  const flops = (3 * layers - 1) * 2 * batch * width * width;
  return { model, bindings, flops };
}
