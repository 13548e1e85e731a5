/**
 * The repeated `--input CLASS=PATH` flag shared by `balance` and `router`.
 *
 * @module
 */
import { UsageError } from "./_errors.ts";

/**
 * Groups `CLASS=PATH` specs by class, keeping their order; a class may appear several times.
 *
 * @throws {UsageError} On a spec that is not `CLASS=PATH`.
 */
export function parseClassInputs(specs: string[]): Map<string, string[]> {
  const inputs = new Map<string, string[]>();
  for (const spec of specs) {
    const match = /^([A-Za-z0-9_-]+)=(.+)$/.exec(spec);
    if (!match) {
      throw new UsageError(
        `Invalid --input "${spec}": expected CLASS=PATH with CLASS of letters, digits, _ or -`,
      );
    }
    const cls = match[1]!;
    inputs.set(cls, [...(inputs.get(cls) ?? []), match[2]!]);
  }
  return inputs;
}
