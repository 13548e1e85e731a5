import assert from "node:assert/strict";
import { fixed, mdTable, meanStd, stats } from "../../../core/report/mod.ts";

Deno.test("stats() gives the sample standard deviation of repeated runs", () => {
  const s = stats([2, 4, 4, 4, 5, 5, 7, 9]);
  assert.equal(s.mean, 5);
  assert.ok(Math.abs(s.std - Math.sqrt(32 / 7)) < 1e-15);
  assert.deepEqual(stats([3]), { mean: 3, std: 0, n: 1 });
});

Deno.test("mdTable() right-aligns numeric columns, mean ± std included, and escapes pipes", () => {
  const t = mdTable(["regime", "loss"], [["a|b", meanStd([1, 2])], ["c", fixed(3)]]);
  assert.equal(t, "| regime | loss |\n| --- | ---: |\n| a\\|b | 1.500 ± 0.707 |\n| c | 3.000 |\n");
});
