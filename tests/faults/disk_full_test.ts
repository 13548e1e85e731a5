import assert from "node:assert/strict";
import { join } from "node:path";
import { isCompleteCheckpoint } from "../../pipeline/training/mod.ts";
import { moe } from "../_support/cli.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";
import { CPU, curve, names, tinyTrain } from "./_support.ts";

/** Runs `mount`/`umount` with `args`; the error text when the OS refuses. */
async function mount(command: "mount" | "umount", args: string[]): Promise<string | null> {
  const r = await new Deno.Command(command, { args, stdout: "null", stderr: "piped" }).output()
    .catch((error) => ({ success: false, stderr: new TextEncoder().encode(String(error)) }));
  return r.success ? null : new TextDecoder().decode(r.stderr).trim() || `${command} failed`;
}

/** A small tmpfs of `size` (e.g. `3m`), or why none can be mounted here (not root, a sandbox). */
async function smallDisk(size: string): Promise<{ dir: string } | { refused: string }> {
  const dir = await Deno.makeTempDir({ prefix: "moe-full-" });
  const refused = await mount("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  return refused === null ? { dir } : { refused };
}

const probe = await smallDisk("1m");
const why = "refused" in probe ? `mounting a tmpfs is not permitted here: ${probe.refused}` : null;
if ("dir" in probe) await mount("umount", [probe.dir]);

Deno.test({
  name:
    `a checkpoint that does not fit on the disk fails with one line naming it; the previous one stays whole and resumable${
      why ? ` (ignored: ${why})` : ""
    }`,
  ignore: why !== null,
  async fn() {
    const { dir: data } = await byteShards({ classes: ["en", "fr"], trainBytes: 6_000 });
    const full = join(await Deno.makeTempDir(), "full");
    const reference = await moe(tinyTrain(data, full, 4));
    assert.equal(reference.code, 0, reference.stderr);
    // One checkpoint is about 2 MB: the first fits in 3 MB, the second (written before the
    // first is removed) does not.
    const disk = await smallDisk("3m");
    assert.ok("dir" in disk, "refused" in disk ? disk.refused : "");
    try {
      const run = join(disk.dir, "run");
      const r = await moe(tinyTrain(data, run, 4));
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`^moe: Cannot write "${run}/step-000002[^"]*": no space left on device\\n$`),
      );
      assert.equal((await Deno.readTextFile(join(run, "latest"))).trim(), "step-000001");
      assert.ok(await isCompleteCheckpoint(join(run, "step-000001")));
      // Neither the half-written checkpoint nor the lock is left behind.
      assert.deepEqual(await names(run), ["latest", "metrics.jsonl", "step-000001"]);

      assert.equal(await mount("mount", ["-o", "remount,size=64m", disk.dir]), null);
      const resumed = await moe(["train", "--out", run, "--resume", ...CPU]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.deepEqual(await curve(run), await curve(full));
    } finally {
      await mount("umount", [disk.dir]);
    }
  },
});

Deno.test({
  name:
    `a disk too small for the first checkpoint fails naming it, with no checkpoint and no temporary left${
      why ? ` (ignored: ${why})` : ""
    }`,
  ignore: why !== null,
  async fn() {
    const { dir: data } = await byteShards({ classes: ["en", "fr"], trainBytes: 6_000 });
    const disk = await smallDisk("512k");
    assert.ok("dir" in disk, "refused" in disk ? disk.refused : "");
    try {
      const run = join(disk.dir, "run");
      const r = await moe(tinyTrain(data, run, 2));
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`^moe: Cannot write "${run}/step-000001[^"]*": no space left on device\\n$`),
      );
      assert.deepEqual(await names(run), ["metrics.jsonl"]);
    } finally {
      await mount("umount", [disk.dir]);
    }
  },
});
