import assert from "node:assert/strict";
import { join } from "node:path";
import { moe } from "../_support/cli.ts";
import { decodePng, PNG_SIGNATURE } from "../core/report/_png.ts";
import { byteShards } from "../pipeline/training/_fixtures.ts";

Deno.test("moe report summarizes a real sequential run and writes its plots", async () => {
  const { dir } = await byteShards({ classes: ["en", "py"], trainBytes: 8_000 });
  const run = join(await Deno.makeTempDir(), "run");
  const trained = await moe([
    "train",
    "--data",
    dir,
    "--out",
    run,
    "--config",
    "tiny",
    "--steps",
    "12",
    "--batch",
    "4",
    "--seq-len",
    "32",
    "--schedule",
    "sequential",
    "--eval-every",
    "3",
    "--eval-rows",
    "4",
    "--backend",
    "cpu",
    "--threads",
    "1",
  ]);
  assert.equal(trained.code, 0, trained.stderr);
  const out = join(run, "report");
  const r = await moe(["report", join(run, "metrics.jsonl"), "--out", out, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const { summary, files } = JSON.parse(r.stdout);
  assert.equal(summary.steps, 12);
  assert.equal(summary.tokens, 12 * 4 * 32);
  assert.deepEqual(summary.phases.map((p: { phase: string; step: number }) => [p.phase, p.step]), [[
    "en",
    6,
  ], ["py", 12]]);
  assert.deepEqual(Object.keys(summary.val), ["en", "py"]);
  assert.deepEqual(files, ["report.md", "report.json", "loss.svg", "loss.png", "lr.svg", "lr.png"]);
  const md = await Deno.readTextFile(join(out, "report.md"));
  assert.match(md, /\| steps \| 12 \|/);
  assert.match(md, /## Validation loss at the end of each phase/);
  assert.match(
    md,
    /\[!\[Train loss and per-class validation loss over steps\]\(loss\.png\)\]\(loss\.svg\)/,
  );
  for (const name of ["loss", "lr"]) {
    const png = await Deno.readFile(join(out, `${name}.png`));
    assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
    assert.ok(decodePng(png).width > 400);
    assert.match(await Deno.readTextFile(join(out, `${name}.svg`)), /^<svg/);
  }
  // The phase boundary is drawn where the run switched from en to py.
  assert.match(await Deno.readTextFile(join(out, "loss.svg")), />py</);
});

Deno.test("moe report names a missing metrics file and exits 1", async () => {
  const r = await moe(["report", "/nonexistent/metrics.jsonl"]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr.trim(),
    'moe: Cannot read metrics "/nonexistent/metrics.jsonl": no such file',
  );
});
