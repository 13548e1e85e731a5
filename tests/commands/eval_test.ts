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
