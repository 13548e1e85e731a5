import type { OpAttrs, OpType } from "./attrs.ts";
import type { DType } from "./dtype.ts";
import { inferOutputs } from "./infer.ts";
import type { Shape } from "./shape.ts";

/** Where a tensor comes from. */
export type TensorKind = "input" | "constant" | "parameter" | "node";

/** A value in a {@link Graph}: its unique name, element type and static shape. */
export class Tensor {
  constructor(
    /** Graph that owns this tensor. */
    readonly graph: Graph,
    /** Unique name in the graph (the ONNX value name). */
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly kind: TensorKind,
    /** The node that computes it, for `kind === "node"`. */
    readonly producer?: Node,
  ) {}

  /** Rank (number of dimensions). */
  get rank(): number {
    return this.shape.length;
  }
}

/** A node with the attributes of its op type. */
export interface NodeOf<K extends OpType> {
  readonly name: string;
  readonly op: K;
  /** Inputs in ONNX order; `null` for an omitted optional input. */
  readonly inputs: readonly (Tensor | null)[];
  readonly outputs: readonly Tensor[];
  readonly attrs: OpAttrs[K];
  /** Set by `stopGradient()`: the reverse pass treats the node as a constant. */
  readonly stopGradient: boolean;
}

/** Any node; `op` discriminates the attribute type. */
export type Node = { [K in OpType]: NodeOf<K> }[OpType];

/** Values of a constant, kept for build-time reads (shapes, axes). */
export type ConstData = Float32Array | BigInt64Array | Int32Array | Uint8Array;

/** A trainable (or frozen) parameter and its initial value. */
export interface Parameter {
  tensor: Tensor;
  init: Float32Array;
  /** Whether AdamW applies weight decay (false for biases, LayerNorm, embeddings as configured). */
  decay: boolean;
  /** Frozen parameters are graph inputs but receive no gradient and no update. */
  trainable: boolean;
}

/**
 * A hand-written backward for the block of nodes that computes one tensor (the idea of
 * `tf.customGradient` and `jax.custom_vjp`): the reverse pass calls `grad` instead of the rules of
 * the block's nodes, e.g. to recompute a large intermediate instead of keeping it alive until the
 * backward. The block must be closed: nothing outside it reads its intermediates.
 */
export interface CustomGradient {
  /** The tensors the block reads that may need gradients. */
  readonly inputs: readonly Tensor[];
  /** Emits the backward: the gradients of `inputs` (null = none) from that of the output. */
  grad(dOutput: Tensor): (Tensor | null)[];
}

/** Options of {@link Graph.node}. */
export interface NodeOptions {
  /** Number of outputs (default 1). */
  outputs?: number;
  /** Explicit output names instead of the derived `<node>` / `<node>:i`. */
  outputNames?: readonly string[];
  stopGradient?: boolean;
}

/**
 * A computation graph under construction: inputs, parameters, constants, nodes in topological
 * order, outputs. Names are deterministic: `<scope>/<Op>_<n>` for nodes, the node name for their
 * first output and `<node>:<i>` for further ones.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * const g = new Graph("demo");
 * const x = g.input("x", "float32", [2, 3]);
 * const [y] = g.node("Relu", [x], {});
 * g.output(y!, "y");
 * console.assert(g.nodes.length === 2 && y!.shape[1] === 3);
 * ```
 */
export class Graph {
  readonly inputs: Tensor[] = [];
  readonly parameters: Parameter[] = [];
  readonly constants = new Map<string, { tensor: Tensor; data: ConstData }>();
  readonly nodes: Node[] = [];
  readonly outputs: Tensor[] = [];
  /** Custom gradients by the name of the tensor they differentiate (see {@link withGradient}). */
  readonly customGradients = new Map<string, CustomGradient>();
  readonly #names = new Set<string>();
  readonly #scopes: string[] = [];
  readonly #scalars = new Map<string, Tensor>();
  #counter = 0;

  constructor(readonly name: string) {}

  /** Runs `fn` with `scope` appended to the name prefix of everything it creates. */
  scope<T>(scope: string, fn: () => T): T {
    this.#scopes.push(scope);
    try {
      return fn();
    } finally {
      this.#scopes.pop();
    }
  }

  /** Current name prefix, e.g. `h0/attn/`. */
  prefix(): string {
    return this.#scopes.length ? this.#scopes.join("/") + "/" : "";
  }

  #claim(name: string): string {
    if (this.#names.has(name)) throw new RangeError(`Cannot add "${name}": the name is taken`);
    this.#names.add(name);
    return name;
  }

