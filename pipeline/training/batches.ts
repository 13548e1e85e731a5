/**
 * Which rows each training batch holds. A row is a window of `T + 1` consecutive tokens of one
 * class's train shard (inputs = the first T, targets = the last T). Each class's windows are
 * visited in a fresh seeded permutation every epoch; the schedule decides the class of each row:
 *
 * - `mixed`: every row's class drawn at random in proportion to the class's share of tokens;
 * - `balanced`: rows cycle through the classes, so every class gets an equal share of every
 *   batch (exactly when the batch is a multiple of the class count, DESIGN.md "Forgetting study");
 * - `sequential`: the run is cut into one phase per class, in `order`; a phase trains on its
 *   class only;
 * - `round-robin`: each step's whole batch is one class, the classes in turn (JEET: one expert
 *   per step).
 *
 * The sampler's whole state (a cursor per class and the generator's state) fits in a
 * checkpoint, so a resumed run sees exactly the batches an uninterrupted run would.
 *
 * @module
 */
import type { TokenShard } from "../../core/tokenizer/mod.ts";
import { mixSeed, permutation, Rng } from "./_rng.ts";

/** How classes share the batches. */
export type Schedule = "mixed" | "balanced" | "sequential" | "round-robin";

/** The schedules `--schedule` accepts. */
export const SCHEDULES: readonly Schedule[] = ["mixed", "balanced", "sequential", "round-robin"];

/** The sampler's saveable state. */
export interface SamplerState {
  /** Rows drawn so far from each class. */
  cursors: Record<string, number>;
  /** The class-choice generator's state. */
  rng: number;
}

/** A batch ready to feed: `[B, T]` int64 inputs and targets, and each row's class and window. */
export interface Batch {
  tokens: BigInt64Array;
  targets: BigInt64Array;
  classes: string[];
  /** Each row's window index in its class's shard (row r reads tokens `w·T … w·T + T`). */
  windows: number[];
}

/** Options of a {@linkcode BatchSampler}. */
export interface SamplerOptions {
  batch: number;
  seqLen: number;
  schedule: Schedule;
  /** Class order (sequential phases; the cycle of balanced). */
  order: readonly string[];
  /** Optimizer steps in the run (sequential phases split them evenly). */
  steps: number;
  seed: number;
}

/**
 * The phase (index into `order`) that a sequential run is in at `step` (1-based).
 *
 * @example
 * ```ts
 * import { phaseOf } from "./batches.ts";
 * console.assert([1, 25, 26, 100].map((s) => phaseOf(s, 100, 4)).join() === "0,0,1,3");
 * ```
 */
export function phaseOf(step: number, steps: number, phases: number): number {
  return Math.min(phases - 1, Math.floor(((step - 1) * phases) / steps));
}

/** Draws the rows of each batch from the train shards. */
export class BatchSampler {
  readonly #shards: ReadonlyMap<string, TokenShard>;
  readonly #o: SamplerOptions;
  readonly #windows: Map<string, number>;
  readonly #cursors = new Map<string, number>();
  readonly #perms = new Map<string, { epoch: number; perm: Uint32Array }>();
  #rng: Rng;

