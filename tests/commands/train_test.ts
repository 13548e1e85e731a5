import assert from "node:assert/strict";
import { join } from "node:path";
import { loadSafetensors } from "../../core/runtime/mod.ts";
import { moe } from "../_support/cli.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

function trainArgs(data: string, out: string, steps: number): string[] {
  return [
    "train",
    "--data",
    data,
    "--out",
    out,
    "--config",
    "tiny",
    "--steps",
    String(steps),
    "--batch",
    "4",
    "--lr",
    "3e-3",
    "--eval-every",
    "20",
    "--checkpoint-every",
    "10",
    "--backend",
    "cpu",
    "--threads",
    "1",
  ];
}

/** Starts `moe …` and returns the child once `done(out)` holds (polled), or after it exits. */
async function spawnUntil(args: string[], done: () => Promise<boolean>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  for (let i = 0; i < 600 && !(await done()); i++) await new Promise((r) => setTimeout(r, 50));
  return child;
}

const steps = async (out: string) =>
  (await Deno.readTextFile(join(out, "metrics.jsonl")).catch(() => "")).trim().split("\n")
    .filter((l) => l.includes('"train"')).map((l) => {
      const { tokens_per_s: _, ...rest } = JSON.parse(l);
      return rest;
    });

Deno.test("moe train killed with SIGKILL and resumed logs the uninterrupted run's loss curve", async () => {
  const { dir } = await byteShards({ trainBytes: 10_000 });
  const full = join(await Deno.makeTempDir(), "full"), cut = join(await Deno.makeTempDir(), "cut");
  const done = await moe(trainArgs(dir, full, 200));
  assert.equal(done.code, 0, done.stderr);
  const child = await spawnUntil(
    trainArgs(dir, cut, 200),
    async () =>
      (await Deno.readTextFile(join(cut, "latest")).catch(() => "")).includes("step-000010"),
  );
  try {
    child.kill("SIGKILL");
  } catch { /* already finished: the resume below then has nothing left to do */ }
  await child.output();
  const resumed = await moe([
    "train",
    "--out",
    cut,
    "--resume",
    "--backend",
    "cpu",
    "--threads",
    "1",
  ]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(await steps(cut), await steps(full));
});

Deno.test("moe train on SIGINT writes a checkpoint and exits 130", async () => {
  const { dir } = await byteShards({ trainBytes: 10_000 });
  const out = join(await Deno.makeTempDir(), "run");
  const child = await spawnUntil(
    trainArgs(dir, out, 100000),
    async () => (await steps(out)).length >= 3,
  );
  child.kill("SIGINT");
  const { code, stderr } = await child.output();
  assert.equal(code, 130);
  const message = new TextDecoder().decode(stderr);
  assert.match(
    message,
    /Interrupted at step (\d+): checkpoint written to ".*step-\d+" \(continue with --resume\)/,
  );
  const latest = (await Deno.readTextFile(join(out, "latest"))).trim();
  assert.ok((await Deno.stat(join(out, latest, "state.safetensors"))).isFile);
});

Deno.test("moe train refuses shards whose vocab size differs from --vocab-size", async () => {
  const { dir } = await byteShards({ classes: ["en"], trainBytes: 5_000 });
  const r = await moe([
    ...trainArgs(dir, join(await Deno.makeTempDir(), "x"), 2),
    "--vocab-size",
    "300",
  ]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /moe: Cannot train on ".*en\.bin": its vocab size 258 differs from the model's 300/,
  );
});

Deno.test("moe export writes Hugging Face GPT-2 safetensors and config, with the run's --dropout", async () => {
  const { dir } = await byteShards({ classes: ["en", "py"], trainBytes: 5_000 });
  const root = await Deno.makeTempDir();
  const trained = await moe([...trainArgs(dir, join(root, "run"), 3), "--dropout", "0.1"]);
  assert.equal(trained.code, 0, trained.stderr);
  const saved = JSON.parse(
    await Deno.readTextFile(join(root, "run", "step-000003", "config.json")),
  );
  assert.equal(saved.model.dropout, 0.1);
  const r = await moe([
    "export",
    "--checkpoint",
    join(root, "run"),
    "--out",
    join(root, "hf"),
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).step, 3);
  const { tensors } = await loadSafetensors(join(root, "hf", "model.safetensors"));
  assert.deepEqual(tensors["transformer.h.1.attn.c_attn.weight"]?.dims, [64, 192]);
  assert.equal(Object.keys(tensors).length, 2 + 2 * 12 + 2);
  const config = JSON.parse(await Deno.readTextFile(join(root, "hf", "config.json")));
  assert.deepEqual([config.model_type, config.n_layer, config.vocab_size], ["gpt2", 2, 258]);
  assert.deepEqual([config.embd_pdrop, config.attn_pdrop, config.resid_pdrop], [0.1, 0.1, 0.1]);
  assert.ok((await Deno.stat(join(root, "hf", "tokenizer.json"))).isFile);
});

Deno.test("moe train --help ends with example command lines", async () => {
  const r = await moe(["train", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout.trim().split("\n").at(-1)!, /^ {2}moe train /);
});
