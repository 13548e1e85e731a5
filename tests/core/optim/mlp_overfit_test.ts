import assert from "node:assert/strict";
import { gemm, relu } from "../../../core/graph/mod.ts";
import { crossEntropy } from "../../../core/losses/mod.ts";
import { ADAMW_DEFAULTS, buildTrainingStep } from "../../../core/optim/mod.ts";
import { BACKEND_NAMES } from "../../../core/runtime/mod.ts";
import { rng } from "../../_support/grad_check.ts";
import { int64Tensor, probeBackends, titled, trainLosses } from "../../_support/backends.ts";
import { readFixtureText } from "../../_support/fixture_text.ts";

// 32 next-byte targets from the English fixture; each input one-hot codes its position and its
// byte, so the mapping is a function and the loss can reach zero.
const bytes = new TextEncoder().encode((await readFixtureText("en")).slice(0, 33));
const n = 32, v = 256, hidden = 64, width = n + v;
const x = new Float32Array(n * width);
for (let i = 0; i < n; i++) {
  x[i * width + i] = 1;
  x[i * width + n + bytes[i]!] = 1;
}
const r = rng(7);
const init = (size: number, std: number) =>
  Float32Array.from({ length: size }, () => (r() * 2 - 1) * std * Math.sqrt(3));
const step = buildTrainingStep("mlp", (g) => {
  const input = g.input("x", "float32", [n, width]);
  const w1 = g.parameter("w1", [width, hidden], init(width * hidden, 0.1));
  const b1 = g.parameter("b1", [hidden], new Float32Array(hidden));
  const w2 = g.parameter("w2", [hidden, v], init(hidden * v, 0.1));
  const b2 = g.parameter("b2", [v], new Float32Array(v));
  const h = relu(gemm(input, w1, b1)); // [n, width] · [width, hidden] → [n, hidden]
  const logits = gemm(h, w2, b2); // [n, hidden] · [hidden, v] → [n, v]
  return crossEntropy(logits, g.input("targets", "int64", [n]));
}, { ...ADAMW_DEFAULTS, weightDecay: 0 });
const data = {
  x: { dtype: "float32" as const, dims: [n, width], data: x },
  targets: int64Tensor(bytes.slice(1, n + 1), [n]),
};
const probes = await probeBackends();

// Near zero: 0.05 nats, a mean probability of 0.95 on the right byte.
for (const name of BACKEND_NAMES) {
  const probe = probes[name];
  Deno.test({
    name: titled(
      `a two-layer MLP overfits a fixture batch of next-byte pairs to near-zero loss on ${name}`,
      probe,
    ),
    ignore: probe.backend === undefined,
    async fn() {
      const losses = await trainLosses(probe.backend!, step, data, 150, 1e-2);
      assert.ok(Math.abs(losses[0]! - Math.log(v)) < 0.5, `initial loss ${losses[0]} ≉ ln 256`);
      assert.ok(losses.at(-1)! < 0.05, `final loss ${losses.at(-1)}`);
    },
  });
}
