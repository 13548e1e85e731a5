import { gradients } from "../autodiff/mod.ts";
import {
  add,
  encode,
  Graph,
  mul,
  type Parameter,
  reduceSumSquare,
  sqrt,
  type Tensor,
} from "../graph/mod.ts";
import { type AdamWConfig, addAdamW, type StateBinding } from "./adamw.ts";

/** A model's training objective built into a fresh graph. */
export type BuildLoss = (g: Graph) => Tensor;

/** An encoded training graph and what the runtime needs to drive it. */
export interface TrainingGraph {
  graph: Graph;
  /** `ModelProto` bytes. */
  model: Uint8Array;
  /** Which output feeds which input at the next step. */
  bindings: StateBinding[];
  /** Initial values of every bound input (parameters from their init, optimizer state zeros). */
  initialState: Map<string, Float32Array>;
  /** Inputs fed each step that are not state: data, `lr`, `step`. */
  dataInputs: Tensor[];
}

function finish(g: Graph, bindings: StateBinding[], params: readonly Parameter[]): TrainingGraph {
  const initialState = new Map<string, Float32Array>();
  for (const p of params) initialState.set(p.tensor.name, p.init);
  const bound = new Set(bindings.map((b) => b.input));
  for (const t of g.inputs) {
    if (bound.has(t.name) && !initialState.has(t.name)) {
      initialState.set(t.name, new Float32Array(t.shape.reduce((a, b) => a * b, 1)));
    }
  }
  const dataInputs = g.inputs.filter((t) => !bound.has(t.name));
  return { graph: g, model: encode(g), bindings, initialState, dataInputs };
}

/**
 * Builds one fused training step: forward + loss + backward + clipping + AdamW, one session run.
 * Outputs `loss`, `grad_norm` and the updated state; frozen parameters (`trainable: false`) are
 * inputs without gradient or update.
 *
 * @example
 * ```ts
 * import { matMul, reduceMean, mul } from "../graph/mod.ts";
 * import { ADAMW_DEFAULTS, buildTrainingStep } from "./mod.ts";
 * const step = buildTrainingStep("lin", (g) => {
 *   const y = matMul(g.input("x", "float32", [2, 3]), g.parameter("w", [3, 1], new Float32Array(3)));
 *   return reduceMean(mul(y, y));
 * }, ADAMW_DEFAULTS);
 * console.assert(step.bindings.some((b) => b.input === "w" && b.output === "w.next"));
 * ```
 */
export function buildTrainingStep(name: string, build: BuildLoss, cfg: AdamWConfig): TrainingGraph {
  const g = new Graph(name);
  const loss = build(g);
  const trainable = g.parameters.filter((p) => p.trainable);
  const grads = gradients(loss, trainable.map((p) => p.tensor));
  const { bindings, gradNorm } = addAdamW(g, g.parameters, grads, cfg);
  g.output(loss, "loss");
  g.output(gradNorm, "grad_norm");
  return finish(g, bindings, g.parameters);
}

/** The name of the gradient output of parameter `param` in {@linkcode buildGradientStep}. */
export const gradientName = (param: string): string => `${param}.grad`;

/**
 * Builds forward + loss + backward with no update: outputs `loss`, `grad_norm` (‖g‖₂ over the
 * trainable parameters, before clipping) and `<p>.grad` per trainable parameter, for an optimizer
 * that runs outside the graph ({@linkcode HostAdamWStep}). The parameters are inputs without
 * bindings: held on the backend and fed every run, as frozen ones are.
 *
 * @example
 * ```ts
 * import { matMul, reduceMean, mul } from "../graph/mod.ts";
 * import { buildGradientStep } from "./mod.ts";
 * const step = buildGradientStep("lin", (g) => {
 *   const y = matMul(g.input("x", "float32", [2, 3]), g.parameter("w", [3, 1], new Float32Array(3)));
 *   return reduceMean(mul(y, y));
 * });
 * console.assert(step.graph.outputs.some((t) => t.name === "w.grad"));
 * console.assert(step.bindings.length === 0 && step.initialState.has("w"));
 * ```
 */
