import assert from "node:assert/strict";
import { join } from "node:path";
import { LOSS_SCHEDULES } from "../../studies/mod.ts";
import { readMetrics } from "../../core/report/mod.ts";
import { openBackend } from "../../core/runtime/mod.ts";
import { train } from "../../pipeline/training/mod.ts";
import { GPT_CONFIGS } from "../../models/gpt.ts";
import { moe } from "../_support/cli.ts";
import { decodePng, PNG_SIGNATURE } from "../core/report/_png.ts";
import { byteShards, trainOptions } from "../pipeline/training/_fixtures.ts";

const SECTIONS = [
  "Setup",
  "Sub-runs",
  "Finding",
  "Final validation CE and KD per schedule",
  "How the numbers are compared",
  "Plots",
];

Deno.test("moe experiment loss-schedule at tiny scale with --teacher reports every schedule, the claims and the noise floor, and a re-run recomputes nothing", async () => {
  const shards = await byteShards({ trainBytes: 20_000, classes: ["en", "fr"] });
  const teacher = await Deno.makeTempDir({ prefix: "moe-teacher-" });
  const model = { ...GPT_CONFIGS.tiny, vocabSize: 258, layers: 3, dModel: 96 };
  await train(trainOptions(shards.dir, 80, { model, modelName: "custom", order: ["en", "fr"] }), {
    backend: (await openBackend("cpu", { threads: 1 })).backend,
    out: teacher,
    tokenizerPath: shards.tokenizer,
  });
  const out = join(await Deno.makeTempDir(), "schedule");
  const args = [
    ["experiment", "loss-schedule", "--data", shards.dir, "--teacher", teacher, "--lang", "fr"],
    ["--steps", "40", "--evals", "2", "--eval-rows", "8", "--alpha", "0.25", "--out", out],
    ["--backend", "cpu", "--seeds", "1"],
  ].flat();
  const first = await moe([...args, "--json"]);
  assert.equal(first.code, 0, first.stderr);
  const json = JSON.parse(first.stdout);
  assert.deepEqual(json.subRuns.map((r: { name: string }) => r.name), [
    "teacher-val",
    "combined",
    "alternating",
    "alternating-micro",
    "combined-repeat",
  ]);

  const md = await Deno.readTextFile(join(out, "report.md"));
  let at = -1;
  for (const s of SECTIONS) {
    const i = md.indexOf(`\n## ${s}\n`);
    assert.ok(i > at, `"${s}" is in report.md, in order`);
    at = i;
  }
  assert.match(md, /- combined: α = 0\.25 every step; alternating steps: α = 1 \(CE alone\)/);
  assert.match(
    md,
    /\*\*Paper claim\*\* “combined beats alternating”: \*\*inconclusive\*\* — combined minus alternating steps/,
  );
  assert.match(md, /“the combined loss gives more stable learning”: \*\*inconclusive\*\*/);
  // Each sub-run in its own process on one thread: the repeat is bit-identical.
  assert.match(md, /sub-runs: up to \d+ side by side, each in its own process on 1 thread/);
  assert.match(
    md,
    /Noise floor: combined run twice with the same seed differs by at most 0\.000000 nats\/token/,
  );
  for (const s of LOSS_SCHEDULES) assert.ok(md.includes(`| ${s.label} |`), s.label);
  for (const name of ["val_loss", "loss_terms"]) {
    const png = await Deno.readFile(join(out, `${name}.png`));
    assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
    assert.ok(decodePng(png).height > 0);
    const svg = await Deno.readTextFile(join(out, `${name}.svg`));
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>\s*$/);
  }

  // The schedules did what they say, and report.json holds the metrics' numbers.
  const metrics = async (name: string) =>
    await readMetrics(join(out, "runs", name, "seed-1", "metrics.jsonl"));
  const alternating = await metrics("alternating"), combined = await metrics("combined");
  assert.deepEqual(alternating.train.slice(0, 4).map((t) => t.alpha), [1, 0, 1, 0]);
  assert.ok(combined.train.every((t) => t.alpha === 0.25 && t.class === "fr"));
  const micro = await metrics("alternating-micro");
  assert.ok(micro.train.every((t) => t.alpha === 0.5 && t.loss === (t.ce! + t.kd!) / 2));
  assert.deepEqual((await metrics("combined-repeat")).eval, combined.eval);
  const byName = Object.fromEntries(
    json.results.schedules.map((s: { name: string }) => [s.name, s]),
  );
  assert.equal(byName.combined.finalValCE.mean, combined.eval.at(-1)!.val.fr!.loss);
  assert.equal(byName.alternating.finalValCE.mean, alternating.eval.at(-1)!.val.fr!.loss);
  const diff = combined.eval.at(-1)!.val.fr!.loss - alternating.eval.at(-1)!.val.fr!.loss;
  assert.equal(json.results.claims.combinedVsAlternating.diff.mean, diff);
  assert.equal(json.results.claims.combinedVsAlternating.verdict, "inconclusive"); // one seed
  assert.equal(json.results.noise.floor, 0);

  const again = await moe(args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(
    again.stdout,
    /^5 sub-runs done \(0 in this run, 5 earlier\); report .*report\.md\n/,
  );
  assert.match(again.stdout, /\n {2}combined: final val CE \d\.\d{3}\n/);
  assert.match(again.stdout, /\n {2}paper: "combined beats alternating": inconclusive\n/);
});
