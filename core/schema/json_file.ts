/**
 * Loading a JSON file against a schema, with one-line errors that name the file and the field:
 * `Cannot load model config "cfg.json": layers must be an integer ≥ 1, got "two"`. An empty,
 * truncated or non-JSON file, a missing one, a wrong type, an out-of-range or non-finite number
 * (JSON's `1e999` parses to Infinity), a missing field and an unknown field (in strict objects)
 * all fail the same way.
 *
 * @module
 */
import type { z } from "zod";
import { osErrorReason } from "../files/os_error.ts";

/** Words for zod's type names, as a message says them (`must be a number`). */
const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  array: "a list",
  tuple: "a list",
  object: "an object",
  record: "an object",
  null: "null",
};

/** A JSON value as a message shows what it found (`"two"`, `Infinity`, `a list of 3`). */
function show(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (Array.isArray(value)) {
    return value.length === 0 ? "an empty list" : `a list of ${value.length}`;
  }
  if (value !== null && typeof value === "object") return "an object";
  return String(value);
}

/**
 * A field path as written in JavaScript: `features.hashing.bits`, `bias[2]`,
 * `files["train/en.jsonl.gz"].sha256`.
 *
 * @example
 * ```ts
 * import { fieldPath } from "./json_file.ts";
 * console.assert(fieldPath(["files", "train/en.jsonl.gz", "sha256"]) === 'files["train/en.jsonl.gz"].sha256');
 * console.assert(fieldPath(["bias", 2]) === "bias[2]");
 * ```
 */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(String(key))) out += out ? `.${String(key)}` : String(key);
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** House-style wording of zod's built-in issues; a schema's own `error` text takes precedence. */
function phrase(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
    case "invalid_value":
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_small":
    case "too_big": {
      const small = issue.code === "too_small";
      const bound = small ? issue.minimum : issue.maximum;
      if (issue.origin === "array") {
        return `must have ${small ? "at least" : "at most"} ${bound} item${bound === 1 ? "" : "s"}`;
      }
      if (issue.origin === "string") {
        return `must have ${small ? "at least" : "at most"} ${bound} characters`;
      }
      return `must be ${
        small ? (issue.inclusive ? "≥" : ">") : (issue.inclusive ? "≤" : "<")
      } ${bound}`;
    }
    case "invalid_format":
      return `must match ${issue.pattern ?? issue.format}`;
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}`;
    case "unrecognized_keys":
      return ""; // the line names the keys; a strict object from fields() adds the allowed ones
    case "invalid_union":
      return "matches none of the allowed forms";
    default:
      return "is invalid";
  }
}

/** One issue as `path message, got value`. */
function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    const names = issue.keys.map((k) => JSON.stringify(fieldPath([...issue.path, k])));
    const hint = issue.message ? ` (${issue.message})` : "";
    return `unknown field${names.length > 1 ? "s" : ""} ${names.join(", ")}${hint}`;
  }
  const subject = issue.path.length > 0 ? fieldPath(issue.path) : "the file";
  // JSON has no undefined: a field whose input is undefined is absent.
  if (issue.input === undefined && issue.code === "invalid_type") return `${subject} is missing`;
  const got = issue.input === undefined || issue.code === "custom"
    ? ""
    : `, got ${show(issue.input)}`;
  return `${subject} ${issue.message}${got}`;
}

/** One line for a failed validation: the first issue, and how many more there are. */
function describeIssues(error: z.ZodError): string {
  // An unknown field first: a typo (`"layer": 2`) also makes its real field missing.
  const unknownFirst = [...error.issues].sort((a, b) =>
    Number(b.code === "unrecognized_keys") - Number(a.code === "unrecognized_keys")
  );
  const [first, ...rest] = unknownFirst;
  if (!first) return "is invalid";
  const more = rest.length === 0
    ? ""
    : ` (and ${rest.length} more problem${rest.length === 1 ? "" : "s"})`;
  return describeIssue(first) + more;
}

/**
 * Checks a parsed JSON value against `schema`.
 *
 * @param schema The file's schema.
 * @param value The parsed JSON.
 * @param what What the file is, for the message (`model config`, `router`).
 * @param path The file.
 * @returns The value as the schema outputs it.
 * @throws {SyntaxError} `Cannot load <what> "<path>": <field> <problem>, got <value>`.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { checkJson } from "./json_file.ts";
 * import { integer } from "./fields.ts";
 * try {
 *   checkJson(z.object({ layers: integer(1) }), { layers: "two" }, "model config", "cfg.json");
 * } catch (error) {
 *   console.assert((error as Error).message ===
 *     'Cannot load model config "cfg.json": layers must be an integer ≥ 1, got "two"');
 * }
 * ```
 */
