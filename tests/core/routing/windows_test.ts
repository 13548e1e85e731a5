import assert from "node:assert/strict";
import { proseFromCode } from "../../../core/routing/augment.ts";
import { sampleWindows } from "../../../core/routing/windows.ts";

Deno.test("sampleWindows() is deterministic and keeps lengths within the requested range", () => {
  const texts = ["a".repeat(5000), "b".repeat(300)];
  const opts = { count: 200, length: { min: 32, max: 1024 }, seed: 3 };
  const w = sampleWindows(texts, opts);
  assert.deepEqual(w, sampleWindows(texts, opts));
  assert.equal(w.length, 200);
  assert.ok(w.every((s) => s.length >= 32 && s.length <= 1024));
  // Both short and long windows occur (log-uniform lengths).
  assert.ok(w.some((s) => s.length < 100) && w.some((s) => s.length > 400));
});

Deno.test("sampleWindows() takes a document shorter than the window whole and skips blank ones", () => {
  const w = sampleWindows(["   ", "short sentence."], { count: 5, length: 128, seed: 1 });
  assert.deepEqual(w, Array(5).fill("short sentence."));
  assert.deepEqual(sampleWindows(["", " "], { count: 5, length: 8, seed: 1 }), []);
});

Deno.test("proseFromCode() keeps docstring and comment prose but drops code and doctests", () => {
  const src = [
    "# Copyright notice that is long enough to be kept as prose here.",
    "x = compute(1)  # inline",
    "def f(a):",
    '    """Return the answer to the great question,',
    "    computed slowly.",
    "",
    "    >>> f(1)",
    "    42",
    '    """',
    "    # result = a * 2",
    "    return 42",
  ].join("\n");
  const prose = proseFromCode(src, 20);
  assert.ok(prose.includes("Return the answer to the great question, computed slowly."));
  assert.ok(prose.includes("Copyright notice that is long enough to be kept as prose here."));
  assert.ok(!prose.some((p) => p.includes(">>>") || p.includes("result =")));
});

Deno.test("sampleWindows() with snap starts windows at line or word starts", () => {
  const text = "import os\nimport sys\n\ndef main(argv):\n    return argv\n".repeat(20);
  const w = sampleWindows([text], { count: 100, length: 24, seed: 4, snap: 1 });
  for (const s of w) {
    assert.ok(/^(?:import|def|return|\S)/.test(s) && !/^\s/.test(s), JSON.stringify(s));
  }
  assert.ok(w.filter((s) => /^(?:import|def|return) /.test(s)).length > 50);
});

Deno.test("sampleWindows() draws replacements for rejected windows and tells reject where they are", () => {
  const texts = ["x".repeat(100), "y".repeat(100)];
  const seen: [number, number, number][] = [];
  const w = sampleWindows(texts, {
    count: 20,
    length: 10,
    seed: 2,
    reject: (doc, start, end) => (seen.push([doc, start, end]), doc === 0),
  });
  assert.equal(w.length, 20);
  assert.ok(w.every((s) => s === "y".repeat(10)));
  assert.ok(seen.some(([doc]) => doc === 0));
  assert.ok(seen.every(([, start, end]) => end - start === 10 && start >= 0 && end <= 100));
});
