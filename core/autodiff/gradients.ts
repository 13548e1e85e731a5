import {
  add,
  type CustomGradient,
  fmtShape,
  full,
  type Graph,
  isFloat,
  type Node,
  type NodeOf,
  type OpType,
  type Tensor,
} from "../graph/mod.ts";
import { gradRule, NON_DIFFERENTIABLE } from "./registry.ts";
import type { GradContext, GradRule } from "./rule.ts";

/** Options of {@link gradients}. */
export interface GradientsOptions {
  /** Gradient of the loss itself (default: ones of the loss's shape). */
  seed?: Tensor;
}

function ruleFor<K extends OpType>(node: NodeOf<K>): GradRule<K> | undefined {
  return gradRule(node.op) as GradRule<K> | undefined;
}

/** Tensors that depend on `wrt` through differentiable float paths. */
function activeSet(g: Graph, wrt: readonly Tensor[]): Set<string> {
  const active = new Set(wrt.map((t) => t.name));
  for (const n of g.nodes) {
    if (n.stopGradient || NON_DIFFERENTIABLE.includes(n.op)) continue;
    if (!n.inputs.some((t) => t && active.has(t.name))) continue;
    for (const o of n.outputs) if (isFloat(o.dtype)) active.add(o.name);
  }
  return active;
}

/** Tensors the loss depends on. */
function usefulSet(g: Graph, loss: Tensor): Set<string> {
  const useful = new Set([loss.name]);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (!n.outputs.some((o) => useful.has(o.name))) continue;
    for (const t of n.inputs) if (t) useful.add(t.name);
  }
  return useful;
}

/**
 * Reverse-mode differentiation: appends to the loss's graph the nodes computing
 * ∂loss/∂t for every `t` in `wrt`. Walks nodes in reverse build order; each node with a needed
 * gradient calls its registered rule under the name scope `<node>/grad`; gradients of tensors
 * used several times (fan-out) are summed into `<tensor>_grad`. `stopGradient` nodes,
 * non-differentiable ops and integer tensors stop the flow.
 *
 * @param loss The tensor to differentiate (usually a scalar).
 * @param wrt Tensors (parameters, inputs) to differentiate with respect to.
 * @returns Gradient tensors by name of `wrt` tensor; zeros when the loss does not depend on one.
 * @throws {RangeError} When a node on the path has no rule (naming the op and the node) or a rule
 *   returns a gradient whose shape differs from its input's (naming both shapes and the node).
 * @example
 * ```ts
 * import { Graph, mul, reduceSum } from "../graph/mod.ts";
 * import { gradients } from "./gradients.ts";
 * const g = new Graph("g");
 * const x = g.input("x", "float32", [3]);
 * const dx = gradients(reduceSum(mul(x, x)), [x]).get("x")!;
 * console.assert(dx.shape.join() === "3");
 * ```
 */
export function gradients(
  loss: Tensor,
  wrt: readonly Tensor[],
  opts: GradientsOptions = {},
): Map<string, Tensor> {
  const g = loss.graph;
  const active = activeSet(g, wrt), useful = usefulSet(g, loss);
  const needed = (t: Tensor | null) => !!t && active.has(t.name) && useful.has(t.name);
  const partials = new Map<string, Tensor[]>();
  const summed = new Map<string, Tensor>();
  const total = (t: Tensor): Tensor | null => {
    const done = summed.get(t.name);
    if (done) return done;
    const parts = partials.get(t.name);
    if (!parts?.length) return null;
    let s = parts[0]!;
    for (let i = 1; i < parts.length; i++) {
      const last = i === parts.length - 1;
      s = last
        ? g.node("Add", [s, parts[i]!], {}, { outputNames: [`${t.name}_grad`] })[0]!
        : add(s, parts[i]!);
    }
    summed.set(t.name, s);
    return s;
  };
  partials.set(loss.name, [opts.seed ?? full(loss, loss.shape, 1)]);

  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const node = g.nodes[i]!;
    if (node.stopGradient || !node.inputs.some(needed)) continue;
    if (!node.outputs.some((o) => partials.has(o.name))) continue;
    const custom = g.customGradients.get(node.outputs[0]!.name);
    if (custom) customBackward(node, custom, needed, total(node.outputs[0]!), partials);
    else backward(node, needed, total, partials);
  }
  const out = new Map<string, Tensor>();
  for (const t of wrt) out.set(t.name, total(t) ?? full(t, t.shape, 0));
  return out;
}

function backward<K extends OpType>(
  node: NodeOf<K>,
  needed: (t: Tensor | null) => boolean,
  total: (t: Tensor) => Tensor | null,
  partials: Map<string, Tensor[]>,
): void {
  const rule = ruleFor(node);
  if (!rule) {
    throw new RangeError(
      `Cannot differentiate node "${node.name}": op "${node.op}" has no gradient rule`,
    );
  }
  const g = node.outputs[0]!.graph;
  const saved = (
    list: readonly number[],
    kind: string,
    i: number,
    t: Tensor | null | undefined,
  ) => {
    if (!t || !list.includes(i)) {
      throw new RangeError(`Gradient rule of "${node.op}" reads ${kind} ${i} it does not save`);
    }
    return t;
  };
  const ctx: GradContext<K> = {
    node,
    attrs: node.attrs,
    graph: g,
    input: (i) => saved(rule.saves.inputs, "input", i, node.inputs[i]),
    output: (i) => saved(rule.saves.outputs, "output", i, node.outputs[i]),
    shapeOf: (i) => node.inputs[i]?.shape ?? [],
    dtypeOf: (i) => node.inputs[i]?.dtype ?? "float32",
    gradOfOutput: (i) => {
      const o = node.outputs[i];
      return o ? total(o) : null;
    },
    needsGradOfInput: (i) => needed(node.inputs[i] ?? null),
  };
  const grads = g.scope(`${node.name}/grad`, () => rule.grad(ctx));
  node.inputs.forEach((t, i) => addPartial(node, t, i, grads[i] ?? null, needed, partials));
}

/** A block's hand-written backward: its gradients go to the block's inputs, past its nodes. */
function customBackward(
  node: Pick<Node, "name" | "op">,
  custom: CustomGradient,
  needed: (t: Tensor | null) => boolean,
  dOutput: Tensor | null,
  partials: Map<string, Tensor[]>,
): void {
  if (!dOutput) return;
  const g = dOutput.graph;
  const grads = g.scope(`${node.name}/grad`, () => custom.grad(dOutput));
  custom.inputs.forEach((t, i) => addPartial(node, t, i, grads[i] ?? null, needed, partials));
}

function addPartial(
  node: Pick<Node, "name" | "op">,
  t: Tensor | null,
  i: number,
  d: Tensor | null,
  needed: (t: Tensor | null) => boolean,
  partials: Map<string, Tensor[]>,
): void {
  if (!t || !d || !needed(t)) return;
  if (d.shape.join() !== t.shape.join()) {
    throw new RangeError(
      `Gradient of node "${node.name}" (${node.op}) input ${i} has shape ${
        fmtShape(d.shape)
      }, input "${t.name}" has ${fmtShape(t.shape)}`,
    );
  }
  const list = partials.get(t.name) ?? [];
  list.push(d);
  partials.set(t.name, list);
}

export type { Node };
