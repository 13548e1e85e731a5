import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { readHfGpt2 } from "../../pipeline/hf/hf_gpt2_read.ts";
import { readMoECheckpoint } from "../../pipeline/moe/mod.ts";
import { loadSafetensors, openBackend } from "../../core/runtime/mod.ts";
import { buildGPTInference } from "../../models/gpt.ts";
import { moe } from "../_support/cli.ts";
import {
  exportRouter,
  exportShards,
  FIXTURE_DIR,
  RUNS,
  trainTinyMoE,
} from "../oracle/_hf_export.ts";

const root = await Deno.makeTempDir({ prefix: "moe-export-" });
const { dir: shards } = await exportShards();
// Fresh runs made as the committed fixture's were, shorter: their structure is what is compared.
const runs = new Map<string, string>();
for (const run of RUNS) {
  runs.set(run.name, await trainTinyMoE(shards, join(root, run.name), run, 4));
}

const routerPath = await exportRouter(root);

/** Every file under `dir`, relative, sorted. */
async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.isDirectory) await walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  await walk(dir);
  return out.sort();
}

/** Tensor names, dtypes and shapes of a safetensors file. */
async function layout(path: string): Promise<string[]> {
  const { tensors } = await loadSafetensors(path);
  return Object.entries(tensors).map(([k, t]) => `${k}:${t.dtype}[${t.dims.join(",")}]`).sort();
}

async function json(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(path));
}

