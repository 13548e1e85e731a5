import assert from "node:assert/strict";
import { join } from "node:path";
import { exitCodeOf } from "../../commands/_errors.ts";
import { Interrupted, type StopRequest } from "../../core/job/mod.ts";
import {
  type Experiment,
  type ExperimentEnv,
  runExperiment,
  type SubRun,
  subRunDir,
} from "../../studies/mod.ts";
import type { Backend } from "../../core/runtime/mod.ts";
import { RUN_LOCK_FILE, RunLocked } from "../../pipeline/training/mod.ts";
import { fingerprint, names } from "./_support.ts";

/** A job that logs one train record, then stops as a trainer does when a signal was received. */
function job(name: string): SubRun {
  return {
    name,
    title: `job ${name}`,
    async run(dir, ctx) {
      // While it runs, its folder is locked by this process.
      assert.equal(JSON.parse(await Deno.readTextFile(join(dir, RUN_LOCK_FILE))).pid, Deno.pid);
      const record = { event: "train", step: 1, loss: 1, lr: 1, grad_norm: 1, tokens: 1 };
      await Deno.writeTextFile(join(dir, "metrics.jsonl"), JSON.stringify(record) + "\n");
      const stop = ctx.env.stop;
      if (stop?.requested) {
        throw new Interrupted(`Stopped by ${stop.signal} at step 1`, stop.signal);
      }
    },
  };
}

const experiment: Experiment<{ k: number }> = {
  name: "fake",
  title: "Fake experiment",
  subRuns: () => [job("a"), job("b")],
  setup: (p) => `- k: ${p.k}\n`,
  report: () => ({ sections: [], charts: [], json: {} }),
};

const env = (stop?: StopRequest): ExperimentEnv => ({
  backend: { description: "fake backend" } as Backend,
  ...(stop ? { stop } : {}),
});

Deno.test("an experiment stopped by SIGTERM reports it with exit code 143 and leaves no lock behind", async () => {
  const out = await Deno.makeTempDir();
  const error = await runExperiment(experiment, { k: 1 }, {
    out,
    seeds: [1],
    env: env({ requested: true, signal: "SIGTERM" }),
  }).catch((e) => e);
  assert.ok(error instanceof Interrupted);
  assert.equal(error.signal, "SIGTERM");
  assert.equal(exitCodeOf(error), 143);
  assert.match(error.message, /^Stopped by SIGTERM at step 1; report written to ".*report\.md"/);
  assert.ok(!(await names(out)).includes(RUN_LOCK_FILE));
  assert.ok(!(await names(subRunDir(out, "a", 1))).includes(RUN_LOCK_FILE));
});

Deno.test("an experiment, or one of its sub-runs, written by another live process is refused untouched", async () => {
  const holder = { pid: Deno.pid, host: Deno.hostname(), since: "2020-01-01T00:00:00.000Z" };
  const out = await Deno.makeTempDir();
  await Deno.writeTextFile(join(out, RUN_LOCK_FILE), JSON.stringify(holder));
  const whole = await runExperiment(experiment, { k: 1 }, { out, seeds: [1], env: env() })
    .catch((e) => e);
  assert.ok(whole instanceof RunLocked, String(whole));
  assert.equal(
    whole.message,
    `Cannot write run "${out}": it is locked by pid ${Deno.pid} on host ${holder.host} since ${holder.since}`,
  );
  assert.deepEqual(await names(out), [RUN_LOCK_FILE]);

  // A sub-run that a `moe train --resume` of its folder writes meanwhile.
  await Deno.remove(join(out, RUN_LOCK_FILE));
  const b = subRunDir(out, "b", 1);
  await Deno.mkdir(b, { recursive: true });
  await Deno.writeTextFile(join(b, RUN_LOCK_FILE), JSON.stringify(holder));
  const before = await fingerprint(b);
  const sub = await runExperiment(experiment, { k: 1 }, { out, seeds: [1], env: env() })
    .catch((e) => e);
  assert.ok(sub instanceof RunLocked, String(sub));
  assert.match(sub.message, /^Cannot write run ".*runs\/b\/seed-1": it is locked by pid/);
  assert.deepEqual(await fingerprint(b), before);
  assert.ok(!(await names(out)).includes(RUN_LOCK_FILE)); // the experiment's own lock: released
});
