import {
  add,
  cast,
  div,
  exp,
  full,
  gatherElements,
  greater,
  log,
  logSoftmax,
  max,
  mul,
  neg,
  reduceMax,
  reduceSum,
  scatterElements,
  squeeze,
  stopGradient,
  sub,
  type Tensor,
  where,
} from "../graph/mod.ts";

/**
 * Floor of the teacher's rest mass `p_rest = 1 − Σ p_top` inside its logarithm in the top-k
 * losses. In float32 that difference of k rounded terms is only resolved to about 1e-6, so a
 * smaller value is noise: the floor keeps `log p_rest` finite when rounding leaves 0, and bounds
 * the reverse-KL penalty on rest mass the teacher gives none of.
 */
export const TOPK_REST_FLOOR = 1e-6;

/**
 * Floor of the stored top-k log-probabilities. A cache written from an underflowed softmax may
 * hold −∞, and `0 · (−∞ − log q)` is NaN; at −100 the probability is 0 in float32 while reverse
 * KL still charges `q · (log q + 100)` for mass the teacher gives none.
 */
export const TOPK_LOGPROB_FLOOR = -100;

/** Added to a log-probability to drop it from a log-sum-exp: exp(−1e30 − m) is exactly 0. */
const MASKED = -1e30;

/** `logSoftmax(x / τ)` along the last axis. */
function logSoftmaxAt(x: Tensor, temperature: number): Tensor {
  return logSoftmax(temperature === 1 ? x : mul(x, 1 / temperature), -1);
}

function checkCommon(what: string, student: Tensor, targets: Tensor, temperature: number): void {
  if (student.rank !== 2 || targets.rank !== 1 || targets.shape[0] !== student.shape[0]) {
    throw new RangeError(
      `Cannot build ${what}: student logits [${student.shape}] must be [N, V] and targets [${targets.shape}] must be [N]`,
    );
  }
  if (targets.dtype !== "int64") {
    throw new RangeError(`Cannot build ${what}: targets must be int64, not ${targets.dtype}`);
  }
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new RangeError(
      `Cannot build ${what}: temperature ${temperature} must be a positive finite number`,
    );
  }
}

/**
 * `τ² · Σₙ [targetₙ ≥ 0] · rowₙ / max(1, Σₙ [targetₙ ≥ 0])`. Padding rows are selected away
 * (Where, not a product) so that nothing computed there, however large, reaches the mean.
 */
function tokenMean(row: Tensor, targets: Tensor, temperature: number): Tensor {
  const counts = greater(targets, -1); // [N] as bool
  const total = reduceSum(where(counts, row, 0));
  const count = max(reduceSum(cast(counts, row.dtype)), 1);
  const mean = div(total, count);
  return temperature === 1 ? mean : mul(mean, temperature * temperature);
}

/**
 * Forward KL divergence from teacher to student at temperature τ, in graph form:
 * `τ² · meanₙ Σᵥ p_T (log p_T − log q_S)` with `p_T = softmax(teacher/τ)`,
 * `q_S = softmax(student/τ)`, over the positions whose target is not −1 (0 when there are none).
 * Mean-seeking: the student is pushed to cover every token the teacher gives mass to (Hinton et
 * al. 2015, with the τ² factor that keeps gradient magnitudes comparable across τ). The
 * reference code of arXiv 2407.19610 calls this direction "inverse"; it is the forward one.
 *
 * The teacher goes through `stopGradient`, so no gradient ever reaches it.
 *
 * @param student `[N, V]` student logits.
 * @param teacherLogits `[N, V]` teacher logits (not divided by τ).
 * @param targets `[N]` int64 next tokens; −1 marks padding, which does not count.
 * @param temperature τ > 0, applied to both distributions.
 * @returns Scalar loss.
 * @throws {RangeError} When the shapes, the targets' type or τ do not fit.
 * @example
 * ```ts
 * import { Graph } from "../graph/mod.ts";
 * import { forwardKL } from "./kl.ts";
 * const g = new Graph("kd");
 * const s = g.input("s", "float32", [4, 10]), t = g.input("t", "float32", [4, 10]);
 * const loss = forwardKL(s, t, g.input("y", "int64", [4]), 2);
 * console.assert(loss.rank === 0);
 * ```
 */
export function forwardKL(
  student: Tensor,
  teacherLogits: Tensor,
  targets: Tensor,
  temperature: number,
): Tensor {
  checkFull("forwardKL", student, teacherLogits, targets, temperature);
  return student.graph.scope("forward_kl", () => {
    const lq = logSoftmaxAt(student, temperature); // [N, V] log q_S
    const lp = logSoftmaxAt(stopGradient(cast(teacherLogits, student.dtype)), temperature);
    // [N] −Σᵥ p (log q − log p): negating the [N] sum, not the [N, V] difference, saves the
    // backward a Neg over [N, V].
    const row = neg(reduceSum(mul(exp(lp), sub(lq, lp)), [1]));
    return tokenMean(row, targets, temperature);
  });
}

