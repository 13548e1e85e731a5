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

/**
 * The process was interrupted (SIGINT/SIGTERM) and stopped cleanly. Exit code 130.
 *
 * @example
 * ```ts
 * import { Interrupted } from "./errors.ts";
 * console.assert(new Interrupted().exitCode === 130);
 * ```
 */
export class Interrupted extends Error {
  /** Process exit code for this error. */
  readonly exitCode = 130;
  override name = "Interrupted";
  constructor(message = "Interrupted") {
    super(message);
  }
}

/**
 * The exit code for an error thrown by a command: 2 for usage, 130 for interruption, else 1.
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
