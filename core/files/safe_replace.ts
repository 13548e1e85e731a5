/**
 * What `--force` may replace (issue #15). `--force` once deleted whatever `--out` named: `--out .`
 * emptied the current folder, `--out sub/..` a whole project, `--out` the folder holding the
 * inputs deleted the inputs. Now it replaces only output that `moe` itself wrote: every output
 * folder carries a small marker file, {@linkcode OUTPUT_MARKER}, and {@linkcode assertReplaceable}
 * is the one rule every command applies before it replaces anything.
 *
 * @module
 */
import { basename, join, parse, resolve, sep } from "node:path";
import { InvalidRequest } from "../job/mod.ts";

/** Name of the marker file inside every output folder `moe` writes. */
export const OUTPUT_MARKER = ".moe-output";

/** Content of {@linkcode OUTPUT_MARKER}. */
export interface OutputMarker {
  format: "moe-output";
  version: 1;
  /** The command that wrote the folder, e.g. `"balance"`. */
  command: string;
}

/** What is about to be replaced, and what the command reads. */
export interface ReplaceOptions {
  /** `"dir"`: an output folder (replaced whole); `"file"`: one output file. */
  kind: "dir" | "file";
  /**
   * Every path the command reads; none of them may be replaced or lie inside what is. Paths that
   * do not exist are skipped.
   */
  inputs?: readonly (string | undefined)[];
}

/**
 * Writes the marker that lets a later `--force` replace `dir`. Output folders get it inside their
 * temporary directory, before the rename, so a folder is never in place without it.
 *
 * @param dir The output folder (or its temporary directory).
 * @param command The command that writes it, e.g. `"balance"`.
 *
 * @example
 * ```ts
 * import { isMoeOutput, writeOutputMarker } from "./safe_replace.ts";
 * const dir = await Deno.makeTempDir();
 * await writeOutputMarker(dir, "balance");
 * console.assert(await isMoeOutput(dir));
 * ```
 */
export async function writeOutputMarker(dir: string, command: string): Promise<void> {
  const marker: OutputMarker = { format: "moe-output", version: 1, command };
  await Deno.writeTextFile(join(dir, OUTPUT_MARKER), JSON.stringify(marker) + "\n");
}

/**
 * Whether `dir` is a folder `moe` wrote: it holds {@linkcode OUTPUT_MARKER}, or it is what an
 * earlier version wrote before the marker existed — a `manifest.json` whose `format` starts with
 * `moe` (datasets, token shards, bundles, teacher caches), an `experiment.json` of an experiment,
 * a `config.json` of a `moe` checkpoint (ONNX exports, step folders), or a training run (a
 * `latest` naming a step, its `.lock` or its `metrics.jsonl`). A Hugging Face export of an earlier version is
 * not recognised: nothing in it says `moe` wrote it.
 *
 * @param dir A folder.
 * @returns False for a folder without any of these, or a path that is not a folder.
 *
 * @example
 * ```ts
 * import { isMoeOutput } from "./safe_replace.ts";
 * const dir = await Deno.makeTempDir();
 * console.assert(!(await isMoeOutput(dir)));
 * await Deno.writeTextFile(`${dir}/manifest.json`, '{"format":"moe-token-shards"}');
 * console.assert(await isMoeOutput(dir));
 * ```
 */
export async function isMoeOutput(dir: string): Promise<boolean> {
  const json = async (name: string): Promise<unknown> => {
    try {
      return JSON.parse(await Deno.readTextFile(join(dir, name)));
    } catch {
      return null;
    }
  };
  const field = (value: unknown, key: string): unknown =>
    typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : null;
  const startsWithMoe = (value: unknown) => typeof value === "string" && value.startsWith("moe");
  if (field(await json(OUTPUT_MARKER), "format") === "moe-output") return true;
  if (startsWithMoe(field(await json("manifest.json"), "format"))) return true;
  if (startsWithMoe(field(await json("config.json"), "format"))) return true;
  const experiment = await json("experiment.json");
  if (typeof field(experiment, "experiment") === "string" && field(experiment, "params")) {
    return true;
  }
  const latest = await Deno.readTextFile(join(dir, "latest")).catch(() => null);
  if (latest !== null && /^step-\d+\s*$/.test(latest)) return true;
  // The lock of a run being (or last) written: `RUN_LOCK_FILE` of pipeline/training/run_lock.ts.
  const lock = await json(".lock");
  if (typeof field(lock, "pid") === "number" && typeof field(lock, "host") === "string") {
    return true;
  }
  return isRunMetrics(join(dir, "metrics.jsonl"));
}

