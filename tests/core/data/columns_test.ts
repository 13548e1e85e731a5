import assert from "node:assert/strict";
import { Column, KeySet64, seededUnit } from "../../../core/data/mod.ts";

Deno.test("KeySet64 agrees with a JS Set over 100 000 random keys with repeats", () => {
  const keys = new KeySet64();
  const reference = new Set<string>();
  for (let i = 0; i < 100_000; i++) {
    // Draw from a small range so that repeats are frequent; include the reserved (0, 0).
    const hi = Math.floor(seededUnit(1, String(i)) * 300);
    const lo = i % 7 === 0 ? 0 : Math.floor(seededUnit(2, String(i)) * 300);
    const fresh = !reference.has(`${hi}:${lo === 0 && hi === 0 ? 1 : lo}`);
    reference.add(`${hi}:${lo === 0 && hi === 0 ? 1 : lo}`);
    assert.equal(keys.add(hi, lo), fresh, `key ${hi}:${lo}`);
  }
  assert.equal(keys.size, reference.size);
});

Deno.test("Column grows past its capacity and keeps every value", () => {
  const column = new Column(Int32Array, 2);
  for (let i = 0; i < 1000; i++) column.push(i * 3);
  assert.equal(column.length, 1000);
  assert.equal(column.get(999), 2997);
  assert.equal(column.get(1000), undefined);
  assert.deepEqual([...column.view().subarray(0, 3)], [0, 3, 6]);
});
