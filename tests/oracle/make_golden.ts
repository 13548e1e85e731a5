/**
 * Regenerates the oracles' golden files:
 *
 *     deno run -A tests/oracle/make_golden.ts
 *
 * Writes our oracle weights in the Hugging Face layout (through pipeline/hf, as `moe export`
 * does), then asks
 * - `gpt2_torch.py` (Debian's `python3-torch`, `/usr/bin/python3`) for the loss and every gradient
 *   of GPT-2 written out in PyTorch → `golden/gpt2_oracle_grads.safetensors`;
 * - `gpt2_transformers.py`, when `MOE_TRANSFORMERS_PYTHON` names a Python with `transformers` and
 *   torch ≥ 2.5, for the same from transformers' own `GPT2LMHeadModel.from_pretrained` →
 *   `golden/gpt2_transformers_grads.safetensors`. Such a Python, from wheels where no index is
 *   reachable: `python3 -m venv /tmp/hf && /tmp/hf/bin/pip install torch transformers`.
 *
 * `gpt2_oracle_test.ts` checks both files without Python.
 *
 * @module
 */
import { oracleBatch, oracleExport } from "./_oracle_model.ts";

const here = new URL(".", import.meta.url).pathname;
const tmp = await Deno.makeTempDir();
const { bytes, sha256, config } = await oracleExport();
await Deno.writeFile(`${tmp}/model.safetensors`, bytes);
await Deno.writeTextFile(`${tmp}/config.json`, JSON.stringify(config));
await Deno.writeTextFile(
  `${tmp}/batch.json`,
  JSON.stringify({ ...await oracleBatch(), weights_sha256: sha256 }),
);

async function ask(python: string, script: string, golden: string): Promise<void> {
  const out = await new Deno.Command(python, {
    args: [`${here}${script}`, tmp, `${here}golden/${golden}`],
  }).output();
  console.log(new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr));
  if (!out.success) Deno.exit(1);
}

await ask("/usr/bin/python3", "gpt2_torch.py", "gpt2_oracle_grads.safetensors");
const transformersPython = Deno.env.get("MOE_TRANSFORMERS_PYTHON");
if (transformersPython) {
  await ask(transformersPython, "gpt2_transformers.py", "gpt2_transformers_grads.safetensors");
} else {
  console.log("MOE_TRANSFORMERS_PYTHON unset: the transformers golden file was left as it is");
}
await Deno.remove(tmp, { recursive: true });
