/**
 * Hugging Face GPT-2 folders made by `transformers` (fixtures/hf/, tests/oracle/make_hf_fixture.py)
 * read wherever `moe` reads a model, checked against the numbers transformers computed in float64
 * (tests/oracle/golden/hf_gpt2.json); `moe import hf`; `moe eval` of one model.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { moe } from "../_support/cli.ts";
import { balancedFixtures } from "../core/tokenizer/_fixtures.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const GOLDEN = JSON.parse(
  await Deno.readTextFile(join(ROOT, "tests/oracle/golden/hf_gpt2.json")),
) as {
  eval_text: string;
  models: Record<
    string,
    { loss: number; tokens: number; predicted: number; prompt: string; greedy: number[] }
  >;
};
const TEXT = join(ROOT, GOLDEN.eval_text);
const FOLDER = (name: string) => join(ROOT, "fixtures/hf", name);
const CPU = ["--backend", "cpu", "--threads", "1"];

/** `moe eval MODEL --text FILE --json`, which must succeed. */
async function evalText(model: string, text = TEXT): Promise<Record<string, number>> {
  const r = await moe(["eval", model, "--text", text, "--json", ...CPU]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** What a failing command must look like: exit 1, one line on stderr, nothing on stdout. */
function assertOneLineFailure(
  r: { code: number; stdout: string; stderr: string },
  pattern: RegExp,
) {
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, pattern);
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("moe eval --text gives transformers' float64 loss for each fixture folder", async () => {
  for (const [name, golden] of Object.entries(GOLDEN.models)) {
    const s = await evalText(FOLDER(name));
    assert.equal(s.tokens, golden.tokens, name);
    assert.equal(s.predicted, golden.predicted, name);
    assert.ok(
      Math.abs(s.loss! - golden.loss) <= 1e-4 * golden.loss,
      `${name}: ${s.loss} vs transformers ${golden.loss}`,
    );
    assert.equal(s.perplexity, Math.exp(s.loss!));
  }
});

Deno.test("moe generate --temperature 0 decodes the ids transformers' greedy search gives", async () => {
  for (const [name, golden] of Object.entries(GOLDEN.models)) {
    const args = ["generate", FOLDER(name), golden.prompt, "--temperature", "0"];
    const r = await moe([...args, "-n", String(golden.greedy.length), "--json", ...CPU]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    // transformers' greedy loop was run without a stop token; moe stops after <|endoftext|>.
    const stop = golden.greedy.indexOf(0);
    assert.deepEqual(out.tokens, stop < 0 ? golden.greedy : golden.greedy.slice(0, stop + 1), name);
  }
});

Deno.test("moe import hf writes a run that scores, decodes and reads back exactly as the folder", async () => {
  const source = FOLDER("gpt2-gelu-untied-f16");
  const out = join(await Deno.makeTempDir(), "run");
  const r = await moe(["import", "hf", source, "--out", out, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.checkpoint, "step-000000");
  // The tied fixture's 75 520 (its index's total_parameters) and the untied head's 1 500 × 32.
  assert.equal(summary.parameters, 75_520 + 1500 * 32);
  assert.equal((await Deno.readTextFile(join(out, "latest"))).trim(), "step-000000");
  const step = join(out, "step-000000");
  for (const file of ["config.json", "state.safetensors", "tokenizer.json", "model.onnx"]) {
    assert.ok(await exists(join(step, file)), file);
  }
  const config = JSON.parse(await Deno.readTextFile(join(step, "config.json")));
  assert.equal(config.format, "moe-gpt");
  assert.equal(config.model.activation, "gelu");
  assert.equal(config.model.head, "untied");
  // The same float32 parameters in the same graph: the same numbers, not merely close ones.
  assert.equal((await evalText(out)).loss, (await evalText(source)).loss);
  const decode = async (model: string) => {
    const g = await moe(["generate", model, "The", "--temperature", "0", "-n", "8", "--json"]);
    assert.equal(g.code, 0, g.stderr);
    return JSON.parse(g.stdout).tokens;
  };
  assert.deepEqual(await decode(out), await decode(source));

  // moe export reads either, and its folder reads back with the same numbers.
  for (const model of [out, source]) {
    const hf = join(await Deno.makeTempDir(), "hf");
    const e = await moe(["export", "--checkpoint", model, "--out", hf]);
    assert.equal(e.code, 0, e.stderr);
    assert.equal((await evalText(hf)).loss, (await evalText(source)).loss);
  }
});

Deno.test("moe import hf replaces only with --force, and a bad folder leaves nothing behind", async () => {
  const root = await Deno.makeTempDir();
  const out = join(root, "run");
  const args = ["import", "hf", FOLDER("gpt2-tiny"), "--out", out];
  assert.equal((await moe(args)).code, 0);
  assertOneLineFailure(await moe(args), /Cannot write ".*run": it already exists \(use --force/);
  const forced = await moe([...args, "--force"]);
  assert.equal(forced.code, 0, forced.stderr);
  // The source is an input, and no output of moe: --force never replaces it.
  const source = join(root, "source");
  assert.equal((await moe(["export", "--checkpoint", out, "--out", source])).code, 0);
  const self = await moe(["import", "hf", source, "--out", source, "--force"]);
  assert.equal(self.code, 2, self.stderr);
  assert.match(self.stderr, /Cannot replace ".*source"/);

  const bad = join(root, "llama");
  await Deno.mkdir(bad);
  for (const file of ["model.safetensors", "tokenizer.json"]) {
    await Deno.copyFile(join(FOLDER("gpt2-tiny"), file), join(bad, file));
  }
  const config = JSON.parse(await Deno.readTextFile(join(FOLDER("gpt2-tiny"), "config.json")));
  await Deno.writeTextFile(join(bad, "config.json"), JSON.stringify({ ...config, n_layer: 3 }));
  const target = join(root, "never");
  assertOneLineFailure(
    await moe(["import", "hf", bad, "--out", target]),
    /^moe: Cannot read Hugging Face model ".*llama\/model\.safetensors": tensor "transformer\.h\.2\.ln_1\.weight" is missing\n$/,
  );
  assertOneLineFailure(
    await moe(["eval", bad, "--text", TEXT]),
    /tensor "transformer\.h\.2\.ln_1\.weight" is missing/,
  );
  await Deno.writeTextFile(
    join(bad, "config.json"),
    JSON.stringify({ ...config, model_type: "llama" }),
  );
  assertOneLineFailure(
    await moe(["import", "hf", bad, "--out", target]),
    /^moe: Cannot load Hugging Face config ".*llama\/config\.json": model_type "llama" is not supported \(only gpt2\)\n$/,
  );
  assert.equal(await exists(target), false);
  assert.deepEqual(
    [...Deno.readDirSync(root)].map((e) => e.name).sort(),
    ["llama", "run", "source"], // no temporary folder left either
  );
});

Deno.test("moe distill and distill cache read a Hugging Face teacher and refuse data of another vocabulary", async () => {
  const root = await Deno.makeTempDir();
  const tokens = join(root, "tokens");
  const encode = await moe([
    "tokenizer",
    "encode",
    "--data",
    await balancedFixtures(),
    "--tokenizer",
    join(FOLDER("gpt2-tiny"), "tokenizer.json"),
    "--out",
    tokens,
    "--threads",
    "1",
  ]);
  assert.equal(encode.code, 0, encode.stderr);
  const run = ["--lang", "en", "--steps", "3", "--config", "tiny", "--batch", "2", ...CPU];
  const student = join(root, "student");
  const r = await moe([
    "distill",
    "--teacher",
    FOLDER("gpt2-gelu-untied-f16"),
    "--data",
    tokens,
    "--out",
    student,
    "--json",
    ...run,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.steps, 3);
  assert.ok(Number.isFinite(s.teacherVal.en.loss) && s.teacherVal.en.loss < s.val.en.loss);
  const cache = await moe([
    "distill",
    "cache",
    "--teacher",
    FOLDER("gpt2-gelu-untied-f16"),
    "--data",
    tokens,
    "--lang",
    "en",
    "--top-k",
    "8",
    "--out",
    join(root, "cache"),
    "--json",
    ...CPU,
  ]);
  assert.equal(cache.code, 0, cache.stderr);
  assert.ok(JSON.parse(cache.stdout).classes.en);

  const { dir: bytes } = await byteShards({ trainBytes: 10_000 });
  const refused = join(root, "refused");
  assertOneLineFailure(
    await moe([
      "distill",
      "--teacher",
      FOLDER("gpt2-tiny"),
      "--data",
      bytes,
      "--out",
      refused,
      ...run,
    ]),
    /The teacher ".*gpt2-tiny" and the data ".*" use different tokenizers \(fingerprint [0-9a-f]{12}…, vocab 1500 vs fingerprint [0-9a-f]{12}…, vocab 258\)/,
  );
  assert.equal(await exists(refused), false);
});

Deno.test("moe eval --data gives one model the per-class table of bundles, from a folder or its import", async () => {
  const root = await Deno.makeTempDir();
  const tokens = join(root, "tokens");
  const encode = await moe([
    "tokenizer",
    "encode",
    "--data",
    await balancedFixtures(),
    "--tokenizer",
    join(FOLDER("gpt2-tiny"), "tokenizer.json"),
    "--out",
    tokens,
    "--threads",
    "1",
  ]);
  assert.equal(encode.code, 0, encode.stderr);
  const imported = join(root, "run");
  assert.equal((await moe(["import", "hf", FOLDER("gpt2-tiny"), "--out", imported])).code, 0);
  const args = ["--data", tokens, "--rows", "4", "--batch", "2", ...CPU];
  const folder = await moe(["eval", FOLDER("gpt2-tiny"), ...args, "--teacher", imported, "--json"]);
  assert.equal(folder.code, 0, folder.stderr);
  const report = JSON.parse(folder.stdout);
  assert.deepEqual(report.classes, ["en", "fr", "de", "py"]);
  assert.deepEqual(report.rows.map((r: { name: string }) => r.name), ["teacher", "model"]);
  assert.deepEqual(report.routing, {});
  // The folder read directly and its import are the same model.
  assert.deepEqual(report.rows[0].perClass, report.rows[1].perClass);
  for (const cls of report.classes) {
    const { loss, ppl } = report.rows[1].perClass[cls];
    assert.ok(loss > 1 && loss < Math.log(1500) && ppl === Math.exp(loss), cls);
  }
  const table = await moe(["eval", imported, ...args]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^\| model \| [\d.]+ \/ [\d.]+ \|/m);
  assert.ok(!table.stdout.includes("routing accuracy"));
});

Deno.test("moe eval refuses bad usage with exit 2 and an unscorable text with exit 1", async () => {
  const model = FOLDER("gpt2-tiny");
  const usage = [
    [["eval", model], /give exactly one of --data .* and --text/],
    [["eval", model, "--text", TEXT, "--data", "x"], /give exactly one of --data/],
    [["eval", model, "--text", TEXT, "--teacher", model], /Invalid --teacher with --text/],
    [["eval", model, "--text", TEXT, "--mix", "router"], /soft routing needs a MoE bundle/],
  ] as const;
  for (const [args, pattern] of usage) {
    const r = await moe([...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, pattern);
  }
  const one = join(await Deno.makeTempDir(), "one.txt");
  await Deno.writeTextFile(one, "a");
  assertOneLineFailure(
    await moe(["eval", model, "--text", one]),
    /Cannot score the text: it has fewer than two tokens, so no token is predicted/,
  );
});
