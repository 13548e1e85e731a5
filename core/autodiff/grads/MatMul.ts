import { gemm, matMul, reshape, transpose } from "../../graph/mod.ts";
import type { GradRule } from "../rule.ts";
import { unbroadcast } from "../unbroadcast.ts";

function swapLast(rank: number): number[] {
  const p = Array.from({ length: rank }, (_, i) => i);
  [p[rank - 2], p[rank - 1]] = [rank - 1, rank - 2];
  return p;
}

/** Y = A · B, batched over leading axes. */
export const MatMul: GradRule<"MatMul"> = {
  op: "MatMul",
  saves: { inputs: [0, 1], outputs: [] },
  grad(c) {
    const dY = c.gradOfOutput(0)!;
    const [sa, sb] = [c.shapeOf(0), c.shapeOf(1)];
    const k = sa[sa.length - 1]!, n = sb[sb.length - 1]!;
    if (sb.length === 2) {
      // Linear layer: fold batch axes into rows so both products are single big GEMMs.
      const dY2 = reshape(dY, [-1, n]);
      // dA = dY · Bᵀ
      const dA = c.needsGradOfInput(0)
        ? reshape(gemm(dY2, c.input(1), null, { transB: 1 }), sa)
        : null;
      // dB = Aᵀ · dY  (summed over the folded batch rows)
      const dB = c.needsGradOfInput(1)
        ? gemm(reshape(c.input(0), [-1, k]), dY2, null, { transA: 1 })
        : null;
      return [dA, dB];
    }
    // dA = dY · Bᵀ, reduced over broadcast batch axes
    const dA = c.needsGradOfInput(0)
      ? unbroadcast(matMul(dY, transpose(c.input(1), swapLast(sb.length))), sa)
      : null;
    // dB = Aᵀ · dY, reduced over broadcast batch axes
    const dB = c.needsGradOfInput(1)
      ? unbroadcast(matMul(transpose(c.input(0), swapLast(sa.length)), dY), sb)
      : null;
    return [dA, dB];
  },
};
