/**
 * Training state in the safetensors layout (https://github.com/huggingface/safetensors), so that
 * checkpoints open in any safetensors reader:
 *
 * ```text
 * bytes 0..8      N, the header length: unsigned 64-bit little-endian
 * bytes 8..8+N    the header: a UTF-8 JSON object, padded with spaces to a multiple of 8 bytes
 *                   "__metadata__": { string: string }            (optional, free-form)
 *                   "<tensor name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [b, e] }
 * bytes 8+N..     the data: each tensor's elements row-major, little-endian, at [b, e) counted
 *                 from the start of the data; the tensors tile the data exactly, no gaps or overlap
 * ```
 *
 * dtypes: F32, F64, F16, I64, I32, I8, U8, BOOL, and BF16 on read: bfloat16 has no host dtype, so
 * its tensors are widened to float32 (exactly: a bfloat16 is the top half of a float32's bits).
 * {@linkcode float32Values} widens F16 too, for readers of half-precision checkpoints. This
 * writer orders tensors by name.
 *
 * @module
 */
import { nameOsErrors, writeFileAtomic } from "../files/mod.ts";
import { BYTES_PER_ELEMENT, type HostDType, type HostTensor, sizeOf } from "./host_tensor.ts";

/** Safetensors dtype codes and the host dtypes they hold. */
const DTYPES: Readonly<Record<string, HostDType>> = {
  F32: "float32",
  F64: "float64",
  F16: "float16",
  I64: "int64",
  I32: "int32",
  I8: "int8",
  U8: "uint8",
  BOOL: "bool",
};
const CODES = Object.fromEntries(Object.entries(DTYPES).map(([code, d]) => [d, code]));
const METADATA = "__metadata__";
/** Read only, widened to float32 (kept out of `DTYPES`, whose inverse names what we write). */
const BF16 = "BF16";

/** Named tensors plus a string metadata map: what a state file holds. */
export interface SafetensorsContent {
  tensors: Record<string, HostTensor>;
  metadata: Record<string, string>;
}

/**
 * Encodes tensors and metadata in the safetensors layout.
 *
 * @param tensors Tensors by name.
 * @param metadata Free-form string metadata (step, config hash, …).
 * @returns The file bytes.
 * @throws {RangeError} If a tensor's data length does not match its shape.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * import { float32 } from "./host_tensor.ts";
 * const bytes = encodeSafetensors({ w: float32([1, 2, 3, 4], [2, 2]) }, { step: "7" });
 * const back = decodeSafetensors(bytes);
 * console.assert(back.tensors.w?.data[3] === 4 && back.metadata.step === "7");
 * ```
 */
export function encodeSafetensors(
  tensors: Readonly<Record<string, HostTensor>>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA] = { ...metadata };
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    if (t.data.length !== sizeOf(t.dims)) {
      throw new RangeError(
        `Cannot encode tensor "${name}": ${t.data.length} values for shape [${t.dims.join(", ")}]`,
      );
    }
    const bytes = t.data.byteLength;
    header[name] = {
      dtype: CODES[t.dtype],
      shape: [...t.dims],
      data_offsets: [offset, offset + bytes],
    };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    json = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(padded - json.length));
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const name of names) {
    const { data } = tensors[name]!;
    out.set(littleEndianBytes(data), at);
    at += data.byteLength;
  }
  return out;
}

/**
 * Decodes a safetensors file.
 *
 * @param bytes The file bytes.
 * @param source What to call the file in errors (its path).
 * @returns The tensors (each in its own aligned array) and the metadata.
 * @throws {SyntaxError} If the file is malformed; the message names the file, the tensor and
 *   the field at fault.
 */
