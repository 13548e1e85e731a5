import assert from "node:assert/strict";
import { join } from "node:path";
import {
  assembleBundle,
  type BundleManifest,
  type EvalReport,
  evaluateBundle,
  loadBundle,
} from "../../../pipeline/moe/mod.ts";
import { ADAMW_DEFAULTS } from "../../../core/optim/mod.ts";
import { train } from "../../../pipeline/training/mod.ts";
import { CLASSES, cpu, TINY, trainedMoE } from "./_fixtures.ts";

// One MoE-CE trained once for the whole file: 400 round-robin steps (100 per expert), ≈ 8 s.
const f = await trainedMoE("moe-ce", 400);
const root = join(f.run, "..");
const bundleDir = join(root, "bundle");
await assembleBundle(bundleDir, { router: f.router, fromMoE: f.run });

const evaluate = async (dir: string): Promise<EvalReport> =>
  evaluateBundle(await loadBundle(dir), {
    data: f.shards,
    split: "val",
    rows: 32,
    batch: 8,
    backend: await cpu(),
  });
const report = await evaluate(bundleDir);
const row = (name: string) => report.rows.find((r) => r.name === name)!;

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyDir(join(from, e.name), join(to, e.name));
    else await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("a bundle assembled from a MoE-CE run reproduces the run's validation losses", () => {
  const manifest = JSON.parse(
    Deno.readTextFileSync(join(bundleDir, "manifest.json")),
  ) as BundleManifest;
  assert.equal(manifest.variant, "moe-ce");
  assert.deepEqual(manifest.combine, { rule: "hidden-mean", weights: [0.5, 0.5] });
  assert.deepEqual(manifest.classes, CLASSES);
  for (const c of CLASSES) {
    // The trainer evaluated the joint graphs; the bundle runs standalone experts + common.
    const got = row("oracle+common").perClass[c]!.loss, want = f.summary.val[c]!.loss;
    assert.ok(Math.abs(got - want) < 1e-4, `${c}: bundle ${got} vs run ${want}`);
  }
});

Deno.test("routed MoE perplexity is within 5 % of oracle routing on every class", () => {
  for (const c of CLASSES) {
    for (const [routed, oracle] of [["routed", "oracle"], ["routed+common", "oracle+common"]]) {
      const r = row(routed!).perClass[c]!.ppl, o = row(oracle!).perClass[c]!.ppl;
      assert.ok(r <= o * 1.05, `${c}: ${routed} ${r.toFixed(2)} vs ${oracle} ${o.toFixed(2)}`);
    }
    assert.ok(
      report.routing[c]!.accuracy > 0.75,
      `${c}: routing accuracy ${report.routing[c]!.accuracy}`,
    );
  }
  // The common expert helps each expert, and the experts specialise: on its own class an expert
  // beats the others' mean. (Not each other one: after 100 steps the English expert comes within
  // 0.02 nats of the Python one on code for some seeds, and CPU-dependent rounding can flip that.)
  for (const c of CLASSES) {
    assert.ok(row("oracle+common").perClass[c]!.loss < row("oracle").perClass[c]!.loss);
    const others = CLASSES.filter((x) => x !== c).map((o) => row(`expert:${o}`).perClass[c]!.loss);
    const own = row(`expert:${c}`).perClass[c]!.loss;
    const mean = others.reduce((a, b) => a + b, 0) / others.length;
    assert.ok(
      own < mean - 0.1,
      `expert:${c} on ${c}: ${own.toFixed(3)} vs others ${mean.toFixed(3)}`,
    );
  }
});

Deno.test("a copied and reloaded bundle gives the same eval losses", async () => {
  const copy = join(root, "copy");
  await copyDir(bundleDir, copy);
  assert.deepEqual((await evaluate(copy)).rows, report.rows);
});

