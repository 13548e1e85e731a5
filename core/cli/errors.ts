/**
 * Errors the command line maps to exit codes. Everything else that is thrown is a failure
 * (exit 1); only a {@linkcode UsageError} means the user asked for something malformed (exit 2).
 *
 * @module
 */

/**
 * The command was called wrongly: unknown flag, bad value, missing argument. Exit code 2.
 *
 * @example
 * ```ts
 * import { UsageError } from "./errors.ts";
 * const err = new UsageError('Invalid --split "0.5,0.6": fractions must sum to 1');
 * console.assert(err.exitCode === 2);
 * ```
 */
export class UsageError extends Error {
  /** Process exit code for this error. */
  readonly exitCode = 2;
  override name = "UsageError";
}

/** The signals a long command stops cleanly on: Ctrl-C, and what schedulers and `make` send. */
export type StopSignal = "SIGINT" | "SIGTERM";

/** The conventional exit code of a process stopped by `signal`: 128 + its number. */
export const SIGNAL_EXIT_CODES: Readonly<Record<StopSignal, number>> = {
  SIGINT: 130,
  SIGTERM: 143,
};

/**
 * A request to stop a long job after its current unit of work (set by a signal handler, read by
 * the training loop between steps).
 */
export interface StopRequest {
  requested: boolean;
  /** The signal that asked (default `SIGINT`): the exit code of the {@linkcode Interrupted}. */
  signal?: StopSignal;
}

/**
 * The process was interrupted (SIGINT or SIGTERM) and stopped cleanly. Exit code 130 for SIGINT,
 * 143 for SIGTERM.
 *
 * @example
 * ```ts
 * import { Interrupted } from "./errors.ts";
 * console.assert(new Interrupted().exitCode === 130);
 * console.assert(new Interrupted("Stopped", "SIGTERM").exitCode === 143);
 * ```
 */
export class Interrupted extends Error {
  /** Process exit code for this error. */
  readonly exitCode: number;
  /** The signal that stopped the command. */
  readonly signal: StopSignal;
  override name = "Interrupted";
  constructor(message = "Interrupted", signal: StopSignal = "SIGINT") {
    super(message);
    this.signal = signal;
    this.exitCode = SIGNAL_EXIT_CODES[signal];
  }
}

/**
 * The exit code for an error thrown by a command: 2 for usage, 130 or 143 for interruption
 * (SIGINT, SIGTERM), else 1.
 *
 * @param error Anything that was thrown.
 * @returns The process exit code.
 *
 * @example
 * ```ts
 * import { exitCodeOf, UsageError } from "./errors.ts";
 * console.assert(exitCodeOf(new UsageError("x")) === 2);
 * console.assert(exitCodeOf(new Error("x")) === 1);
 * ```
 */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof Interrupted) return error.exitCode;
  return 1;
}
