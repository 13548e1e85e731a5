/**
 * The lock of a run folder: while a process writes a run (`moe train`, `moe distill`,
 * `moe train-moe`, an experiment and each of its sub-runs), `RUN/.lock` holds who it is — pid,
 * host, start time — so that a second writer stops at once, naming the holder, instead of mixing
 * its checkpoints and metrics into the first's. Readers (`eval`, `generate`, `export`, `report`)
 * never take it.
 *
 * The file is created whole or not at all (written beside the run, then hard-linked into place:
 * `link` fails when `.lock` exists, like `open(O_CREAT | O_EXCL)`, without a window where the file
 * is empty). It is removed when the process ends — normally, on an error, on SIGINT/SIGTERM
 * (the commands turn them into a clean stop) and on `Deno.exit` (the `unload` event). Only
 * `kill -9` or a crash of the machine leaves it behind: a lock of this host whose process is
 * gone (or whose pid now belongs to a process started later) is stale, and the next writer takes
 * it over with a warning.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { namedOsError } from "../../core/files/mod.ts";

/** Name of the lock file in a run folder. */
export const RUN_LOCK_FILE = ".lock";

/** What a lock file holds. */
export interface RunLockHolder {
  pid: number;
  host: string;
  /** When the holder took the lock (ISO 8601). */
  since: string;
  /**
   * The holder's start time in clock ticks since boot (`/proc/PID/stat` field 22, Linux), so a
   * pid reused by a later process is not mistaken for the holder; null where unknown.
   */
  processStart: number | null;
}

/** A lock this process holds. */
export interface RunLock {
  /** The run folder. */
  readonly dir: string;
  /** Removes the lock file (idempotent; safe in signal and unload handlers). */
  release(): void;
}

/** Another live process holds the run's lock. Exit code 1 (the run is busy, not misused). */
export class RunLocked extends Error {
  override name = "RunLocked";
  /** Who holds it. */
  readonly holder: RunLockHolder;
  constructor(dir: string, holder: RunLockHolder) {
    const elsewhere = holder.host !== Deno.hostname();
    super(
      `Cannot write run "${dir}": it is locked by pid ${holder.pid} on host ${holder.host} since ${holder.since}` +
        (elsewhere
          ? ` (another machine: remove "${join(dir, RUN_LOCK_FILE)}" if that process is gone)`
          : ""),
    );
    this.holder = holder;
  }
}

/** Locks held by this process, released on `unload` (which `Deno.exit` dispatches). */
const held = new Set<RunLock>();
let unloadHooked = false;

/**
 * Takes the lock of the run folder `dir` (created if missing), or takes over a stale one.
 *
 * @param dir The run folder.
 * @param onStale Told, in one sentence, whose stale lock was taken over.
 * @returns The lock; call `release()` when done writing.
 * @throws {RunLocked} If another live process holds it.
 * @throws {Error} If the folder or the lock file cannot be written; the message names the path.
 *
 * @example
 * ```ts
 * import { lockRun, RunLocked } from "./run_lock.ts";
 * const dir = await Deno.makeTempDir();
 * const lock = await lockRun(dir);
 * const second = await lockRun(dir).catch((error) => error);
 * console.assert(second instanceof RunLocked && second.holder.pid === Deno.pid);
 * lock.release();
 * (await lockRun(dir)).release();
 * ```
 */
