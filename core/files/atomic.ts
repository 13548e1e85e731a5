/**
 * Atomic output: everything is written to a temporary sibling and renamed into place at the end,
 * so an interrupted or failed command never leaves partial output behind, and a replaced output
 * is only deleted once its successor is in place.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { InvalidRequest, onStopSignal, SpelledError } from "../job/mod.ts";
import { namedOsError, osErrorReason, renamedInMessage } from "./os_error.ts";
import { assertReplaceable, writeOutputMarker } from "./safe_replace.ts";

function tempSibling(path: string, kind = "tmp"): string {
  const suffix = `${Deno.pid}-${Math.random().toString(36).slice(2, 8)}`;
  return join(dirname(path), `.${basename(path)}.${kind}-${suffix}`);
}

/** The OS's reason without its code (`permission denied`), else the error's own message. */
function reason(error: unknown): string {
  return osErrorReason(error) ?? (error instanceof Error ? error.message : String(error));
}

/**
 * Creates the folders above `path`. A path component that is a file is named, instead of the
 * OS's `File exists (os error 17): mkdir 'x'`.
 *
 * @param path A file or folder about to be written.
 * @throws {Error} `Cannot write "x/y": "x" is a file`, or the OS's reason naming `path`.
 *
 * @example
 * ```ts
 * import { ensureParentDir } from "./atomic.ts";
 * const root = await Deno.makeTempDir();
 * await ensureParentDir(`${root}/a/b/out`);
 * console.assert((await Deno.stat(`${root}/a/b`)).isDirectory);
 * ```
 */
export async function ensureParentDir(path: string): Promise<void> {
  const parent = dirname(path);
  try {
    await Deno.mkdir(parent, { recursive: true });
  } catch (error) {
    // Walk down from the top to the first component that exists but is not a folder.
    const parts: string[] = [];
    for (let p = parent; dirname(p) !== p; p = dirname(p)) parts.unshift(p);
    for (const p of parts) {
      const info = await Deno.stat(p).catch(() => null);
      if (info === null) break;
      if (!info.isDirectory) throw new Error(`Cannot write "${path}": "${p}" is a file`);
    }
    throw new Error(`Cannot write "${path}": ${reason(error)}`);
  }
}

/**
 * Writes `data` to `path` through a temporary file in the same directory and a rename.
 *
 * @param path Destination file.
 * @param data Bytes or text to write.
 * @throws {Error} `Cannot write "PATH": REASON` (of the OS error's class) when the OS refuses.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./atomic.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.txt`, "hello");
 * console.assert(await Deno.readTextFile(`${dir}/a.txt`) === "hello");
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempSibling(path);
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    if (error instanceof Deno.errors.NotADirectory) {
      await ensureParentDir(path); // names the component that is a file
    }
    throw namedOsError(error, "write", path);
  }
}

/** How {@linkcode withAtomicDir} may treat an existing folder. */
export interface AtomicDirOptions {
  /** Whether an existing folder may be replaced (`--force`); checked by `assertReplaceable`. */
  replace?: boolean;
  /** What the command reads: never replaced, nor a folder holding one. */
  inputs?: readonly (string | undefined)[];
  /** The command written into the folder's marker, e.g. `"balance"`. */
  command?: string;
}

/**
 * Runs `fill` on a fresh temporary directory beside `path`, adds the output marker and renames it
 * to `path` when `fill` succeeds. On failure the temporary directory is removed and the error
 * rethrown; on SIGINT or SIGTERM it is removed too and the process exits 130 or 143. An existing
 * `path` is replaced only when `replace` is true and `assertReplaceable` allows it (checked before
 * `fill` and again before the swap); it is renamed aside, the new folder renamed in, and only then
 * is the old one deleted.
 *
 * @param path Final directory.
 * @param fill Writes the directory's content into the temporary directory it is given.
 * @param options Whether `path` may be replaced, the command's inputs and name.
 * @returns What `fill` returned.
 * @throws {Error} If `path` exists and `replace` is false, or another process wrote `path`
 *   meanwhile.
 * @throws {InvalidRequest} If `path` ends in `.` or `..`, or `replace` is true but `path` is not
 *   an output `moe` wrote.
 *
 * @example
 * ```ts
 * import { withAtomicDir } from "./atomic.ts";
 * const root = await Deno.makeTempDir();
 * await withAtomicDir(`${root}/out`, (tmp) => Deno.writeTextFile(`${tmp}/x`, "1"));
 * await withAtomicDir(`${root}/out`, (tmp) => Deno.writeTextFile(`${tmp}/x`, "2"), {
 *   replace: true,
 * });
 * console.assert(await Deno.readTextFile(`${root}/out/x`) === "2");
 * ```
 */