export function buildGradientStep(name: string, build: BuildLoss): TrainingGraph {
  const g = new Graph(name);
  const loss = build(g);
  const trainable = g.parameters.filter((p) => p.trainable);
  const grads = gradients(loss, trainable.map((p) => p.tensor));
  let squares: Tensor | null = null;
  for (const p of trainable) {
    const d = grads.get(p.tensor.name)!;
    g.output(d, gradientName(p.tensor.name));
    const s = reduceSumSquare(d);
    squares = squares ? add(squares, s) : s;
  }
  g.output(loss, "loss");
  g.output(squares ? sqrt(squares) : g.scalar(0), "grad_norm");
  return finish(g, [], g.parameters);
}

/** The two graphs of gradient accumulation over micro-batches. */
export interface AccumulationGraphs {
  /** Run once per micro-batch: `<p>.grad_acc.next = <p>.grad_acc + ∂loss/∂p`, outputs `loss`. */
  accumulate: TrainingGraph;
  /** Run once per optimizer step: AdamW on the mean gradient, then zeroes the accumulators. */
  apply: TrainingGraph;
}

/**
 * Gradient accumulation as two graphs (our choice over an in-graph Loop: Loop bodies would need
 * their own gradient rules, and two flat graphs keep every execution provider happy). The
 * accumulators live in the runtime like optimizer state: `accumulate` binds
 * `<p>.grad_acc.next → <p>.grad_acc`; `apply` reads the accumulators, scales them by
 * `1 / microBatches`, updates parameters and moments, and outputs zeroed accumulators bound back
 * to `<p>.grad_acc`. The runtime must share the parameter and accumulator values between the two
 * sessions (they use the same names).
 */
export function buildAccumulationSteps(
  name: string,
  build: BuildLoss,
  cfg: AdamWConfig,
  microBatches: number,
): AccumulationGraphs {
  if (!Number.isInteger(microBatches) || microBatches < 1) {
    throw new RangeError(
      `Cannot accumulate over ${microBatches} micro-batches: need an integer ≥ 1`,
    );
  }
  const g = new Graph(`${name}.accumulate`);
  const loss = build(g);
  const trainable = g.parameters.filter((p) => p.trainable);
  const grads = gradients(loss, trainable.map((p) => p.tensor));
  const accBindings: StateBinding[] = [];
  for (const p of trainable) {
    const acc = g.input(`${p.tensor.name}.grad_acc`, "float32", p.tensor.shape);
    const out = g.node("Add", [acc, grads.get(p.tensor.name)!], {}, {
      outputNames: [`${acc.name}.next`],
    })[0]!;
    g.outputs.push(out);
    accBindings.push({ input: acc.name, output: out.name });
  }
  g.output(loss, "loss");
  const accumulate = finish(g, accBindings, []);

  const a = new Graph(`${name}.apply`);
  const mean = new Map<string, Tensor>();
  const zeroBindings: StateBinding[] = [];
  for (const p of g.parameters) {
    const t = a.parameter(p.tensor.name, p.tensor.shape, p.init, p);
    if (!p.trainable) continue;
    const acc = a.input(`${p.tensor.name}.grad_acc`, "float32", p.tensor.shape);
    mean.set(t.name, mul(acc, 1 / microBatches));
    const zero = a.node("ConstantOfShape", [a.ints(p.tensor.shape)], {
      value: { dtype: "float32", value: 0 },
    }, { outputNames: [`${acc.name}.next`] })[0]!;
    a.outputs.push(zero);
    zeroBindings.push({ input: acc.name, output: zero.name });
  }
  const { bindings, gradNorm } = addAdamW(a, a.parameters, mean, cfg);
  a.output(gradNorm, "grad_norm");
  const apply = finish(a, [...bindings, ...zeroBindings], a.parameters);
  return { accumulate, apply };
}