  /** Declares a data input (token ids, labels, `lr`…). */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    const t = new Tensor(this, this.#claim(name), dtype, [...shape], "input");
    this.inputs.push(t);
    return t;
  }

  /** Declares a float32 parameter named `name` (not prefixed) with its initial value. */
  parameter(
    name: string,
    shape: Shape,
    init: Float32Array,
    opts: { decay?: boolean; trainable?: boolean } = {},
  ): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    if (init.length !== size) {
      throw new RangeError(
        `Cannot add parameter "${name}": ${init.length} values for shape [${shape}]`,
      );
    }
    const tensor = new Tensor(this, this.#claim(name), "float32", [...shape], "parameter");
    this.parameters.push({
      tensor,
      init,
      decay: opts.decay ?? shape.length >= 2,
      trainable: opts.trainable ?? true,
    });
    return tensor;
  }

  /** Adds a constant (an initializer) with the given values. */
  constant(data: ConstData, shape: Shape, dtype: DType = "float32", name?: string): Tensor {
    const n = this.#claim(name ?? `${this.prefix()}const_${this.#counter++}`);
    const tensor = new Tensor(this, n, dtype, [...shape], "constant");
    this.constants.set(n, { tensor, data });
    return tensor;
  }

  /** A shared scalar constant (shape `[]`). */
  scalar(value: number, dtype: DType = "float32"): Tensor {
    const key = `${dtype}:${value}`;
    let t = this.#scalars.get(key);
    if (!t) {
      const data = dtype === "int64"
        ? BigInt64Array.of(BigInt(value))
        : dtype === "float32"
        ? Float32Array.of(value)
        : dtype === "int32"
        ? Int32Array.of(value)
        : Uint8Array.of(value);
      t = this.constant(data, [], dtype, `scalar_${dtype}_${value}`);
      this.#scalars.set(key, t);
    }
    return t;
  }

  /** A 1-D int64 constant (shapes, axes, pads). */
  ints(values: readonly number[]): Tensor {
    return this.constant(BigInt64Array.from(values, BigInt), [values.length], "int64");
  }

  /** Values of a constant tensor as numbers, or `undefined` when it is not a constant. */
  constValues(t: Pick<Tensor, "name">): number[] | undefined {
    const c = this.constants.get(t.name);
    if (!c) return undefined;
    return Array.from(c.data as ArrayLike<number | bigint>, Number);
  }

  /**
   * Appends a node, infers its output types and shapes, and returns its outputs.
   *
   * @throws {RangeError} When input shapes do not fit the op; the message names the node and shapes.
   */
  node<K extends OpType>(
    op: K,
    inputs: readonly (Tensor | null)[],
    attrs: OpAttrs[K],
    opts: NodeOptions = {},
  ): Tensor[] {
    for (const t of inputs) {
      if (t && t.graph !== this) {
        throw new RangeError(`Cannot use "${t.name}": it belongs to another graph`);
      }
    }
    const name = this.#claim(`${this.prefix()}${op}_${this.#counter++}`);
    const constValues = (t: Pick<Tensor, "name">) => this.constValues(t);
    const specs = inferOutputs(op, inputs, attrs, constValues, name, opts.outputs ?? 1);
    const outputs: Tensor[] = [];
    const node = {
      name,
      op,
      inputs: [...inputs],
      outputs,
      attrs,
      stopGradient: opts.stopGradient ?? false,
    } as NodeOf<K>;
    specs.forEach((s, i) => {
      const out = opts.outputNames?.[i] ?? (i === 0 ? name : `${name}:${i}`);
      if (out !== name) this.#claim(out);
      outputs.push(new Tensor(this, out, s.dtype, s.shape, "node", node as Node));
    });
    this.nodes.push(node as Node);
    return outputs;
  }

  /**
   * Gives the block that computes `t` (a node's output) a hand-written backward.
   *
   * @returns `t`.
   * @throws {RangeError} If `t` is not a node's output or already has one.
   */
  withGradient(t: Tensor, gradient: CustomGradient): Tensor {
    if (t.kind !== "node" || this.customGradients.has(t.name)) {
      throw new RangeError(
        `Cannot give "${t.name}" a custom gradient: not a node's output, or it has one`,
      );
    }
    this.customGradients.set(t.name, gradient);
    return t;
  }

  /** Marks `t` as a graph output, renamed to `name` through an Identity node when given. */
  output(t: Tensor, name?: string): Tensor {
    const out = name && name !== t.name
      ? this.node("Identity", [t], {}, { outputNames: [name] })[0]!
      : t;
    this.outputs.push(out);
    return out;
  }
}
