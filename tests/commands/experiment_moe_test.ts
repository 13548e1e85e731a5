import assert from "node:assert/strict";
import { moe } from "../_support/cli.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";

Deno.test("moe experiment moe-variants without --router exits 2 naming the flag and how to train a router", async () => {
  const { dir } = await byteShards({ trainBytes: 4_000 });
  const out = await Deno.makeTempDir();
  const r = await moe(["experiment", "moe-variants", "--data", dir, "--out", out]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^moe: Missing --router FILE: .*moe router train/);
  assert.equal(r.stdout, "");
});