/**
 * Reverse KL divergence from student to teacher at temperature τ, in graph form:
 * `τ² · meanₙ Σᵥ q_S (log q_S − log p_T)`, same conventions as {@link forwardKL}. Mode-seeking:
 * the student is pushed to put its mass where the teacher's is high and may ignore the rest.
 *
 * @param student `[N, V]` student logits.
 * @param teacherLogits `[N, V]` teacher logits (not divided by τ); no gradient reaches them.
 * @param targets `[N]` int64 next tokens; −1 marks padding.
 * @param temperature τ > 0, applied to both distributions.
 * @returns Scalar loss.
 * @throws {RangeError} When the shapes, the targets' type or τ do not fit.
 * @example
 * ```ts
 * import { Graph } from "../graph/mod.ts";
 * import { reverseKL } from "./kl.ts";
 * const g = new Graph("kd");
 * const s = g.input("s", "float32", [4, 10]), t = g.input("t", "float32", [4, 10]);
 * console.assert(reverseKL(s, t, g.input("y", "int64", [4]), 1).rank === 0);
 * ```
 */
export function reverseKL(
  student: Tensor,
  teacherLogits: Tensor,
  targets: Tensor,
  temperature: number,
): Tensor {
  checkFull("reverseKL", student, teacherLogits, targets, temperature);
  return student.graph.scope("reverse_kl", () => {
    const lq = logSoftmaxAt(student, temperature); // [N, V] log q_S
    const lp = logSoftmaxAt(stopGradient(cast(teacherLogits, student.dtype)), temperature);
    const row = reduceSum(mul(exp(lq), sub(lq, lp)), [1]); // [N] Σᵥ q (log q − log p)
    return tokenMean(row, targets, temperature);
  });
}

function checkFull(
  what: string,
  student: Tensor,
  teacher: Tensor,
  targets: Tensor,
  temperature: number,
): void {
  checkCommon(what, student, targets, temperature);
  if (teacher.shape.join() !== student.shape.join()) {
    throw new RangeError(
      `Cannot build ${what}: teacher logits [${teacher.shape}] must match student logits [${student.shape}]`,
    );
  }
}

/** The k + 1 buckets of a top-k loss, as log-probabilities (`rest` is null when k = V). */
interface Buckets {
  lqTop: Tensor; // [N, k] log q_S at the stored ids
  lpTop: Tensor; // [N, k] log p_T at the stored ids
  lqRest: Tensor | null; // [N] log Σ_{v ∉ top} q_S
  pRest: Tensor | null; // [N] max(0, 1 − Σ p_top)
  lpRest: Tensor | null; // [N] log max(p_rest, TOPK_REST_FLOOR)
}

function buckets(
  what: string,
  student: Tensor,
  topIds: Tensor,
  topLogProbs: Tensor,
  targets: Tensor,
  temperature: number,
): Buckets {
  checkCommon(what, student, targets, temperature);
  const [n, v] = student.shape as [number, number];
  const k = topIds.shape[1] ?? 0;
  if (topIds.rank !== 2 || topIds.shape[0] !== n || k < 1 || k > v) {
    throw new RangeError(
      `Cannot build ${what}: top ids [${topIds.shape}] must be [N, k] with N = ${n} and 1 ≤ k ≤ V = ${v}`,
    );
  }
  if (topIds.dtype !== "int64" || topLogProbs.shape.join() !== topIds.shape.join()) {
    throw new RangeError(
      `Cannot build ${what}: top ids must be int64 [N, k] (got ${topIds.dtype}) and top log-probabilities [${topLogProbs.shape}] the same shape`,
    );
  }
  const lq = logSoftmaxAt(student, temperature); // [N, V]
  const lqTop = gatherElements(lq, topIds, 1); // [N, k]
  const lpTop = max(stopGradient(cast(topLogProbs, student.dtype)), TOPK_LOGPROB_FLOOR); // [N, k]
  if (k === v) return { lqTop, lpTop, lqRest: null, pRest: null, lpRest: null };

  const pRest = max(sub(1, reduceSum(exp(lpTop), [1])), 0); // [N]
  const lpRest = log(max(pRest, TOPK_REST_FLOOR));
  // log q_rest as a log-sum-exp over the tokens outside the top k, so it stays exact when the
  // student's rest mass is far below float32 resolution of 1 − Σ q_top.
  // Adding a scattered mask (rather than Where on a bool) costs no pass in the backward.
  const mask = scatterElements(full(lq, [n, v], 0), topIds, full(lq, [n, k], MASKED), 1);
  const outside = add(lq, mask); // [N, V], the top tokens pushed to −1e30
  const shift = stopGradient(reduceMax(outside, [1], true)); // [N, 1] finite: k < V
  const sumExp = reduceSum(exp(sub(outside, shift)), [1]); // [N] ≥ 1
  const lqRest = add(squeeze(shift, [1]), log(sumExp));
  return { lqTop, lpTop, lqRest, pRest, lpRest };
}

