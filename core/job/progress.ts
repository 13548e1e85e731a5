/**
 * Progress reporting for long jobs: the code below `commands/` reports through this small
 * interface, and only the command line decides how it is shown (a bar on a terminal, nothing when
 * piped: `commands/_progress_bar.ts`).
 *
 * @module
 */
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
