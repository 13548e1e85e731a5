import assert from "node:assert/strict";
import { join } from "node:path";
import { isCompleteCheckpoint, RUN_LOCK_FILE } from "../../pipeline/training/mod.ts";
import { moe } from "../_support/cli.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";
import {
  CPU,
  curve,
  fingerprint,
  finish,
  loggedSteps,
  names,
  spawnMoe,
  tinyTrain,
  until,
} from "./_support.ts";

const data = byteShards({ classes: ["en", "fr"], trainBytes: 6_000 }).then((s) => s.dir);

/** A finished 4-step run to put locks on (each test gets its own copy of nothing: a new run). */
async function finishedRun(): Promise<string> {
  const run = join(await Deno.makeTempDir(), "run");
  const r = await moe(tinyTrain(await data, run, 4));
  assert.equal(r.code, 0, r.stderr);
  return run;
}

async function writeLock(run: string, holder: Record<string, unknown>): Promise<void> {
  await Deno.writeTextFile(join(run, RUN_LOCK_FILE), JSON.stringify(holder) + "\n");
}

Deno.test("a second writer of a running run exits 1 at once naming the holder; readers go on; the first run stays whole", async () => {
  const run = join(await Deno.makeTempDir(), "run");
  const first = spawnMoe(tinyTrain(await data, run, 1_000_000));
  assert.ok(await until(first, async () => (await loggedSteps(run)) >= 3));
  // Paused, not ended: it still holds the lock, and its checkpoints stay put for the reader (a
  // reader racing the rotation of `--keep` could otherwise find its step removed under it).
  first.kill("SIGSTOP");
  const holder = new RegExp(
    `^moe: Cannot write run "${run}": it is locked by pid ${first.pid} on host ${Deno.hostname()} since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\n$`,
  );
  // Started afresh over it (--force), or continuing it: both refused before writing anything.
  for (
    const args of [[...tinyTrain(await data, run, 20), "--force"], [
      "train",
      "--out",
      run,
      "--resume",
      ...CPU,
    ]]
  ) {
    const second = await moe(args);
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, holder);
  }
  const exported = await moe(["export", "--checkpoint", run, "--out", join(run, "..", "hf")]);
  assert.equal(exported.code, 0, exported.stderr);

  first.kill("SIGCONT");
  first.kill("SIGTERM");
  const stopped = await finish(first);
  assert.equal(stopped.code, 143, stopped.stderr);
  const steps = (await curve(run)).filter((m) => m.event === "train").map((m) => m.step);
  assert.deepEqual(steps, steps.map((_, i) => i + 1)); // one run's steps, each once
  const latest = (await Deno.readTextFile(join(run, "latest"))).trim();
  assert.equal(latest, `step-${String(steps.length).padStart(6, "0")}`);
  assert.ok(await isCompleteCheckpoint(join(run, latest)));
  assert.deepEqual((await names(run)).filter((n) => n.startsWith(".")), []);
});

Deno.test("a stale lock of a process that is gone is taken over with a one-line warning", async () => {
  const run = await finishedRun();
  const gone = new Deno.Command("true").spawn();
  await gone.status; // reaped: its pid names no process any more
  const since = "2020-01-01T00:00:00.000Z";
  await writeLock(run, { pid: gone.pid, host: Deno.hostname(), since, processStart: null });
  const r = await moe(["train", "--out", run, "--resume", "--steps", "5", ...CPU]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stderr.trim(),
    `moe: warning: Took over the lock of run "${run}": pid ${gone.pid} on host ${Deno.hostname()} (since ${since}) is no longer running`,
  );
  assert.equal((await Deno.readTextFile(join(run, "latest"))).trim(), "step-000005");
  assert.deepEqual((await names(run)).filter((n) => n.startsWith(".")), []);
});

Deno.test("a lock held by a live process, or by one on another host, is never taken over", async () => {
  const run = await finishedRun();
  const since = "2020-01-01T00:00:00.000Z";
  // This test's own process: alive, on this host.
  await writeLock(run, { pid: Deno.pid, host: Deno.hostname(), since, processStart: null });
  const before = await fingerprint(run);
  const live = await moe(["train", "--out", run, "--resume", "--steps", "5", ...CPU]);
  assert.equal(live.code, 1);
  assert.equal(
    live.stderr.trim(),
    `moe: Cannot write run "${run}": it is locked by pid ${Deno.pid} on host ${Deno.hostname()} since ${since}`,
  );
  assert.deepEqual(await fingerprint(run), before);

  await writeLock(run, { pid: 1, host: "elsewhere.example", since, processStart: null });
  const elsewhere = await moe(["train", "--out", run, "--resume", "--steps", "5", ...CPU]);
  assert.equal(elsewhere.code, 1);
  assert.equal(
    elsewhere.stderr.trim(),
    `moe: Cannot write run "${run}": it is locked by pid 1 on host elsewhere.example since ${since} (another machine: remove "${
      join(run, RUN_LOCK_FILE)
    }" if that process is gone)`,
  );
  assert.equal((await Deno.readTextFile(join(run, "latest"))).trim(), "step-000004");
});
