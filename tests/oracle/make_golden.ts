/**
 * Regenerates the PyTorch oracle's golden file (needs Debian's `python3-torch`):
 *
 *     deno run -A tests/oracle/make_golden.ts
 *
 * Writes our oracle weights in the Hugging Face layout (through core/export), asks
 * `gpt2_torch.py` for the loss and every gradient, and stores its answer in
 * `golden/gpt2_oracle_grads.safetensors`, which `gpt2_oracle_test.ts` checks without PyTorch.
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
const out = await new Deno.Command("/usr/bin/python3", {
  args: [`${here}gpt2_torch.py`, tmp, `${here}golden/gpt2_oracle_grads.safetensors`],
}).output();
console.log(new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr));
Deno.exit(out.code);
