import assert from "node:assert/strict";
import { join } from "node:path";
import { moe } from "../_support/cli.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";

const RUN = ["--config", "tiny", "--batch", "4", "--backend", "cpu", "--threads", "1"];

const setup = (async () => {
  const { dir } = await byteShards({ trainBytes: 10_000 });
  const teacher = join(await Deno.makeTempDir(), "teacher");
  const r = await moe(["train", "--data", dir, "--out", teacher, "--steps", "20", ...RUN]);
  assert.equal(r.code, 0, r.stderr);
  return { dir, teacher };
})();

Deno.test("moe distill --lang fr trains an expert and reports it beside the teacher", async () => {
  const { dir, teacher } = await setup;
  const out = join(await Deno.makeTempDir(), "fr");
  const args = ["distill", "--teacher", teacher, "--data", dir, "--lang", "fr", "--out", out];
  const r = await moe([...args, "--steps", "6", "--alpha", "dwa", "--json", ...RUN]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.mode, "online");
  assert.deepEqual(Object.keys(s.val), ["fr"]);
  assert.ok(s.teacherVal.fr.loss > 0 && s.val.fr.loss > 0);
  const config = JSON.parse(await Deno.readTextFile(join(s.checkpoint, "config.json")));
  assert.equal(config.format, "moe-gpt"); // a student is a plain GPT, usable as a teacher or expert
  assert.equal(config.distill.alpha.kind, "dwa");
  const text = await moe([...args.slice(0, -1), `${out}-text`, "--steps", "2", ...RUN]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /fr: student perplexity [\d.]+ vs teacher [\d.]+/);
});

Deno.test("moe distill --dropout saves the rate with the student, and --resume keeps it", async () => {
  const { dir, teacher } = await setup;
  const out = join(await Deno.makeTempDir(), "de");
  const args = ["distill", "--teacher", teacher, "--data", dir, "--lang", "de", "--out", out];
  const r = await moe([...args, "--steps", "2", "--dropout", "0.1", "--json", ...RUN]);
  assert.equal(r.code, 0, r.stderr);
  const config = JSON.parse(
    await Deno.readTextFile(join(JSON.parse(r.stdout).checkpoint, "config.json")),
  );
  assert.equal(config.model.dropout, 0.1);
  const other = await moe(["distill", "--out", out, "--resume", "--dropout", "0.2", ...RUN]);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /--dropout 0\.2: a resumed run keeps its dropout \(0\.1\)/);
});

Deno.test("moe distill cache stores the teacher once and students distil from it", async () => {
  const { dir, teacher } = await setup;
  const root = await Deno.makeTempDir();
  const cache = join(root, "cache");
  const c = await moe([
    "distill",
    "cache",
    "--teacher",
    teacher,
    "--data",
    dir,
    "--lang",
    "fr,de",
    "--top-k",
    "8",
    "--out",
    cache,
    "--json",
    "--backend",
    "cpu",
  ]);
  assert.equal(c.code, 0, c.stderr);
  const summary = JSON.parse(c.stdout);
  assert.deepEqual(Object.keys(summary.classes), ["fr", "de"]);
  assert.equal(summary.mbPerMillionTokens, 8 * (2 + 2)); // uint16 ids + float16 log-probs
  const args = ["distill", "--cache", cache, "--data", dir, "--steps", "4", ...RUN];
  const ok = await moe([...args, "--lang", "de", "--out", join(root, "de")]);
  assert.equal(ok.code, 0, ok.stderr);
  // Another temperature than the cache's: refused, nothing written.
  const bad = await moe([...args, "--lang", "de", "--temperature", "1", "--out", join(root, "x")]);
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /^moe: .*teacher cache .* at temperature 2, the run asks for .* at 1\n$/,
  );
  assert.equal(await Deno.stat(join(root, "x")).catch(() => null), null);
  // A class the cache does not hold.
  const en = await moe([...args, "--lang", "en", "--out", join(root, "en")]);
  assert.equal(en.code, 1);
  assert.match(en.stderr, /it has no class "en"/);
});

Deno.test("moe distill refuses bad usage with exit 2", async () => {
  const { dir, teacher } = await setup;
  const out = join(await Deno.makeTempDir(), "x");
  const none = await moe(["distill", "--data", dir, "--out", out]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Missing --teacher or --cache/);
  const lang = await moe([
    "distill",
    "--teacher",
    teacher,
    "--data",
    dir,
    "--lang",
    "xx",
    "--out",
    out,
  ]);
  assert.equal(lang.code, 2);
  assert.match(lang.stderr, /Invalid --lang "xx"/);
  const alpha = await moe([
    "distill",
    "--teacher",
    teacher,
    "--data",
    dir,
    "--alpha",
    "2",
    "--out",
    out,
  ]);
  assert.equal(alpha.code, 2);
  assert.match(alpha.stderr, /Invalid --alpha "2"/);
});