/** A training run's log: empty (a run that was just started) or `{"event": …, "step": N}`. */
async function isRunMetrics(path: string): Promise<boolean> {
  const text = await Deno.readTextFile(path).catch(() => null);
  if (text === null) return false;
  const first = text.slice(0, text.indexOf("\n") + 1 || undefined).trim();
  if (first === "") return true;
  try {
    const record = JSON.parse(first) as Record<string, unknown>;
    return typeof record.event === "string" && typeof record.step === "number";
  } catch {
    return false;
  }
}

/**
 * The rule of `--force`: throws unless replacing `path` can only lose output `moe` wrote. A path
 * that does not exist is always fine. A folder (`kind: "dir"`) is refused when it resolves —
 * after `..` and symbolic links — to `/`, the home folder or one of its ancestors, the current
 * folder or one of its ancestors, an input or a folder holding one; or when it is not empty and
 * {@linkcode isMoeOutput} does not recognise it; or when it is not a folder at all. A file
 * (`kind: "file"`) is refused unless it is a regular file that is not an input.
 *
 * @param path The output about to be replaced, as the user gave it.
 * @param options Output kind and the command's inputs.
 * @throws {InvalidRequest} One line naming `path` (and where it resolves to) and why it is kept.
 *
 * @example
 * ```ts
 * import { assertReplaceable, writeOutputMarker } from "./safe_replace.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/notes.txt`, "mine");
 * let refused = false;
 * await assertReplaceable(dir, { kind: "dir" }).catch(() => refused = true);
 * console.assert(refused);
 * await writeOutputMarker(dir, "balance");
 * await assertReplaceable(dir, { kind: "dir" }); // a folder moe wrote: fine
 * ```
 */
export async function assertReplaceable(path: string, options: ReplaceOptions): Promise<void> {
  const info = await Deno.lstat(path).catch(() => null);
  if (info === null) return;
  // A dangling link is replaced, not followed: its target is not there to lose.
  const real = await Deno.realPath(path).catch(() => null);
  if (real === null) return;
  const refuse = (why: string): never => {
    const shown = path === real ? `"${path}"` : `"${path}" ("${real}")`;
    throw new InvalidRequest(`Cannot replace ${shown}: ${why}`);
  };
  const target = await Deno.stat(real);
  const inputs = [];
  for (const given of options.inputs ?? []) {
    // An input that does not exist (or a model name such as "tiny") has nothing to lose.
    const real = given === undefined ? null : await Deno.realPath(given).catch(() => null);
    if (given !== undefined && real !== null) inputs.push({ given, real });
  }
  if (options.kind === "file") {
    if (target.isDirectory) refuse("it is a folder, and only a file is written here");
    if (!target.isFile) refuse("it is not a regular file");
    const same = inputs.find((i) => i.real === real);
    if (same) refuse(`it is the input "${same.given}"`);
    return;
  }
  if (!target.isDirectory) refuse("it is a file, not an output folder moe wrote");
  if (real === parse(real).root) refuse("it is the root folder");
  const home = await homeFolder();
  if (home !== null && isWithin(real, home)) {
    refuse(real === home ? "it is the home folder" : "it holds the home folder");
  }
  const cwd = await Deno.realPath(Deno.cwd());
  if (isWithin(real, cwd)) {
    refuse(real === cwd ? "it is the current folder" : "it holds the current folder");
  }
  for (const input of inputs) {
    if (!isWithin(real, input.real)) continue;
    refuse(
      real === input.real
        ? `it is the input "${input.given}"`
        : `it holds the input "${input.given}"`,
    );
  }
  if (basename(path) === "." || basename(path) === "..") {
    // Renaming or deleting "a/.." acts on what ".." is at that moment, not on a folder by name.
    refuse(`it ends in "${basename(path)}": name the output folder itself`);
  }
  let empty = true;
  for await (const _ of Deno.readDir(real)) {
    empty = false;
    break;
  }
  if (!empty && !(await isMoeOutput(real))) {
    refuse(
      `it is not empty and moe did not write it (no ${OUTPUT_MARKER}); move it away yourself or choose another output`,
    );
  }
}

/** Whether `inner` is `outer` or lies inside it (both absolute, resolved). */
function isWithin(outer: string, inner: string): boolean {
  if (inner === outer) return true;
  return inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);
}

async function homeFolder(): Promise<string | null> {
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  if (home === undefined || home === "") return null;
  return await Deno.realPath(home).catch(() => resolve(home));
}