Deno.test("loading a bundle names the file and the problem", async () => {
  const broken = async (name: string, damage: (dir: string) => Promise<void>) => {
    const dir = join(root, name);
    await copyDir(bundleDir, dir);
    await damage(dir);
    return dir;
  };
  const cases: [string, (dir: string) => Promise<void>, RegExp][] = [
    [
      "no-onnx",
      (d) => Deno.remove(join(d, "experts/fr/model.onnx")),
      /"experts\/fr\/model.onnx" is missing/,
    ],
    ["no-router", (d) => Deno.remove(join(d, "router.json")), /"router.json" is missing/],
    ["version", async (d) => {
      const m = JSON.parse(await Deno.readTextFile(join(d, "manifest.json")));
      await Deno.writeTextFile(join(d, "manifest.json"), JSON.stringify({ ...m, version: 2 }));
    }, /format version 2 is not supported/],
    ["tokenizer", async (d) => {
      await Deno.writeTextFile(
        join(d, "tokenizer.json"),
        (await Deno.readTextFile(join(d, "tokenizer.json"))) + " ",
      );
    }, /"tokenizer.json" is not the tokenizer the experts were trained with/],
    ["vocab", async (d) => {
      const p = join(d, "experts/de/config.json");
      await Deno.writeTextFile(
        p,
        JSON.stringify({ ...JSON.parse(await Deno.readTextFile(p)), vocabSize: 300 }),
      );
    }, /"experts\/de\/config.json" has vocab size 300/],
  ];
  for (const [name, damage, message] of cases) {
    await assert.rejects(() => broken(name, damage).then(loadBundle), message, name);
  }
});

Deno.test("assemble refuses mismatched parts and writes nothing", async () => {
  // Two GPT checkpoints of `moe train` (a few steps are enough to have the files).
  const gpt = async (seed: number) => {
    const out = join(root, `gpt-${seed}`);
    await train({
      data: f.shards,
      modelName: "tiny",
      model: TINY,
      batch: 4,
      accumulate: 1,
      seqLen: 32,
      lr: { lr: 1e-3, minLr: 1e-4, warmup: 0, steps: 3, decay: "constant" },
      adamw: ADAMW_DEFAULTS,
      schedule: "mixed",
      order: CLASSES,
      evalEvery: 0,
      evalRows: 4,
      checkpointEvery: 0,
      keep: 1,
      seed,
    }, { backend: await cpu(), out, tokenizerPath: f.tokenizer });
    return out;
  };
  const [a, b] = [await gpt(1), await gpt(2)];
  const all = new Map(CLASSES.map((c) => [c, a]));
  const out = join(root, "refused");
  await assert.rejects(
    () => assembleBundle(out, { router: f.router, experts: new Map([["en", a], ["fr", a]]) }),
    /routes to "de", "py", which has no expert/,
  );
  await assert.rejects(
    () => assembleBundle(out, { router: f.router, experts: new Map([...all, ["xx", a]]) }),
    /does not know class "xx"/,
  );
  const cfgPath = join(b, "step-000003", "config.json");
  const cfg = JSON.parse(await Deno.readTextFile(cfgPath));
  await Deno.writeTextFile(
    cfgPath,
    JSON.stringify({ ...cfg, tokenizer: { ...cfg.tokenizer, fingerprint: "0".repeat(64) } }),
  );
  await assert.rejects(
    () => assembleBundle(out, { router: f.router, experts: all, common: b }),
    /expert "common" .* another tokenizer/,
  );
  assert.ok(!await exists(out), "nothing written");
  assert.equal([...Deno.readDirSync(root)].filter((e) => e.name.startsWith(".refused")).length, 0);
  await Deno.writeTextFile(cfgPath, JSON.stringify(cfg));
  // PLE experts with their own embedding and a common expert: probability mean.
  const manifest = await assembleBundle(join(root, "ple"), {
    router: f.router,
    experts: all,
    common: b,
  });
  assert.equal(manifest.variant, "ple");
  assert.equal(manifest.combine?.rule, "probability-mean");
  const ple = await evaluate(join(root, "ple"));
  const score = (name: string) => ple.rows.find((r) => r.name === name)!.mean.loss;
  // −log(½p + ½q) ≤ −log p + ln 2 token by token, so on average too.
  assert.ok(score("oracle+common") <= score("oracle") + Math.LN2);
  assert.ok(score("oracle+common") <= score("common") + Math.LN2);
});
