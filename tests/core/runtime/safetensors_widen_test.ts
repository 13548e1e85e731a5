import assert from "node:assert/strict";
import { decodeSafetensors, float32Values, type HostTensor } from "../../../core/runtime/mod.ts";

/** A one-tensor file of raw little-endian bytes under `dtype`, assembled by hand. */
function file(dtype: string, shape: number[], data: Uint8Array): Uint8Array {
  const header = { t: { dtype, shape, data_offsets: [0, data.length] } };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

Deno.test("decodeSafetensors() widens BF16 tensors to the float32 whose top half they are", () => {
  const values = [1, -2.5, 3.140625, 1e-30, -Infinity, 65280];
  const f32 = new Uint32Array(Float32Array.from(values).buffer);
  const bf16 = new Uint8Array(values.length * 2);
  f32.forEach((bits, i) => {
    bf16[2 * i] = (bits >>> 16) & 0xff;
    bf16[2 * i + 1] = bits >>> 24;
  });
  const t = decodeSafetensors(file("BF16", [2, 3], bf16), "w.safetensors").tensors.t!;
  assert.equal(t.dtype, "float32");
  assert.deepEqual(t.dims, [2, 3]);
  // Each value's low 16 bits dropped: exact for these, 1e-30 truncated to bfloat16's 8 bits.
  const expected = Float32Array.from(
    f32,
    (bits) => new Float32Array(Uint32Array.of(bits & 0xffff0000).buffer)[0]!,
  );
  assert.deepEqual(Array.from(t.data as Float32Array), Array.from(expected));
  assert.deepEqual(Array.from(t.data as Float32Array).slice(0, 3), [1, -2.5, 3.140625]);
});

Deno.test("decodeSafetensors() names the file and tensor of a BF16 tensor with the wrong byte count", () => {
  assert.throws(
    () => decodeSafetensors(file("BF16", [3], new Uint8Array(4)), "w.safetensors"),
    {
      message:
        'Cannot read safetensors "w.safetensors": tensor "t" field "data_offsets": [0, 4] holds 4 bytes, BF16[3] needs 6',
    },
  );
  assert.throws(
    () => decodeSafetensors(file("F8_E4M3", [1], new Uint8Array(1)), "w.safetensors"),
    /tensor "t" field "dtype": unknown "F8_E4M3" \(allowed: F32, F64, F16, I64, I32, I8, U8, BOOL, BF16\)/,
  );
});

Deno.test("float32Values() widens IEEE half precision exactly, subnormals and specials included", () => {
  const half: HostTensor = {
    dtype: "float16",
    dims: [8],
    data: Uint16Array.of(0x0000, 0x8000, 0x3555, 0x7bff, 0x0001, 0x03ff, 0x7c00, 0x7e00),
  };
  const got = Array.from(float32Values(half)!);
  assert.deepEqual(got.slice(0, 7), [
    0,
    -0,
    0.333251953125, // 1 + 341/1024 times 2⁻²
    65504, // the largest half
    2 ** -24, // the smallest subnormal
    1023 * 2 ** -24, // the largest subnormal
    Infinity,
  ]);
  assert.ok(Number.isNaN(got[7]));
  // Cross-check every finite half against the platform's own Float16Array.
  const all = Uint16Array.from({ length: 0x7c00 }, (_, i) => i);
  const ours = float32Values({ dtype: "float16", dims: [all.length], data: all })!;
  const platform = new Float16Array(all.buffer);
  assert.ok(ours.every((v, i) => v === platform[i]!));
  assert.equal(float32Values({ dtype: "float64", dims: [1], data: Float64Array.of(1) }), null);
});