/**
 * Forward KL from a top-k teacher cache: the KL between the two (k + 1)-bucket distributions —
 * the k stored tokens and one "rest" bucket holding everything else —
 * `τ² · meanₙ [Σᵢ pᵢ (log pᵢ − log qᵢ) + p_rest (log p_rest − log q_rest)]`, with
 * `q = softmax(student/τ)`, `pᵢ = exp(topLogProbsᵢ)`, `p_rest = max(0, 1 − Σ pᵢ)` and
 * `q_rest = Σ_{v ∉ top} q_v` (computed as a log-sum-exp, exact however small). Merging tokens into
 * one bucket can only lose information, so this is a lower bound of the full forward KL (log-sum
 * inequality), equal to it when k = V (then there is no rest bucket at all). Inside the logarithm
 * `p_rest` is floored at {@link TOPK_REST_FLOOR}, and stored log-probabilities at
 * {@link TOPK_LOGPROB_FLOOR}.
 *
 * @param student `[N, V]` student logits.
 * @param topIds `[N, k]` int64 token ids of the teacher's top k, distinct within a row.
 * @param topLogProbs `[N, k]` the teacher's log-probabilities of those ids at temperature τ,
 *   normalised over the whole vocabulary (so `Σ exp < 1` when k < V); no gradient reaches them.
 * @param targets `[N]` int64 next tokens; −1 marks padding (its ids must still be valid).
 * @param temperature τ > 0 (the cache must have been built at the same τ).
 * @returns Scalar loss.
 * @throws {RangeError} When the shapes, types or τ do not fit.
 * @example
 * ```ts
 * import { Graph } from "../graph/mod.ts";
 * import { forwardKLTopK } from "./kl.ts";
 * const g = new Graph("kd");
 * const loss = forwardKLTopK(
 *   g.input("s", "float32", [4, 10]),
 *   g.input("ids", "int64", [4, 3]),
 *   g.input("lp", "float32", [4, 3]),
 *   g.input("y", "int64", [4]),
 *   2,
 * );
 * console.assert(loss.rank === 0);
 * ```
 */
export function forwardKLTopK(
  student: Tensor,
  topIds: Tensor,
  topLogProbs: Tensor,
  targets: Tensor,
  temperature: number,
): Tensor {
  return student.graph.scope("forward_kl_topk", () => {
    const b = buckets("forwardKLTopK", student, topIds, topLogProbs, targets, temperature);
    let row = neg(reduceSum(mul(exp(b.lpTop), sub(b.lqTop, b.lpTop)), [1])); // [N]
    if (b.pRest && b.lpRest && b.lqRest) row = add(row, mul(b.pRest, sub(b.lpRest, b.lqRest)));
    return tokenMean(row, targets, temperature);
  });
}

/**
 * Reverse KL from a top-k teacher cache: the KL from the student's (k + 1)-bucket distribution to
 * the teacher's, `τ² · meanₙ [Σᵢ qᵢ (log qᵢ − log pᵢ) + q_rest (log q_rest − log p_rest)]`, with
 * the buckets of {@link forwardKLTopK}. Exact when k = V. Student mass in the rest bucket where
 * the teacher has (almost) none costs at most `q_rest (log q_rest − log TOPK_REST_FLOOR)`.
 *
 * @param student `[N, V]` student logits.
 * @param topIds `[N, k]` int64 token ids of the teacher's top k, distinct within a row.
 * @param topLogProbs `[N, k]` the teacher's log-probabilities at temperature τ over the whole
 *   vocabulary; no gradient reaches them.
 * @param targets `[N]` int64 next tokens; −1 marks padding.
 * @param temperature τ > 0.
 * @returns Scalar loss.
 * @throws {RangeError} When the shapes, types or τ do not fit.
 * @example
 * ```ts
 * import { Graph } from "../graph/mod.ts";
 * import { reverseKLTopK } from "./kl.ts";
 * const g = new Graph("kd");
 * const loss = reverseKLTopK(
 *   g.input("s", "float32", [2, 8]),
 *   g.input("ids", "int64", [2, 8]),
 *   g.input("lp", "float32", [2, 8]),
 *   g.input("y", "int64", [2]),
 *   1,
 * );
 * console.assert(loss.rank === 0);
 * ```
 */
export function reverseKLTopK(
  student: Tensor,
  topIds: Tensor,
  topLogProbs: Tensor,
  targets: Tensor,
  temperature: number,
): Tensor {
  return student.graph.scope("reverse_kl_topk", () => {
    const b = buckets("reverseKLTopK", student, topIds, topLogProbs, targets, temperature);
    let row = reduceSum(mul(exp(b.lqTop), sub(b.lqTop, b.lpTop)), [1]); // [N]
    if (b.lpRest && b.lqRest) row = add(row, mul(exp(b.lqRest), sub(b.lqRest, b.lpRest)));
    return tokenMean(row, targets, temperature);
  });
}
