import assert from "node:assert/strict";
import { join } from "node:path";
import { learningRate, type LrSchedule } from "../../pipeline/training/mod.ts";
import { moe } from "../_support/cli.ts";
import { hashedShards, readManifest, reencodeInPlace } from "./_shards.ts";
import { CPU, curve, fingerprint, names, tinyTrain } from "./_support.ts";

/** A finished 8-step run on shards with recorded sha256, keeping its last two checkpoints. */
const setup = (async () => {
  const data = await hashedShards();
  const run = join(await Deno.makeTempDir(), "run");
  const r = await moe([...tinyTrain(data, run, 8), "--keep", "2"]);
  assert.equal(r.code, 0, r.stderr);
  return { data, run };
})();

/** A copy of `dir` in a new temporary folder (each case changes its own). */
async function copy(dir: string): Promise<string> {
  const to = join(await Deno.makeTempDir(), "copy");
  const { code } = await new Deno.Command("cp", { args: ["-a", dir, to] }).output();
  assert.equal(code, 0);
  return to;
}

const resume = (run: string, ...flags: string[]) =>
  moe(["train", "--out", run, "--resume", ...CPU, ...flags]);

Deno.test("--resume refuses shards re-encoded by another tokenizer of the same vocab size, naming both fingerprints", async () => {
  const { data, run } = await setup;
  const [shards, out] = [await copy(data), await copy(run)];
  const trainedWith = (await readManifest(data)).tokenizer.fingerprint;
  const reencodedWith = await reencodeInPlace(shards);
  const before = { run: await fingerprint(out), data: await fingerprint(shards) };
  const r = await resume(out, "--data", shards);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.stderr.trim(),
    `moe: Cannot resume "${out}" on "${shards}": its shards were encoded with tokenizer ${
      reencodedWith.slice(0, 12)
    } (vocab 258), the run with ${trainedWith.slice(0, 12)} (vocab 258)`,
  );
  assert.deepEqual({ run: await fingerprint(out), data: await fingerprint(shards) }, before);
});

Deno.test("--resume refuses a shard whose sha256 is not the one the run was trained on", async () => {
  const { data, run } = await setup;
  const [shards, out] = [await copy(data), await copy(run)];
  const shard = join(shards, "train", "en.bin");
  const bytes = await Deno.readFile(shard);
  bytes[200] = bytes[200]! ^ 1; // one token changed, the manifest left as it was
  await Deno.writeFile(shard, bytes);
  const before = await fingerprint(out);
  const r = await resume(out, "--data", shards);
  assert.equal(r.code, 1, r.stderr);
  const trainedOn = (await readManifest(data)).shards["train/en.bin"]!.sha256!;
  assert.match(
    r.stderr,
    new RegExp(
      `^moe: Cannot resume ".*" on ".*": shard train/en\\.bin has sha256 [0-9a-f]{12}, the run was trained on ${
        trainedOn.slice(0, 12)
      }\\n$`,
    ),
  );
  assert.deepEqual(await fingerprint(out), before);
});

Deno.test("--resume --data continues on shards that moved, recognised by their sha256", async () => {
  const { data, run } = await setup;
  const [shards, out] = [await copy(data), await copy(run)];
  const r = await resume(out, "--data", shards, "--steps", "9");
  assert.equal(r.code, 0, r.stderr);
  const config = JSON.parse(await Deno.readTextFile(join(out, "step-000009", "config.json")));
  assert.equal(config.trainer.options.data, shards);
});

const REFUSED: [string[], string][] = [
  [["--lr", "0.01"], "Invalid --lr 0.01: a resumed run keeps its peak learning rate (0.003)"],
  [["--batch", "8"], "Invalid --batch 8: a resumed run keeps its batch (4)"],
  [["--config", "bench"], "Invalid --config bench: a resumed run keeps its model (tiny)"],
  [
    ["--schedule", "balanced"],
    "Invalid --schedule balanced: a resumed run keeps its schedule (mixed)",
  ],
  [["--steps", "5"], "Invalid --steps 5: the run's checkpoint is at step 8 already"],
  [
    ["--force"],
    "Invalid --force with --resume: --resume continues the run in --out, --force starts it afresh",
  ],
];
for (const [flags, message] of REFUSED) {
  Deno.test(`--resume ${flags.join(" ")} is refused with one usage line, the run untouched`, async () => {
    const { run } = await setup;
    const out = await copy(run);
    const before = await fingerprint(out);
    const r = await resume(out, ...flags);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim(), `moe: ${message}`);
    assert.deepEqual(await fingerprint(out), before);
  });
}

