/**
 * Multinomial logistic regression with an L2 penalty, fitted by L-BFGS (Nocedal & Wright,
 * "Numerical Optimization", 2nd ed., algorithm 7.4 with a backtracking Armijo line search).
 *
 * Objective: `f(W, b) = (1/N) Σₙ wₙ·(−log softmax(xₙW + b)[yₙ]) + (λ/2)‖W‖²` (bias unpenalised,
 * sample weights wₙ normalised to mean 1).
 *
 * @module
 */
import type { LinearModel } from "./linear.ts";
import { softmaxInPlace, sparseTimesDense, type SparseVector } from "./sparse.ts";

/** Iterations over which the relative decrease is averaged for the stopping rule. */
const WINDOW = 5;

/** Options for {@linkcode trainLogistic}. */
export interface LogisticOptions {
  /** L2 penalty λ. */
  l2: number;
  /** Iteration cap. */
  maxIterations: number;
  /** Stop when the relative decrease of f per iteration, averaged over 5, is below this. */
  tolerance: number;
  /** L-BFGS history length. */
  memory: number;
  /** Called after every iteration. */
  onIteration?: (iteration: number, loss: number) => void;
}

/** Defaults: λ = 1e-4, 300 iterations, relative tolerance 1e-6, memory 8. */
export const DEFAULT_LOGISTIC: LogisticOptions = {
  l2: 1e-4,
  maxIterations: 300,
  tolerance: 1e-6,
  memory: 8,
};

/** What {@linkcode trainLogistic} returns besides the model. */
export interface LogisticReport {
  iterations: number;
  /** Loss-and-gradient evaluations (iterations plus line-search retries). */
  evaluations: number;
  converged: boolean;
  loss: number;
}

/**
 * Loss and gradient of the objective at `theta` = [W (dim×K) row-major, b (K)].
 *
 * @returns f; the gradient is written into `grad`.
 */
export function logisticLossAndGradient(
  theta: Float64Array,
  grad: Float64Array,
  xs: readonly SparseVector[],
  ys: Int32Array,
  k: number,
  l2: number,
  sampleWeights?: Float64Array,
): number {
  const dimK = theta.length - k;
  const w = theta.subarray(0, dimK);
  const b = theta.subarray(dimK);
  grad.fill(0);
  const gb = grad.subarray(dimK);
  const p = new Float64Array(k);
  let loss = 0;
  const n = xs.length;
  for (let i = 0; i < n; i++) {
    const x = xs[i]!;
    const weight = (sampleWeights?.[i] ?? 1) / n;
    if (k === 4) {
      loss += accumulate4(x, w, b, grad, gb, ys[i]!, weight);
      continue;
    }
    sparseTimesDense(x, w, k, p);
    for (let c = 0; c < k; c++) p[c]! += b[c]!;
    softmaxInPlace(p);
    const y = ys[i]!;
    loss -= weight * Math.log(Math.max(p[y]!, 1e-300));
    // d(−log p_y)/d score_c = p_c − [c = y]
    p[y]! -= 1;
    for (let c = 0; c < k; c++) {
      p[c]! *= weight;
      gb[c]! += p[c]!;
    }
    for (let j = 0; j < x.indices.length; j++) {
      const base = x.indices[j]! * k;
      const v = x.values[j]!;
      for (let c = 0; c < k; c++) grad[base + c]! += v * p[c]!;
    }
  }
  let reg = 0;
  for (let j = 0; j < dimK; j++) {
    reg += w[j]! * w[j]!;
    grad[j]! += l2 * w[j]!;
  }
  return loss + 0.5 * l2 * reg;
}

/**
 * One sample's loss and gradient for exactly four classes (the paper's en/fr/de/py): the generic
 * loop of {@linkcode logisticLossAndGradient} with the class loop unrolled by hand — subtle: V8
 * does not unroll a 4-iteration inner loop, and this halves the training time.
 */
