/**
 * Stopping a long job cleanly: the signals that ask for it, the request a job polls between
 * units of work, and the error it ends with.
 *
 * @module
 */
import { type Describe, SpelledError } from "./spelled_errors.ts";

/** The signals a long command stops cleanly on: Ctrl-C, and what schedulers and `make` send. */
export type StopSignal = "SIGINT" | "SIGTERM";

/**
 * A request to stop a long job after its current unit of work (set by a signal handler, read by
 * the training loop between steps).
 */
export interface StopRequest {
  requested: boolean;
  /** The signal that asked (default `SIGINT`): the signal of the {@linkcode Interrupted}. */
  signal?: StopSignal;
}

/**
 * The job was interrupted (SIGINT or SIGTERM) and stopped cleanly. It carries the signal; the
 * command line turns it into an exit code.
 *
 * @example
 * ```ts
 * import { Interrupted } from "./stop.ts";
 * console.assert(new Interrupted().signal === "SIGINT");
 * console.assert(new Interrupted("Stopped", "SIGTERM").signal === "SIGTERM");
 * ```
 */
export class Interrupted extends SpelledError {
  /** The signal that stopped the job. */
  readonly signal: StopSignal;
  override name = "Interrupted";
  /**
   * @param message What was interrupted, and what was kept (how to continue may name a setting).
   * @param signal The signal that asked (default `SIGINT`).
   */
  constructor(message: string | Describe = "Interrupted", signal: StopSignal = "SIGINT") {
    super(message);
    this.signal = signal;
  }
}
