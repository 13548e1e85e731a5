/**
 * The progress bar of the command line: throughput and ETA on stderr when it is a terminal,
 * silence when stderr is piped or `--json`/`--quiet` is set.
 *
 * @module
 */
import cliProgress from "cli-progress";
import process from "node:process";
import { type Progress, silentProgress } from "../core/job/mod.ts";

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
 * import { createProgress } from "./_progress_bar.ts";
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
