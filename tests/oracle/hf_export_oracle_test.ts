import assert from "node:assert/strict";
import { join } from "node:path";
import { readHfGpt2 } from "../../pipeline/hf/hf_gpt2_read.ts";
import { sha256Hex } from "../../core/tokenizer/mod.ts";
import { CLASSES, FIXTURE_DIR, GOLDEN, moeLoss, RUNS, type Windows } from "./_hf_export.ts";

/** `golden/hf_export.json`, written by `hf_export_transformers.py` (see `make_hf_export.ts`). */
interface Golden {
  transformers: string;
  windows: Record<string, Windows>;
  experts: Record<string, Record<string, Record<string, number>>>;
  combined: Record<string, Record<string, number>>;
  sha256: Record<string, string>;
}

const golden = JSON.parse(await Deno.readTextFile(GOLDEN)) as Golden;

function close(ours: number, theirs: number, what: string): void {
  const rel = Math.abs(ours - theirs) / Math.abs(theirs);
  assert.ok(rel <= 1e-4, `${what}: moe ${ours}, transformers ${theirs} (relative ${rel})`);
}

/** The expert folders of one committed export, by expert name, from its moe-bundle.json. */
async function folders(run: string): Promise<Map<string, string>> {
  const manifest = JSON.parse(await Deno.readTextFile(join(FIXTURE_DIR, run, "moe-bundle.json")));
  const out = new Map<string, string>(Object.entries(manifest.experts as Record<string, string>));
  if (manifest.common) out.set("common", manifest.common);
  return out;
}

Deno.test("the golden file was made from the committed expert folders", async () => {
  for (const { name } of RUNS) {
    for (const [expert, folder] of await folders(name)) {
      const bytes = await Deno.readFile(join(FIXTURE_DIR, name, folder, "model.safetensors"));
      assert.equal(await sha256Hex(bytes), golden.sha256[`${name}/${expert}`], `${name}/${expert}`);
    }
  }
});

for (const { name, head } of RUNS) {
  Deno.test(`every exported ${name} expert (${head} head) scores in moe as in transformers' GPT2LMHeadModel`, async () => {
    const experts = await folders(name);
    assert.equal(experts.size, name === "moe-ce" ? 3 : 2);
    for (const [expert, folder] of experts) {
      const hf = await readHfGpt2(join(FIXTURE_DIR, name, folder));
      assert.equal(hf.model.head ?? "tied", head);
      for (const cls of CLASSES) {
        const ours = await moeLoss(hf.model, [hf.values], golden.windows[cls]!);
        close(ours, golden.experts[name]![expert]![cls]!, `${name}/${expert} on ${cls}`);
      }
    }
  });
}

Deno.test("the exported MoE-CE pair combined by moe-bundle.json's rule scores as ½·routed + ½·common logits in transformers", async () => {
  const common = await readHfGpt2(join(FIXTURE_DIR, "moe-ce", "common"));
  for (const cls of CLASSES) {
    const routed = await readHfGpt2(join(FIXTURE_DIR, "moe-ce", cls));
    const ours = await moeLoss(routed.model, [routed.values, common.values], golden.windows[cls]!);
    close(ours, golden.combined["moe-ce"]![cls]!, `moe-ce ${cls}+common`);
    // The pair is not either expert alone: the check above tests the combination itself.
    assert.ok(Math.abs(ours - golden.experts["moe-ce"]![cls]![cls]!) > 1e-3);
  }
});