export async function withAtomicDir<T>(
  path: string,
  fill: (tmp: string) => Promise<T>,
  options: AtomicDirOptions = {},
): Promise<T> {
  const replace = options.replace ?? false;
  const guard = { kind: "dir", inputs: options.inputs ?? [] } as const;
  const existed = await Deno.lstat(path).then(() => true, () => false);
  if (existed && !replace) {
    throw new SpelledError((s) =>
      `Cannot write "${path}": it already exists (use ${s.option("force")} to replace it)`
    );
  }
  if (existed) await assertReplaceable(path, guard);
  const name = basename(path);
  if (name === "." || name === "..") {
    // "sub/.." where sub does not exist yet: creating sub would make it name the parent.
    throw new InvalidRequest(
      `Cannot write "${path}": an output folder needs a name, not "${name}"`,
    );
  }
  await ensureParentDir(path);
  const tmp = tempSibling(path);
  await Deno.mkdir(tmp).catch((error) => {
    throw namedOsError(error, "write", path);
  });
  const swap = { aside: null as string | null, done: false };
  // An interrupted run leaves neither its temporary directory nor a half-done swap behind.
  const removeHandler = onStopSignal(() => {
    try {
      if (!swap.done) Deno.removeSync(tmp, { recursive: true });
      if (swap.aside !== null) {
        if (swap.done) Deno.removeSync(swap.aside, { recursive: true });
        else restoreSync(swap.aside, path);
      }
    } catch {
      // Exiting with the signal's code matters more than a leftover the next run can see.
    }
    const left = swap.done ? `"${path}" was complete` : `nothing was written to "${path}"`;
    return { action: "exit", left };
  });
  try {
    const result = await fill(tmp);
    await writeOutputMarker(tmp, options.command ?? "moe");
    if (replace) await assertReplaceable(path, guard); // what is there now, not at the start
    await swapIn(tmp, path, replace, swap);
    return result;
  } catch (error) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    // `Cannot write ".out.tmp-…/manifest.json"` names a folder that no longer exists.
    throw renamedInMessage(error, tmp, path);
  } finally {
    removeHandler();
  }
}

/**
 * Renames `tmp` to `path`; with `replace`, the old `path` goes aside first and is deleted last,
 * so a failure between the renames can put it back.
 */
async function swapIn(
  tmp: string,
  path: string,
  replace: boolean,
  swap: { aside: string | null; done: boolean },
): Promise<void> {
  if (replace) {
    const aside = tempSibling(path, "old");
    swap.aside = aside;
    await Deno.rename(path, aside).catch((error) => {
      swap.aside = null;
      // Gone already (another writer moved it): nothing to put aside.
      if (!(error instanceof Deno.errors.NotFound)) {
        throw new Error(`Cannot replace "${path}": ${reason(error)}`);
      }
    });
  }
  try {
    await Deno.rename(tmp, path);
    swap.done = true;
  } catch (error) {
    if (swap.aside !== null) restoreSync(swap.aside, path);
    swap.aside = null;
    const code = (error as { code?: string }).code;
    if (code === "ENOTEMPTY" || code === "EEXIST" || error instanceof Deno.errors.AlreadyExists) {
      throw new Error(
        `Cannot write "${path}": another process wrote it while this one ran (this run's output was discarded)`,
      );
    }
    throw new Error(`Cannot write "${path}": ${reason(error)}`);
  }
  if (swap.aside !== null) await Deno.remove(swap.aside, { recursive: true });
}

/** Puts the old output back, or, if another writer's output took its place, drops it. */
function restoreSync(aside: string, path: string): void {
  try {
    Deno.renameSync(aside, path);
  } catch {
    Deno.removeSync(aside, { recursive: true });
  }
}