let exports = 0;
async function exported(name: string, ...extra: string[]): Promise<string> {
  const out = join(root, `hf-${name}-${exports++}`);
  const r = await moe([
    "export",
    "--checkpoint",
    runs.get(name)!,
    "--out",
    out,
    "--json",
    ...extra,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return out;
}

for (const { name, head } of RUNS) {
  Deno.test(`a fresh ${name} run (${head} head) exports the committed fixture's folders, configs and tensors`, async () => {
    const out = await exported(name);
    const fixture = join(FIXTURE_DIR, name);
    assert.deepEqual(await files(out), await files(fixture));
    const manifest = await json(join(out, "moe-bundle.json"));
    assert.deepEqual({ ...manifest, source: null }, {
      ...await json(join(fixture, "moe-bundle.json")),
      source: null,
    });
    for (
      const folder of (await files(out)).filter((f) => f.endsWith("config.json")).map((f) =>
        f.slice(0, -12)
      )
    ) {
      assert.deepEqual(
        await json(join(out, folder, "config.json")),
        await json(join(fixture, folder, "config.json")),
      );
      assert.deepEqual(
        await layout(join(out, folder, "model.safetensors")),
        await layout(join(fixture, folder, "model.safetensors")),
      );
    }
  });

  Deno.test(`each exported ${name} expert reads back as exactly that stack of the run, shared parts folded in`, async () => {
    const out = await exported(name);
    const { moe: config, members } = await readMoECheckpoint(runs.get(name)!);
    assert.equal(config.model.head ?? "tied", head);
    const manifest = await json(join(out, "moe-bundle.json"));
    const folders: Record<string, string> = { ...(manifest.experts as Record<string, string>) };
    if (manifest.common) folders.common = manifest.common as string;
    assert.deepEqual(Object.keys(folders), [...members.keys()]);
    for (const [member, source] of members) {
      const hf = await readHfGpt2(join(out, folders[member]!));
      assert.deepEqual(hf.model, source.config);
      assert.deepEqual([...hf.values.keys()], [...source.values.keys()]);
      for (const [k, v] of source.values) assert.deepEqual(hf.values.get(k), v, `${member}: ${k}`);
      assert.equal(hf.tokenizer.fingerprint, source.tokenizer.fingerprint);
    }
    // The shared embedding (and head) is one table folded into every expert.
    const wte = [...members.keys()].map((m) => members.get(m)!.values.get("wte"));
    assert.ok(wte.every((w) => w === wte[0]));
  });
}

Deno.test("a bundle exports with its own router, fallback and combination rule; a run takes --router", async () => {
  const bundle = join(root, "bundle");
  const assembled = await moe([
    "assemble",
    "--router",
    routerPath,
    "--from-moe",
    runs.get("moe-ce")!,
    "--out",
    bundle,
  ]);
  assert.equal(assembled.code, 0, assembled.stderr);
  const out = join(root, "hf-bundle");
  const r = await moe(["export", "--checkpoint", bundle, "--out", out, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.deepEqual(summary.files, ["en/", "fr/", "common/", "router.json", "moe-bundle.json"]);
  assert.equal(summary.step, null);
  const manifest = await json(join(out, "moe-bundle.json"));
  assert.deepEqual(manifest.router, { file: "router.json", minConfidence: 0 });
  assert.equal(manifest.fallback, "common");
  assert.deepEqual((manifest.combine as { weights: number[] }).weights, [0.5, 0.5]);
  assert.deepEqual(
    await Deno.readFile(join(out, "router.json")),
    await Deno.readFile(join(bundle, "router.json")),
  );
  const second = await moe([
    "export",
    "--checkpoint",
    bundle,
    "--router",
    routerPath,
    "--out",
    join(root, "no"),
  ]);
  assert.equal(second.code, 2);
  assert.match(second.stderr, /^moe: Invalid --router ".*": bundle ".*" exports its own router/);
  // The bundle's experts are the run's: the same bytes as the run exported directly.
  const direct = await exported("moe-ce", "--router", routerPath);
  assert.equal((await json(join(direct, "moe-bundle.json"))).fallback, "common");
  assert.deepEqual(
    await Deno.readFile(join(direct, "router.json")),
    await Deno.readFile(routerPath),
  );
  for (const folder of ["en", "fr", "common"]) {
    assert.deepEqual(
      await Deno.readFile(join(out, folder, "model.safetensors")),
      await Deno.readFile(join(direct, folder, "model.safetensors")),
    );
  }
});

Deno.test("moe export of a MoE refuses onnx, a second router and an existing folder, writing nothing", async () => {
  const out = join(root, "refused");
  const onnx = await moe([
    "export",
    "--checkpoint",
    runs.get("jeet")!,
    "--format",
    "onnx",
    "--out",
    out,
  ]);
  assert.equal(onnx.code, 2);
  assert.match(
    onnx.stderr,
    /^moe: Invalid --format onnx for ".*": a MoE exports its experts as safetensors/,
  );
  const single = await moe([
    "export",
    "--checkpoint",
    join(FIXTURE_DIR, "jeet", "en"),
    "--router",
    routerPath,
    "--out",
    out,
  ]);
  assert.equal(single.code, 2);
  assert.match(single.stderr, /is a single model, not a train-moe run/);
  assert.equal(await Deno.stat(out).then(() => true, () => false), false);
  const first = await exported("jeet", "--router", routerPath);
  const again = await moe(["export", "--checkpoint", runs.get("moe-ce")!, "--out", first]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists \(use --force to replace it\)/);
  assert.deepEqual(
    await files(first),
    await files(join(FIXTURE_DIR, "jeet")).then((f) => [...f, "router.json"].sort()),
  );
  const forced = await moe([
    "export",
    "--checkpoint",
    runs.get("moe-ce")!,
    "--out",
    first,
    "--force",
  ]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.ok((await files(first)).includes("common/model.safetensors"));
});

Deno.test("an exported expert folder re-exports byte for byte, and as ONNX with the same logits", async () => {
  const expert = join(FIXTURE_DIR, "moe-ce", "fr");
  const again = join(root, "re-export");
  const r = await moe(["export", "--checkpoint", expert, "--out", again]);
  assert.equal(r.code, 0, r.stderr);
  for (const file of ["model.safetensors", "config.json", "tokenizer.json"]) {
    assert.deepEqual(
      await Deno.readFile(join(again, file)),
      await Deno.readFile(join(expert, file)),
      file,
    );
  }
  const onnx = join(root, "re-export-onnx");
  const o = await moe(["export", "--checkpoint", expert, "--format", "onnx", "--out", onnx]);
  assert.equal(o.code, 0, o.stderr);
  const hf = await readHfGpt2(expert);
  const T = hf.model.contextLength, V = hf.model.vocabSize;
  const tokens = BigInt64Array.from({ length: T }, (_, i) => BigInt((i * 37 + 5) % 256));
  const logits = async (bytes: Uint8Array) => {
    const { backend } = await openBackend("cpu", { threads: 1 });
    const s = await backend.createSession(bytes);
    const out = await s.run({ tokens: s.wrap({ dtype: "int64", dims: [1, T], data: tokens }) });
    const data = (await s.download(out.logits!)).data as Float32Array;
    await s.dispose();
    return data;
  };
  const ours = await logits(await Deno.readFile(join(onnx, "model.onnx")));
  const built = await logits(
    buildGPTInference(hf.model, { batch: 1, seqLen: T, values: hf.values }),
  );
  assert.equal(ours.length, T * V);
  assert.deepEqual(ours, built);
});