  /**
   * @param shards Train shard of every class in `options.order`.
   * @param options Batch geometry, schedule, class order, run length, seed.
   */
  constructor(shards: ReadonlyMap<string, TokenShard>, options: SamplerOptions) {
    this.#shards = shards;
    this.#o = options;
    this.#windows = new Map(
      options.order.map((c) => {
        const shard = shards.get(c);
        if (!shard) throw new RangeError(`Cannot sample class "${c}": no train shard`);
        return [c, Math.floor((shard.header.tokens - 1) / options.seqLen)];
      }),
    );
    for (const c of options.order) this.#cursors.set(c, 0);
    this.#rng = new Rng(mixSeed(options.seed, 0x5eed));
  }

  /** The state to save in a checkpoint. */
  state(): SamplerState {
    return { cursors: Object.fromEntries(this.#cursors), rng: this.#rng.state };
  }

  /** Restores a saved state. */
  restore(state: SamplerState): void {
    for (const c of this.#o.order) this.#cursors.set(c, state.cursors[c] ?? 0);
    this.#rng.state = state.rng >>> 0;
  }

  /** The class of each row of the batch of `step` (1-based); advances the generator. */
  classesFor(step: number): string[] {
    const { batch, order, schedule, steps } = this.#o;
    if (schedule === "sequential") {
      return Array(batch).fill(order[phaseOf(step, steps, order.length)]);
    }
    if (schedule === "round-robin") return Array(batch).fill(order[(step - 1) % order.length]);
    if (schedule === "balanced") {
      return Array.from(
        { length: batch },
        (_, r) => order[((step - 1) * batch + r) % order.length]!,
      );
    }
    const total = order.reduce((s, c) => s + this.#windows.get(c)!, 0);
    return Array.from({ length: batch }, () => {
      let x = this.#rng.below(total);
      for (const c of order) {
        x -= this.#windows.get(c)!;
        if (x < 0) return c;
      }
      return order[order.length - 1]!;
    });
  }

  /** Reads the batch of `step` (1-based). Steps must be drawn in order. */
  async next(step: number): Promise<Batch> {
    const { batch, seqLen: T } = this.#o;
    const classes = this.classesFor(step);
    const tokens = new BigInt64Array(batch * T), targets = new BigInt64Array(batch * T);
    const windows: number[] = [];
    for (let r = 0; r < batch; r++) {
      const c = classes[r]!;
      const k = this.#cursors.get(c)!;
      this.#cursors.set(c, k + 1);
      const w = this.#windowOf(c, k);
      windows.push(w);
      const row = await this.#shards.get(c)!.read(w * T, T + 1);
      for (let t = 0; t < T; t++) {
        tokens[r * T + t] = BigInt(row[t]!);
        targets[r * T + t] = BigInt(row[t + 1]!);
      }
    }
    return { tokens, targets, classes, windows };
  }

  /** The window the `k`-th row of class `c` reads: epoch ⌊k/W⌋'s permutation at k mod W. */
  #windowOf(c: string, k: number): number {
    const W = this.#windows.get(c)!;
    const epoch = Math.floor(k / W);
    let cached = this.#perms.get(c);
    if (!cached || cached.epoch !== epoch) {
      const classIndex = this.#o.order.indexOf(c);
      cached = { epoch, perm: permutation(W, mixSeed(this.#o.seed, classIndex, epoch)) };
      this.#perms.set(c, cached);
    }
    return cached.perm[k % W]!;
  }
}

/**
 * The validation batches of one class: its first `maxRows` windows of `T + 1` tokens in order,
 * packed `batch` rows at a time; the last batch is padded with target −1 (not counted).
 *
 * @param shard The class's val shard.
 * @param batch Rows per batch.
 * @param seqLen Tokens per row.
 * @param maxRows At most this many rows.
 * @returns Batches with the number of counted target tokens in each.
 */
export async function evalBatches(
  shard: TokenShard,
  batch: number,
  seqLen: number,
  maxRows: number,
): Promise<{ tokens: BigInt64Array; targets: BigInt64Array; count: number }[]> {
  const T = seqLen;
  const rows = Math.min(maxRows, Math.floor((shard.header.tokens - 1) / T));
  const out = [];
  for (let first = 0; first < rows; first += batch) {
    const tokens = new BigInt64Array(batch * T), targets = new BigInt64Array(batch * T).fill(-1n);
    const n = Math.min(batch, rows - first);
    const span = await shard.read(first * T, n * T + 1);
    for (let i = 0; i < n * T; i++) {
      tokens[i] = BigInt(span[i]!);
      targets[i] = BigInt(span[i + 1]!);
    }
    out.push({ tokens, targets, count: n * T });
  }
  return out;
}
