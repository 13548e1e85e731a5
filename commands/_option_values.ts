/**
 * How the commands read flag values: numbers within bounds, repeatable flags, and the core's
 * `RangeError`s about a value turned into usage errors (exit 2). One copy for every command.
 *
 * @module
 */
import { InvalidArgumentError } from "commander";
import { UsageError } from "./_errors.ts";

/**
 * A commander argument parser for a number within [min, max]; bad values are usage errors.
 *
 * @param min The smallest value allowed.
 * @param max The largest value allowed.
 * @param integer Whether only integers are allowed.
 * @returns The parser commander calls with the flag's text.
 * @throws {InvalidArgumentError} From the parser, on an empty, non-numeric or out-of-range value
 *   (commander prints it as a usage error).
 *
 * @example
 * ```ts
 * import { numberIn } from "./_option_values.ts";
 * const parse = numberIn(0, 1);
 * console.assert(parse("0.5") === 0.5);
 * try {
 *   parse("2");
 *   console.assert(false);
 * } catch (error) {
 *   console.assert((error as Error).message === "expected a number in [0, 1]");
 * }
 * ```
 */
export function numberIn(min: number, max: number, integer = false): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (
      value.trim() === "" || !Number.isFinite(n) || n < min || n > max ||
      (integer && !Number.isInteger(n))
    ) {
      throw new InvalidArgumentError(
        `expected ${integer ? "an integer" : "a number"} in [${min}, ${max}]`,
      );
    }
    return n;
  };
}

/**
 * A commander argument parser for an integer within [min, max]: {@linkcode numberIn} for counts.
 *
 * @param min The smallest value allowed.
 * @param max The largest value allowed.
 * @returns The parser commander calls with the flag's text.
 *
 * @example
 * ```ts
 * import { integerIn } from "./_option_values.ts";
 * const parse = integerIn(1, 8);
 * console.assert(parse("3") === 3);
 * try {
 *   parse("2.5");
 *   console.assert(false);
 * } catch (error) {
 *   console.assert((error as Error).message === "expected an integer in [1, 8]");
 * }
 * ```
 */
export function integerIn(min: number, max: number): (value: string) => number {
  return numberIn(min, max, true);
}

/**
 * Commander collector for a repeatable option: each value is appended to the ones before
 * (`previous` is undefined for the first value when the option has no default).
 *
 * @param value This occurrence's value.
 * @param previous The values collected so far.
 * @returns The values so far, then `value`.
 *
 * @example
 * ```ts
 * import { collect } from "./_option_values.ts";
 * const first = collect("en=a.txt", undefined);
 * console.assert(JSON.stringify(collect("fr=b.txt", first)) === '["en=a.txt","fr=b.txt"]');
 * ```
 */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Runs `fn`, turning a `RangeError` (how the core rejects a value, e.g. a split that does not
 * sum to 1) into a {@linkcode UsageError} with the same message, so that the command exits 2.
 *
 * @param fn Parses or reads what a flag names.
 * @returns What `fn` returned.
 * @throws {UsageError} If `fn` threw a `RangeError`; any other error unchanged.
 *
 * @example
 * ```ts
 * import { asUsageError } from "./_option_values.ts";
 * import { UsageError } from "./_errors.ts";
 * const bad = asUsageError(() => {
 *   throw new RangeError("Invalid --split");
 * });
 * console.assert(await bad.catch((e) => e instanceof UsageError && e.message === "Invalid --split"));
 * ```
 */
export async function asUsageError<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw error instanceof RangeError ? new UsageError(error.message) : error;
  }
}
