import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type ExperimentEnv,
  forgettingExperiment,
  forgettingParams,
  readAttempts,
  runExperiment,
} from "../../studies/mod.ts";
import { openBackend } from "../../core/runtime/mod.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";

Deno.test("a crashed forgetting sub-run resumes from its checkpoint, finished ones are kept, and the numbers match an uninterrupted run", async () => {
  const { dir } = await byteShards({ trainBytes: 20_000 });
  const params = await forgettingParams("tiny", dir, { steps: 80, evalRows: 8 });
  const { backend } = await openBackend("cpu", { threads: 1 });
  const env: ExperimentEnv = { backend };
  const root = await Deno.makeTempDir();
  const clean = join(root, "clean"), crashed = join(root, "crashed");
  const results = async (out: string) =>
    JSON.parse(await Deno.readTextFile(join(out, "report.json"))).results;

  await runExperiment(forgettingExperiment, params, { out: clean, seeds: [7], env });

  // Sequential checkpoints every 10 steps; a crash at step 25 loses steps 21–25.
  await assert.rejects(
    () =>
      runExperiment(forgettingExperiment, params, {
        out: crashed,
        seeds: [7],
        env: { ...env, haltAfter: { "sequential/seed-7": 25 } },
      }),
    /sequential\/seed-7: stopped at step 25 of 80/,
  );
  const md = await Deno.readTextFile(join(crashed, "report.md"));
  assert.match(
    md,
    /\*\*Incomplete:\*\* 1 of 7 sub-runs are not finished \(sequential\/seed-7 failed\)/,
  );

  const outcome = await runExperiment(forgettingExperiment, params, {
    out: crashed,
    seeds: [7],
    env,
  });
  const [seq, bal] = outcome.results[0]!;
  assert.deepEqual([seq!.status, seq!.ranNow, bal!.status, bal!.ranNow], [
    "done",
    true,
    "done",
    false,
  ]);
  assert.deepEqual((await readAttempts(bal!.dir)).map((a) => a.status), ["done"]);
  assert.deepEqual((await readAttempts(seq!.dir)).map((a) => [a.status, a.step]), [["failed", 25], [
    "done",
    80,
  ]]);
  // Same seed, same backend: the resumed study reports exactly the uninterrupted one's numbers.
  assert.deepEqual(await results(crashed), await results(clean));
});