export async function lockRun(
  dir: string,
  onStale: (message: string) => void = () => {},
): Promise<RunLock> {
  const created = await missingFolders(dir);
  await Deno.mkdir(dir, { recursive: true }).catch((error) => {
    throw namedOsError(error, "create the run folder", dir);
  });
  const path = join(dir, RUN_LOCK_FILE);
  const me: RunLockHolder = {
    pid: Deno.pid,
    host: Deno.hostname(),
    since: new Date().toISOString(),
    processStart: processStart(Deno.pid),
  };
  // A few rounds: a stale lock taken over by another process between our reads sends us round.
  for (let round = 0; round < 5; round++) {
    if (await createLockFile(path, me)) return hold(dir, path, me, created);
    const holder = await readRunLock(dir);
    if (holder === null) continue; // released between our two calls
    if (!isStale(holder)) throw new RunLocked(dir, holder);
    if (await removeIfUnchanged(path, holder)) {
      onStale(
        holder.pid === 0
          ? `Took over the unreadable lock of run "${dir}"`
          : `Took over the lock of run "${dir}": pid ${holder.pid} on host ${holder.host} (since ${holder.since}) is no longer running`,
      );
    }
  }
  const holder = await readRunLock(dir);
  if (holder !== null) throw new RunLocked(dir, holder);
  throw new Error(`Cannot lock run "${dir}": "${path}" keeps changing`);
}

/**
 * Who holds the lock of `dir`, or null when it is not locked. A lock file that cannot be parsed
 * (written by hand, or cut short by a full disk) counts as held by an unknown, dead process.
 *
 * @param dir The run folder.
 * @returns The holder, or null.
 *
 * @example
 * ```ts
 * import { lockRun, readRunLock } from "./run_lock.ts";
 * const dir = await Deno.makeTempDir();
 * console.assert(await readRunLock(dir) === null);
 * const lock = await lockRun(dir);
 * console.assert((await readRunLock(dir))?.pid === Deno.pid);
 * lock.release();
 * ```
 */
export async function readRunLock(dir: string): Promise<RunLockHolder | null> {
  const text = await Deno.readTextFile(join(dir, RUN_LOCK_FILE)).catch((error) => {
    if (error instanceof Deno.errors.NotFound) return null;
    throw namedOsError(error, "read the lock", join(dir, RUN_LOCK_FILE));
  });
  if (text === null) return null;
  try {
    const h = JSON.parse(text) as Partial<RunLockHolder>;
    if (typeof h.pid === "number" && typeof h.host === "string" && typeof h.since === "string") {
      return {
        pid: h.pid,
        host: h.host,
        since: h.since,
        processStart: typeof h.processStart === "number" ? h.processStart : null,
      };
    }
  } catch {
    // not JSON: handled below
  }
  return { pid: 0, host: Deno.hostname(), since: "an unknown time", processStart: null };
}

/**
 * Throws if a live process holds the lock of `dir` (for commands that replace or delete a run
 * folder without writing it, e.g. `--force`). A stale or absent lock is fine.
 *
 * @param dir The run folder.
 * @throws {RunLocked} Naming the holder.
 *
 * @example
 * ```ts
 * import { assertRunUnlocked, lockRun } from "./run_lock.ts";
 * const dir = await Deno.makeTempDir();
 * await assertRunUnlocked(dir);
 * const lock = await lockRun(dir);
 * console.assert(await assertRunUnlocked(dir).then(() => false, () => true));
 * lock.release();
 * ```
 */
export async function assertRunUnlocked(dir: string): Promise<void> {
  const holder = await readRunLock(dir);
  if (holder !== null && !isStale(holder)) throw new RunLocked(dir, holder);
}

