import assert from "node:assert/strict";
import {
  balance,
  type BalanceOptions,
  NoDocumentFitsError,
  readDocuments,
} from "../../../core/data/mod.ts";

const FIXTURES = new Map(
  ["en", "fr", "de", "py"].map((c) => [c, [`fixtures/corpus/${c}.jsonl.gz`]]),
);

function options(overrides: Partial<BalanceOptions> = {}): BalanceOptions {
  return {
    inputs: FIXTURES,
    by: "chars",
    target: "min",
    maxDiffPercent: 1,
    minChars: 1,
    seed: 1,
    split: [0.8, 0.1, 0.1],
    command: ["test"],
    ...overrides,
  };
}

async function run(overrides: Partial<BalanceOptions> = {}) {
  const out = await Deno.makeTempDir();
  const result = await balance(out, options(overrides));
  return { out, ...result };
}

async function groupsOf(path: string): Promise<Set<string>> {
  const groups = new Set<string>();
  for await (const doc of readDocuments(path)) groups.add(doc.group);
  return groups;
}

Deno.test("balance() keeps every fixture class within --max-diff-percent of the smallest", async () => {
  const { manifest } = await run();
  const sizes = manifest.classes.map((c) => manifest.stats[c]!.selected.chars);
  const smallest = Math.min(...manifest.classes.map((c) => manifest.stats[c]!.available.chars));
  for (const size of sizes) {
    assert.ok(size >= smallest && size <= smallest * 1.01, `${size} vs ${smallest}`);
  }
});

Deno.test("balance() never puts one group in two splits", async () => {
  const { out, manifest } = await run();
  for (const cls of manifest.classes) {
    const seen = new Map<string, string>();
    for (const split of manifest.splits) {
      for (const group of await groupsOf(`${out}/${split}/${cls}.jsonl.gz`)) {
        assert.equal(
          seen.get(group) ?? split,
          split,
          `${cls} group ${group} in ${seen.get(group)} and ${split}`,
        );
        seen.set(group, split);
      }
    }
    assert.equal(manifest.files[`val/${cls}.jsonl.gz`]!.groups >= 1, true, `${cls} val is empty`);
  }
});

Deno.test("balance() is byte-identical for the same inputs and seed, and differs for another seed", async () => {
  const a = await run();
  const b = await run();
  const c = await run({ seed: 2 });
  const digests = (m: typeof a.manifest) => Object.values(m.files).map((f) => f.sha256);
  assert.deepEqual(digests(a.manifest), digests(b.manifest));
  for (const rel of Object.keys(a.manifest.files)) {
    assert.deepEqual(
      await Deno.readFile(`${a.out}/${rel}`),
      await Deno.readFile(`${b.out}/${rel}`),
    );
  }
  assert.notDeepEqual(digests(a.manifest), digests(c.manifest));
});

Deno.test("balance() drops exact duplicates (whitespace-normalised) and short documents", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/x.jsonl`;
  const lines = [
    { text: "the same   text" },
    { text: "the same text\n" },
    { text: "tiny" },
    { text: "another document" },
  ];
  await Deno.writeTextFile(path, lines.map((l) => JSON.stringify(l)).join("\n"));
  const { manifest } = await run({
    inputs: new Map([["x", [path]]]),
    minChars: 5,
    split: [1, 0, 0],
  });
  const stats = manifest.stats["x"]!;
  assert.deepEqual([stats.read, stats.duplicates, stats.tooShort, stats.selected.docs], [
    4,
    1,
    1,
    2,
  ]);
  assert.deepEqual(manifest.splits, ["train"]);
});

Deno.test("balance() by docs with a numeric target cuts each class to that many documents", async () => {
  const { manifest, warnings } = await run({ by: "docs", target: 20, maxDiffPercent: 0 });
  for (const cls of manifest.classes) assert.equal(manifest.stats[cls]!.selected.docs, 20);
  assert.deepEqual(warnings, []);
});

Deno.test("balance() warns when a class is below a numeric target", async () => {
  const { warnings } = await run({ by: "docs", target: 49, maxDiffPercent: 0 });
  assert.equal(warnings.filter((w) => w.includes("below the target")).length, 3);
});

Deno.test("balance() rejects an empty class naming it and its input", async () => {
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  await assert.rejects(
    () => run({ inputs: new Map([["en", ["fixtures/corpus/en.jsonl.gz"]], ["xx", [path]]]) }),
    new RegExp(`Class "xx" is empty: no usable documents in "${path}"`),
  );
});

Deno.test("balance() fails rather than leave a class empty when none of its documents fits", async () => {
  const dir = await Deno.makeTempDir();
  const small = `${dir}/small.txt`, big = `${dir}/big.txt`;
  await Deno.writeTextFile(small, ["aaaa", "bbbb", "cccc"].join("\n\n")); // 12 chars in all
  await Deno.writeTextFile(big, ["x".repeat(30), "y".repeat(20), "z".repeat(40)].join("\n\n"));
  const inputs = new Map([["small", [small]], ["big", [big]]]);
  const error = await run({ inputs, split: [1, 0, 0] }).then(() => null, (e: unknown) => e);
  assert.ok(error instanceof NoDocumentFitsError, String(error));
  assert.deepEqual(error.details, {
    cls: "big",
    by: "chars",
    available: 90,
    documents: 3,
    smallest: 20,
    target: 12,
    maxDiffPercent: 1,
  });
  assert.equal(error.percentToFit, 67); // 12 · 1.67 ≥ 20 > 12 · 1.66
  // With that excess the class keeps its smallest document.
  const { manifest, warnings } = await run({ inputs, split: [1, 0, 0], maxDiffPercent: 67 });
  assert.equal(manifest.stats.big!.selected.chars, 20);
  assert.deepEqual(warnings, []);
});

Deno.test("balance() warns when documents too large for the target leave a class short", async () => {
  const dir = await Deno.makeTempDir();
  const small = `${dir}/small.txt`, big = `${dir}/big.txt`;
  await Deno.writeTextFile(small, ["aaaa", "bbbb", "cccc"].join("\n\n")); // 12 chars in all
  await Deno.writeTextFile(big, ["x".repeat(30), "y".repeat(5), "z".repeat(40)].join("\n\n"));
  const inputs = new Map([["small", [small]], ["big", [big]]]);
  const { manifest, warnings } = await run({ inputs, split: [1, 0, 0] });
  assert.equal(manifest.stats.big!.selected.chars, 5);
  assert.deepEqual(warnings, [
    'Class "big" has 75 chars but only 5 fit the target 12 + 1 %: its other documents are larger',
  ]);
});