function accumulate4(
  x: SparseVector,
  w: Float64Array,
  b: Float64Array,
  grad: Float64Array,
  gb: Float64Array,
  y: number,
  weight: number,
): number {
  const { indices, values } = x;
  let s0 = b[0]!, s1 = b[1]!, s2 = b[2]!, s3 = b[3]!;
  for (let j = 0; j < indices.length; j++) {
    const base = indices[j]! * 4;
    const v = values[j]!;
    s0 += v * w[base]!;
    s1 += v * w[base + 1]!;
    s2 += v * w[base + 2]!;
    s3 += v * w[base + 3]!;
  }
  const m = Math.max(s0, s1, s2, s3);
  const e0 = Math.exp(s0 - m), e1 = Math.exp(s1 - m), e2 = Math.exp(s2 - m), e3 = Math.exp(s3 - m);
  const inv = 1 / (e0 + e1 + e2 + e3);
  // d(−log p_y)/d score_c = p_c − [c = y], times the sample weight.
  const g0 = (e0 * inv - (y === 0 ? 1 : 0)) * weight;
  const g1 = (e1 * inv - (y === 1 ? 1 : 0)) * weight;
  const g2 = (e2 * inv - (y === 2 ? 1 : 0)) * weight;
  const g3 = (e3 * inv - (y === 3 ? 1 : 0)) * weight;
  gb[0]! += g0;
  gb[1]! += g1;
  gb[2]! += g2;
  gb[3]! += g3;
  for (let j = 0; j < indices.length; j++) {
    const base = indices[j]! * 4;
    const v = values[j]!;
    grad[base]! += v * g0;
    grad[base + 1]! += v * g1;
    grad[base + 2]! += v * g2;
    grad[base + 3]! += v * g3;
  }
  const py = (y === 0 ? e0 : y === 1 ? e1 : y === 2 ? e2 : e3) * inv;
  return -weight * Math.log(Math.max(py, 1e-300));
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * Fits multinomial logistic regression.
 *
 * @param xs Feature vectors (column indices < `dimension`).
 * @param ys Class index of each vector.
 * @param classes Number of classes K.
 * @param dimension Number of feature columns.
 * @param options Penalty and stopping rule.
 * @param sampleWeights Optional weight per vector.
 * @param initial Optional starting point (same shape), e.g. a scaled Naive Bayes model.
 * @returns The model (temperature 1) and how the optimiser ended.
 *
 * @example
 * ```ts
 * import { trainLogistic, DEFAULT_LOGISTIC } from "./logistic.ts";
 * import { probabilities } from "./linear.ts";
 * const x = (i: number) => ({ indices: Int32Array.of(i), values: Float32Array.of(1) });
 * const { model } = trainLogistic([x(0), x(1)], Int32Array.of(0, 1), 2, 2, DEFAULT_LOGISTIC);
 * console.assert(probabilities(model, x(0))[0]! > 0.9);
 * ```
 */
export function trainLogistic(
  xs: readonly SparseVector[],
  ys: Int32Array,
  classes: number,
  dimension: number,
  options: LogisticOptions,
  sampleWeights?: Float64Array,
  initial?: LinearModel,
): { model: LinearModel; report: LogisticReport } {
  const size = dimension * classes + classes;
  const weights = sampleWeights && meanOne(sampleWeights);
  let evaluations = 0;
  const f: Objective = (t, g) => {
    evaluations++;
    return logisticLossAndGradient(t, g, xs, ys, classes, options.l2, weights);
  };
  let theta = startingPoint(size, dimension * classes, initial);
  let grad = new Float64Array(size);
  let loss = f(theta, grad);
  const memory: Curvature = { s: [], y: [], rho: [] };
  const direction = new Float64Array(size);
  let nextTheta = new Float64Array(size);
  let nextGrad = new Float64Array(size);
  let iterations = 0;
  let converged = false;
  const history = [loss];
  while (iterations < options.maxIterations) {
    iterations++;
    const remembers = memory.s.length > 0;
    const slope = descentDirection(memory, grad, direction);
    const step = remembers ? 1 : 1 / Math.sqrt(-slope);
    const nextLoss = armijoSearch(f, theta, direction, loss, slope, step, nextTheta, nextGrad);
    if (!(nextLoss < loss)) {
      converged = true; // no further decrease possible at machine precision
      break;
    }
    rememberStep(memory, options.memory, theta, nextTheta, grad, nextGrad);
    history.push(nextLoss);
    const decrease = windowDecrease(history);
    [theta, nextTheta] = [nextTheta, theta];
    [grad, nextGrad] = [nextGrad, grad];
    loss = nextLoss;
    options.onIteration?.(iterations, loss);
    if (decrease !== undefined && decrease < options.tolerance) {
      converged = true;
      break;
    }
  }
  const model: LinearModel = {
    kind: "logistic",
    classes,
    weights: Float32Array.from(theta.subarray(0, dimension * classes)),
    bias: theta.slice(dimension * classes),
    temperature: 1,
  };
  return { model, report: { iterations, evaluations, converged, loss } };
}

/** The objective: f at `theta`, its gradient written into `grad`. */
type Objective = (theta: Float64Array, grad: Float64Array) => number;

/** θ = [W, b] of `initial`, or zeros. */
function startingPoint(
  size: number,
  weightCount: number,
  initial?: LinearModel,
): Float64Array<ArrayBuffer> {
  const theta = new Float64Array(size);
  if (initial) {
    theta.set(initial.weights);
    theta.set(initial.bias, weightCount);
  }
  return theta;
}

/** Sample weights scaled to mean 1, so the penalty keeps its weight against the loss. */
function meanOne(weights: Float64Array): Float64Array {
  const mean = weights.reduce((a, v) => a + v, 0) / weights.length;
  return weights.map((v) => v / mean);
}

/**
 * The L-BFGS memory, oldest first: steps sᵢ = θᵢ₊₁ − θᵢ, gradient changes yᵢ = gᵢ₊₁ − gᵢ and
 * ρᵢ = 1 / sᵢᵀyᵢ.
 */
interface Curvature {
  s: Float64Array[];
  y: Float64Array[];
  rho: number[];
}

/**
 * Writes the L-BFGS direction −H·grad into `direction` by the two-loop recursion (N&W
 * algorithm 7.4, H₀ = γI with γ = sᵀy / yᵀy of the newest pair). Where that is not a descent
 * direction (numerical trouble) it forgets the memory and takes steepest descent instead.
 *
 * @returns The slope gradᵀ·direction (negative).
 */
function descentDirection(memory: Curvature, grad: Float64Array, direction: Float64Array): number {
  const { s, y: yv, rho } = memory;
  const size = direction.length;
  direction.set(grad);
  const alpha: number[] = [];
  for (let i = s.length - 1; i >= 0; i--) {
    const a = rho[i]! * dot(s[i]!, direction);
    alpha[i] = a;
    const y = yv[i]!;
    for (let j = 0; j < size; j++) direction[j]! -= a * y[j]!;
  }
  const last = s.length - 1;
  const gamma = last >= 0 ? dot(s[last]!, yv[last]!) / dot(yv[last]!, yv[last]!) : 1;
  for (let j = 0; j < size; j++) direction[j]! *= gamma;
  for (let i = 0; i < s.length; i++) {
    const beta = rho[i]! * dot(yv[i]!, direction);
    const si = s[i]!;
    for (let j = 0; j < size; j++) direction[j]! += (alpha[i]! - beta) * si[j]!;
  }
  for (let j = 0; j < size; j++) direction[j] = -direction[j]!;
  const slope = dot(grad, direction);
  if (!(slope >= 0)) return slope;
  // Not a descent direction: restart from steepest descent.
  s.length = yv.length = rho.length = 0;
  for (let j = 0; j < size; j++) direction[j] = -grad[j]!;
  return dot(grad, direction);
}

/**
 * Backtracking Armijo line search: from `step`, halves the step (at most 40 tries) until f falls
 * by at least 1e-4·step·slope.
 *
 * @returns f at the last point tried, which is left in `nextTheta` with its gradient in `nextGrad`.
 */
function armijoSearch(
  f: Objective,
  theta: Float64Array,
  direction: Float64Array,
  loss: number,
  slope: number,
  step: number,
  nextTheta: Float64Array,
  nextGrad: Float64Array,
): number {
  let nextLoss = Infinity;
  for (let tries = 0; tries < 40; tries++) {
    for (let j = 0; j < theta.length; j++) nextTheta[j] = theta[j]! + step * direction[j]!;
    nextLoss = f(nextTheta, nextGrad);
    if (nextLoss <= loss + 1e-4 * step * slope) break;
    step *= 0.5;
  }
  return nextLoss;
}

/**
 * Adds the step from `theta` to `nextTheta` to the memory, dropping the oldest pair once it holds
 * `size` pairs (and reusing its buffers); a pair without positive curvature sᵀy is not kept.
 */
function rememberStep(
  memory: Curvature,
  size: number,
  theta: Float64Array,
  nextTheta: Float64Array,
  grad: Float64Array,
  nextGrad: Float64Array,
): void {
  const { s, y: yv, rho } = memory;
  const full = s.length === size;
  const sNew = full ? s[0]! : new Float64Array(theta.length);
  const yNew = full ? yv[0]! : new Float64Array(theta.length);
  for (let j = 0; j < theta.length; j++) {
    sNew[j] = nextTheta[j]! - theta[j]!;
    yNew[j] = nextGrad[j]! - grad[j]!;
  }
  const sy = dot(sNew, yNew);
  if (full) {
    s.shift();
    yv.shift();
    rho.shift();
  }
  if (sy > 1e-12) {
    s.push(sNew);
    yv.push(yNew);
    rho.push(1 / sy);
  }
}

/**
 * Mean relative decrease of the loss per iteration over the last {@linkcode WINDOW} iterations
 * (one short step does not stop the fit), or `undefined` before there are that many.
 */
function windowDecrease(history: readonly number[]): number | undefined {
  if (history.length - 1 < WINDOW) return undefined;
  const last = history[history.length - 1]!;
  const back = history[history.length - 1 - WINDOW]!;
  return (back - last) / (WINDOW * Math.max(Math.abs(last), 1e-12));
}