export function checkJson<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  path: string,
): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true, error: phrase });
  if (result.success) return result.data;
  throw new SyntaxError(`Cannot load ${what} "${path}": ${describeIssues(result.error)}`);
}

/**
 * Parses JSON text, naming the file when it is empty, truncated or not JSON.
 *
 * @param text The file's text.
 * @param what What the file is, for the message.
 * @param path The file.
 * @returns The parsed value.
 * @throws {SyntaxError} `Cannot load <what> "<path>": the file is empty` (or `not valid JSON …`).
 *
 * @example
 * ```ts
 * import { parseJsonText } from "./json_file.ts";
 * try {
 *   parseJsonText('{"layers": 2', "model config", "cfg.json");
 * } catch (error) {
 *   console.assert((error as Error).message.startsWith('Cannot load model config "cfg.json": not valid JSON'));
 * }
 * ```
 */
export function parseJsonText(text: string, what: string, path: string): unknown {
  const fail = (why: string) => new SyntaxError(`Cannot load ${what} "${path}": ${why}`);
  if (text.trim() === "") throw fail("the file is empty");
  try {
    return JSON.parse(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    // V8 says "Unexpected end of JSON input", or expects more at the very end of the text.
    const at = /at position (\d+)/.exec(why);
    const truncated = why.startsWith("Unexpected end of JSON input") ||
      (at !== null && Number(at[1]) >= text.trimEnd().length);
    throw fail(
      truncated
        ? "not valid JSON: it ends in the middle of a value (truncated?)"
        : `not valid JSON (${why})`,
    );
  }
}

/**
 * Reads and parses a JSON file, naming it on every failure.
 *
 * @param what What the file is, for the message.
 * @param path The file.
 * @returns The parsed value (unchecked: pass it to {@linkcode checkJson}).
 * @throws {Deno.errors.NotFound} `Cannot load <what> "<path>": no such file`.
 * @throws {SyntaxError} If it is empty or not JSON; another OS error is renamed likewise.
 *
 * @example
 * ```ts
 * import { readJsonFile } from "./json_file.ts";
 * const missing = await readJsonFile("router", "/nonexistent/r.json").catch(String);
 * console.assert(missing === 'NotFound: Cannot load router "/nonexistent/r.json": no such file');
 * ```
 */
export async function readJsonFile(what: string, path: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const label = `Cannot load ${what} "${path}"`;
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`${label}: no such file`, { cause: error });
    }
    const reason = osErrorReason(error);
    if (reason === null) throw error;
    throw new Error(`${label}: ${reason}`, { cause: error });
  }
  return parseJsonText(text, what, path);
}

/**
 * Reads a JSON file and checks it against `schema`: {@linkcode readJsonFile} then
 * {@linkcode checkJson}.
 *
 * @param path The file.
 * @param schema Its schema.
 * @param what What the file is, for the message (`model config`).
 * @returns The checked value.
 * @throws {Deno.errors.NotFound} If the file does not exist.
 * @throws {SyntaxError} If it is empty, not JSON, or does not fit the schema; one line naming the
 *   file and the field.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { parseJsonFile } from "./json_file.ts";
 * import { integer } from "./fields.ts";
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(path, '{"heads": 1e999}');
 * const error = await parseJsonFile(path, z.object({ heads: integer(1) }), "model config")
 *   .catch((e) => e);
 * console.assert(error.message.endsWith("heads must be an integer ≥ 1, got Infinity"));
 * ```
 */
export async function parseJsonFile<S extends z.ZodType>(
  path: string,
  schema: S,
  what: string,
): Promise<z.output<S>> {
  return checkJson(schema, await readJsonFile(what, path), what, path);
}
