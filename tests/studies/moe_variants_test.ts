import assert from "node:assert/strict";
import { join } from "node:path";
import { usageErrorOf } from "../../commands/_errors.ts";
import { InvalidRequest } from "../../core/job/mod.ts";
import {
  type ExperimentEnv,
  gptParameterCount,
  moeVariantsExperiment,
  moeVariantsParams,
  readAttempts,
  runExperiment,
  VARIANT_ROWS,
  variantSizes,
} from "../../studies/mod.ts";
import { openBackend } from "../../core/runtime/mod.ts";
import { GPT_CONFIGS } from "../../models/gpt.ts";
import { fixtureRouter } from "../pipeline/moe/_fixtures.ts";
import { decodePng, PNG_SIGNATURE } from "../core/report/_png.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";

Deno.test("the tiny moe-variants study reports every variant, resumes a crashed sub-run and reproduces its numbers", async () => {
  const { dir } = await byteShards({ trainBytes: 20_000 });
  const root = await Deno.makeTempDir();
  const router = await fixtureRouter(root, 20_000);
  const params = await moeVariantsParams("tiny", dir, {
    router,
    stepsPerClass: 20,
    teacherSteps: 80,
    evalRows: 8,
  });
  const { backend } = await openBackend("cpu", { threads: 1 });
  const env: ExperimentEnv = { backend };
  const clean = join(root, "clean"), crashed = join(root, "crashed");
  const results = async (out: string) =>
    JSON.parse(await Deno.readTextFile(join(out, "report.json"))).results;

  await runExperiment(moeVariantsExperiment, params, { out: clean, seeds: [3], env });
  const md = await Deno.readTextFile(join(clean, "report.md"));
  for (
    const section of [
      "Setup",
      "Sub-runs",
      "Paper claim",
      "Per-class perplexity",
      "Per-class validation loss",
      "Uniform expert averages \\(the paper's evaluation\\)",
      "Parameters",
      "Routing",
      "How the numbers are compared",
      "Plots",
    ]
  ) {
    assert.match(md, new RegExp(`^## ${section}$`, "m"), section);
  }
  for (const v of VARIANT_ROWS) assert.ok(md.includes(`| ${v.title} |`), v.title);
  // One seed: no interval, so no verdict but "inconclusive".
  assert.match(
    md,
    /\. \*\*inconclusive\*\* — PLE ≈ JEET: inconclusive \(difference of mean loss [−+]\d/,
  );
  assert.match(
    md,
    /KD = forward KL at τ = 1, no τ² factor \(the paper's setting\), α 0\.5, combined/,
  );
  // The paper's uniform averages of every bundle: 4 subsets, ± common where there is one.
  for (const t of ["PLE: en + py (uniform)", "PLE: en + fr + de + py + common (uniform)"]) {
    assert.ok(md.includes(`| ${t} |`), t);
  }
  assert.ok(md.includes("| JEET: de + py (uniform) |") && !md.includes("JEET: de + py + common"));
  assert.ok(md.includes("| MoE-CE: fr + py + common (uniform) |"));
  for (const chart of ["ppl_by_class", "val_loss"]) {
    const png = await Deno.readFile(join(clean, `${chart}.png`));
    assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
    const { width, height } = decodePng(png);
    assert.ok(width > 100 && height > 100, `${chart}.png is ${width} × ${height}`);
    const svg = await Deno.readTextFile(join(clean, `${chart}.svg`));
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>\s*$/);
  }
  const report = await results(clean);
  // The experts were trained: each beats a uniform guess over the 258 byte tokens.
  assert.ok(report.summary["ple-oracle"].ppl.mean < 258);
  assert.equal(report.perSeed[0].eval.rows.length, VARIANT_ROWS.length);
  assert.equal(report.averages.length, 8 + 4 + 8);
  assert.ok(report.averages.every((a: { ppl: { mean: number } }) => a.ppl.mean < 258));

  // JEET checkpoints every 40 of its 80 steps; a crash at step 50 loses steps 41–50.
  await assert.rejects(
    () =>
      runExperiment(moeVariantsExperiment, params, {
        out: crashed,
        seeds: [3],
        env: { ...env, haltAfter: { "jeet/seed-3": 50 } },
      }),
    /jeet\/seed-3: stopped at step 50 of 80/,
  );
  assert.match(
    await Deno.readTextFile(join(crashed, "report.md")),
    /\*\*Incomplete:\*\* 2 of 9 sub-runs are not finished \(jeet\/seed-3 failed, eval\/seed-3 blocked\)/,
  );
  const outcome = await runExperiment(moeVariantsExperiment, params, {
    out: crashed,
    seeds: [3],
    env,
  });
  const byName = new Map(outcome.results[0]!.map((r) => [r.name, r]));
  assert.deepEqual(
    ["teacher", "ple-en", "jeet", "eval"].map((n) => [n, byName.get(n)!.ranNow]),
    [["teacher", false], ["ple-en", false], ["jeet", true], ["eval", true]],
  );
  assert.deepEqual(
    (await readAttempts(byName.get("jeet")!.dir)).map((a) => [a.status, a.step]),
    [["failed", 50], ["done", 80]],
  );
  // Same seed, same backend: the resumed study reports exactly the uninterrupted one's numbers.
  assert.deepEqual(await results(crashed), report);
});

Deno.test("variantSizes() counts total and per-token parameters as a hand count of the tiny config", () => {
  const tiny = { ...GPT_CONFIGS.tiny, vocabSize: 258 };
  // wte 258·64, wpe 64·64, per block 2 LayerNorms (2·128) + qkv (64·192 + 192) + proj (64·64 + 64)
  // + fc (64·256 + 256) + proj (256·64 + 64) = 49 984, two blocks, final LayerNorm 128.
  const wte = 16_512, stack = 4_096 + 2 * 49_984 + 128;
  assert.equal(gptParameterCount(tiny), wte + stack);
  assert.equal(gptParameterCount(tiny, true), stack);
  const s = variantSizes(tiny, GPT_CONFIGS.bench, 4);
  assert.deepEqual(s["ple-routed"], { total: 4 * (wte + stack), active: wte + stack });
  assert.deepEqual(s["jeet-routed"], { total: wte + 4 * stack, active: wte + stack });
  assert.deepEqual(s["moe-ce-routed+common"], { total: wte + 5 * stack, active: wte + 2 * stack });
  assert.deepEqual(s["moe-ce-routed"], { total: wte + 5 * stack, active: wte + stack });
  // bench: 8192·256 + 128·256 + 4·(12·256² + 13·256) + 2·256
  assert.equal(s.teacher!.total, 2_097_152 + 32_768 + 4 * 789_760 + 512);
});

Deno.test("moeVariantsParams() refuses a missing router with an invalid request that says how to train one", async () => {
  const { dir } = await byteShards({ trainBytes: 4_000 });
  const missing = await moeVariantsParams("tiny", dir, {}).then(() => null, (e: unknown) => e);
  assert.ok(missing instanceof InvalidRequest);
  assert.equal(missing.option, "router");
  assert.match(missing.message, /^Missing router: .*train one with: trainRouter\(\)\)$/);
  // On the command line: the flag, its value and the command that trains a router.
  assert.match(usageErrorOf(missing).message, /^Missing --router FILE: .*moe router train --data/);
  await assert.rejects(
    () => moeVariantsParams("tiny", dir, { router: join(dir, "nope.json") }),
    (e) =>
      e instanceof InvalidRequest && e.option === "router" &&
      /Invalid router ".*nope\.json": no such file/.test(e.message),
  );
});
