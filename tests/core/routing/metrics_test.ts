import assert from "node:assert/strict";
import { classificationReport } from "../../../core/routing/classification_metrics.ts";

Deno.test("classificationReport() matches hand-computed precision, recall and F1", () => {
  // truth a a a b b c ; predicted a a b b c c
  const r = classificationReport(["a", "b", "c"], [0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2]);
  assert.deepEqual(r.confusion, [[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
  const close = (x: number, y: number) => assert.ok(Math.abs(x - y) < 1e-12, `${x} vs ${y}`);
  close(r.perClass.a!.precision, 1);
  close(r.perClass.a!.recall, 2 / 3);
  close(r.perClass.b!.f1, 0.5);
  close(r.perClass.c!.f1, 2 / 3);
  close(r.macro.f1, (0.8 + 0.5 + 2 / 3) / 3);
  close(r.weighted.f1, (3 * 0.8 + 2 * 0.5 + 2 / 3) / 6);
  close(r.accuracy, 4 / 6);
});

Deno.test("classificationReport() gives unknown predictions their own column and counts them wrong", () => {
  const r = classificationReport(["a", "b"], [0, 1], [2, 1]);
  assert.deepEqual(r.labels, ["a", "b", "unknown"]);
  assert.deepEqual(r.confusion, [[0, 0, 1], [0, 1, 0]]);
  assert.equal(r.perClass.a!.recall, 0);
  assert.equal(r.accuracy, 0.5);
});

Deno.test("classificationReport() averages macro scores over the classes that occur", () => {
  // Class "c" never occurs: the macro average is over a and b only.
  const r = classificationReport(["a", "b", "c"], [0, 1], [0, 1]);
  assert.equal(r.macro.f1, 1);
});
