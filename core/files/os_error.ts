/**
 * Operating-system errors in the house style. Deno words them `No space left on device (os error
 * 28): writefile 'runs/x/state.safetensors'` — or, for a write through an open file, without the
 * path at all. {@linkcode describeOsErrors} rewrites the first form into `Cannot write
 * "runs/x/state.safetensors": no space left on device`; {@linkcode nameOsErrors} lets a writer that
 * holds a file handle name the file itself.
 *
 * @module
 */

/** Deno's text: reason, `(os error N)`, then `: op 'path'` (or `'from' -> 'to'`) when it had one. */
const OS_ERROR =
  /(?<reason>[A-Z][^():'\n]*?) \(os error \d+\)(?:: (?<op>[a-z_]+)(?: '(?<path>[^']*)'(?: -> '(?<to>[^']*)')?)?)?/g;

/** Deno's operation names (`readfile`, `mkdir`, …) as the verb of `Cannot <verb> "<path>"`. */
const VERBS: Readonly<Record<string, string>> = {
  readfile: "read",
  writefile: "write",
  open: "open",
  mkdir: "create the folder",
  remove: "remove",
  rename: "rename",
  copy: "copy",
  stat: "read",
  lstat: "read",
  readdir: "list",
  realpath: "resolve",
  truncate: "truncate",
  chmod: "change the mode of",
  symlink: "link",
  link: "link",
  utime: "touch",
  tmpdir: "create a temporary folder",
  tmpfile: "create a temporary file",
};

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/**
 * Rewrites every Deno OS error text inside `message` as `Cannot <verb> "<path>": <reason>`
 * (`cannot` when it is not at the start); an error that names no path keeps only its reason.
 *
 * @param message An error message.
 * @returns The message in the house style; unchanged when it holds no OS error text.
 *
 * @example
 * ```ts
 * import { describeOsErrors } from "./os_error.ts";
 * console.assert(
 *   describeOsErrors("No space left on device (os error 28): writefile 'runs/x/a.bin'") ===
 *     'Cannot write "runs/x/a.bin": no space left on device',
 * );
 * console.assert(
 *   describeOsErrors("File exists (os error 17): mkdir 'afile'") ===
 *     'Cannot create the folder "afile": file exists',
 * );
 * ```
 */
export function describeOsErrors(message: string): string {
  return message.replace(OS_ERROR, (...args) => {
    const offset = args.at(-3) as number;
    const groups = args.at(-1) as Record<string, string | undefined>;
    const reason = lowerFirst(groups.reason!);
    if (groups.op === undefined) return offset === 0 ? groups.reason! : reason;
    const verb = VERBS[groups.op] ?? groups.op;
    const object = groups.path === undefined
      ? ""
      : groups.to === undefined
      ? ` "${groups.path}"`
      : ` "${groups.path}" to "${groups.to}"`;
    return `${offset === 0 ? "Cannot" : "cannot"} ${verb}${object}: ${reason}`;
  });
}

/**
 * The reason of an OS error in lower case (`no space left on device`), or null when `error` is
 * not one.
 *
 * @example
 * ```ts
 * import { osErrorReason } from "./os_error.ts";
 * const error = await Deno.readFile("/nonexistent/x").catch((e) => e);
 * console.assert(osErrorReason(error) === "no such file or directory");
 * console.assert(osErrorReason(new Error("other")) === null);
 * ```
 */
export function osErrorReason(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const match = new RegExp(OS_ERROR.source).exec(error.message);
  return match?.index === 0 ? lowerFirst(match.groups!.reason!) : null;
}

/**
 * Runs `fn`, which reads or writes `path`; an OS error it throws is rethrown, of the same class
 * and with it as the cause, as `Cannot <action> "<path>": <reason>`. Writers that hold a file
 * handle need it: Deno's message then names no path (`No space left on device (os error 28)`).
 * Other errors pass through unchanged.
 *
 * @param action The verb: `write`, `read`, …
 * @param path The file the user knows (the final name, not a temporary sibling).
 * @param fn The work.
 * @returns What `fn` returned.
 *
 * @example
 * ```ts
 * import { nameOsErrors } from "./os_error.ts";
 * const error = await nameOsErrors("write", "out.bin", async () => {
 *   using file = await Deno.open("/dev/full", { write: true });
 *   await file.write(new Uint8Array(8));
 * }).catch((e) => e);
 * console.assert(error.message === 'Cannot write "out.bin": no space left on device');
 * ```
 */
export async function nameOsErrors<T>(
  action: string,
  path: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw namedOsError(error, action, path);
  }
}

/**
 * The error {@linkcode nameOsErrors} throws for `error`: a renamed OS error, or `error` itself.
 *
 * @param error What was thrown.
 * @param action The verb.
 * @param path The file.
 * @returns The error to throw.
 */
export function namedOsError(error: unknown, action: string, path: string): unknown {
  const reason = osErrorReason(error);
  if (reason === null) return error;
  return reworded(error as Error, `Cannot ${action} "${path}": ${reason}`);
}

/**
 * An error like `error` — same class (`Deno.errors.NotFound` stays one), same `code` — with
 * another message, and `error` as its cause.
 */
function reworded(error: Error, message: string): Error {
  const Class = error.constructor as new (message: string, options: ErrorOptions) => Error;
  const copy = new Class(message, { cause: error });
  const code = (error as { code?: unknown }).code;
  return code === undefined ? copy : Object.assign(copy, { code });
}

/**
 * `error` with every mention of `from` in its message replaced by `to`, of the same class and
 * with `error` as its cause: a writer that works in a temporary folder and renames it into place
 * names the final path, the one the user will look for.
 *
 * @param error What was thrown.
 * @param from The temporary path.
 * @param to The final path.
 * @returns The error to throw (`error` itself when its message does not mention `from`).
 *
 * @example
 * ```ts
 * import { renamedInMessage } from "./os_error.ts";
 * const error = new Error('Cannot write "run/.step-000020.tmp-7/state.safetensors": no space left on device');
 * const renamed = renamedInMessage(error, "run/.step-000020.tmp-7", "run/step-000020") as Error;
 * console.assert(renamed.message === 'Cannot write "run/step-000020/state.safetensors": no space left on device');
 * ```
 */
export function renamedInMessage(error: unknown, from: string, to: string): unknown {
  if (!(error instanceof Error) || !error.message.includes(from)) return error;
  return reworded(error, error.message.replaceAll(from, to));
}
