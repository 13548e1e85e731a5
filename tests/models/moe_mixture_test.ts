import assert from "node:assert/strict";
import { openBackend } from "../../core/runtime/mod.ts";
import { GPT_CONFIGS, gptConfig, initGPT } from "../../models/gpt.ts";
import { buildTokenLoss } from "../../models/moe.ts";
import {
  buildRowMixtureLoss,
  type MixtureMember,
  sharesEmbedding,
} from "../../models/moe_mixture.ts";

const CFG = gptConfig({ ...GPT_CONFIGS.tiny, contextLength: 16, dModel: 32 });
const WTE = initGPT(CFG, 1).get("wte")!;
const STACKS: MixtureMember[] = ["en", "fr", "common"].map((name, i) => {
  const values = initGPT(CFG, 5 + i);
  values.set("wte", WTE);
  return { name, config: CFG, values, weight: 1 / 3 };
});
const B = 3, T = 8;
const TOKENS = BigInt64Array.from({ length: B * T }, (_, i) => BigInt((i * 29) % 256));
// The last row's last target is not counted.
const TARGETS = BigInt64Array.from(
  { length: B * T },
  (_, i) => BigInt(i === B * T - 1 ? -1 : (i * 31 + 7) % 256),
);

async function nll(model: Uint8Array, weights?: number[]): Promise<Float32Array> {
  const { backend } = await openBackend("cpu", { threads: 1 });
  const session = await backend.createSession(model);
  try {
    const feeds = {
      tokens: session.wrap({ dtype: "int64", dims: [B, T], data: TOKENS }),
      targets: session.wrap({ dtype: "int64", dims: [B, T], data: TARGETS }),
      ...(weights
        ? {
          weights: session.wrap({
            dtype: "float32",
            dims: [B, STACKS.length],
            data: Float32Array.from(weights),
          }),
        }
        : {}),
    };
    const out = await session.run(feeds);
    return (await session.download(out.nll!)).data as Float32Array;
  } finally {
    await session.dispose();
  }
}

Deno.test("a row-weighted mixture scores each row with its own weights: one-hot rows are that stack, ½-½ rows the MoE-CE pair", async () => {
  const mixed = await nll(
    buildRowMixtureLoss({ rule: "hidden-mean", members: STACKS }, { batch: B, seqLen: T }),
    [
      1,
      0,
      0, // row 0: en alone
      0,
      0,
      1, // row 1: common alone
      0,
      0.5,
      0.5, // row 2: fr + common, ½ each
    ],
  );
  const geometry = { batch: B, seqLen: T };
  const en = await nll(buildTokenLoss(CFG, [STACKS[0]!.values], geometry));
  const common = await nll(buildTokenLoss(CFG, [STACKS[2]!.values], geometry));
  const pair = await nll(buildTokenLoss(CFG, [STACKS[1]!.values, STACKS[2]!.values], geometry));
  const want = [...en.subarray(0, T), ...common.subarray(T, 2 * T), ...pair.subarray(2 * T)];
  want.forEach((w, i) =>
    assert.ok(Math.abs(mixed[i]! - w) < 1e-5, `token ${i}: ${mixed[i]} vs ${w}`)
  );
  assert.equal(Math.abs(mixed[B * T - 1]!), 0); // not counted
});

Deno.test("sharesEmbedding() compares the wte values, not the arrays", () => {
  const copy = new Map(STACKS[1]!.values);
  copy.set("wte", WTE.slice());
  assert.ok(sharesEmbedding([STACKS[0]!, { config: CFG, values: copy }]));
  const changed = WTE.slice();
  changed[17] = changed[17]! + 1e-6;
  copy.set("wte", changed);
  assert.ok(!sharesEmbedding([STACKS[0]!, { config: CFG, values: copy }]));
});
