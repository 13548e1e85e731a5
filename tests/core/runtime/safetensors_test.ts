import assert from "node:assert/strict";
import {
  decodeSafetensors,
  encodeSafetensors,
  float32,
  type HostTensor,
  loadSafetensors,
  saveSafetensors,
} from "../../../core/runtime/mod.ts";

const sample: Record<string, HostTensor> = {
  "h.0.attn.w": float32([1.5, -2, 3.25, 1e-30, -0, Infinity], [2, 3]),
  "adam.step": { dtype: "int64", dims: [], data: BigInt64Array.of(123456789012345n) },
  "mask": { dtype: "bool", dims: [3], data: Uint8Array.of(1, 0, 1) },
  "emb": { dtype: "float16", dims: [2], data: Uint16Array.of(0x3c00, 0xc000) },
  "ids": { dtype: "int32", dims: [2, 0], data: new Int32Array(0) },
  "f64": { dtype: "float64", dims: [1], data: Float64Array.of(Math.PI) },
  "i8": { dtype: "int8", dims: [1], data: Int8Array.of(-7) },
};

/** Hand-assembles a file: header length, header JSON, data. */
function file(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

Deno.test("encodeSafetensors() and decodeSafetensors() round-trip every dtype, shape and metadata", () => {
  const bytes = encodeSafetensors(sample, { step: "42", format: "pt" });
  const { tensors, metadata } = decodeSafetensors(bytes);
  assert.deepEqual(metadata, { step: "42", format: "pt" });
  assert.deepEqual(Object.keys(tensors).sort(), Object.keys(sample).sort());
  for (const [name, t] of Object.entries(sample)) {
    assert.equal(tensors[name]!.dtype, t.dtype, name);
    assert.deepEqual(tensors[name]!.dims, t.dims, name);
    assert.deepEqual(tensors[name]!.data, t.data, name);
  }
  assert.ok(Object.is((tensors["h.0.attn.w"]!.data as Float32Array)[4], -0), "−0 keeps its sign");
});

Deno.test("encodeSafetensors() writes the documented layout: u64 LE length, padded JSON, LE data", () => {
  const bytes = encodeSafetensors({ b: float32([1]), a: float32([2, 3]) });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0, "header padded to 8 bytes");
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.deepEqual(header, {
    a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
    b: { dtype: "F32", shape: [1], data_offsets: [8, 12] },
  });
  assert.equal(bytes.length, 8 + n + 12);
  // 2.0f = 0x40000000, little-endian
  assert.deepEqual([...bytes.subarray(8 + n, 8 + n + 4)], [0, 0, 0, 0x40]);
});

Deno.test("decodeSafetensors() reads a file with an unaligned data section", () => {
  const data = new Uint8Array(new Float32Array([7, 8]).buffer);
  const { tensors } = decodeSafetensors(
    file({ x: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, data),
  );
  assert.deepEqual([...tensors.x!.data as Float32Array], [7, 8]);
});

Deno.test("saveSafetensors() and loadSafetensors() round-trip through a file", async () => {
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    await saveSafetensors(path, sample, { note: "ü" });
    const back = await loadSafetensors(path);
    assert.deepEqual(back.metadata, { note: "ü" });
    assert.deepEqual(back.tensors.f64!.data, sample.f64!.data);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("decodeSafetensors() names the file and the field of a corrupt entry", () => {
  const f32 = (extra: object) => ({
    w: { dtype: "F32", shape: [2], data_offsets: [0, 8], ...extra },
  });
  const data = new Uint8Array(8);
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(3), "the file has 3 bytes, fewer than the 8-byte header length"],
    [file({}).subarray(0, 9), "header length 2 exceeds the 1 bytes after it"],
    [file("x"), "the header is not a JSON object"],
    [
      file(f32({ dtype: "Q4" }), data),
      'tensor "w" field "dtype": unknown "Q4" (allowed: F32, F64, F16, I64, I32, I8, U8, BOOL, BF16)',
    ],
    [
      file(f32({ shape: [2.5] }), data),
      'tensor "w" field "shape": [2.5] is not a list of non-negative integers',
    ],
    [
      file(f32({ data_offsets: [8, 0] }), data),
      'tensor "w" field "data_offsets": [8,0] is not [begin, end] with begin ≤ end',
    ],
    [
      file(f32({ data_offsets: [0, 16] }), data),
      'tensor "w" field "data_offsets": [0, 16] lies outside the 8-byte data',
    ],
    [
      file(f32({ shape: [3] }), data),
      'tensor "w" field "data_offsets": [0, 8] holds 8 bytes, float32[3] needs 12',
    ],
    [file(f32({}), new Uint8Array(12)), "the data has 4 bytes after the last tensor"],
    [
      file({ ...f32({}), __metadata__: { step: 3 } }, data),
      'field "__metadata__" key "step" is not a string',
    ],
    [
      file({
        a: { dtype: "U8", shape: [4], data_offsets: [0, 4] },
        b: { dtype: "U8", shape: [4], data_offsets: [2, 6] },
      }, data),
      'tensor "b" field "data_offsets": [2, 6] overlaps the tensor before it',
    ],
  ];
  for (const [bytes, detail] of cases) {
    assert.throws(() => decodeSafetensors(bytes, "ckpt.safetensors"), {
      name: "SyntaxError",
      message: `Cannot read safetensors "ckpt.safetensors": ${detail}`,
    });
  }
});

Deno.test("decodeSafetensors() reports invalid JSON in the header", () => {
  const bytes = file({ w: 1 });
  bytes[8] = 0x7b + 1; // corrupt the opening brace
  assert.throws(
    () => decodeSafetensors(bytes, "x.safetensors"),
    /Cannot read safetensors "x.safetensors": the header is not UTF-8 JSON/,
  );
});
