import assert from "node:assert/strict";
import { join } from "node:path";
import type { HostTensor } from "../../core/runtime/mod.ts";
import { saveSafetensors } from "../../core/runtime/mod.ts";
import { loadTokenizer, saveTokenizer, trainTokenizer } from "../../core/tokenizer/mod.ts";
import { type CheckpointConfig, writeCheckpoint } from "../../pipeline/training/mod.ts";
import { gptConfig, gptParamSpecs, initGPT } from "../../models/gpt.ts";
import { assembleBundle } from "../../pipeline/moe/mod.ts";
import { trainedMoE } from "../pipeline/moe/_fixtures.ts";
import { moe } from "../_support/cli.ts";
import { readFixtureText } from "../_support/fixture_text.ts";

/** A run directory with one checkpoint: a fixture-trained tokenizer and a random tiny GPT. */
const run = (async () => {
  const dir = await Deno.makeTempDir({ prefix: "moe-generate-" });
  const text = (await readFixtureText("en", 4000)) + (await readFixtureText("fr", 4000));
  const trained = await trainTokenizer([text], { vocabSize: 320, minFrequency: 2, threads: 1 });
  const tokPath = join(dir, "tok.json");
  const fingerprint = await saveTokenizer(tokPath, trained.model);
  const tok = await loadTokenizer(tokPath);
  const model = gptConfig({
    vocabSize: tok.vocabSize,
    contextLength: 24,
    layers: 1,
    heads: 2,
    dModel: 32,
  });
  const values = initGPT(model, 3);
  const state: Record<string, HostTensor> = {};
  for (const spec of gptParamSpecs(model)) {
    state[spec.name] = { dtype: "float32", dims: spec.shape, data: values.get(spec.name)! };
  }
  const config: CheckpointConfig = {
    format: "moe-gpt",
    version: 1,
    name: "custom",
    model,
    tokenizer: { fingerprint, vocabSize: tok.vocabSize, eotId: tok.specialId("<|endoftext|>") },
    trainer: { step: 1 },
  };
  const out = join(dir, "run");
  await Deno.mkdir(out);
  await writeCheckpoint(
    out,
    config,
    (tmp) => saveSafetensors(join(tmp, "state.safetensors"), state),
    tokPath,
  );
  return out;
})();

interface Summary {
  prompt: string;
  tokens: number[];
  text: string;
  truncated: number;
  prompt_tokens: number;
  stop: string;
  timings: { first_token_ms: number; tokens_per_s: number };
}

