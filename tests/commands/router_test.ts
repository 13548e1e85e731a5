import assert from "node:assert/strict";
import { moe } from "../_support/cli.ts";

const INPUTS = ["en", "fr", "de", "py"].flatMap((
  c,
) => ["--input", `${c}=fixtures/corpus/${c}.jsonl.gz`]);

const dir = await Deno.makeTempDir();
const model = `${dir}/router.json`;
const trained = await moe([
  "router",
  "train",
  ...INPUTS,
  "--windows",
  "300",
  "--out",
  model,
  "--json",
]);

Deno.test("moe router train writes a model file and reports JSON", () => {
  assert.equal(trained.code, 0, trained.stderr);
  const report = JSON.parse(trained.stdout);
  assert.deepEqual(report.classes, ["en", "fr", "de", "py"]);
  // 150 prose-from-code windows for en, 75 technical-prose windows for each of en, fr, de.
  assert.equal(report.windows, 4 * 300 + 150 + 3 * 75);
  assert.equal(report.technicalProseWindows, 3 * 75);
});

Deno.test("moe router train --no-technical-prose leaves out the technical-prose windows", async () => {
  const out = `${dir}/plain.json`;
  const r = await moe([
    "router",
    "train",
    ...INPUTS,
    "--windows",
    "50",
    "--no-technical-prose",
    "--out",
    out,
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.windows, 4 * 50 + 25);
  assert.equal(report.technicalProseWindows, 0);
  const training = JSON.parse(await Deno.readTextFile(out)).training;
  assert.equal(training.technicalProse, null);
});

Deno.test("moe router train refuses to overwrite without --force", async () => {
  const r = await moe(["router", "train", ...INPUTS, "--windows", "50", "--out", model]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /already exists \(use --force/);
});

Deno.test("moe router route prints class and probabilities for arguments and stdin", async () => {
  const r = await moe([
    "router",
    "route",
    "--model",
    model,
    "import os\nimport sys\n\ndef main():\n    pass",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^py\t[01]\.\d{4}\ten=/);
  const j = await moe(["router", "route", "--model", model, "--json"], "");
  const [empty] = JSON.parse(j.stdout);
  assert.equal(empty.label, "unknown");
  assert.equal(empty.reason, "empty");
  assert.equal(Object.keys(empty.probabilities).length, 4);
});

Deno.test("moe router eval prints the confusion matrix and rejects unknown labels by name", async () => {
  const ok = await moe([
    "router",
    "eval",
    "--model",
    model,
    "--input",
    "fr=fixtures/ood/fr-ud-sentences.jsonl.gz",
    "--lengths",
    "0,64",
    "--windows",
    "50",
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /confusion \(rows true, columns predicted\)/);
  assert.match(ok.stdout, /window whole documents/);
  const jsonl = `${dir}/labelled.jsonl`;
  await Deno.writeTextFile(
    jsonl,
    '{"text":"hola amigos","label":"es"}\n{"text":"hello","label":"en"}\n',
  );
  const bad = await moe(["router", "eval", "--model", model, "--jsonl", jsonl]);
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /^moe: Labels "es" are not classes of the router \(classes: en, fr, de, py\)/,
  );
});

Deno.test("moe router commands fail with one clear line on a corrupt model file", async () => {
  const corrupt = `${dir}/corrupt.json`;
  await Deno.writeTextFile(corrupt, '{"format":"moe-router","version":0}');
  const r = await moe(["router", "route", "--model", corrupt, "hello"]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr.trim(),
    `moe: Cannot load router "${corrupt}": version 0 is not supported (expected 1)`,
  );
});

Deno.test("moe router train --data and eval --compare work on a dataset written by moe balance", async () => {
  const data = `${dir}/balanced`;
  const bal = await moe([
    "balance",
    ...INPUTS,
    "--out",
    data,
    "--split",
    "0.7,0.15,0.15",
    "--json",
  ]);
  assert.equal(bal.code, 0, bal.stderr);
  const out = `${dir}/from-data.json`;
  const t = await moe(["router", "train", "--data", data, "--windows", "200", "--out", out]);
  assert.equal(t.code, 0, t.stderr);
  const cmp = await moe([
    "router",
    "eval",
    "--model",
    out,
    "--compare",
    "--train-data",
    data,
    "--train-windows",
    "200",
    "--data",
    data,
    "--lengths",
    "64",
    "--windows",
    "50",
    "--json",
  ]);
  assert.equal(cmp.code, 0, cmp.stderr);
  const { results } = JSON.parse(cmp.stdout);
  assert.deepEqual(results.map((r: { name: string }) => r.name), [
    out,
    "logistic-nb",
    "logistic",
    "naive-bayes",
    "centroid",
  ]);
  for (const r of results) {
    assert.ok(r.reports[0].accuracy > 0.7, `${r.name}: ${r.reports[0].accuracy}`);
  }
});

Deno.test("moe router eval --skip-text-in leaves out text-only py windows and names a wrong class", async () => {
  const args = ["router", "eval", "--model", model, "--lengths", "32", "--windows", "100"];
  const ok = await moe([
    ...args,
    "--input",
    "py=fixtures/corpus/py.jsonl.gz",
    "--skip-text-in",
    "py",
    "--json",
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).results[0].reports[0].total, 100);
  const bad = await moe([
    ...args,
    "--input",
    "en=fixtures/corpus/en.jsonl.gz",
    "--skip-text-in",
    "py",
  ]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /^moe: --skip-text-in py: no such class in the evaluation data \(classes: en\)/,
  );
});
