/**
 * Field schemas shared by the files `moe` reads, each with the message a user reads when a value
 * is wrong (`must be an integer ≥ 1`); {@linkcode ./json_file.ts} adds the field path and the
 * value that was found.
 *
 * @module
 */
import { z } from "zod";

/**
 * An integer in `[min, max]` (a safe integer: JSON numbers past 2⁵³ lose their last digits).
 *
 * @param min Smallest allowed value.
 * @param max Largest allowed value (default: none).
 * @returns The schema; every failure reads `must be an integer ≥ min` (or `in [min, max]`).
 *
 * @example
 * ```ts
 * import { integer } from "./fields.ts";
 * console.assert(integer(1).safeParse(2).success && !integer(1).safeParse(1.5).success);
 * console.assert(integer(1).safeParse("two").error?.issues[0]?.message === "must be an integer ≥ 1");
 * ```
 */
export function integer(min: number, max?: number): z.ZodInt {
  const error = max === undefined
    ? `must be an integer ≥ ${min}`
    : `must be an integer in [${min}, ${max}]`;
  const schema = z.int({ error }).min(min, { error });
  return max === undefined ? schema : schema.max(max, { error });
}

/**
 * A finite number, optionally bounded; `open` excludes the bounds.
 *
 * @param range Bounds (`min`, `max`) and whether they are excluded (`open`).
 * @returns The schema; every failure reads `must be a finite number …`. Infinity (what `1e999`
 *   parses to) and NaN fail it.
 *
 * @example
 * ```ts
 * import { finite } from "./fields.ts";
 * const p = finite({ min: 0, max: 1, open: "max" });
 * console.assert(p.safeParse(0).success && !p.safeParse(1).success && !p.safeParse(Infinity).success);
 * ```
 */
export function finite(
  range: { min?: number; max?: number; open?: "min" | "max" | "both" } = {},
): z.ZodNumber {
  const { min, max, open } = range;
  const openMin = open === "min" || open === "both", openMax = open === "max" || open === "both";
  const low = min === undefined ? "" : `${openMin ? "(" : "["}${min}`;
  const high = max === undefined ? "" : `${max}${openMax ? ")" : "]"}`;
  const error = low && high
    ? `must be a finite number in ${low}, ${high}`
    : low
    ? `must be a finite number ${openMin ? ">" : "≥"} ${min}`
    : high
    ? `must be a finite number ${openMax ? "<" : "≤"} ${max}`
    : "must be a finite number";
  let schema = z.number({ error });
  if (min !== undefined) schema = openMin ? schema.gt(min, { error }) : schema.gte(min, { error });
  if (max !== undefined) schema = openMax ? schema.lt(max, { error }) : schema.lte(max, { error });
  return schema;
}

/**
 * A lower-case hex sha256 digest (64 characters), as `moe` writes fingerprints.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./fields.ts";
 * console.assert(sha256Hex.safeParse("ab".repeat(32)).success && !sha256Hex.safeParse("AB").success);
 * ```
 */
export const sha256Hex: z.ZodString = z.string({ error: "must be a sha256 (64 hex digits)" })
  .regex(/^[0-9a-f]{64}$/, { error: "must be a sha256 (64 hex digits)" });

/**
 * A non-empty string.
 *
 * @example
 * ```ts
 * import { name } from "./fields.ts";
 * console.assert(name.safeParse("en").success && !name.safeParse("").success);
 * ```
 */
export const name: z.ZodString = z.string({ error: "must be a non-empty string" })
  .min(1, { error: "must be a non-empty string" });

/**
 * An object with exactly these fields: an unknown one (a typo such as `"layer"` for `"layers"`)
 * is refused, and the message lists the allowed ones.
 *
 * @param shape The fields.
 * @returns A strict object schema.
 *
 * @example
 * ```ts
 * import { fields, integer } from "./fields.ts";
 * const issue = fields({ layers: integer(1) }).safeParse({ layer: 2, layers: 2 }).error?.issues[0];
 * console.assert(issue?.code === "unrecognized_keys" && issue.message === "allowed: layers");
 * ```
 */
export function fields<Shape extends z.core.$ZodLooseShape>(
  shape: Shape,
): z.ZodObject<Shape, z.core.$strict> {
  const allowed = `allowed: ${Object.keys(shape).join(", ")}`;
  return z.strictObject(
    shape,
    { error: (issue) => issue.code === "unrecognized_keys" ? allowed : undefined },
  );
}

/**
 * {@linkcode fields} where each field may be left out (but not set to `undefined`, which JSON
 * cannot say anyway): what a file of overrides holds.
 *
 * @param shape The fields.
 * @returns A strict object schema of optional fields.
 *
 * @example
 * ```ts
 * import { integer, someFields } from "./fields.ts";
 * const overrides = someFields({ layers: integer(1), heads: integer(1) });
 * console.assert(overrides.safeParse({ heads: 2 }).success && !overrides.safeParse({ head: 2 }).success);
 * ```
 */
export function someFields<Shape extends Record<string, z.ZodType>>(
  shape: Shape,
): z.ZodObject<{ [K in keyof Shape]: z.ZodExactOptional<Shape[K]> }, z.core.$strict> {
  const optional = Object.fromEntries(
    Object.entries(shape).map(([key, schema]) => [key, schema.exactOptional()]),
  ) as { [K in keyof Shape]: z.ZodExactOptional<Shape[K]> };
  return fields(optional);
}

/**
 * `true` when X and Y are the same type, optional fields and all: a compile-time check that a
 * documented interface and the schema of its file describe the same fields.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import type { SameType } from "./fields.ts";
 * const schema = z.object({ step: z.number() });
 * const _same: SameType<z.output<typeof schema>, { step: number }> = true;
 * ```
 */
export type SameType<X, Y> = (<T>() => T extends X ? 1 : 2) extends (<T>() => T extends Y ? 1 : 2)
  ? true
  : false;