async function generateJson(args: string[]): Promise<Summary> {
  const r = await moe([
    "generate",
    await run,
    ...args,
    "--backend",
    "cpu",
    "--threads",
    "1",
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Summary;
}

Deno.test("moe generate with the same seed gives the same tokens, and --json has text and timings", async () => {
  const args = ["The cat", "--seed", "5", "--max-tokens", "12", "--temperature", "1"];
  const a = await generateJson(args), b = await generateJson(args);
  assert.deepEqual(a.tokens, b.tokens);
  assert.equal(a.tokens.length + (a.stop === "eot" ? 1 : 0) <= 12, true);
  assert.equal(a.prompt, "The cat");
  assert.equal(a.truncated, 0);
  assert.ok(a.timings.first_token_ms > 0 && a.timings.tokens_per_s > 0);
  const c = await generateJson([
    "The cat",
    "--seed",
    "6",
    "--max-tokens",
    "12",
    "--temperature",
    "1",
  ]);
  assert.notDeepEqual(a.tokens, c.tokens);
});

Deno.test("moe generate streams to stdout the text that --json reports", async () => {
  const args = ["Le chat", "--seed", "2", "-n", "10", "--backend", "cpu", "--threads", "1"];
  const plain = await moe(["generate", await run, ...args]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stderr, "");
  const json = await generateJson(["Le chat", "--seed", "2", "-n", "10"]);
  assert.equal(plain.stdout, json.text + "\n");
});

Deno.test("moe generate --no-cache draws the same tokens as the KV cache", async () => {
  const args = ["Once upon", "--seed", "8", "-n", "30", "--temperature", "0.9"];
  const cached = await generateJson(args), full = await generateJson([...args, "--no-cache"]);
  assert.deepEqual(cached.tokens, full.tokens);
});

Deno.test("moe generate cuts a prompt longer than the context from the left and says so", async () => {
  const long = "the quick brown fox jumps over the lazy dog ".repeat(10);
  const r = await moe([
    "generate",
    await run,
    long,
    "-n",
    "4",
    "--json",
    "--backend",
    "cpu",
    "--threads",
    "1",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as Summary;
  assert.ok(s.truncated > 0);
  assert.equal(s.prompt_tokens, 24 - 4);
  assert.match(r.stderr, /warning: the prompt has \d+ tokens; kept the last 20 \(context 24/);
});

Deno.test("moe generate with an empty prompt starts a new document", async () => {
  const s = await generateJson(["", "--seed", "1", "-n", "5"]);
  assert.equal(s.prompt, "");
  assert.equal(s.prompt_tokens, 1);
});

Deno.test("moe generate on a directory without a checkpoint fails with one line and exit 1", async () => {
  const empty = await Deno.makeTempDir();
  const r = await moe(["generate", empty, "hi", "--backend", "cpu"]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.match(r.stderr, /Cannot open model ".*": no checkpoint there/);
  const bad = await moe(["generate", await run, "hi", "--temperature", "-1"]);
  assert.equal(bad.code, 2);
});

/** A MoE-CE bundle of a briefly trained tiny MoE (its experts share wte). */
const moeCEBundle = (async () => {
  const f = await trainedMoE("moe-ce", 20);
  const dir = join(f.run, "..", "bundle");
  await assembleBundle(dir, { router: f.router, fromMoE: f.run });
  return dir;
})();

interface RoutedSummary extends Summary {
  route: { expert: string; mix: string; rule: string | null; weights: Record<string, number> };
}

async function bundleJson(args: string[]): Promise<RoutedSummary> {
  const r = await moe(["generate", await moeCEBundle, ...args, "--backend", "cpu", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as RoutedSummary;
}

Deno.test("moe generate on a MoE-CE bundle runs routed + common by default and every expert with --mix router", async () => {
  const args = ["Le chat dort sur le canapé.", "-n", "10", "--seed", "3", "--temperature", "1"];
  const routed = await bundleJson(args);
  assert.deepEqual(routed.route.weights, { fr: 0.5, common: 0.5 });
  assert.equal(routed.route.rule, "hidden-mean");
  const soft = await bundleJson([...args, "--mix", "router"]);
  const w = soft.route.weights;
  assert.equal(soft.route.mix, "router");
  assert.deepEqual(Object.keys(w), ["en", "fr", "de", "py", "common"]);
  assert.ok(Math.abs(Object.values(w).reduce((a, b) => a + b, 0) - 1) < 1e-9);
  assert.ok(w.fr! > w.en! && w.fr! > w.py!, JSON.stringify(w));
  assert.deepEqual((await bundleJson([...args, "--mix", "router"])).tokens, soft.tokens);
  const forced = await bundleJson([...args, "--expert", "de"]);
  assert.deepEqual(forced.route.weights, { de: 1 });
  const bad = await moe(["generate", await moeCEBundle, "x", "--mix", "router", "--expert", "en"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--expert with --mix router/);
});

Deno.test("moe generate --route likelihood scores every expert and reports the rule, posterior and cost", async () => {
  const args = ["def f(x):\n    return x", "-n", "5", "--temperature", "0"];
  const r = await moe([
    "generate",
    await moeCEBundle,
    ...args,
    "--route",
    "likelihood",
    "--backend",
    "cpu",
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const { route } = JSON.parse(r.stdout) as {
    route: RoutedSummary["route"] & {
      routing: string;
      by: string;
      posterior: Record<string, number>;
      logLikelihoods: Record<string, number>;
      scoringMs: number;
    };
  };
  assert.equal(route.routing, "likelihood");
  assert.equal(route.by, "likelihood");
  assert.deepEqual(Object.keys(route.posterior), ["en", "fr", "de", "py"]);
  const best = Object.entries(route.logLikelihoods).sort((a, b) => b[1] - a[1])[0]![0];
  assert.equal(route.expert, best);
  assert.deepEqual(route.weights, { [best]: 0.5, common: 0.5 });
  assert.ok(route.scoringMs > 0);
  const plain = await bundleJson(args);
  assert.equal((plain.route as { scoringMs?: number }).scoringMs, 0);
});

Deno.test("moe generate --route rejects an unknown rule, and likelihood routing on a single model", async () => {
  const bogus = await moe(["generate", await moeCEBundle, "x", "--route", "bogus"]);
  assert.equal(bogus.code, 2);
  assert.equal(bogus.stderr.trim().split("\n").length, 1);
  assert.match(bogus.stderr, /bogus/);
  const single = await moe([
    "generate",
    await run,
    "x",
    "--route",
    "likelihood",
    "--backend",
    "cpu",
  ]);
  assert.equal(single.code, 2);
  assert.equal(single.stderr.trim().split("\n").length, 1);
  assert.match(single.stderr, /--route likelihood .*needs a MoE bundle/);
  const fallback = await moe([
    "generate",
    await moeCEBundle,
    "x",
    "--route",
    "combined",
    "--fallback",
    "en",
  ]);
  assert.equal(fallback.code, 2);
  assert.match(fallback.stderr, /--fallback with --route combined/);
});