export function decodeSafetensors(bytes: Uint8Array, source = "<bytes>"): SafetensorsContent {
  const fail = (detail: string) =>
    new SyntaxError(`Cannot read safetensors "${source}": ${detail}`);
  const { header, dataStart } = readHeader(bytes, fail);
  const dataLength = bytes.length - dataStart;
  const metadata = readMetadata(header[METADATA], fail);
  const tensors: Record<string, HostTensor> = {};
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === METADATA) continue;
    const { dtype, bf16, dims, begin, end } = readEntry(name, entry, dataLength, fail);
    spans.push([begin, end, name]);
    const raw = bytes.subarray(dataStart + begin, dataStart + end);
    tensors[name] = bf16 ? fromBFloat16(dims, raw) : fromBytes(dtype, dims, raw);
  }
  checkTiling(spans, dataLength, fail);
  return { tensors, metadata };
}

/** The JSON header of a safetensors file and where its data starts. */
function readHeader(
  bytes: Uint8Array,
  fail: (d: string) => Error,
): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) {
    throw fail(`the file has ${bytes.length} bytes, fewer than the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    throw fail(`header length ${headerLength} exceeds the ${bytes.length - 8} bytes after it`);
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, dataStart)),
    );
  } catch (error) {
    throw fail(`the header is not UTF-8 JSON (${error instanceof Error ? error.message : error})`);
  }
  if (!isRecord(header)) throw fail("the header is not a JSON object");
  return { header, dataStart };
}

/** One tensor's header entry, checked: its dtype (bf16 read as float32), shape and byte span. */
interface TensorEntry {
  dtype: HostDType;
  bf16: boolean;
  dims: number[];
  begin: number;
  end: number;
}

/**
 * Checks the header entry of tensor `name`: a known dtype, a shape of non-negative integers and
 * data offsets inside the data that hold exactly the shape's bytes.
 */
function readEntry(
  name: string,
  entry: unknown,
  dataLength: number,
  fail: (d: string) => Error,
): TensorEntry {
  const field = (f: string, detail: string) => fail(`tensor "${name}" field "${f}": ${detail}`);
  if (!isRecord(entry)) throw fail(`tensor "${name}": the entry is not an object`);
  const bf16 = entry.dtype === BF16;
  const dtype = bf16 ? "float32" : DTYPES[String(entry.dtype)];
  if (dtype === undefined) {
    throw field(
      "dtype",
      `unknown ${JSON.stringify(entry.dtype)} (allowed: ${
        [...Object.keys(DTYPES), BF16].join(", ")
      })`,
    );
  }
  const shape = entry.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw field("shape", `${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  const offsets = entry.data_offsets;
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]
  ) {
    throw field(
      "data_offsets",
      `${JSON.stringify(offsets)} is not [begin, end] with begin ≤ end`,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) {
    throw field("data_offsets", `[${begin}, ${end}] lies outside the ${dataLength}-byte data`);
  }
  const dims = shape as number[];
  const need = sizeOf(dims) * (bf16 ? 2 : BYTES_PER_ELEMENT[dtype]);
  if (end - begin !== need) {
    throw field(
      "data_offsets",
      `[${begin}, ${end}] holds ${end - begin} bytes, ${bf16 ? BF16 : dtype}[${
        dims.join(", ")
      }] needs ${need}`,
    );
  }
  return { dtype, bf16, dims, begin, end };
}

/**
 * Writes tensors and metadata to a safetensors file, atomically.
 *
 * @param path The file to write.
 * @param tensors Tensors by name.
 * @param metadata String metadata.
 * @throws {Error} `Cannot write "<path>": <reason>` when the OS refuses (no space left, …).
 *
 * @example
 * ```ts
 * import { loadSafetensors, saveSafetensors } from "./safetensors.ts";
 * import { float32 } from "./host_tensor.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await saveSafetensors(path, { b: float32([0.5]) }, { step: "1" });
 * console.assert((await loadSafetensors(path)).tensors.b?.data[0] === 0.5);
 * await Deno.remove(path);
 * ```
 */
export async function saveSafetensors(
  path: string,
  tensors: Readonly<Record<string, HostTensor>>,
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  const bytes = encodeSafetensors(tensors, metadata);
  // Named here: the OS error would name the temporary sibling, not the file the user asked for.
  await nameOsErrors("write", path, () => writeFileAtomic(path, bytes));
}

/**
 * Reads a safetensors file.
 *
 * @param path The file.
 * @returns Its tensors and metadata.
 * @throws {SyntaxError} If the file is malformed (names the file, tensor and field).
 */
export async function loadSafetensors(path: string): Promise<SafetensorsContent> {
  return decodeSafetensors(await Deno.readFile(path), path);
}

/**
 * The values of a floating-point tensor as float32: float32 as it is, float16 (IEEE half bits)
 * widened exactly; BF16 tensors already arrive as float32 from {@linkcode decodeSafetensors}.
 *
 * @param tensor A tensor.
 * @returns Its values, or null for any other dtype (float64 would lose precision: the caller
 *   names the tensor and refuses it).
 *
 * @example
 * ```ts
 * import { float32Values } from "./safetensors.ts";
 * const half = { dtype: "float16" as const, dims: [3], data: Uint16Array.of(0x3c00, 0xc000, 0x0001) };
 * console.assert(float32Values(half)!.join() === [1, -2, 2 ** -24].join());
 * ```
 */
export function float32Values(tensor: HostTensor): Float32Array | null {
  if (tensor.dtype === "float32") return tensor.data;
  if (tensor.dtype !== "float16") return null;
  return Float32Array.from(tensor.data, halfToNumber);
}

/** IEEE 754 binary16 bits → its value (subnormals, infinities and NaN included). */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f, fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** bfloat16 values (little-endian) as float32: each one's 16 bits become the float32's top half. */
function fromBFloat16(dims: number[], src: Uint8Array): HostTensor {
  const bits = new Uint32Array(src.length / 2);
  for (let i = 0; i < bits.length; i++) bits[i] = (src[2 * i]! | (src[2 * i + 1]! << 8)) << 16;
  return { dtype: "float32", dims, data: new Float32Array(bits.buffer) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readMetadata(value: unknown, fail: (d: string) => Error): Record<string, string> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw fail(`field "${METADATA}" is not an object`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") throw fail(`field "${METADATA}" key "${key}" is not a string`);
  }
  return value as Record<string, string>;
}

/** The spec requires the tensors to cover the data exactly: no gap, no overlap. */
function checkTiling(
  spans: [number, number, string][],
  dataLength: number,
  fail: (d: string) => Error,
) {
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let at = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== at) {
      const what = begin < at ? "overlaps the tensor before it" : `leaves a gap at byte ${at}`;
      throw fail(`tensor "${name}" field "data_offsets": [${begin}, ${end}] ${what}`);
    }
    at = end;
  }
  if (at !== dataLength) throw fail(`the data has ${dataLength - at} bytes after the last tensor`);
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Byte order is little-endian in the file; swap each element on a big-endian host. */
function swapToLittleEndian(raw: Uint8Array, elementSize: number): Uint8Array {
  if (LITTLE_ENDIAN || elementSize === 1) return raw;
  const out = raw.slice();
  for (let i = 0; i < out.length; i += elementSize) out.subarray(i, i + elementSize).reverse();
  return out;
}

function littleEndianBytes(data: HostTensor["data"]): Uint8Array {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return swapToLittleEndian(raw, data.BYTES_PER_ELEMENT);
}

function fromBytes(dtype: HostDType, dims: number[], src: Uint8Array): HostTensor {
  // Copy into a fresh buffer: the source offset need not be aligned to the element size.
  const buf = swapToLittleEndian(src.slice(), BYTES_PER_ELEMENT[dtype]).buffer;
  switch (dtype) {
    case "float32":
      return { dtype, dims, data: new Float32Array(buf) };
    case "float64":
      return { dtype, dims, data: new Float64Array(buf) };
    case "float16":
      return { dtype, dims, data: new Uint16Array(buf) };
    case "int64":
      return { dtype, dims, data: new BigInt64Array(buf) };
    case "int32":
      return { dtype, dims, data: new Int32Array(buf) };
    case "int8":
      return { dtype, dims, data: new Int8Array(buf) };
    case "uint8":
    case "bool":
      return { dtype, dims, data: new Uint8Array(buf) };
  }
}
