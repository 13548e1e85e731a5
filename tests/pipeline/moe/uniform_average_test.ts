import assert from "node:assert/strict";
import { join } from "node:path";
import {
  assembleBundle,
  averageRule,
  type EvalReport,
  evaluateBundle,
  loadBundle,
  paperAverages,
  parseAverage,
} from "../../../pipeline/moe/mod.ts";
import { CLASSES, cpu, randomGPTCheckpoint, trainedMoE } from "./_fixtures.ts";

// A MoE-CE trained briefly (experts share wte) and a PLE bundle of random GPTs (own wte) whose
// en and fr experts are one and the same checkpoint.
const f = await trainedMoE("moe-ce", 20);
const root = join(f.run, "..");
await assembleBundle(join(root, "moe-ce"), { router: f.router, fromMoE: f.run });
const moeCE = await loadBundle(join(root, "moe-ce"));

const randomGPT = (seed: number) => randomGPTCheckpoint(root, f.tokenizer, seed);
const twin = await randomGPT(30);
const experts = new Map([["en", twin], ["fr", twin], ["de", await randomGPT(32)], [
  "py",
  await randomGPT(33),
]]);
await assembleBundle(join(root, "ple"), { router: f.router, experts, common: await randomGPT(34) });
const ple = await loadBundle(join(root, "ple"));

const evaluate = async (bundle: typeof ple, average: string[][]): Promise<EvalReport> =>
  await evaluateBundle(bundle, {
    data: f.shards,
    split: "val",
    rows: 8,
    batch: 4,
    seqLen: 32,
    backend: await cpu(),
    average,
  });

const row = (r: EvalReport, name: string) => {
  const found = r.rows.find((x) => x.name === name);
  assert.ok(found, `row ${name} in ${r.rows.map((x) => x.name).join(", ")}`);
  return found;
};

Deno.test("parseAverage() reads classes, common and all, and names what is wrong", () => {
  assert.deepEqual(parseAverage("py,en", CLASSES, true), ["en", "py"]);
  assert.deepEqual(parseAverage("common, de", CLASSES, true), ["de", "common"]);
  assert.deepEqual(parseAverage("all", CLASSES, false), CLASSES);
  assert.throws(
    () => parseAverage("en,xx", CLASSES, true),
    /^RangeError: Cannot average "en,xx": "xx" is not an expert of the bundle \(members: en, fr, de, py, common, or all for every class\)$/,
  );
  assert.throws(() => parseAverage("en,common", CLASSES, false), /"common" is not an expert/);
  assert.throws(() => parseAverage("en,en", CLASSES, true), /"en" is named twice/);
  assert.throws(() => parseAverage("all,py", CLASSES, true), /"py" is named twice/);
  assert.throws(() => parseAverage("py", CLASSES, true), /at least two experts/);
});

Deno.test("paperAverages() lists the paper's subsets, each with and without the common expert", () => {
  assert.deepEqual(paperAverages(CLASSES, false), [
    ["en", "py"],
    ["fr", "py"],
    ["de", "py"],
    ["en", "fr", "de", "py"],
  ]);
  assert.deepEqual(paperAverages(["en", "fr"], true), [["en", "fr"], ["en", "fr", "common"]]);
});

Deno.test("a MoE-CE's uniform average of an expert and the common stack is its ½/½ hidden mean", async () => {
  assert.equal(averageRule(moeCE, ["en", "common"]), "hidden-mean");
  const r = await evaluate(moeCE, [["en", "common"], ["en", "fr", "de", "py"]]);
  // avg(en+common) on en runs the very graph of oracle+common for en: equal to the last bit.
  assert.equal(
    row(r, "avg(en+common)").perClass.en!.loss,
    row(r, "oracle+common").perClass.en!.loss,
  );
  const all = row(r, "avg(en+fr+de+py)");
  for (const c of CLASSES) {
    assert.ok(Number.isFinite(all.perClass[c]!.loss) && all.perClass[c]!.loss > 0);
  }
});

Deno.test("a PLE bundle averages next-token distributions: twin experts average to themselves", async () => {
  // Experts with their own embeddings mix distributions; twins share theirs (hidden mean).
  assert.equal(averageRule(ple, ["de", "py"]), "probability-mean");
  assert.equal(averageRule(ple, ["en", "common"]), "probability-mean");
  assert.equal(averageRule(ple, ["en", "fr"]), "hidden-mean");
  const r = await evaluate(ple, [["en", "fr"], ["en", "common"], ["de", "py"]]);
  // head(½h + ½h) = head(h): the twins' average is either twin, per class, exactly.
  for (const c of CLASSES) {
    assert.equal(row(r, "avg(en+fr)").perClass[c]!.loss, row(r, "expert:en").perClass[c]!.loss);
  }
  // avg(en+common) on en is the probability mean that oracle+common computes for en.
  const [a, b] = [
    row(r, "avg(en+common)").perClass.en!.loss,
    row(r, "oracle+common").perClass.en!.loss,
  ];
  assert.ok(Math.abs(a - b) < 1e-9 * b, `${a} vs ${b}`);
  // A mixture is never worse than its members' mean loss (Jensen: −log E[p] ≤ E[−log p]).
  for (const c of CLASSES) {
    const members =
      (row(r, "expert:de").perClass[c]!.loss + row(r, "expert:py").perClass[c]!.loss) / 2;
    assert.ok(row(r, "avg(de+py)").perClass[c]!.loss <= members + 1e-9);
  }
});
