import assert from "node:assert/strict";
import { join } from "node:path";
import { isCompleteCheckpoint } from "../../pipeline/training/mod.ts";
import { moe } from "../_support/cli.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";
import { CPU, curve, finish, loggedSteps, names, spawnMoe, until } from "./_support.ts";

function trainMoE(data: string, out: string): string[] {
  return [
    "train-moe",
    "--variant",
    "moe-ce",
    "--data",
    data,
    "--out",
    out,
    "--config",
    "tiny",
    "--steps",
    "40",
    "--batch",
    "4",
    "--seq-len",
    "32",
    "--eval-every",
    "10",
    "--eval-rows",
    "8",
    "--checkpoint-every",
    "0",
    ...CPU,
  ];
}

Deno.test("moe train-moe on SIGTERM checkpoints, exits 143 with one line, and resumes to the uninterrupted curve", async () => {
  const { dir: data } = await byteShards({ classes: ["en", "fr"], trainBytes: 6_000 });
  const root = await Deno.makeTempDir();
  const full = join(root, "full"), cut = join(root, "cut");
  const reference = await moe(trainMoE(data, full));
  assert.equal(reference.code, 0, reference.stderr);

  const child = spawnMoe(trainMoE(data, cut));
  assert.ok(await until(child, async () => (await loggedSteps(cut)) >= 3));
  // Paused while the signal is sent, so that it lands well before the run's end.
  child.kill("SIGSTOP");
  child.kill("SIGTERM");
  child.kill("SIGCONT");
  const stopped = await finish(child);
  assert.equal(stopped.code, 143, stopped.stderr);
  const step = Number(/at step (\d+):/.exec(stopped.stderr)?.[1]);
  const checkpoint = join(cut, `step-${String(step).padStart(6, "0")}`);
  assert.equal(
    stopped.stderr,
    `moe: Stopped by SIGTERM at step ${step}: checkpoint written to "${checkpoint}" (continue with --resume)\n`,
  );
  assert.ok(step >= 3 && step < 40);
  assert.ok(await isCompleteCheckpoint(checkpoint));
  assert.deepEqual(await names(cut), [
    "latest",
    "metrics.jsonl",
    `step-${String(step).padStart(6, "0")}`,
  ]);

  const resumed = await moe(["train-moe", "--out", cut, "--resume", ...CPU]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(await curve(cut), await curve(full));
});

Deno.test("a command without a run of its own stops on SIGTERM and SIGINT with one line and 143/130", async () => {
  for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
    const dir = await Deno.makeTempDir();
    const fifo = join(dir, "in.txt");
    const mkfifo = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.ok(mkfifo.success, "mkfifo");
    const out = join(dir, "tok.json");
    const child = spawnMoe(["tokenizer", "train", fifo, "--vocab-size", "300", "--out", out]);
    // Opening the pipe for writing returns once `moe` has opened it for reading: it is waiting.
    // Should `moe` fail before that, the pipe is opened here too so that the test fails, not hangs.
    const writing = Deno.open(fifo, { write: true });
    if (await Promise.race([writing.then(() => false), child.status.then(() => true)])) {
      (await Deno.open(fifo, { read: true })).close();
      (await writing).close();
      const { code, stderr } = await finish(child);
      assert.fail(`moe exited ${code} before it read ${fifo}: ${stderr}`);
    }
    const writer = await writing;
    child.kill(signal);
    const { code: exit, stderr } = await finish(child);
    writer.close();
    assert.equal(exit, code, stderr);
    assert.equal(stderr.trim(), `moe: stopped by ${signal}`);
    assert.deepEqual(await names(dir), ["in.txt"]);
  }
});
