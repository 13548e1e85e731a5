/**
 * Every file `moe` loads as configuration or metadata, fed empty, truncated, corrupt,
 * wrong-typed, NaN-holding (JSON's `1e999` is Infinity; binary files get NaN bytes) and
 * missing-field versions through the command that reads it: exit 1, one line naming the file and
 * the field, nothing written.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { openTeacherCache } from "../../pipeline/distill/mod.ts";
import { trainRouter } from "../../core/routing/mod.ts";
import { type HostTensor, saveSafetensors } from "../../core/runtime/mod.ts";
import { saveTokenizer } from "../../core/tokenizer/mod.ts";
import { type CheckpointConfig, writeCheckpoint } from "../../pipeline/training/mod.ts";
import { GPT_CONFIGS, gptConfig, gptParamSpecs, initGPT } from "../../models/gpt.ts";
import { moe } from "../_support/cli.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";

const root = await Deno.makeTempDir({ prefix: "moe-loaders-" });

/** Names in `dir`, sorted. */
async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir), (e) => e.name)).sort();
}

/**
 * Runs `moe …args` and checks that it failed as a loader must: exit 1, the one line `moe: LINE`
 * on stderr, nothing on stdout, and `dir` (where an output would have gone) unchanged.
 */
async function refuses(args: string[], line: string | RegExp, dir = root): Promise<void> {
  const before = await names(dir);
  const r = await moe(args);
  const context = `moe ${args.join(" ")}\n${r.stderr}`;
  assert.equal(r.code, 1, context);
  const stderr = r.stderr.trim();
  assert.equal(stderr.split("\n").length, 1, context);
  if (typeof line === "string") assert.equal(stderr, `moe: ${line}`, context);
  else assert.match(stderr, line, context);
  assert.equal(r.stdout, "", context);
  assert.deepEqual(await names(dir), before, `${context}: wrote into ${dir}`);
}

/** Writes `text` to `path`, runs `check`, and puts the original content back. */
async function withContent(path: string, text: string | Uint8Array, check: () => Promise<void>) {
  const original = await Deno.readFile(path);
  if (typeof text === "string") await Deno.writeTextFile(path, text);
  else await Deno.writeFile(path, text);
  try {
    await check();
  } finally {
    await Deno.writeFile(path, original);
  }
}

/** `value` as JSON, with the string `"__INFINITY__"` written as `1e999` (JSON's Infinity). */
const withInfinity = (value: unknown) =>
  JSON.stringify(value).replaceAll('"__INFINITY__"', "1e999");

const BYTE_TOKENIZER = {
  byteIds: Int32Array.from({ length: 256 }, (_, b) => b),
  merges: new Int32Array(),
  mergeIds: new Int32Array(),
  specials: [{ content: "<|endoftext|>", id: 256 }],
};
const tokenizerPath = join(root, "tok.json");
const fingerprint = await saveTokenizer(tokenizerPath, BYTE_TOKENIZER);

