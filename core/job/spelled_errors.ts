/**
 * Errors whose messages name settings and steps without knowing how the user spells them. Code
 * below `commands/` names a setting as its API does (`lossSchedule`, `trainRouter()`); a command
 * line re-spells the same message with its flags and commands (`--schedule`, `moe router train
 * …`), so only `commands/` knows the command line. {@linkcode InvalidRequest}: the request is
 * malformed (a usage error); {@linkcode SpelledError}: anything else that names a setting, e.g. a
 * hint how to get past the failure (`use force to replace it`).
 *
 * @module
 */

/**
 * How a message names what it is about. The API spells an option by its field name and a step by
 * its function; a command line by a flag and a command.
 */
export interface Spelling {
  /**
   * The setting `name` (camelCase, as the API calls it, e.g. `lossSchedule`); `placeholder` is
   * what a command line shows for its value (`FILE`), if anything.
   */
  option(name: string, placeholder?: string): string;
  /** How to run the step `name` (the exported function that does it, e.g. `trainRouter`). */
  step(name: string): string;
}

/** A message that names settings and steps through a {@linkcode Spelling}. */
export type Describe = (spell: Spelling) => string;

/**
 * The API's own spelling (the default message of an {@linkcode InvalidRequest}): options by name,
 * steps as calls.
 *
 * @example
 * ```ts
 * import { API_SPELLING } from "./spelled_errors.ts";
 * console.assert(API_SPELLING.option("threads", "N") === "threads");
 * console.assert(API_SPELLING.step("trainRouter") === "trainRouter()");
 * ```
 */
export const API_SPELLING: Spelling = {
  option: (name) => name,
  step: (name) => `${name}()`,
};

/**
 * A failure whose message names settings or steps through a {@linkcode Spelling}: its `message`
 * uses {@linkcode API_SPELLING}, {@linkcode SpelledError.describe} any other.
 *
 * @example
 * ```ts
 * import { SpelledError } from "./spelled_errors.ts";
 * const error = new SpelledError((s) => `"out" exists (use ${s.option("force")} to replace it)`);
 * console.assert(error.message === '"out" exists (use force to replace it)');
 * const flags = { option: (name: string) => `--${name}`, step: (name: string) => name };
 * console.assert(error.describe(flags) === '"out" exists (use --force to replace it)');
 * ```
 */
export class SpelledError extends Error {
  override name = "SpelledError";
  readonly #describe: Describe;

  /**
   * @param describe The message: fixed text, or built from a {@linkcode Spelling}.
   * @param options The error that revealed the problem.
   */
  constructor(describe: string | Describe, options: { cause?: unknown } = {}) {
    const text: Describe = typeof describe === "string" ? () => describe : describe;
    super(text(API_SPELLING), options.cause === undefined ? {} : { cause: options.cause });
    this.#describe = text;
  }

  /**
   * The message with settings and steps named by `spell` (a command line: flags and commands).
   *
   * @param spell How to name them.
   * @returns The message.
   */
  describe(spell: Spelling): string {
    return this.#describe(spell);
  }
}

/** What an {@linkcode InvalidRequest} is about besides its message. */
export interface InvalidRequestOptions {
  /** The offending setting as the API calls it (camelCase); absent when the message names none. */
  option?: string;
  /** The error that revealed the problem. */
  cause?: unknown;
}

/**
 * The caller asked for something malformed or inconsistent (a bad value, a missing input, a
 * setting that does not fit the data). `option` names the offending setting as the API does; the
 * message spells settings through {@linkcode API_SPELLING} unless {@linkcode describe} is asked
 * for another spelling.
 *
 * @example
 * ```ts
 * import { InvalidRequest } from "./spelled_errors.ts";
 * const value = "zero";
 * const error = new InvalidRequest(
 *   (s) => `Invalid ${s.option("threads")} "${value}": expected an integer from 1 to 256`,
 *   { option: "threads" },
 * );
 * console.assert(error.option === "threads");
 * console.assert(error.message === 'Invalid threads "zero": expected an integer from 1 to 256');
 * const flags = { option: (name: string) => `--${name}`, step: (name: string) => name };
 * console.assert(error.describe(flags).startsWith('Invalid --threads "zero"'));
 * ```
 */
export class InvalidRequest extends SpelledError {
  /** The offending setting as the API calls it (camelCase), or undefined. */
  readonly option: string | undefined;
  override name = "InvalidRequest";

  /**
   * @param describe The message: fixed text, or built from a {@linkcode Spelling}.
   * @param options The offending setting and the cause.
   */
  constructor(describe: string | Describe, options: InvalidRequestOptions = {}) {
    super(describe, options);
    this.option = options.option;
  }
}