/** Writes the lock beside `path` and links it into place; false if `path` exists. */
async function createLockFile(path: string, me: RunLockHolder): Promise<boolean> {
  const candidate = `${path}.${Deno.pid}.new`;
  const text = JSON.stringify(me) + "\n";
  try {
    await Deno.writeTextFile(candidate, text);
    await Deno.link(candidate, path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    if (!(await Deno.stat(candidate).then(() => true, () => false))) {
      throw namedOsError(error, "write the lock", path);
    }
    // A file system without hard links: an exclusive create (written right after) does it.
    try {
      await Deno.writeTextFile(path, text, { createNew: true });
      return true;
    } catch (fallback) {
      if (fallback instanceof Deno.errors.AlreadyExists) return false;
      throw namedOsError(fallback, "write the lock", path);
    }
  } finally {
    await Deno.remove(candidate).catch(() => {});
  }
}

/** `dir` and its ancestors that do not exist yet, deepest first. */
async function missingFolders(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (let d = resolve(dir); dirname(d) !== d; d = dirname(d)) {
    if (await Deno.lstat(d).then(() => true, () => false)) break;
    missing.push(d);
  }
  return missing;
}

/**
 * The lock of `dir`, registered for release on `unload`. Releasing it also removes the folders
 * that taking it created, when nothing else was written into them (a command that failed before
 * writing leaves no empty run folder behind).
 */
function hold(dir: string, path: string, me: RunLockHolder, created: string[]): RunLock {
  let released = false;
  const lock: RunLock = {
    dir,
    release() {
      if (released) return;
      released = true;
      held.delete(lock);
      try {
        // Only our own lock: never one another process took over meanwhile.
        const text = Deno.readTextFileSync(path);
        if ((JSON.parse(text) as RunLockHolder).pid === me.pid) Deno.removeSync(path);
      } catch {
        // already gone, or unreadable: not ours to remove
      }
      for (const folder of created) {
        try {
          Deno.removeSync(folder); // only if empty
        } catch {
          break; // something was written: keep it and everything above
        }
      }
    },
  };
  held.add(lock);
  if (!unloadHooked) {
    unloadHooked = true;
    globalThis.addEventListener("unload", () => [...held].forEach((l) => l.release()));
  }
  return lock;
}

/**
 * Removes the stale lock file at `path` if it still holds `holder` (another process may have
 * taken it over since we read it): it is renamed aside first, so only one remover wins.
 */
async function removeIfUnchanged(path: string, holder: RunLockHolder): Promise<boolean> {
  const aside = `${path}.stale-${Deno.pid}`;
  try {
    await Deno.rename(path, aside);
  } catch {
    return false; // gone already: someone else took it over or released it
  }
  const moved = await Deno.readTextFile(aside).catch(() => "");
  let same = false;
  try {
    const h = JSON.parse(moved) as RunLockHolder;
    same = h.pid === holder.pid && h.since === holder.since;
  } catch {
    same = holder.pid === 0; // the unparsable lock we read
  }
  if (!same) {
    // We moved a fresh lock of a live process: put it back unless a newer one is in place.
    await Deno.link(aside, path).catch(() => {});
  }
  await Deno.remove(aside).catch(() => {});
  return same;
}

/**
 * Whether `holder` can no longer be writing: a process of this host that is gone (or a zombie),
 * or whose pid now belongs to a process started at another time. A lock of another host is
 * never stale: its process cannot be probed from here.
 */
function isStale(holder: RunLockHolder): boolean {
  if (holder.host !== Deno.hostname()) return false;
  if (holder.pid <= 0) return true;
  if (holder.pid === Deno.pid) return false; // this process, through another lock object
  const alive = isAlive(holder.pid);
  if (alive === false) return true;
  if (holder.processStart === null) return false;
  const started = processStart(holder.pid);
  return started !== null && started !== holder.processStart;
}

/** Whether process `pid` runs: `/proc` on Linux, else `kill -0`; null when neither can tell. */
function isAlive(pid: number): boolean | null {
  const stat = readProcStat(pid);
  if (stat !== undefined) return stat !== null && stat.state !== "Z";
  try {
    const { code } = new Deno.Command("kill", { args: ["-0", String(pid)], stderr: "null" })
      .outputSync();
    return code === 0;
  } catch {
    return null;
  }
}

/** The start time of process `pid` in clock ticks since boot (Linux), or null. */
function processStart(pid: number): number | null {
  return readProcStat(pid)?.start ?? null;
}

/**
 * `/proc/PID/stat`'s state and start time; null if the process does not exist, undefined where
 * there is no `/proc` (not Linux).
 */
function readProcStat(pid: number): { state: string; start: number } | null | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) return undefined;
    // No such process, or no /proc at all (not Linux).
    return hasProc() ? null : undefined;
  }
  // "PID (COMM) STATE …": COMM may hold spaces and parentheses, so split after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0] ?? "?", start: Number(fields[19]) };
}

function hasProc(): boolean {
  try {
    return Deno.statSync("/proc/self").isDirectory;
  } catch {
    return false;
  }
}
