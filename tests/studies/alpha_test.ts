import assert from "node:assert/strict";
import { join } from "node:path";
import { InvalidRequest } from "../../core/job/mod.ts";
import {
  ALPHA_VARIANTS,
  alphaExperiment,
  distillParams,
  type ExperimentEnv,
  readAttempts,
  runExperiment,
} from "../../studies/mod.ts";
import { readMetrics } from "../../core/report/mod.ts";
import { openBackend } from "../../core/runtime/mod.ts";
import { decodePng, PNG_SIGNATURE } from "../core/report/_png.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";

const SECTIONS = [
  "Setup",
  "Sub-runs",
  "Finding",
  "Final validation CE per α rule",
  "How the numbers are compared",
  "Plots",
];

/** The mean validation loss over classes of an eval record (what the reports call final CE). */
const meanVal = (val: Record<string, { loss: number }>) =>
  Object.values(val).reduce((a, v) => a + v.loss, 0) / Object.keys(val).length;

Deno.test("the tiny α study trains its teacher, reports every rule and plot, and a crashed student resumes to the same numbers", async () => {
  const { dir } = await byteShards({ trainBytes: 20_000 });
  const params = await distillParams("tiny", dir, {
    steps: 40,
    evals: 2,
    evalRows: 8,
    teacherSteps: 60,
  });
  // Every class, as the paper distils all four; the paper's KD setting.
  assert.deepEqual(params.classes, ["en", "fr", "de", "py"]);
  assert.deepEqual([params.kd, params.temperature, params.kdScale], ["forward", 1, "none"]);
  const { backend } = await openBackend("cpu", { threads: 1 });
  const env: ExperimentEnv = { backend };
  const root = await Deno.makeTempDir();
  const clean = join(root, "clean"), crashed = join(root, "crashed");
  const report = async (out: string) =>
    JSON.parse(await Deno.readTextFile(join(out, "report.json")));

  await runExperiment(alphaExperiment, params, { out: clean, seeds: [3], env });
  const md = await Deno.readTextFile(join(clean, "report.md"));
  let at = -1;
  for (const s of SECTIONS) {
    const i = md.indexOf(`\n## ${s}\n`);
    assert.ok(i > at, `"${s}" is in report.md, in order`);
    at = i;
  }
  for (const v of ALPHA_VARIANTS) {
    const label = v.label.replace(/[().]/g, "\\$&");
    assert.match(md, new RegExp(`\\| ${label} \\|( [\\d.-]+ \\|){5} 1 \\|`), v.label);
  }
  assert.match(
    md,
    /\*\*Paper claim\*\* “adaptive α is marginally better than fixed”: \*\*inconclusive\*\* — adaptive minus .* over 1 seed; one seed gives no interval: run at least 3\./,
  );
  assert.match(
    md,
    /- KD: forward KL at τ = 1, no τ² factor \(the paper's setting\); online teacher/,
  );
  assert.doesNotMatch(md, /issue #|\]\(\/|`\/[a-z]/, "no issue reference, no absolute path");
  assert.match(md, /The paper's rule gave α = 0\.5 exactly on [\d.]+ % of its steps/);
  for (const name of ["val_loss", "alpha"]) {
    assert.match(md, new RegExp(`\\(${name}\\.png\\)\\]\\(${name}\\.svg\\)`));
    const png = await Deno.readFile(join(clean, `${name}.png`));
    assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
    assert.ok(decodePng(png).width > 0);
    const svg = await Deno.readTextFile(join(clean, `${name}.svg`));
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>\s*$/);
  }

  // report.json holds what the students' metrics say: the last evaluation, and α as logged.
  const json = await report(clean);
  for (const rule of json.results.rules) {
    const m = await readMetrics(join(clean, "runs", rule.name, "seed-3", "metrics.jsonl"));
    assert.equal(rule.perSeed[0].finalCE, meanVal(m.eval.at(-1)!.val));
    assert.equal(rule.finalValCE.mean, meanVal(m.eval.at(-1)!.val));
    assert.equal(m.train.length, 40);
    if (rule.name === "alpha-0.25") assert.ok(m.train.every((t) => t.alpha === 0.25));
    if (rule.name === "alpha-dwa") assert.ok(m.train.some((t) => t.alpha !== 0.5));
  }
  const teacher = await readMetrics(join(clean, "runs", "teacher-val", "seed-3", "metrics.jsonl"));
  assert.equal(json.results.teacherVal.mean, meanVal(teacher.eval[0]!.val));
  // Every student was distilled from the trained teacher, which beats a uniform byte guess.
  assert.ok(json.results.teacherVal.mean < Math.log(258));

  // Students checkpoint at step 20 of 40; a crash at step 30 loses steps 21–30.
  await assert.rejects(
    () =>
      runExperiment(alphaExperiment, params, {
        out: crashed,
        seeds: [3],
        env: { ...env, haltAfter: { "alpha-dwa/seed-3": 30 } },
      }),
    /alpha-dwa\/seed-3: stopped at step 30 of 40/,
  );
  assert.match(
    await Deno.readTextFile(join(crashed, "report.md")),
    /\*\*Incomplete:\*\* 1 of 7 sub-runs are not finished \(alpha-dwa\/seed-3 failed\)/,
  );
  const outcome = await runExperiment(alphaExperiment, params, {
    out: crashed,
    seeds: [3],
    env,
  });
  assert.deepEqual(
    outcome.results[0]!.map((r) => [r.name, r.status, r.ranNow]),
    [
      ["teacher", "done", false],
      ["teacher-val", "done", false],
      ...ALPHA_VARIANTS.map((v) => [v.name, "done", v.name === "alpha-dwa"]),
    ],
  );
  const dwa = outcome.results[0]!.find((r) => r.name === "alpha-dwa")!;
  assert.deepEqual((await readAttempts(dwa.dir)).map((a) => [a.status, a.step]), [
    ["failed", 30],
    ["done", 40],
  ]);
  // Same seed, same backend: the resumed study reports exactly the uninterrupted one's numbers
  // (α included: the dwa rule's loss history resumes with its checkpoint).
  assert.deepEqual((await report(crashed)).results, json.results);
});

Deno.test("distillParams() refuses a class the shards lack and steps that do not end on an evaluation", async () => {
  const { dir } = await byteShards({ trainBytes: 4_000, classes: ["en", "fr"] });
  assert.deepEqual((await distillParams("tiny", dir)).classes, ["en", "fr"]);
  assert.deepEqual((await distillParams("tiny", dir, { lang: "fr" })).classes, ["fr"]);
  await assert.rejects(
    () => distillParams("tiny", dir, { batch: 7 }),
    (e) =>
      e instanceof InvalidRequest && e.option === "batch" &&
      /Invalid batch 7: it must be even/.test(e.message),
  );
  assert.equal((await distillParams("tiny", dir, { teacher: dir })).teacherTraining, null);
  await assert.rejects(
    () => distillParams("tiny", dir, { lang: "py" }),
    (e) =>
      e instanceof InvalidRequest && e.option === "lang" &&
      /Invalid lang "py": ".*" has en, fr \(or all\)/.test(e.message),
  );
  await assert.rejects(
    () => distillParams("tiny", dir, { steps: 30, evals: 4 }),
    (e) =>
      e instanceof InvalidRequest && e.option === "steps" &&
      /Invalid steps 30: it must be a multiple of evals 4/.test(e.message),
  );
  await assert.rejects(
    () => distillParams("tiny", dir, { teacher: join(dir, "none") }),
    (e) =>
      e instanceof InvalidRequest && e.option === "teacher" &&
      /Invalid teacher ".*none": no such directory/.test(e.message),
  );
});
