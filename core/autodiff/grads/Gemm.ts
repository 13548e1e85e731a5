import { gemm, mul } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";
import { unbroadcast } from "../unbroadcast.ts";

/** Y = α · A′ · B′ + β · C, where A′ = Aᵀ if transA, B′ = Bᵀ if transB. */
export const Gemm: GradRule<"Gemm"> = {
  op: "Gemm",
  saves: { inputs: [0, 1], outputs: [] },
  grad(c) {
    const dY = c.gradOfOutput(0)!;
    const alpha = c.attrs.alpha ?? 1, beta = c.attrs.beta ?? 1;
    const tA = c.attrs.transA ?? 0, tB = c.attrs.transB ?? 0;
    let dA = null, dB = null, dC = null;
    if (c.needsGradOfInput(0)) {
      const B = c.input(1);
      // dA′ = α · dY · B′ᵀ;  with transA, dA = dA′ᵀ = α · B′ · dYᵀ
      dA = tA
        ? gemm(B, dY, null, { alpha, transA: tB, transB: 1 })
        : gemm(dY, B, null, { alpha, transB: tB ? 0 : 1 });
    }
    if (c.needsGradOfInput(1)) {
      const A = c.input(0);
      // dB′ = α · A′ᵀ · dY;  with transB, dB = dB′ᵀ = α · dYᵀ · A′
      dB = tB
        ? gemm(dY, A, null, { alpha, transA: 1, transB: tA })
        : gemm(A, dY, null, { alpha, transA: tA ? 0 : 1 });
    }
    if (c.needsGradOfInput(2)) {
      // dC = β · dY, reduced to C's broadcast shape
      const s = unbroadcast(dY, c.shapeOf(2));
      dC = beta === 1 ? s : mul(s, beta);
    }
    return [dA, dB, dC];
  },
};
