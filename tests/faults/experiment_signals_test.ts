import assert from "node:assert/strict";
import { join } from "node:path";
import { moe } from "../_support/cli.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";
import { finish, loggedSteps, names, spawnMoe, until } from "./_support.ts";

function forgetting(data: string, out: string): string[] {
  return [
    ...["experiment", "forgetting", "--data", data, "--out", out, "--steps", "160"],
    ...["--eval-rows", "8", "--seeds", "1", "--jobs", "2", "--backend", "cpu"],
  ];
}

Deno.test("an experiment on SIGTERM stops its sub-runs' processes, which checkpoint; a re-run resumes them to the uninterrupted numbers", async () => {
  const { dir: data } = await byteShards({ classes: ["en", "fr"], trainBytes: 6_000 });
  const root = await Deno.makeTempDir();
  const full = join(root, "full"), cut = join(root, "cut");
  const reference = await moe(forgetting(data, full));
  assert.equal(reference.code, 0, reference.stderr);

  const child = spawnMoe(forgetting(data, cut));
  const sequential = join(cut, "runs", "sequential", "seed-1");
  assert.ok(await until(child, async () => (await loggedSteps(sequential)) >= 3));
  child.kill("SIGTERM");
  const stopped = await finish(child);
  assert.equal(stopped.code, 143, stopped.stderr);
  assert.match(
    stopped.stderr,
    /moe: Stopped by SIGTERM at step \d+: checkpoint written to .*\(run the same command again to continue\)\n$/,
  );
  // The sub-run's process checkpointed on the forwarded signal and left no lock behind.
  assert.ok((await names(sequential)).includes("latest"));
  assert.ok(!(await names(sequential)).includes(".lock"));
  const report = JSON.parse(await Deno.readTextFile(join(cut, "report.json")));
  assert.ok(report.subRuns.some((r: { status: string }) => r.status === "interrupted"));

  const resumed = await moe(forgetting(data, cut));
  assert.equal(resumed.code, 0, resumed.stderr);
  const results = async (out: string) =>
    JSON.parse(await Deno.readTextFile(join(out, "report.json"))).results;
  assert.deepEqual(await results(cut), await results(full));
});
