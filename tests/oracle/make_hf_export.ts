/**
 * Regenerates the export oracle's fixture and golden file:
 *
 *     MOE_TRANSFORMERS_PYTHON=/tmp/hf/bin/python deno run -A tests/oracle/make_hf_export.ts
 *
 * Trains the tiny JEET (tied head) and MoE-CE (untied head) runs of `_hf_export.ts` through the
 * CLI, exports each with `moe export` into `fixtures/hf-export/<run>/` (replacing what is there),
 * and asks `hf_export_transformers.py` — transformers' own `GPT2LMHeadModel.from_pretrained`, in
 * float64 — for every expert's loss on each class's windows and the MoE-CE pairs' combined loss
 * → `golden/hf_export.json`. `hf_export_oracle_test.ts` checks `moe`'s losses against it without
 * Python. A Python with transformers and torch, from wheels where no index is reachable:
 * `python3 -m venv /tmp/hf && /tmp/hf/bin/pip install torch transformers safetensors`.
 *
 * @module
 */
import { join } from "node:path";
import { moe } from "../_support/cli.ts";
import {
  classWindows,
  exportShards,
  FIXTURE_DIR,
  GOLDEN,
  RUNS,
  trainTinyMoE,
} from "./_hf_export.ts";

const python = Deno.env.get("MOE_TRANSFORMERS_PYTHON");
if (!python) {
  console.error("MOE_TRANSFORMERS_PYTHON is unset: name a Python with transformers and torch");
  Deno.exit(2);
}
const tmp = await Deno.makeTempDir({ prefix: "moe-hf-export-" });
const { dir: shards } = await exportShards();
await Deno.mkdir(FIXTURE_DIR, { recursive: true });
for (const run of RUNS) {
  const trained = await trainTinyMoE(shards, join(tmp, run.name), run);
  const out = join(FIXTURE_DIR, run.name);
  const exists = await Deno.stat(out).then(() => true, () => false);
  const r = await moe([
    "export",
    ...["--checkpoint", trained, "--out", out],
    ...(exists ? ["--force"] : []),
  ]);
  if (r.code !== 0) throw new Error(`moe export failed: ${r.stderr}`);
  console.log(r.stdout.trim());
}
const input = join(tmp, "windows.json");
await Deno.writeTextFile(input, JSON.stringify({ windows: await classWindows(shards) }));
const here = new URL(".", import.meta.url).pathname;
const out = await new Deno.Command(python, {
  args: [`${here}hf_export_transformers.py`, FIXTURE_DIR, input, GOLDEN],
}).output();
console.log(new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr));
await Deno.remove(tmp, { recursive: true });
await Deno.remove(shards, { recursive: true });
if (!out.success) Deno.exit(1);
