/**
 * Reading the parts of a `tokenizer.json` with errors that name the JSON path of the part:
 * `Cannot load tokenizer "tok.json": pre_tokenizer.pretokenizers[1].type "Digits" is not
 * supported (supported: ByteLevel, Split, Metaspace, Sequence)`.
 *
 * @module
 */

/** A JSON object. */
export type Json = Record<string, unknown>;

/** Throws the load error for the part at `path` (a JSON path such as `model.vocab`). */
export type Fail = (path: string, problem: string) => never;

/** The failure function of one file: `Cannot load tokenizer "<name>": <path> <problem>`. */
export function failFor(name: string): Fail {
  return (path, problem) => {
    throw new SyntaxError(`Cannot load tokenizer "${name}": ${path} ${problem}`);
  };
}

/** Whether a value is a JSON object (not null, not an array). */
export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The problem of a value that is not `what`: "is missing" or `is <value>, not <what>`. */
export function notA(value: unknown, what: string): string {
  if (value === undefined) return "is missing";
  const text = JSON.stringify(value);
  return `is ${text.length > 60 ? text.slice(0, 57) + "…" : text}, not ${what}`;
}

/** `value` as an object, or a failure naming `path`. */
export function objectAt(value: unknown, path: string, fail: Fail): Json {
  return isObject(value) ? value : fail(path, notA(value, "an object"));
}

/** `json.type` of the part at `path`, or a failure if it has none. */
export function typeAt(json: Json, path: string, fail: Fail): string {
  return typeof json.type === "string" ? json.type : fail(`${path}.type`, "is missing");
}

/** Fails for a `type` this code does not run. */
export function unsupported(path: string, type: string, supported: string[], fail: Fail): never {
  return fail(
    `${path}.type`,
    `${JSON.stringify(type)} is not supported (supported: ${supported.join(", ")})`,
  );
}

/** `json[key]` as a string; `fallback` when absent or null (a failure if there is none). */
export function stringAt(json: Json, key: string, path: string, fail: Fail, fallback?: string) {
  const value = json[key] ?? fallback;
  return typeof value === "string" ? value : fail(`${path}.${key}`, notA(json[key], "a string"));
}

/** `json[key]` as a boolean; `fallback` when absent or null (a failure if there is none). */
export function booleanAt(
  json: Json,
  key: string,
  path: string,
  fail: Fail,
  fallback?: boolean,
): boolean {
  const value = json[key] ?? fallback;
  return typeof value === "boolean"
    ? value
    : fail(`${path}.${key}`, notA(json[key], "true or false"));
}

/** `json[key]` as an array (of the parts at `path.key[i]`). */
export function arrayAt(json: Json, key: string, path: string, fail: Fail): unknown[] {
  const value = json[key];
  return Array.isArray(value) ? value : fail(`${path}.${key}`, notA(value, "an array"));
}
