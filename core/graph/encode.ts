import onnx from "onnx-proto";
import { ATTR_KINDS, type AttrKind, type OpType } from "./attrs.ts";
import { type DType, ONNX_DTYPE } from "./dtype.ts";
import type { ConstData, Graph, Node, Tensor } from "./graph.ts";

/** ONNX opset the builder targets (ReduceMean/Max take `axes` as an input from 18 on). */
export const OPSET = 18;
/** IR version 8 is the first to allow opset 18. */
export const IR_VERSION = 8;

/** Options of {@link encode}. */
export interface EncodeOptions {
  /**
   * `"inputs"` (training: parameters are fed every step) or `"initializers"` (inference: the
   * values are baked in). Default `"inputs"`.
   */
  parameters?: "inputs" | "initializers";
  /** Parameter values for `"initializers"`, by name; defaults to each parameter's `init`. */
  values?: ReadonlyMap<string, Float32Array>;
}

function valueInfo(t: Tensor): onnx.onnx.IValueInfoProto {
  return {
    name: t.name,
    type: {
      tensorType: {
        elemType: ONNX_DTYPE[t.dtype],
        shape: { dim: t.shape.map((d) => ({ dimValue: d })) },
      },
    },
  };
}

function tensorProto(
  name: string,
  dtype: DType,
  shape: readonly number[],
  data: ConstData,
): onnx.onnx.ITensorProto {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { name, dims: [...shape], dataType: ONNX_DTYPE[dtype], rawData: raw.slice() };
}

function attribute(name: string, kind: AttrKind, v: unknown): onnx.onnx.IAttributeProto {
  const T = onnx.onnx.AttributeProto.AttributeType;
  switch (kind) {
    case "int":
      return { name, type: T.INT, i: Number(v) };
    case "float":
      return { name, type: T.FLOAT, f: Number(v) };
    case "ints":
      return { name, type: T.INTS, ints: (v as number[]).map(Number) };
    case "string":
      return { name, type: T.STRING, s: new TextEncoder().encode(String(v)) };
    case "dtype":
      return { name, type: T.INT, i: ONNX_DTYPE[v as DType] };
    case "scalarTensor": {
      const s = v as { dtype: DType; value: number };
      const data = s.dtype === "int64"
        ? BigInt64Array.of(BigInt(s.value))
        : s.dtype === "bool"
        ? Uint8Array.of(s.value)
        : Float32Array.of(s.value);
      return { name, type: T.TENSOR, t: tensorProto("", s.dtype, [1], data) };
    }
  }
}

function nodeProto(n: Node, renamed: ReadonlyMap<string, string>): onnx.onnx.INodeProto {
  const kinds: Record<string, AttrKind> = ATTR_KINDS[n.op as OpType];
  const attribute_: onnx.onnx.IAttributeProto[] = [];
  for (const [k, v] of Object.entries(n.attrs)) {
    const kind = kinds[k];
    if (v === undefined) continue;
    if (!kind) throw new RangeError(`Cannot encode node "${n.name}": unknown attribute "${k}"`);
    attribute_.push(attribute(k, kind, v));
  }
  return {
    name: n.name,
    opType: n.op,
    input: n.inputs.map((t) => t ? renamed.get(t.name) ?? t.name : ""),
    output: n.outputs.map((t) => renamed.get(t.name) ?? t.name),
    attribute: attribute_,
  };
}

/**
 * Encodes a graph as ONNX `ModelProto` bytes (opset 18, default domain only).
 *
 * @param g The graph.
 * @param opts Whether parameters are inputs or baked-in initializers.
 * @returns The serialized model, ready for `InferenceSession.create`.
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { encode } from "./encode.ts";
 * const g = new Graph("id");
 * g.output(g.input("x", "float32", [1]), "y");
 * console.assert(encode(g).length > 0);
 * ```
 */
export function encode(g: Graph, opts: EncodeOptions = {}): Uint8Array {
  return serialize(g, opts, null);
}

/** Options of {@link encodeWithExternalData}. */
export interface ExternalDataOptions extends EncodeOptions {
  /** File name of the data file, relative to the model file (e.g. `model.onnx.data`). */
  location: string;
  /** Initializers of at least this many bytes go to the data file (default 1 KiB). */
  threshold?: number;
}

