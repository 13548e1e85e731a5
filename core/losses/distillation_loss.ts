import { add, mul, sub, type Tensor } from "../graph/mod.ts";
import { crossEntropy } from "./cross_entropy.ts";
import { forwardKL, forwardKLTopK, reverseKL, reverseKLTopK } from "./kl.ts";

/** Direction of the distillation divergence: forward `KL(p_T‖q_S)` or reverse `KL(q_S‖p_T)`. */
export type KDDirection = "forward" | "reverse";

/**
 * What the teacher supplies for each position: its full `[N, V]` logits (online mode), or its
 * top-k token ids `[N, k]` with their log-probabilities at the distillation temperature (cache
 * mode, see {@link forwardKLTopK}).
 */
export type TeacherSignal =
  | { kind: "logits"; logits: Tensor }
  | { kind: "topk"; ids: Tensor; logProbs: Tensor };

/**
 * How the KD term is scaled: `tau2` multiplies the KL at τ by τ² (Hinton et al. 2015: gradient
 * magnitudes stay comparable across τ); `none` keeps the plain KL at τ — the setting of the
 * paper's code (arXiv 2407.19610), which distils at τ = 1 without a τ² factor (at τ = 1 the two
 * are the same).
 */
export type KDScale = "tau2" | "none";

/** The values `--kd-scale` accepts. */
export const KD_SCALES: readonly KDScale[] = ["tau2", "none"];

/** Options of {@link distillObjective}. */
export interface DistillOptions {
  /** Which KL divergence the KD term is. */
  kd: KDDirection;
  /** τ > 0 for the KD term (CE is always at τ = 1). */
  temperature: number;
  /** Whether the KD term is scaled by τ² (default `tau2`). */
  scale?: KDScale;
  /**
   * Scalar float32 tensor α (usually a graph input fed every step, so an adaptive or alternating
   * α needs no new graph).
   */
  alpha: Tensor;
}

/** The three scalars of the distillation objective. */
export interface DistillLosses {
  /** `α·ce + (1 − α)·kd`, the tensor to differentiate. */
  loss: Tensor;
  /** Cross-entropy on the true next tokens at τ = 1. */
  ce: Tensor;
  /** The KD divergence (τ² included unless `scale` is `none`). */
  kd: Tensor;
}

/**
 * The knowledge-distillation objective of arXiv 2407.19610 (`L = α·L_CE + β·L_KD`, β = 1 − α) in
 * graph form: cross-entropy on the true next tokens plus forward or reverse KL to the teacher at
 * temperature τ, both averaged over the positions whose target is not −1.
 *
 * @param student `[N, V]` student logits.
 * @param targets `[N]` int64 next tokens, −1 for padding.
 * @param teacher The teacher's logits or its top-k cache entries for the same positions.
 * @param opts KD direction, temperature and the α tensor.
 * @returns `{loss, ce, kd}` scalar tensors (output `ce` and `kd` to log them and drive α).
 * @throws {RangeError} When shapes or types do not fit, or α is not a float32 scalar.
 * @example
 * ```ts
 * import { Graph } from "../graph/mod.ts";
 * import { distillObjective } from "./distillation_loss.ts";
 * const g = new Graph("kd");
 * const { loss, ce, kd } = distillObjective(
 *   g.input("s", "float32", [4, 10]),
 *   g.input("y", "int64", [4]),
 *   { kind: "logits", logits: g.input("t", "float32", [4, 10]) },
 *   { kd: "forward", temperature: 2, alpha: g.input("alpha", "float32", []) },
 * );
 * console.assert(loss.rank === 0 && ce.rank === 0 && kd.rank === 0);
 * ```
 */
export function distillObjective(
  student: Tensor,
  targets: Tensor,
  teacher: TeacherSignal,
  opts: DistillOptions,
): DistillLosses {
  const { alpha, temperature } = opts;
  if (alpha.rank !== 0 || alpha.dtype !== student.dtype) {
    throw new RangeError(
      `Cannot build distillObjective: alpha must be a ${student.dtype} scalar, not ${alpha.dtype} [${alpha.shape}]`,
    );
  }
  const ce = crossEntropy(student, targets);
  let kd: Tensor;
  if (teacher.kind === "logits") {
    const f = opts.kd === "forward" ? forwardKL : reverseKL;
    kd = f(student, teacher.logits, targets, temperature);
  } else {
    const f = opts.kd === "forward" ? forwardKLTopK : reverseKLTopK;
    kd = f(student, teacher.ids, teacher.logProbs, targets, temperature);
  }
  // The KL functions scale by τ²; `none` undoes it (exact up to float32 rounding).
  if (opts.scale === "none" && temperature !== 1) {
    kd = student.graph.scope("distill", () => mul(kd, 1 / (temperature * temperature)));
  }
  const loss = student.graph.scope("distill", () => add(mul(alpha, ce), mul(sub(1, alpha), kd)));
  return { loss, ce, kd };
}
