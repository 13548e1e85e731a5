import assert from "node:assert/strict";
import { moe } from "../_support/cli.ts";

Deno.test("moe eval --average needs a bundle and --data, and says so with exit 2", async () => {
  const dir = await Deno.makeTempDir();
  const notBundle = await moe(["eval", dir, "--data", dir, "--average", "en,py"]);
  assert.equal(notBundle.code, 2, notBundle.stderr);
  assert.equal(
    notBundle.stderr,
    `moe: Invalid --average for "${dir}": it averages a bundle's experts on --data shards\n`,
  );
  const withText = await moe(["eval", dir, "--text", `${dir}/x.txt`, "--average", "en,py"]);
  assert.equal(withText.code, 2);
  assert.match(withText.stderr, /^moe: Invalid --average for ".*" with --text: /);
});