/** A model whose large initializers live in a separate file. */
export interface ExternalModel {
  /** `ModelProto` bytes referring to `location`. */
  model: Uint8Array;
  /** Consecutive pieces of the data file (write them in order); may total over 2 GB. */
  data: Uint8Array[];
}

/**
 * Encodes a graph with its large initializers (baked parameters) as ONNX external data, for
 * models over protobuf's 2 GB limit: each float tensor's bytes go to the data file at a 64-byte
 * aligned offset, and the model refers to them by `location`, `offset` and `length` (ONNX
 * external-data spec). Save the model next to the data file under the same directory.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { encodeWithExternalData } from "./encode.ts";
 * const g = new Graph("big");
 * g.output(g.parameter("w", [512], new Float32Array(512)), "y");
 * const { data } = encodeWithExternalData(g, { parameters: "initializers", location: "big.data" });
 * console.assert(data.reduce((n, d) => n + d.length, 0) >= 2048);
 * ```
 */
export function encodeWithExternalData(g: Graph, opts: ExternalDataOptions): ExternalModel {
  const data: Uint8Array[] = [];
  let offset = 0;
  const threshold = opts.threshold ?? 1024;
  const external = (t: onnx.onnx.ITensorProto): onnx.onnx.ITensorProto => {
    const raw = t.rawData;
    // Int tensors (shapes, axes, split sizes) stay inline: shape inference reads them at load.
    if (!raw || raw.length < threshold || t.dataType !== ONNX_DTYPE.float32) return t;
    const pad = (64 - (offset % 64)) % 64;
    if (pad) data.push(new Uint8Array(pad));
    offset += pad;
    data.push(raw);
    const entry = [
      { key: "location", value: opts.location },
      { key: "offset", value: String(offset) },
      { key: "length", value: String(raw.length) },
    ];
    offset += raw.length;
    return {
      ...t,
      rawData: null,
      dataLocation: onnx.onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: entry,
    };
  };
  return { model: serialize(g, opts, external), data };
}

/**
 * The Identity nodes that only give a node's result an output name (`g.output(t, name)`), and the
 * renaming that writes each such result under its output name instead. ONNX Runtime keeps an
 * Identity that feeds a graph output as a copy: 0.45 s of a 5.8 s gpt2-small step went to
 * copying its 148 gradients that way.
 */
function outputRenames(g: Graph): { renamed: Map<string, string>; dropped: Set<Node> } {
  const renamed = new Map<string, string>(), dropped = new Set<Node>();
  const outputs = new Set(g.outputs.map((t) => t.name));
  for (const n of g.nodes) {
    const x = n.inputs[0], y = n.outputs[0]!;
    if (n.op !== "Identity" || !x || x.kind !== "node" || !outputs.has(y.name)) continue;
    if (outputs.has(x.name) || renamed.has(x.name)) continue;
    renamed.set(x.name, y.name);
    dropped.add(n);
  }
  return { renamed, dropped };
}

function serialize(
  g: Graph,
  opts: EncodeOptions,
  external: ((t: onnx.onnx.ITensorProto) => onnx.onnx.ITensorProto) | null,
): Uint8Array {
  const asInputs = (opts.parameters ?? "inputs") === "inputs";
  const params = g.parameters.map((p) => p.tensor);
  const initializer = [...g.constants.values()].map((c) =>
    tensorProto(c.tensor.name, c.tensor.dtype, c.tensor.shape, c.data)
  );
  if (!asInputs) {
    for (const p of g.parameters) {
      const v = opts.values?.get(p.tensor.name) ?? p.init;
      initializer.push(tensorProto(p.tensor.name, "float32", p.tensor.shape, v));
    }
  }
  const { renamed, dropped } = outputRenames(g);
  const model: onnx.onnx.IModelProto = {
    irVersion: IR_VERSION,
    producerName: "moe",
    opsetImport: [{ domain: "", version: OPSET }],
    graph: {
      name: g.name,
      node: g.nodes.filter((n) => !dropped.has(n)).map((n) => nodeProto(n, renamed)),
      input: [...g.inputs, ...(asInputs ? params : [])].map(valueInfo),
      output: g.outputs.map(valueInfo),
      initializer: external ? initializer.map(external) : initializer,
    },
  };
  return onnx.onnx.ModelProto.encode(onnx.onnx.ModelProto.create(model)).finish();
}
