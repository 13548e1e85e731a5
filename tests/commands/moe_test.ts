import assert from "node:assert/strict";
import { join } from "node:path";
import { moe } from "../_support/cli.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";
import { fixtureRouter } from "../pipeline/moe/_fixtures.ts";

const { dir: shards } = await byteShards({ trainBytes: 10_000 });
const root = await Deno.makeTempDir({ prefix: "moe-cli-" });
const router = await fixtureRouter(root, 10_000);
const run = join(root, "run"), bundle = join(root, "bundle");

Deno.test("moe train-moe, assemble --from-moe and eval run end to end", async () => {
  const trained = await moe([
    "train-moe",
    "--variant",
    "jeet",
    "--data",
    shards,
    "--config",
    "tiny",
    "--seq-len",
    "32",
    "--batch",
    "4",
    "--steps",
    "8",
    "--eval-rows",
    "4",
    "--backend",
    "cpu",
    "--threads",
    "1",
    "--out",
    run,
    "--json",
  ]);
  assert.equal(trained.code, 0, trained.stderr);
  const summary = JSON.parse(trained.stdout);
  assert.equal(summary.variant, "jeet");
  assert.deepEqual(Object.keys(summary.val), ["en", "fr", "de", "py"]);

  const assembled = await moe(["assemble", "--router", router, "--from-moe", run, "--out", bundle]);
  assert.equal(assembled.code, 0, assembled.stderr);
  assert.match(assembled.stdout, /bundle .* \(jeet, 4 experts\)/);

  const evaluated = await moe([
    "eval",
    bundle,
    "--data",
    shards,
    "--rows",
    "4",
    "--seq-len",
    "32",
    "--backend",
    "cpu",
  ]);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  assert.match(evaluated.stdout, /\| model \| en \| fr \| de \| py \| mean \|/);
  for (const name of ["expert:en", "routed", "oracle", "routing accuracy"]) {
    assert.ok(evaluated.stdout.includes(`| ${name} |`), name);
  }
  const json = JSON.parse(
    (await moe(["eval", bundle, "--data", shards, "--rows", "4", "--seq-len", "32", "--json"]))
      .stdout,
  );
  const oracle = json.rows.find((r: { name: string }) => r.name === "oracle");
  // The oracle of a JEET bundle is the trainer's own evaluation, class by class.
  assert.ok(Math.abs(oracle.perClass.fr.loss - summary.val.fr.loss) < 1e-4);

  // Generation from the reloaded bundle: routed per prompt, same seed → same tokens.
  const gen = (prompt: string, ...extra: string[]) =>
    moe([
      "generate",
      bundle,
      prompt,
      "-n",
      "12",
      "--seed",
      "5",
      "--backend",
      "cpu",
      "--json",
      ...extra,
    ]);
  const [a, b] = [
    await gen("Le chat dort sur le canapé."),
    await gen("Le chat dort sur le canapé."),
  ];
  assert.equal(a.code, 0, a.stderr);
  const [ja, jb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
  assert.deepEqual(ja.route.expert, "fr");
  assert.equal(ja.route.by, "router");
  assert.deepEqual(ja.tokens, jb.tokens);
  assert.equal(ja.tokens.length, 12);
  const forced = JSON.parse((await gen("Le chat dort sur le canapé.", "--expert", "py")).stdout);
  assert.equal(forced.route.expert, "py");
  assert.equal(forced.route.by, "forced");
  const empty = JSON.parse((await gen("")).stdout);
  assert.equal(empty.route.by, "fallback"); // an empty prompt is "unknown" to the router
});

Deno.test("moe assemble reports bad input with one line and the right exit code", async () => {
  const both = await moe([
    "assemble",
    "--router",
    router,
    "--from-moe",
    run,
    "--expert",
    "en=x",
    "--out",
    join(root, "b2"),
  ]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /^moe: Give either --expert/);
  const missing = await moe([
    "assemble",
    "--router",
    router,
    "--expert",
    "en=/nonexistent",
    "--out",
    join(root, "b3"),
  ]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim().split("\n").length, 1);
  assert.match(missing.stderr, /\/nonexistent/);
  const again = await moe(["assemble", "--router", router, "--from-moe", run, "--out", bundle]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists/);
  const noBundle = await moe(["eval", root, "--data", shards]);
  assert.equal(noBundle.code, 1);
  assert.match(noBundle.stderr, /No checkpoint at .*: it has neither latest nor config.json/);
});
