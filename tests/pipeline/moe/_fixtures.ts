/**
 * Shared artifacts of the MoE tests: byte-level token shards of the fixture corpora, a router
 * trained on the same training text, and a tiny MoE trained on the shards for a few hundred
 * steps (made once per test file).
 *
 * @module
 */
import { join } from "node:path";
import { readDocuments } from "../../../core/data/mod.ts";
import {
  assembleBundle,
  type Bundle,
  loadBundle,
  moeTrainOptions,
  trainMoE,
} from "../../../pipeline/moe/mod.ts";
import { ADAMW_DEFAULTS } from "../../../core/optim/mod.ts";
import { trainRouter } from "../../../core/routing/mod.ts";
import { openBackend } from "../../../core/runtime/mod.ts";
import type { TrainSummary } from "../../../pipeline/training/mod.ts";
import { GPT_CONFIGS, gptParamSpecs, initGPT } from "../../../models/gpt.ts";
import { type HostTensor, saveSafetensors } from "../../../core/runtime/mod.ts";
import { loadTokenizer } from "../../../core/tokenizer/mod.ts";
import { type CheckpointConfig, writeCheckpoint } from "../../../pipeline/training/mod.ts";
import type { MoEConfig, MoEVariant } from "../../../models/moe.ts";
import { byteShards } from "../training/_fixtures.ts";

export const CLASSES = ["en", "fr", "de", "py"];

/** The byte-level tiny model of the tests (vocab 258, context 64). */
export const TINY = { ...GPT_CONFIGS.tiny, vocabSize: 258 };

/** The CPU backend, one thread. */
export const cpu = async () => (await openBackend("cpu", { threads: 1 })).backend;

/**
 * Trains a router on the first `bytes` characters of each fixture corpus (the text the train
 * shards hold) and writes it to `dir/router.json`.
 */
export async function fixtureRouter(dir: string, bytes = 40_000): Promise<string> {
  const corpus = new Map<string, string[]>();
  for (const c of CLASSES) {
    const texts: string[] = [];
    let n = 0;
    for await (const doc of readDocuments(`fixtures/corpus/${c}.jsonl.gz`)) {
      texts.push(doc.text);
      if ((n += doc.text.length) > bytes) break;
    }
    corpus.set(c, texts);
  }
  const { router } = trainRouter(corpus, null, { windowsPerClass: 400, bits: 16 });
  const path = join(dir, "router.json");
  await Deno.writeTextFile(path, router.toJson());
  return path;
}

/** Token shards, a router and a trained tiny MoE, in one temporary directory. */
export interface MoEFixture {
  shards: string;
  tokenizer: string;
  router: string;
  run: string;
  moe: MoEConfig;
  summary: TrainSummary;
}

/** Trains a tiny MoE of `variant` for `steps` round-robin steps (batch 8, 64 tokens). */
export async function trainedMoE(variant: MoEVariant, steps: number): Promise<MoEFixture> {
  const { dir: shards, tokenizer } = await byteShards();
  const root = await Deno.makeTempDir({ prefix: "moe-moe-" });
  const router = await fixtureRouter(root);
  const moe: MoEConfig = { model: TINY, classes: CLASSES, variant };
  const run = join(root, "run");
  const options = moeTrainOptions(moe, {
    data: shards,
    modelName: "tiny",
    batch: 8,
    seqLen: 64,
    lr: { lr: 3e-3, minLr: 3e-4, warmup: 20, steps, decay: "cosine" },
    adamw: ADAMW_DEFAULTS,
    evalEvery: 0,
    evalRows: 32,
    checkpointEvery: 0,
    keep: 1,
    seed: 1,
  });
  const summary = await trainMoE(moe, options, {
    backend: await cpu(),
    out: run,
    tokenizerPath: tokenizer,
  });
  return { shards, tokenizer, router, run, moe, summary };
}

/** A trained tiny MoE assembled as a bundle beside its run (`<run>/../bundle`), and loaded. */
export async function trainedBundle(
  variant: MoEVariant,
  steps: number,
): Promise<{ f: MoEFixture; dir: string; bundle: Bundle }> {
  const f = await trainedMoE(variant, steps);
  const dir = join(f.run, "..", "bundle");
  await assembleBundle(dir, { router: f.router, fromMoE: f.run });
  return { f, dir, bundle: await loadBundle(dir) };
}

/**
 * A `moe-gpt` checkpoint of the tiny model with random (initial) weights of `seed`, in
 * `dir/gpt-<seed>`, made with the fixture's tokenizer: an expert of its own embedding for PLE
 * bundles.
 */
export async function randomGPTCheckpoint(
  dir: string,
  tokenizer: string,
  seed: number,
): Promise<string> {
  const values = initGPT(TINY, seed);
  const state: Record<string, HostTensor> = {};
  for (const s of gptParamSpecs(TINY)) {
    state[s.name] = { dtype: "float32", dims: s.shape, data: values.get(s.name)! };
  }
  const tok = await loadTokenizer(tokenizer);
  const config: CheckpointConfig = {
    format: "moe-gpt",
    version: 1,
    name: "tiny",
    model: TINY,
    tokenizer: { fingerprint: tok.fingerprint, vocabSize: 258, eotId: 256 },
    trainer: { step: 1 },
  };
  const out = join(dir, `gpt-${seed}`);
  await Deno.mkdir(out);
  await writeCheckpoint(
    out,
    config,
    (d) => saveSafetensors(join(d, "state.safetensors"), state),
    tokenizer,
  );
  return out;
}
