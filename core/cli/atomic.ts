/**
 * Atomic output: everything is written to a temporary sibling and renamed into place at the end,
 * so an interrupted or failed command never leaves partial output behind.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";

function tempSibling(path: string): string {
  const suffix = `${Deno.pid}-${Math.random().toString(36).slice(2, 8)}`;
  return join(dirname(path), `.${basename(path)}.tmp-${suffix}`);
}

/**
 * Writes `data` to `path` through a temporary file in the same directory and a rename.
 *
 * @param path Destination file.
 * @param data Bytes or text to write.
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
    throw error;
  }
}

/**
 * Runs `fill` on a fresh temporary directory beside `path` and renames it to `path` when `fill`
 * succeeds. On failure the temporary directory is removed and the error rethrown. An existing
 * `path` is replaced only when `replace` is true.
 *
 * @param path Final directory.
 * @param fill Writes the directory's content into the temporary directory it is given.
 * @param replace Whether an existing `path` may be replaced.
 * @returns What `fill` returned.
 * @throws {Error} If `path` exists and `replace` is false.
 *
 * @example
 * ```ts
 * import { withAtomicDir } from "./atomic.ts";
 * const root = await Deno.makeTempDir();
 * await withAtomicDir(`${root}/out`, (tmp) => Deno.writeTextFile(`${tmp}/x`, "1"));
 * console.assert(await Deno.readTextFile(`${root}/out/x`) === "1");
 * ```
 */
export async function withAtomicDir<T>(
  path: string,
  fill: (tmp: string) => Promise<T>,
  replace = false,
): Promise<T> {
  const existing = await Deno.stat(path).catch(() => null);
  if (existing && !replace) {
    throw new Error(`Cannot write "${path}": it already exists (use --force to replace it)`);
  }
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  await Deno.mkdir(tmp);
  const cleanup = () => Deno.removeSync(tmp, { recursive: true });
  // An interrupted run must not leave the temporary directory behind either.
  const onSignal = () => {
    cleanup();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    const result = await fill(tmp);
    if (existing) await Deno.remove(path, { recursive: true });
    await Deno.rename(tmp, path);
    return result;
  } catch (error) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw error;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
}
