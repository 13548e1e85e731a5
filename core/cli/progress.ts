/**
 * Progress reporting for long jobs. `core/` code reports through the small {@linkcode Progress}
 * interface; {@linkcode createProgress} draws a bar with throughput and ETA on a terminal (stderr)
 * and stays silent when stderr is piped or `quiet` is set.
 *
 * @module
 */
import cliProgress from "cli-progress";
import process from "node:process";

/** A sink for progress of one job. */
export interface Progress {
  /** Starts (or restarts) a phase with `total` units of work; `label` names the phase. */
  start(total: number, label: string): void;
  /** Sets the amount done; `info` is a short status shown after the bar (loss, rate, …). */
  update(done: number, info?: string): void;
  /** Ends the current phase and clears the line. */
  stop(): void;
}

/** A progress sink that ignores everything: for tests and piped output. */
export const silentProgress: Progress = { start() {}, update() {}, stop() {} };

/** Options for {@linkcode createProgress}. */
export interface ProgressOptions {
  /** Force silence even on a terminal (`--json`, `--quiet`). */
  quiet?: boolean;
  /** Unit shown with the throughput, e.g. "MB", "tok", "step". */
  unit?: string;
  /** Divides raw units for display (1e6 shows bytes as MB). */
  scale?: number;
}

/**
 * A progress bar on stderr when it is a terminal, else {@linkcode silentProgress}.
 *
 * @param options Unit and scale for the throughput, and whether to stay quiet.
 * @returns A progress sink.
 *
 * @example
 * ```ts
 * import { createProgress } from "./progress.ts";
 * const bar = createProgress({ quiet: true });
 * bar.start(10, "work");
 * bar.update(5);
 * bar.stop();
 * ```
 */
export function createProgress(options: ProgressOptions = {}): Progress {
  if (options.quiet || !Deno.stderr.isTerminal()) return silentProgress;
  const unit = options.unit ?? "";
  const scale = options.scale ?? 1;
  let bar: cliProgress.SingleBar | null = null;
  let startedAt = 0;
  return {
    start(total, label) {
      bar?.stop();
      startedAt = performance.now();
      bar = new cliProgress.SingleBar({
        stream: process.stderr,
        format: `${label} [{bar}] {percentage}% | {rate} ${unit}/s | ETA {eta_formatted} {info}`,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
      }, cliProgress.Presets.shades_classic);
      bar.start(total, 0, { rate: "0", info: "" });
    },
    update(done, info = "") {
      const seconds = (performance.now() - startedAt) / 1000;
      const rate = seconds > 0 ? (done / scale / seconds).toPrecision(3) : "0";
      bar?.update(done, { rate, info });
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
