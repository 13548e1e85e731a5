import type { Graph, NodeOf, OpAttrs, OpType, Shape, Tensor } from "../graph/mod.ts";
import type { DType } from "../graph/mod.ts";

/**
 * What a gradient function may read. The vocabulary of every rule: `input(i)` and `output(i)` are
 * the saved forward values (only those the rule declares in `saves`), `gradOfOutput(i)` the
 * incoming gradient, `needsGradOfInput(i)` whether input `i` wants one. Shapes and types of all
 * inputs are known at build time without saving them.
 */
export interface GradContext<K extends OpType> {
  readonly node: NodeOf<K>;
  readonly attrs: OpAttrs[K];
  readonly graph: Graph;
  /** Saved forward input `i`. @throws {RangeError} When the rule did not declare it saved. */
  input(i: number): Tensor;
  /** Saved forward output `i`. @throws {RangeError} When the rule did not declare it saved. */
  output(i: number): Tensor;
  /** Static shape of input `i`. */
  shapeOf(i: number): Shape;
  /** Element type of input `i`. */
  dtypeOf(i: number): DType;
  /** Gradient of the loss w.r.t. output `i`, or `null` when nothing downstream needs it. */
  gradOfOutput(i: number): Tensor | null;
  /** Whether the pass needs the gradient of input `i`; rules emit only needed gradients. */
  needsGradOfInput(i: number): boolean;
}

/** One vector-Jacobian product rule (the tfjs-core `GradConfig` shape). */
export interface GradRule<K extends OpType> {
  /** ONNX op type. */
  readonly op: K;
  /** Forward values the gradient reads (kept alive by the runtime until the backward pass). */
  readonly saves: { readonly inputs: readonly number[]; readonly outputs: readonly number[] };
  /** Emits gradient nodes; returns `gradOfInput(i)` for each input (`null` = none). */
  grad(c: GradContext<K>): (Tensor | null)[];
}

/** A rule of any op. */
export type AnyGradRule = { [K in OpType]: GradRule<K> }[OpType];
