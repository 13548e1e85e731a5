import assert from "node:assert/strict";
import { join } from "node:path";
import { loadSafetensors } from "../../core/runtime/mod.ts";
import { moe } from "../_support/cli.ts";
import { exportRouter, exportShards } from "../oracle/_hf_export.ts";

const root = await Deno.makeTempDir({ prefix: "moe-head-" });
const { dir: shards } = await exportShards();
const run = join(root, "run");
const common = [
  ...["--data", shards, "--config", "tiny", "--layers", "1", "--d-model", "32", "--heads", "2"],
  ...["--ctx", "32", "--batch", "4", "--eval-rows", "4", "--eval-every", "0"],
  ...["--backend", "cpu", "--threads", "1", "--out", run, "--json"],
];

Deno.test("train-moe --head untied trains, resumes only as untied, and its bundle evaluates and generates with the shared lm_head", async () => {
  const trained = await moe([
    "train-moe",
    "--variant",
    "moe-ce",
    "--head",
    "untied",
    "--steps",
    "6",
    ...common,
  ]);
  assert.equal(trained.code, 0, trained.stderr);
  assert.equal(JSON.parse(trained.stdout).head, "untied");

  const flipped = await moe([
    "train-moe",
    "--resume",
    "--head",
    "tied",
    "--steps",
    "8",
    "--out",
    run,
  ]);
  assert.equal(flipped.code, 2);
  assert.match(
    flipped.stderr,
    /^moe: Invalid --head tied: a resumed run keeps its head \(untied\)/,
  );
  const resumed = await moe([
    "train-moe",
    "--resume",
    "--head",
    "untied",
    "--steps",
    "8",
    "--out",
    run,
    "--json",
  ]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const summary = JSON.parse(resumed.stdout);
  assert.equal(summary.steps, 8);
  const step = join(run, "step-000008");
  const config = JSON.parse(await Deno.readTextFile(join(step, "config.json")));
  assert.equal(config.moe.model.head, "untied");
  const state = Object.keys((await loadSafetensors(join(step, "state.safetensors"))).tensors);
  assert.deepEqual(state.filter((k) => k.includes("lm_head")).sort(), [
    "lm_head",
    "lm_head.adam_m",
    "lm_head.adam_v",
  ]);

  const router = await exportRouter(root);
  const bundle = join(root, "bundle");
  const assembled = await moe(["assemble", "--router", router, "--from-moe", run, "--out", bundle]);
  assert.equal(assembled.code, 0, assembled.stderr);
  for (const expert of ["en", "fr", "common"]) {
    const dir = join(bundle, "experts", expert);
    assert.equal(JSON.parse(await Deno.readTextFile(join(dir, "config.json"))).head, "untied");
    assert.ok("lm_head" in (await loadSafetensors(join(dir, "model.safetensors"))).tensors);
  }
  const evaluated = await moe([
    ...["eval", bundle, "--data", shards, "--rows", "4", "--seq-len", "32"],
    ...["--backend", "cpu", "--json"],
  ]);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const rows = JSON.parse(evaluated.stdout).rows as {
    name: string;
    perClass: Record<string, { loss: number }>;
  }[];
  const oracle = rows.find((r) => r.name === "oracle+common")!;
  // The trainer's validation is each class through its expert and the common one: the same model.
  for (const cls of ["en", "fr"]) {
    assert.ok(
      Math.abs(oracle.perClass[cls]!.loss - summary.val[cls].loss) < 1e-4,
      `${cls}: eval ${oracle.perClass[cls]!.loss}, trainer ${summary.val[cls].loss}`,
    );
  }
  const generated = await moe([
    "generate",
    bundle,
    "Le chat",
    "-n",
    "6",
    "--seed",
    "3",
    "--backend",
    "cpu",
    "--json",
  ]);
  assert.equal(generated.code, 0, generated.stderr);
  assert.equal(JSON.parse(generated.stdout).tokens.length, 6);
});

Deno.test("train-moe refuses an unknown --head", async () => {
  const r = await moe(["train-moe", "--head", "biased", ...common]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--head.*biased.*tied, untied/);
});