Deno.test("--resume --steps extends the run: the schedule is the one of a run planned that long", async () => {
  const { run } = await setup;
  const out = await copy(run);
  const r = await resume(out, "--steps", "12", "--eval-every", "3");
  assert.equal(r.code, 0, r.stderr);
  const records = await curve(out);
  const train = records.filter((m) => m.event === "train");
  assert.deepEqual(train.map((m) => m.step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const config = JSON.parse(await Deno.readTextFile(join(out, "step-000012", "config.json")));
  const longer: LrSchedule = config.trainer.options.lr;
  assert.deepEqual([longer.steps, longer.warmup, config.trainer.options.evalEvery], [12, 2, 3]);
  for (const m of train.slice(8)) assert.equal(m.lr, learningRate(longer, m.step as number));
  // The first 8 steps keep the 8-step schedule they were trained with.
  assert.equal(train[7]!.lr, learningRate({ ...longer, steps: 8 }, 8));
  assert.notEqual(train[7]!.lr, learningRate(longer, 8));
  assert.deepEqual(records.filter((m) => m.event === "eval").map((m) => m.step), [5, 8, 9, 12]);
});

Deno.test("a latest naming an incomplete step falls back to the newest complete one and says so", async () => {
  const { run } = await setup;
  const out = await copy(run);
  await Deno.remove(join(out, "step-000008", "state.safetensors"));
  const r = await resume(out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /^moe: ".*latest" names step-000008, which is missing or incomplete: resuming from step-000007, the newest complete checkpoint$/m,
  );
  // Step 8 trained again from step 7's checkpoint: the curve is the uninterrupted one.
  assert.deepEqual(await curve(out), await curve(run));
  assert.equal((await Deno.readTextFile(join(out, "latest"))).trim(), "step-000008");
});

Deno.test("--resume removes the half-written checkpoint and temporary files a kill left, in one line", async () => {
  const { run } = await setup;
  const out = await copy(run);
  await Deno.mkdir(join(out, ".step-000009.tmp-99999"));
  await Deno.writeTextFile(join(out, ".step-000009.tmp-99999", "model.onnx"), "cut short");
  await Deno.writeTextFile(join(out, ".latest.tmp-99999-abc123"), "step-000009\n");
  const r = await resume(out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /^moe: Removed what an interrupted run left half-written in ".*": \.latest\.tmp-99999-abc123, \.step-000009\.tmp-99999$/m,
  );
  assert.deepEqual(await names(out), ["latest", "metrics.jsonl", "step-000007", "step-000008"]);
});

Deno.test("--resume of a folder without a complete checkpoint names it and writes nothing", async () => {
  const empty = await Deno.makeTempDir();
  const r = await resume(empty);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), `moe: Cannot resume "${empty}": it holds no complete checkpoint`);
  await Deno.writeTextFile(join(empty, "latest"), "step-000003\n");
  const named = await resume(empty);
  assert.equal(named.code, 1);
  assert.equal(
    named.stderr.trim(),
    `moe: Cannot resume "${empty}": it holds no complete checkpoint (its latest names step-000003, which is missing or incomplete)`,
  );
  assert.deepEqual(await names(empty), ["latest"]);
});

Deno.test("--resume of a finished run trains nothing and reports the run's last loss and validation", async () => {
  const { run } = await setup;
  const out = await copy(run);
  const logged = await curve(out);
  const lastTrain = logged.filter((r) => r.event === "train").at(-1)!;
  const r = await resume(out, "--json");
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.steps, 8);
  assert.equal(summary.startStep, 8);
  assert.equal(summary.finalLoss, lastTrain.loss);
  assert.deepEqual(summary.val, logged.filter((r) => r.event === "eval").at(-1)!.val);
  assert.deepEqual(await curve(out), logged, "metrics.jsonl unchanged");
});
