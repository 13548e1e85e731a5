import assert from "node:assert/strict";
import { join } from "node:path";
import { isCompleteCheckpoint } from "../../pipeline/training/mod.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";
import {
  curve,
  finish,
  loggedSteps,
  names,
  seeded,
  spawnMoe,
  tinyTrain,
  until,
} from "./_support.ts";

const STEPS = 150;
const KILLS = 20;

/** Where a kill lands: after a given train step was logged, inside a checkpoint write, or at a
 * random moment after the start (setup, lock, resume checks, a step, a checkpoint). */
type KillPoint = { after: "step"; step: number } | { after: "checkpoint" } | {
  after: "delay";
  ms: number;
};

function killPoint(draw: (n: number) => number, done: number, first: boolean): KillPoint {
  const kind = first ? 0 : draw(3);
  if (kind === 0) return { after: "step", step: done + 1 + draw(3) };
  if (kind === 1) return { after: "checkpoint" };
  return { after: "delay", ms: draw(1500) };
}

async function reached(
  out: string,
  point: KillPoint,
  child: Deno.ChildProcess,
  started: number,
): Promise<boolean> {
  if (point.after === "step") return (await loggedSteps(out)) >= point.step;
  if (point.after === "checkpoint") {
    // This child's temporary checkpoint, not one an earlier kill left for it to remove.
    const own = new RegExp(`^\\.step-\\d+\\.tmp-${child.pid}$`);
    return (await names(out).catch(() => [])).some((n) => own.test(n));
  }
  return performance.now() - started >= point.ms;
}

Deno.test("a tiny training killed with SIGKILL at 20 seeded points and resumed each time logs exactly the uninterrupted run's curve", async () => {
  const { dir } = await byteShards({ trainBytes: 10_000 });
  const root = await Deno.makeTempDir();
  const full = join(root, "full"), cut = join(root, "cut");
  const reference = await finish(spawnMoe(tinyTrain(dir, full, STEPS)));
  assert.equal(reference.code, 0, reference.stderr);

  const draw = seeded(15);
  const landed: string[] = [];
  for (let kill = 0; kill < KILLS; kill++) {
    const resumable = await Deno.stat(join(cut, "latest")).then(() => true, () => false);
    // Before the first checkpoint there is nothing to resume: start afresh over what is there.
    const args = resumable
      ? ["train", "--out", cut, "--resume", "--backend", "cpu", "--threads", "1"]
      : [...tinyTrain(dir, cut, STEPS), ...(kill > 0 ? ["--force"] : [])];
    const point = killPoint(draw, await loggedSteps(cut), kill === 0);
    const started = performance.now();
    const child = spawnMoe(args);
    const inTime = await until(child, () => reached(cut, point, child, started));
    assert.ok(inTime, `attempt ${kill} ended before its kill point ${JSON.stringify(point)}`);
    child.kill("SIGKILL");
    const { code, stderr } = await finish(child);
    assert.equal(code, 137, stderr);
    landed.push(point.after);
    // Whatever the kill interrupted, `latest` names a complete checkpoint.
    const latest = await Deno.readTextFile(join(cut, "latest")).catch(() => null);
    if (latest !== null) assert.ok(await isCompleteCheckpoint(join(cut, latest.trim())), latest);
  }
  assert.ok(landed.includes("checkpoint") && landed.includes("delay"), landed.join());

  const resumed = await finish(
    spawnMoe(["train", "--out", cut, "--resume", "--backend", "cpu", "--threads", "1"]),
  );
  assert.equal(resumed.code, 0, resumed.stderr);
  // The last kill left its lock: taken over with a warning that names the dead holder.
  assert.match(resumed.stderr, /moe: warning: Took over the lock of run ".*cut": pid \d+ on host/);
  assert.deepEqual(await curve(cut), await curve(full));
  const left = await names(cut);
  assert.deepEqual(left.filter((n) => n.startsWith(".")), []);
  assert.deepEqual(left.filter((n) => n.startsWith("step-")), [`step-000${STEPS}`]);
});
