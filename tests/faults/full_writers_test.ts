/**
 * The writers that hold a file handle on a full disk: Deno's error then names no file, so each
 * writer names the file it was writing, in its final place. `/dev/full` fails every write; a tiny
 * tmpfs fills up part-way (mounting needs root: that case is skipped, with the reason, where it is
 * refused). `disk_full_test.ts` runs whole trainings on a full disk.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { JsonlGzWriter } from "../../core/data/mod.ts";
import { float32, saveSafetensors } from "../../core/runtime/mod.ts";
import { saveTokenizer, ShardWriter } from "../../core/tokenizer/mod.ts";
import { type CheckpointConfig, writeCheckpoint } from "../../pipeline/training/mod.ts";
import { GPT_CONFIGS } from "../../models/gpt.ts";

const DEV_FULL = "/dev/full";
const noDevFull = await Deno.stat(DEV_FULL).then((s) => s.isFile, () => true);

/** Mounts a tmpfs of `bytes` on a fresh folder, or says why it cannot. */
async function tinyDisk(bytes: number): Promise<{ dir: string } | { refused: string }> {
  const dir = await Deno.makeTempDir({ prefix: "moe-full-writers-" });
  const r = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir],
    stdout: "null",
    stderr: "piped",
  }).output().catch((error) => ({ success: false, stderr: new TextEncoder().encode(`${error}`) }));
  if (r.success) return { dir };
  await Deno.remove(dir);
  return { refused: new TextDecoder().decode(r.stderr).trim() || "mount failed" };
}

async function unmount(dir: string): Promise<void> {
  await new Deno.Command("umount", { args: [dir] }).output();
  await Deno.remove(dir);
}

const probe = await tinyDisk(64 * 1024);
if ("dir" in probe) await unmount(probe.dir);
const noTmpfs = "refused" in probe
  ? `mounting a tmpfs is not permitted here: ${probe.refused}`
  : null;

Deno.test({
  name: `a shard writer on a full disk names the shard${
    noDevFull ? " (ignored: no /dev/full)" : ""
  }`,
  ignore: noDevFull,
  async fn() {
    const error = await ShardWriter.create(DEV_FULL, {
      vocabSize: 300,
      eotId: 299,
      fingerprint: "ab".repeat(32),
    }).then(() => null, (e: Error) => e);
    assert.equal(error?.message, `Cannot write "${DEV_FULL}": no space left on device`);
  },
});

Deno.test({
  name: `a gzip JSON Lines writer on a full disk names its file${
    noDevFull ? " (ignored: no /dev/full)" : ""
  }`,
  ignore: noDevFull,
  async fn() {
    const writer = await JsonlGzWriter.create(DEV_FULL);
    // gzip buffers: the failure surfaces on a later write, or at the latest on close.
    const error = await (async () => {
      for (let i = 0; i < 2000; i++) await writer.write({ text: `document ${i} ${"x".repeat(i)}` });
      await writer.close();
    })().then(() => null, (e: Error) => e);
    assert.equal(error?.message, `Cannot write "${DEV_FULL}": no space left on device`);
  },
});

Deno.test({
  name: `a checkpoint that does not fit names state.safetensors in its final place${
    noTmpfs ? ` (ignored: ${noTmpfs})` : ""
  }`,
  ignore: noTmpfs !== null,
  async fn() {
    const disk = await tinyDisk(512 * 1024);
    assert.ok("dir" in disk);
    try {
      const out = join(disk.dir, "run");
      await Deno.mkdir(out);
      const tokenizer = join(disk.dir, "tok.json");
      const fingerprint = await saveTokenizer(tokenizer, {
        byteIds: Int32Array.from({ length: 256 }, (_, b) => b),
        merges: new Int32Array(),
        mergeIds: new Int32Array(),
        specials: [{ content: "<|endoftext|>", id: 256 }],
      });
      const config = (step: number): CheckpointConfig => ({
        format: "moe-gpt",
        version: 1,
        name: "tiny",
        model: GPT_CONFIGS.tiny,
        tokenizer: { fingerprint, vocabSize: 257, eotId: 256 },
        trainer: { step },
      });
      // The writer is handed the temporary folder; the message must name the final one.
      const state = (values: number) => (dir: string) =>
        saveSafetensors(join(dir, "state.safetensors"), { w: float32(new Float32Array(values)) });
      await writeCheckpoint(out, config(10), state(1024), tokenizer);
      const error = await writeCheckpoint(out, config(20), state(1 << 20), tokenizer)
        .then(() => null, (e: Error) => e);
      assert.equal(
        error?.message,
        `Cannot write "${join(out, "step-000020", "state.safetensors")}": no space left on device`,
      );
      assert.deepEqual((await Array.fromAsync(Deno.readDir(out), (e) => e.name)).sort(), [
        "latest",
        "step-000010",
      ]);
      assert.equal(await Deno.readTextFile(join(out, "latest")), "step-000010\n");
    } finally {
      await unmount(disk.dir);
    }
  },
});
