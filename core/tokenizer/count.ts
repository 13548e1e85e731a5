/**
 * Word counting for training: each text is cut by the pre-tokenizer and each distinct piece is
 * counted once per occurrence, so training works on (piece, count) pairs instead of the corpus.
 * {@linkcode WordCounter} spreads the counting over Workers (one per core).
 *
 * @module
 */
import { pretokenize } from "./pretokenize.ts";
import { SpelledError } from "../job/mod.ts";

/**
 * Adds the pre-tokenizer pieces of `text` to `counts`.
 *
 * @param text Any text.
 * @param counts Piece → occurrences; updated in place and returned.
 * @returns `counts`.
 *
 * @example
 * ```ts
 * import { countWords } from "./count.ts";
 * const counts = countWords("the cat and the hat");
 * console.assert(counts.get(" the") === 1 && counts.get("the") === 1 && counts.get(" hat") === 1);
 * ```
 */
export function countWords(
  text: string,
  counts: Map<string, number> = new Map(),
): Map<string, number> {
  for (const piece of pretokenize(text)) counts.set(piece, (counts.get(piece) ?? 0) + 1);
  return counts;
}

/** Adds the counts of `from` to `into`. */
function addCounts(into: Map<string, number>, from: Map<string, number>): void {
  for (const [word, c] of from) into.set(word, (into.get(word) ?? 0) + c);
}

/** Messages to a counting worker. */
export type CountRequest = { type: "texts"; texts: string[] } | { type: "finish" };
/** Messages from a counting worker. */
export type CountReply = { type: "ack" } | { type: "counts"; counts: Map<string, number> };

const BATCH_CHARS = 1 << 20;
const MAX_IN_FLIGHT = 2;

interface CountWorker {
  worker: Worker;
  inFlight: number;
  wake: (() => void) | null;
  result: Promise<Map<string, number>>;
}

/**
 * Counts pre-tokenizer pieces of many texts on `threads` Workers (inline when `threads` is 1).
 * Texts are sent in batches of about 1 M characters, at most two batches waiting per worker, so
 * memory stays bounded however large the corpus is.
 *
 * @example
 * ```ts
 * import { WordCounter } from "./count.ts";
 * const counter = new WordCounter(2);
 * await counter.add("hello world");
 * await counter.add("hello there");
 * const counts = await counter.finish();
 * console.assert(counts.get("hello") === 2 && counts.get(" world") === 1);
 * ```
 */
export class WordCounter {
  #workers: CountWorker[] = [];
  #local = new Map<string, number>();
  #batch: string[] = [];
  #batchChars = 0;
  #next = 0;

  /** @param threads Number of Workers; 1 counts on the calling thread. */
  constructor(threads: number) {
    if (threads <= 1) return;
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(new URL("./_count_worker.ts", import.meta.url).href, {
        type: "module",
      });
      const entry: CountWorker = {
        worker,
        inFlight: 0,
        wake: null,
        result: Promise.resolve(new Map()),
      };
      entry.result = new Promise((resolve, reject) => {
        worker.onerror = (event) => {
          event.preventDefault();
          reject(
            new SpelledError((s) =>
              `Word counting worker failed: ${event.message} (${
                s.option("threads", "1")
              } counts without workers)`
            ),
          );
        };
        worker.onmessage = (event: MessageEvent<CountReply>) => {
          if (event.data.type === "counts") resolve(event.data.counts);
          else {
            entry.inFlight--;
            entry.wake?.();
            entry.wake = null;
          }
        };
      });
      this.#workers.push(entry);
    }
  }

  /** Counts `text` (possibly later, on a worker); resolves when there is room for more. */
  async add(text: string): Promise<void> {
    if (this.#workers.length === 0) {
      countWords(text, this.#local);
      return;
    }
    this.#batch.push(text);
    this.#batchChars += text.length;
    if (this.#batchChars >= BATCH_CHARS) await this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#batch.length === 0) return;
    const entry = this.#workers[this.#next++ % this.#workers.length]!;
    while (entry.inFlight >= MAX_IN_FLIGHT) {
      await Promise.race([new Promise<void>((wake) => entry.wake = wake), entry.result]);
    }
    entry.inFlight++;
    entry.worker.postMessage({ type: "texts", texts: this.#batch } satisfies CountRequest);
    this.#batch = [];
    this.#batchChars = 0;
  }

  /**
   * Waits for all counting to end and returns the merged counts; the workers are terminated.
   *
   * @returns Piece → occurrences over everything added.
   */
  async finish(): Promise<Map<string, number>> {
    if (this.#workers.length === 0) return this.#local;
    try {
      await this.#flush();
      for (const { worker } of this.#workers) {
        worker.postMessage({ type: "finish" } satisfies CountRequest);
      }
      const parts = await Promise.all(this.#workers.map((w) => w.result));
      // subtle: merge into the largest part so the fewest entries are re-inserted.
      parts.sort((x, y) => y.size - x.size);
      const [first, ...rest] = parts;
      for (const part of rest) addCounts(first!, part);
      return first!;
    } finally {
      this.#workers.forEach(({ worker }) => worker.terminate());
    }
  }
}
