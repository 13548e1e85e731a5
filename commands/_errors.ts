/**
 * Errors the command line maps to exit codes. Everything else that is thrown is a failure
 * (exit 1); a {@linkcode UsageError}, or an {@linkcode InvalidRequest} from below `commands/`,
 * means the user asked for something malformed (exit 2); an {@linkcode Interrupted} job exits
 * with its signal's code (130, 143). Code below `commands/` names settings as its API does
 * (`lossSchedule`); {@linkcode usageErrorOf} re-spells its message with the flags (`--schedule`).
 *
 * @module
 */
import { Interrupted, InvalidRequest, type Spelling, type StopSignal } from "../core/job/mod.ts";

/** The conventional exit code of a process stopped by `signal`: 128 + its number. */
export const SIGNAL_EXIT_CODES: Readonly<Record<StopSignal, number>> = {
  SIGINT: 130,
  SIGTERM: 143,
};

/**
 * The command was called wrongly: unknown flag, bad value, missing argument. Exit code 2.
 *
 * @example
 * ```ts
 * import { UsageError } from "./_errors.ts";
 * const err = new UsageError('Invalid --split "0.5,0.6": fractions must sum to 1');
 * console.assert(err.exitCode === 2);
 * ```
 */
export class UsageError extends Error {
  /** Process exit code for this error. */
  readonly exitCode = 2;
  override name = "UsageError";
}

/** The options whose flag is not `--` and the kebab-case of their API name. */
const FLAG_OF_OPTION: Readonly<Record<string, string>> = {
  lossSchedule: "--schedule",
};

/** The steps a message may suggest, as the command line that runs them. */
const COMMAND_OF_STEP: Readonly<Record<string, string>> = {
  trainRouter: "moe router train --data BALANCED_DIR --out router.json",
};

/**
 * The flag of an option named as the API does: `--` and its kebab-case (`seqLen` → `--seq-len`),
 * except for the few flags named otherwise.
 *
 * @param option The option's API name (camelCase).
 * @returns The flag.
 *
 * @example
 * ```ts
 * import { flagOf } from "./_errors.ts";
 * console.assert(flagOf("threads") === "--threads");
 * console.assert(flagOf("seqLen") === "--seq-len");
 * console.assert(flagOf("lossSchedule") === "--schedule");
 * ```
 */
export function flagOf(option: string): string {
  return FLAG_OF_OPTION[option] ?? `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** How the command line names options (flags, with their value's placeholder) and steps. */
export const CLI_SPELLING: Spelling = {
  option: (name, placeholder) =>
    placeholder === undefined ? flagOf(name) : `${flagOf(name)} ${placeholder}`,
  // A step no command runs keeps the API's name rather than inventing a command line.
  step: (name) => COMMAND_OF_STEP[name] ?? `${name}()`,
};

/**
 * The usage error the user sees for a request the code below `commands/` refused: the same
 * message, with flags where the API names options.
 *
 * @param error The refused request.
 * @returns The usage error (its `cause` is `error`).
 *
 * @example
 * ```ts
 * import { usageErrorOf } from "./_errors.ts";
 * import { InvalidRequest } from "../core/job/mod.ts";
 * const refused = new InvalidRequest((s) => `Invalid ${s.option("seqLen")} 512: too long`, {
 *   option: "seqLen",
 * });
 * console.assert(usageErrorOf(refused).message === "Invalid --seq-len 512: too long");
 * ```
 */
export function usageErrorOf(error: InvalidRequest): UsageError {
  return new UsageError(error.describe(CLI_SPELLING), { cause: error });
}

/**
 * The exit code for an error thrown by a command: 2 for usage (and a refused request), 130 or 143
 * for interruption (SIGINT, SIGTERM), else 1.
 *
 * @param error Anything that was thrown.
 * @returns The process exit code.
 *
 * @example
 * ```ts
 * import { exitCodeOf, UsageError } from "./_errors.ts";
 * import { InvalidRequest, Interrupted } from "../core/job/mod.ts";
 * console.assert(exitCodeOf(new UsageError("x")) === 2);
 * console.assert(exitCodeOf(new InvalidRequest("x", { option: "threads" })) === 2);
 * console.assert(exitCodeOf(new Interrupted("x", "SIGTERM")) === 143);
 * console.assert(exitCodeOf(new Error("x")) === 1);
 * ```
 */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return error.exitCode;
  if (error instanceof InvalidRequest) return 2;
  if (error instanceof Interrupted) return SIGNAL_EXIT_CODES[error.signal];
  return 1;
}
