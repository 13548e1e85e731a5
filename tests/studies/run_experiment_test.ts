import assert from "node:assert/strict";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import {
  type Experiment,
  type ExperimentEnv,
  readAttempts,
  runExperiment,
  type SubRun,
} from "../../studies/mod.ts";
import { InvalidRequest } from "../../core/job/mod.ts";
import type { Backend } from "../../core/runtime/mod.ts";

const env: ExperimentEnv = { backend: { description: "fake backend" } as Backend };

/** A job that logs `steps` train records; fails once at step 2 when `failOnce` is set. */
function fakeJob(name: string, calls: string[], failing: Set<string>, after?: string[]): SubRun {
  return {
    name,
    title: `job ${name}`,
    ...(after ? { after } : {}),
    async run(dir, ctx) {
      calls.push(`${name}/${ctx.seed}${ctx.retry ? " retry" : ""}`);
      const path = join(dir, "metrics.jsonl");
      const have = ctx.retry ? (await Deno.readTextFile(path)).trim().split("\n").length : 0;
      for (let step = have + 1; step <= 4; step++) {
        const r = {
          event: "train",
          step,
          loss: ctx.seed + 1 / step,
          lr: 1,
          grad_norm: 1,
          tokens: step,
          tokens_per_s: 1,
        };
        await Deno.writeTextFile(path, JSON.stringify(r) + "\n", { append: true });
        if (step === 2 && failing.delete(name)) throw new Error("the device went away");
      }
    },
  };
}

function fakeExperiment(calls: string[], failing: Set<string>): Experiment<{ k: number }> {
  return {
    name: "fake",
    title: "Fake experiment",
    subRuns: () => [
      fakeJob("a", calls, failing),
      fakeJob("b", calls, failing),
      fakeJob("c", calls, failing, ["b"]),
    ],
    setup: (p) => `- k: ${p.k}\n`,
    report: (_, results) => ({
      sections: [{
        title: "Losses",
        body: results.flat().map((r) => `${r.name}: ${r.summary.finalTrainLoss}`).join("\n"),
      }],
      charts: [],
      json: { n: results.flat().length },
    }),
  };
}

Deno.test("runExperiment() reports a failed sub-run, blocks its dependants, and resumes only them", async () => {
  const out = await Deno.makeTempDir();
  const calls: string[] = [];
  const failing = new Set(["b"]);
  const exp = fakeExperiment(calls, failing);
  await assert.rejects(
    () => runExperiment(exp, { k: 1 }, { out, seeds: [1, 2], env }),
    /1 sub-run\(s\) failed \(b\/seed-1: the device went away\); report written to ".*report\.md"/,
  );
  assert.deepEqual(calls, ["a/1", "b/1", "a/2", "b/2", "c/2"]);
  const md = await Deno.readTextFile(join(out, "report.md"));
  assert.match(
    md,
    /\*\*Incomplete:\*\* 2 of 6 sub-runs are not finished \(b\/seed-1 failed, c\/seed-1 blocked\)/,
  );
  assert.match(md, /\| job b \| 1 \| failed \| 2 \|.*\| the device went away \|/);

  calls.length = 0;
  const outcome = await runExperiment(exp, { k: 1 }, { out, seeds: [1, 2], env });
  assert.deepEqual(calls, ["b/1 retry", "c/1"]);
  assert.deepEqual(outcome.results.flat().map((r) => [r.name, r.seed, r.status, r.ranNow]), [
    ["a", 1, "done", false],
    ["b", 1, "done", true],
    ["c", 1, "done", true],
    ["a", 2, "done", false],
    ["b", 2, "done", false],
    ["c", 2, "done", false],
  ]);
  // The resumed job continued its metrics instead of starting over.
  const b1 = outcome.results[0]![1]!;
  assert.deepEqual(b1.metrics.train.map((r) => r.step), [1, 2, 3, 4]);
  assert.deepEqual((await readAttempts(b1.dir)).map((a) => [a.status, a.step]), [["failed", 2], [
    "done",
    4,
  ]]);
  assert.match(await Deno.readTextFile(join(out, "report.md")), /All 6 sub-runs finished\./);
  assert.equal(JSON.parse(await Deno.readTextFile(join(out, "report.json"))).complete, true);
});

Deno.test("runExperiment() refuses a directory that holds the experiment with other parameters", async () => {
  const out = await Deno.makeTempDir();
  const exp = fakeExperiment([], new Set());
  await runExperiment(exp, { k: 1 }, { out, seeds: [1], env });
  await assert.rejects(
    () => runExperiment(exp, { k: 2 }, { out, seeds: [1], env }),
    (e) =>
      e instanceof InvalidRequest && e.option === "out" &&
      /Cannot run experiment "fake" in ".*": it holds a "fake" experiment with other parameters \(use another out, or force to start afresh\)/
        .test(e.message),
  );
  // More seeds in the same directory are fine: the finished seed is reused.
  const calls: string[] = [];
  await runExperiment(fakeExperiment(calls, new Set()), { k: 1 }, { out, seeds: [1, 2], env });
  assert.deepEqual(calls, ["a/2", "b/2", "c/2"]);
});

Deno.test("runExperiment() with jobs 2 runs two sub-runs at a time, never one before what it waits for", async () => {
  const events: string[] = [];
  let running = 0, most = 0;
  const job = (name: string, after?: string[]): SubRun => ({
    name,
    title: name,
    ...(after ? { after } : {}),
    async run(dir, ctx) {
      events.push(`start ${name}/${ctx.seed}`);
      most = Math.max(most, ++running);
      // A teacher waits (at most 5 s) for a second sub-run to start, so the overlap the
      // scheduler allows shows whatever the file system's timing; a serial scheduler fails here.
      if (name === "teacher") {
        for (let waited = 0; most < 2 && waited < 5000; waited += 10) await delay(10);
      }
      for (let step = 1; step <= 3; step++) {
        const r = {
          event: "train",
          step,
          loss: 1,
          lr: 1,
          grad_norm: 1,
          tokens: 1,
          tokens_per_s: 1,
        };
        await Deno.writeTextFile(join(dir, "metrics.jsonl"), JSON.stringify(r) + "\n", {
          append: true,
        });
      }
      running--;
      events.push(`end ${name}/${ctx.seed}`);
    },
  });
  const exp: Experiment<{ k: number }> = {
    name: "parallel",
    title: "Parallel",
    subRuns: () => [job("teacher"), job("a", ["teacher"]), job("b", ["teacher"]), job("c", ["a"])],
    setup: () => "",
    report: () => ({ sections: [], charts: [], json: null }),
  };
  const out = await Deno.makeTempDir();
  const outcome = await runExperiment(exp, { k: 1 }, { out, seeds: [1, 2], env, jobs: 2 });
  assert.equal(most, 2, "two at a time, never more");
  const at = (e: string) => events.indexOf(e);
  for (const seed of [1, 2]) {
    for (const s of ["a", "b"]) assert.ok(at(`start ${s}/${seed}`) > at(`end teacher/${seed}`));
    assert.ok(at(`start c/${seed}`) > at(`end a/${seed}`));
  }
  // Both seeds' teachers ran side by side: seed 2 did not wait for seed 1's students.
  assert.ok(at("start teacher/2") < at("end teacher/1"));
  // Results keep the plan's order whatever order the sub-runs finished in.
  assert.deepEqual(
    outcome.results.map((row) => row.map((r) => `${r.name}/${r.seed} ${r.status}`)),
    [1, 2].map((s) => ["teacher", "a", "b", "c"].map((n) => `${n}/${s} done`)),
  );
});
