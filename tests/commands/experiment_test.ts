import assert from "node:assert/strict";
import { join } from "node:path";
import { moe } from "../_support/cli.ts";
import { decodePng, PNG_SIGNATURE } from "../core/report/_png.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";

const SECTIONS = [
  "## Setup",
  "## Sub-runs",
  "## Finding",
  "## Validation after every phase: (a) sequential: one class after another",
  "## Validation after every phase: (b) one session, balanced batches",
  "## Validation after every phase: (c) MoE: one expert per class, oracle routing",
  "## Forgetting",
  "## Plots",
];
const PLOTS = ["val_loss", "forgetting", "train_loss"];

Deno.test("moe experiment forgetting at tiny scale writes every section and plot, and a re-run recomputes nothing", async () => {
  const { dir } = await byteShards({ trainBytes: 20_000 });
  const out = join(await Deno.makeTempDir(), "forgetting");
  const args = [
    "experiment",
    "forgetting",
    "--data",
    dir,
    "--out",
    out,
    "--backend",
    "cpu",
    "--seeds",
    "1",
  ];
  const first = await moe([...args, "--json"]);
  assert.equal(first.code, 0, first.stderr);
  const json = JSON.parse(first.stdout);
  assert.deepEqual(json.subRuns.map((r: { name: string; ranNow: boolean }) => [r.name, r.ranNow]), [
    ["sequential", true],
    ["balanced", true],
    ["expert-en", true],
    ["expert-fr", true],
    ["expert-de", true],
    ["expert-py", true],
    ["moe", true],
  ]);
  assert.deepEqual(Object.keys(json.summary), ["sequential", "balanced", "moe"]);
  // An expert never changes once trained: the MoE cannot forget a class it has an expert for.
  assert.equal(json.summary.moe.meanForgetting.mean, 0);

  const md = await Deno.readTextFile(join(out, "report.md"));
  let at = -1;
  for (const s of SECTIONS) {
    const i = md.indexOf(`${s}\n`);
    assert.ok(i > at, `"${s}" is in report.md, in order`);
    at = i;
  }
  assert.match(md, /\| 4 \(py\) \| 160 \|( [\d.]+ \|){4}/); // loss after the last phase, every class
  assert.match(md, /“the MoE does not forget”: \*\*by construction\*\*/);
  assert.match(
    md,
    /“sequential training forgets earlier languages”: \*\*inconclusive\*\* .* one seed gives no interval/,
  );
  for (const name of PLOTS) {
    assert.match(md, new RegExp(`\\(${name}\\.png\\)\\]\\(${name}\\.svg\\)`));
    const svg = await Deno.readTextFile(join(out, `${name}.svg`));
    const size = svg.match(/^<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/)!;
    const png = await Deno.readFile(join(out, `${name}.png`));
    assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
    const decoded = decodePng(png);
    assert.deepEqual(
      [decoded.width, decoded.height],
      [Math.ceil(Number(size[1]) * 2), Math.ceil(Number(size[2]) * 2)],
    );
  }
  for (const regime of ["sequential", "balanced"]) {
    assert.ok((await Deno.stat(join(out, "runs", regime, "seed-1", "metrics.jsonl"))).isFile);
  }

  const again = await moe(args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(
    again.stdout,
    /^7 sub-runs done \(0 in this run, 7 earlier\); report .*report\.md\n/,
  );
  assert.match(again.stdout, / {2}sequential: mean forgetting [+-]\d\.\d{3} nats\/token\n/);
});

Deno.test("moe experiment forgetting refuses a step count that cuts a phase between evaluations", async () => {
  const { dir } = await byteShards({ classes: ["en", "fr"], trainBytes: 5_000 });
  const r = await moe([
    "experiment",
    "forgetting",
    "--data",
    dir,
    "--steps",
    "30",
    "--out",
    join(await Deno.makeTempDir(), "x"),
  ]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr.trim(),
    "moe: Invalid --steps 30: it must be a multiple of 4 (2 classes × 2 evaluations per phase) so that every phase ends on an evaluation",
  );
});

Deno.test("the same seed in two processes gives the same report numbers: sub-runs run side by side on one thread each", async () => {
  const { dir } = await byteShards({ trainBytes: 8_000, classes: ["en", "fr"] });
  const root = await Deno.makeTempDir();
  const run = async (name: string) => {
    const out = join(root, name);
    const r = await moe([
      ...["experiment", "alpha", "--data", dir, "--teacher-steps", "20", "--steps", "8"],
      ...["--evals", "2", "--eval-rows", "4", "--seeds", "1", "--jobs", "2", "--out", out],
      ...["--backend", "cpu", "--json"],
    ]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(await Deno.readTextFile(join(out, "report.json")));
  };
  const [a, b] = [await run("a"), await run("b")];
  assert.ok(a.results.rules.every((r: { finalValCE: { n: number } }) => r.finalValCE.n === 1));
  // Every number the study reports — losses, α, intervals, verdicts — equal to the last bit.
  assert.deepEqual(b.results, a.results);
  assert.deepEqual(b.jobs, { parallel: 2, threads: 1 });
});