Deno.test("moe train refuses a --config file that is not a valid model config", async () => {
  const { dir: data } = await byteShards({ classes: ["en", "fr"], trainBytes: 4000 });
  const cfg = join(root, "cfg.json");
  const out = join(root, "run-config");
  const allowed =
    "allowed: vocabSize, contextLength, layers, heads, dModel, layerNormEps, decayEmbeddings, dropout, activation, head";
  const cases: [string, string][] = [
    ['{"layers": "two"}', 'layers must be an integer ≥ 1, got "two"'],
    ['{"layer": 2}', `unknown field "layer" (${allowed})`],
    ['{"model": {"dModel": 1e999}}', "model.dModel must be an integer ≥ 1, got Infinity"],
    ['{"dModel": 100, "heads": 3}', "dModel must be divisible by heads (3), got 100"],
    ['{"dropout": 1}', "dropout must be a finite number in [0, 1), got 1"],
    ['{"decayEmbeddings": "no"}', 'decayEmbeddings must be true or false, got "no"'],
    ["[2]", "the file must be an object, got a list of 1"],
    ["", "the file is empty"],
    ['{"layers": 2', "not valid JSON: it ends in the middle of a value (truncated?)"],
  ];
  for (const [text, problem] of cases) {
    await Deno.writeTextFile(cfg, text);
    await refuses(
      ["train", "--data", data, "--config", cfg, "--out", out, "--steps", "1"],
      `Cannot load model config "${cfg}": ${problem}`,
    );
  }
  await Deno.writeTextFile(cfg, "{layers: 2}");
  await refuses(
    ["train", "--data", data, "--config", cfg, "--out", out, "--steps", "1"],
    /^moe: Cannot load model config ".*cfg\.json": not valid JSON \(Expected property name/,
  );
});

Deno.test("moe train refuses token shards whose manifest is wrong", async () => {
  const { dir: data } = await byteShards({ classes: ["en", "fr"], trainBytes: 4000 });
  const path = join(data, "manifest.json");
  const manifest = JSON.parse(await Deno.readTextFile(path));
  const out = join(root, "run-tokens");
  const train = ["train", "--data", data, "--config", "tiny", "--out", out, "--steps", "1"];
  const cases: [string, string][] = [
    [
      JSON.stringify({ ...manifest, tokenizer: { ...manifest.tokenizer, vocabSize: "258" } }),
      'tokenizer.vocabSize must be an integer ≥ 2, got "258"',
    ],
    [
      JSON.stringify({ ...manifest, dtype: "int8" }),
      'dtype must be one of "uint16", "uint32", got "int8"',
    ],
    [
      withInfinity({
        ...manifest,
        shards: {
          ...manifest.shards,
          "train/en.bin": { ...manifest.shards["train/en.bin"], tokens: "__INFINITY__" },
        },
      }),
      'shards["train/en.bin"].tokens must be an integer ≥ 0, got Infinity',
    ],
    [JSON.stringify({ ...manifest, classes: undefined }), "classes is missing"],
    [
      JSON.stringify(manifest).slice(0, 100),
      "not valid JSON: it ends in the middle of a value (truncated?)",
    ],
  ];
  for (const [text, problem] of cases) {
    await withContent(
      path,
      text,
      () => refuses(train, `Cannot load token manifest "${path}": ${problem}`),
    );
  }
});

/** A router file trained on two tiny classes. */
async function routerFile(classes = ["en", "fr"]): Promise<string> {
  const texts: Record<string, string[]> = {
    en: ["the cat sat on the mat and the dog ran", "hello world, this is english text"],
    fr: ["le chat est sur le tapis et le chien court", "bonjour tout le monde, voici du texte"],
  };
  const corpus = new Map(classes.map((c) => [c, texts[c]!]));
  const { router } = trainRouter(corpus, null, { windowsPerClass: 20, bits: 12 });
  const path = join(root, `router-${classes.join("-")}.json`);
  await Deno.writeTextFile(path, router.toJson());
  return path;
}

Deno.test("moe router route refuses a router file with bad, missing or non-finite fields", async () => {
  const path = await routerFile();
  const good = await Deno.readTextFile(path);
  const json = JSON.parse(good);
  const weights = new Float32Array(Buffer.from(json.weights, "base64").buffer.slice(0));
  weights[3] = NaN;
  const nanWeights = Buffer.from(weights.buffer).toString("base64");
  const { idf: _, ...noIdf } = json;
  const cases: [string, string][] = [
    ["", "the file is empty"],
    [
      good.slice(0, good.length / 2),
      "not valid JSON: it ends in the middle of a value (truncated?)",
    ],
    [
      JSON.stringify({ ...json, temperature: "hot" }),
      'temperature must be a finite number > 0, got "hot"',
    ],
    [
      withInfinity({ ...json, bias: ["__INFINITY__", 0] }),
      "bias[0] must be a finite number, got Infinity",
    ],
    [JSON.stringify({ ...json, weights: nanWeights }), "weights[3] is NaN"],
    [JSON.stringify(noIdf), "idf is missing"],
    [
      JSON.stringify({
        ...json,
        features: { ...json.features, hashing: { ...json.features.hashing, bits: 40 } },
      }),
      "features.hashing.bits must be an integer in [8, 24], got 40",
    ],
    [
      JSON.stringify({ ...json, classes: ["en"] }),
      "classes must list at least 2 class names, got a list of 1",
    ],
  ];
  for (const [text, problem] of cases) {
    await withContent(
      path,
      text,
      () =>
        refuses(
          ["router", "route", "--model", path, "hello"],
          `Cannot load router "${path}": ${problem}`,
        ),
    );
  }
});

/** A bundle as far as its experts' files: manifest, tokenizer and router; no parameters. */
async function bundleSkeleton(): Promise<{ dir: string; manifest: Record<string, unknown> }> {
  const dir = join(root, "bundle");
  await Deno.mkdir(join(dir, "experts", "en"), { recursive: true });
  await Deno.copyFile(tokenizerPath, join(dir, "tokenizer.json"));
  await Deno.copyFile(await routerFile(), join(dir, "router.json"));
  const member = (name: string) => ({
    config: `experts/${name}/config.json`,
    parameters: `experts/${name}/model.safetensors`,
    onnx: `experts/${name}/model.onnx`,
    source: "test",
    parameterCount: 0,
  });
  const manifest = {
    format: "moe-bundle",
    version: 1,
    moe: "0.1.0",
    variant: "ple",
    classes: ["en", "fr"],
    router: { file: "router.json", minConfidence: 0 },
    fallback: "best",
    tokenizer: { file: "tokenizer.json", fingerprint, vocabSize: 257, eotId: 256 },
    experts: { en: member("en"), fr: member("fr") },
    common: null,
    combine: null,
  };
  await Deno.writeTextFile(join(dir, "manifest.json"), JSON.stringify(manifest));
  return { dir, manifest };
}

Deno.test("moe eval and moe generate refuse a bundle whose manifest or expert config is wrong", async () => {
  const { dir, manifest } = await bundleSkeleton();
  const path = join(dir, "manifest.json");
  const evalArgs = ["eval", dir, "--data", join(root, "no-data")];
  const cases: [string[], string, string][] = [
    [["generate", dir, "hello"], "", "the file is empty"],
    [
      evalArgs,
      JSON.stringify(manifest).slice(0, 120),
      "not valid JSON: it ends in the middle of a value (truncated?)",
    ],
    [evalArgs, JSON.stringify({ ...manifest, classes: undefined }), "classes is missing"],
    [
      ["generate", dir, "hello"],
      withInfinity({ ...manifest, router: { file: "router.json", minConfidence: "__INFINITY__" } }),
      "router.minConfidence must be a finite number in [0, 1], got Infinity",
    ],
    [
      ["generate", dir, "hello"],
      JSON.stringify({ ...manifest, fallback: "nearest" }),
      'fallback must be one of "common", "best", got "nearest"',
    ],
  ];
  for (const [args, text, problem] of cases) {
    await withContent(
      path,
      text,
      () => refuses(args, `Cannot load bundle manifest "${path}": ${problem}`),
    );
  }
  const config = join(dir, "experts", "en", "config.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({ ...GPT_CONFIGS.tiny, vocabSize: 257, layers: "two" }),
  );
  await refuses(
    evalArgs,
    `Cannot load expert config "${config}": layers must be an integer ≥ 1, got "two"`,
  );
});

/** A `moe train` run with one checkpoint of a random tiny GPT. */
async function run(): Promise<{ out: string; step: string }> {
  const out = join(root, "run");
  const model = gptConfig({ vocabSize: 257, contextLength: 16, layers: 1, heads: 2, dModel: 16 });
  const values = initGPT(model, 1);
  const state: Record<string, HostTensor> = {};
  for (const spec of gptParamSpecs(model)) {
    state[spec.name] = { dtype: "float32", dims: spec.shape, data: values.get(spec.name)! };
  }
  const config: CheckpointConfig = {
    format: "moe-gpt",
    version: 1,
    name: "custom",
    model,
    tokenizer: { fingerprint, vocabSize: 257, eotId: 256 },
    trainer: { step: 1 },
  };
  await Deno.mkdir(out);
  const step = await writeCheckpoint(
    out,
    config,
    (tmp) => saveSafetensors(join(tmp, "state.safetensors"), state),
    tokenizerPath,
  );
  return { out, step };
}

Deno.test("moe generate refuses a checkpoint whose config.json or parameters are wrong", async () => {
  const { out, step } = await run();
  const path = join(step, "config.json");
  const config = JSON.parse(await Deno.readTextFile(path));
  const generate = ["generate", out, "hello", "--max-tokens", "2"];
  const cases: [string, string][] = [
    ["", "the file is empty"],
    [
      JSON.stringify(config).slice(0, 60),
      "not valid JSON: it ends in the middle of a value (truncated?)",
    ],
    [
      JSON.stringify({ ...config, model: { ...config.model, layers: "two" } }),
      'model.layers must be an integer ≥ 1, got "two"',
    ],
    [
      withInfinity({ ...config, model: { ...config.model, layerNormEps: "__INFINITY__" } }),
      "model.layerNormEps must be a finite number > 0, got Infinity",
    ],
    [JSON.stringify({ ...config, tokenizer: undefined }), "tokenizer is missing"],
  ];
  for (const [text, problem] of cases) {
    await withContent(
      path,
      text,
      () => refuses(generate, `Cannot load checkpoint config "${path}": ${problem}`),
    );
  }
  const state = join(step, "state.safetensors");
  const bytes = await Deno.readFile(state);
  const headerEnd = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const nan = bytes.slice();
  new DataView(nan.buffer).setFloat32(headerEnd, NaN, true); // the first value of the first tensor
  const first = Object.keys(JSON.parse(new TextDecoder().decode(bytes.subarray(8, headerEnd))))
    .filter((n) => n !== "__metadata__").sort()[0];
  await withContent(
    state,
    nan,
    () =>
      refuses(
        generate,
        `Cannot open model "${out}": "${state}": parameter "${first}" holds NaN at index 0`,
      ),
  );
  await withContent(
    state,
    bytes.subarray(0, headerEnd + 10),
    () =>
      refuses(
        generate,
        /^moe: Cannot open model ".*": Cannot read safetensors ".*state\.safetensors": /,
      ),
  );
});

/** The hex sha256 of a file. */
async function sha256(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("hex");
}

Deno.test("moe tokenizer encode refuses a swapped dataset file and a wrong manifest", async () => {
  const data = join(root, "balanced");
  const balanced = await moe([
    "balance",
    "--input",
    "en=fixtures/corpus/en.jsonl.gz",
    "--input",
    "fr=fixtures/corpus/fr.jsonl.gz",
    "--target",
    "20000",
    "--split",
    "0.8,0.2,0",
    "--out",
    data,
  ]);
  assert.equal(balanced.code, 0, balanced.stderr);
  const out = join(root, "tokens");
  const encode = [
    "tokenizer",
    "encode",
    "--data",
    data,
    "--tokenizer",
    tokenizerPath,
    "--out",
    out,
  ];
  const en = join(data, "train", "en.jsonl.gz"), fr = join(data, "train", "fr.jsonl.gz");
  const recorded = await sha256(en), swapped = await sha256(fr);
  await withContent(
    en,
    await Deno.readFile(fr),
    () =>
      refuses(
        encode,
        `Cannot open dataset "${data}": "train/en.jsonl.gz" has sha256 ${swapped}, manifest.json records ${recorded} (the file changed after moe balance wrote it)`,
      ),
  );
  const path = join(data, "manifest.json");
  const manifest = JSON.parse(await Deno.readTextFile(path));
  const entry = manifest.files["train/en.jsonl.gz"];
  const cases: [string, string][] = [
    [
      JSON.stringify({
        ...manifest,
        files: { ...manifest.files, "train/en.jsonl.gz": { ...entry, sha256: 5 } },
      }),
      'files["train/en.jsonl.gz"].sha256 must be a sha256 (64 hex digits), got 5',
    ],
    [
      withInfinity({
        ...manifest,
        files: { ...manifest.files, "train/en.jsonl.gz": { ...entry, bytes: "__INFINITY__" } },
      }),
      'files["train/en.jsonl.gz"].bytes must be an integer ≥ 0, got Infinity',
    ],
    [JSON.stringify({ ...manifest, splits: "train" }), 'splits must be a list, got "train"'],
    [
      JSON.stringify(manifest).slice(0, 200),
      "not valid JSON: it ends in the middle of a value (truncated?)",
    ],
  ];
  for (const [text, problem] of cases) {
    await withContent(
      path,
      text,
      () => refuses(encode, `Cannot load dataset manifest "${path}": ${problem}`),
    );
  }
  const ok = await moe(encode);
  assert.equal(ok.code, 0, `the dataset restored encodes: ${ok.stderr}`);
});

Deno.test("openTeacherCache() refuses a manifest with a wrong, missing or infinite field", async () => {
  const dir = join(root, "cache");
  await Deno.mkdir(join(dir, "train"), { recursive: true });
  const path = join(dir, "manifest.json");
  const manifest = {
    format: "moe-teacher-cache",
    version: 1,
    teacher: { source: "runs/teacher", fingerprint: "ab".repeat(32), step: 10 },
    tokenizer: { fingerprint: "cd".repeat(32), vocabSize: 257 },
    tokens: "data/tokens",
    seqLen: 8,
    topK: 4,
    temperature: 1,
    idType: "uint16",
    classes: { en: { tokens: 100, windows: 0 } },
    bytes: 0,
  };
  await Deno.writeTextFile(join(dir, "train", "en.topk"), "");
  await Deno.writeTextFile(path, JSON.stringify(manifest));
  (await openTeacherCache(dir)).close();
  const cases: [string, string][] = [
    ["", "the file is empty"],
    [
      withInfinity({ ...manifest, temperature: "__INFINITY__" }),
      "temperature must be a finite number > 0, got Infinity",
    ],
    [JSON.stringify({ ...manifest, topK: 0 }), "topK must be an integer ≥ 1, got 0"],
    [
      JSON.stringify({ ...manifest, idType: "int8" }),
      'idType must be one of "uint16", "uint32", got "int8"',
    ],
    [JSON.stringify({ ...manifest, teacher: undefined }), "teacher is missing"],
  ];
  for (const [text, problem] of cases) {
    await Deno.writeTextFile(path, text);
    await assert.rejects(openTeacherCache(dir), {
      name: "SyntaxError",
      message: `Cannot load teacher cache manifest "${path}": ${problem}`,
    });
  }
});
