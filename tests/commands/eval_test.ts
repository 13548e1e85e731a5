import assert from "node:assert/strict";
import { join } from "node:path";
import { assembleBundle } from "../../pipeline/moe/mod.ts";
import { trainedMoE } from "../pipeline/moe/_fixtures.ts";
import { moe } from "../_support/cli.ts";

const f = await trainedMoE("moe-ce", 20);
const bundle = join(f.run, "..", "bundle");
await assembleBundle(bundle, { router: f.router, fromMoE: f.run });

Deno.test("moe eval --mix router adds the soft routing row to the table and the JSON", async () => {
  const args = ["eval", bundle, "--data", f.shards, "--rows", "4", "--seq-len", "32"];
  const table = await moe([...args, "--mix", "router", "--backend", "cpu"]);
  assert.equal(table.code, 0, table.stderr);
  for (const name of ["routed", "routed+common", "soft+common", "oracle+common"]) {
    assert.ok(table.stdout.includes(`| ${name} |`), name);
  }
  const json = JSON.parse((await moe([...args, "--mix", "router", "--json"])).stdout);
  const soft = json.rows.find((r: { name: string }) => r.name === "soft+common");
  assert.ok(soft.mean.ppl > 1 && Number.isFinite(soft.mean.ppl));
  const plain = await moe([...args, "--json"]);
  assert.ok(!plain.stdout.includes("soft+common"));
  const bad = await moe([...args, "--mix", "soft"]);
  assert.equal(bad.code, 2);
});

Deno.test("moe eval --jsonl --label compares the routing rules on a file of documents", async () => {
  const file = "fixtures/ood/en-manpages.jsonl.gz";
  const args = ["eval", bundle, "--jsonl", file, "--label", "en", "--window", "32"];
  const json = await moe([...args, "--json"]);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.equal(report.label, "en");
  assert.equal(report.seqLen, 32);
  assert.ok(report.documents === 13 && report.windows > 0);
  const rules = report.routingRules;
  assert.equal(rules.prefix, 16);
  assert.deepEqual(
    rules.rules.map((r: { rule: string }) => r.rule),
    ["router", "likelihood", "combined", "oracle-label", "oracle-best"],
  );
  for (const r of rules.rules) {
    for (const key of ["loss", "regret", "bestShare", "accuracy", "macroF1"]) {
      assert.equal(typeof r[key], "number", `${r.rule} ${key}`);
    }
  }
  const routed = report.rows.find((r: { name: string }) => r.name === "routed+common");
  assert.ok(routed.regret.perClass.en.regret >= 0);
  const table = await moe([...args, "--route-prefix", "8", "--backend", "cpu"]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /\| routed\+common regret \/ best \|/);
  assert.match(table.stdout, /Routing rules on a prompt of 8 tokens, scored on the next 25/);
  assert.match(table.stdout, /\| likelihood \|/);

  for (
    const [extra, message] of [
      [["--label", "xx"], /^moe: Invalid --label "xx": the bundle's classes are en, fr, de, py\n$/],
      [["--route-prefix", "40"], /^moe: Invalid --route-prefix: .*prompt of 40 tokens.*\n$/],
      [["--window", "500"], /^moe: Invalid --window: .*\n$/],
    ] as const
  ) {
    const bad = await moe(["eval", bundle, "--jsonl", file, "--window", "32", ...extra]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, message);
  }
  const noBundle = await moe(["eval", f.run, "--jsonl", file]);
  assert.equal(noBundle.code, 2);
  assert.match(noBundle.stderr, /^moe: Invalid --jsonl for ".*": it evaluates a MoE bundle\n$/);
});
