import assert from "node:assert/strict";
import {
  assignGroups,
  NoDocumentFitsError,
  parseSplit,
  seededUnit,
  selectToTarget,
} from "../../../core/data/mod.ts";

Deno.test("selectToTarget() reaches the target without exceeding the cap on random sizes", () => {
  for (let trial = 0; trial < 200; trial++) {
    const n = 5 + Math.floor(seededUnit(trial, "n") * 200);
    const sizes = Array.from(
      { length: n },
      (_, i) => 1 + Math.floor(seededUnit(trial, "s", String(i)) * 100),
    );
    const priority = sizes.map((_, i) => seededUnit(trial, "p", String(i)));
    const total = sizes.reduce((a, b) => a + b, 0);
    const target = Math.floor(total * seededUnit(trial, "t"));
    const cap = target * 1.05 + 100; // room for one whole document
    const { selected, total: got } = selectToTarget(priority, sizes, target, cap);
    assert.ok(got >= target && got <= cap, `trial ${trial}: ${got} outside [${target}, ${cap}]`);
    assert.equal(got, sizes.reduce((a, s, i) => a + (selected[i] ? s : 0), 0));
  }
});

Deno.test("selectToTarget() takes everything when the class is below the target", () => {
  const { selected, total } = selectToTarget([0.5, 0.2], [3, 4], 100, 101);
  assert.equal(total, 7);
  assert.deepEqual([...selected], [1, 1]);
});

Deno.test("parseSplit() rejects fractions that do not sum to 1 or leave train empty", () => {
  assert.deepEqual(parseSplit("0.98,0.01,0.01"), [0.98, 0.01, 0.01]);
  assert.throws(() => parseSplit("0.5,0.6,0"), RangeError);
  assert.throws(() => parseSplit("0,0.5,0.5"), RangeError);
  assert.throws(() => parseSplit("1,0"), RangeError);
  assert.throws(() => parseSplit("a,b,c"), RangeError);
});

Deno.test("assignGroups() gives every non-empty split a group while train keeps one", () => {
  const split = assignGroups([100, 100, 100], [0, 1, 2], [0.98, 0.01, 0.01]);
  assert.deepEqual([...split].sort(), [0, 1, 2]);
  const two = assignGroups([100, 100], [1, 0], [0.98, 0.01, 0.01]);
  assert.ok(two.includes(0), "train must keep a group");
});

Deno.test("assignGroups() comes close to the fractions with many small groups", () => {
  const sizes = Array.from({ length: 1000 }, (_, i) => 1 + (i % 7));
  const order = sizes.map((_, i) => i).sort((a, b) =>
    seededUnit(3, String(a)) - seededUnit(3, String(b))
  );
  const split = assignGroups(sizes, order, [0.8, 0.1, 0.1]);
  const total = sizes.reduce((a, b) => a + b, 0);
  for (const [s, f] of [[1, 0.1], [2, 0.1]] as const) {
    const got = sizes.reduce((a, size, g) => a + (split[g] === s ? size : 0), 0) / total;
    assert.ok(Math.abs(got - f) < 0.01, `split ${s}: ${got}`);
  }
});

Deno.test("NoDocumentFitsError.percentToFit is the least whole excess that holds the document", () => {
  for (let trial = 0; trial < 500; trial++) {
    const target = 1 + Math.floor(seededUnit(trial, "target") * 10000);
    const smallest = target + 1 + Math.floor(seededUnit(trial, "smallest") * 50000);
    const { percentToFit: p } = new NoDocumentFitsError({
      cls: "x",
      by: "chars",
      available: smallest,
      documents: 1,
      smallest,
      target,
      maxDiffPercent: 0,
    });
    // The same cap as balance(): target · (1 + P / 100).
    assert.ok(target * (1 + p / 100) >= smallest, `${target} + ${p} % < ${smallest}`);
    assert.ok(target * (1 + (p - 1) / 100) < smallest, `${p - 1} % would do for ${smallest}`);
  }
});
