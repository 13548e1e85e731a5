import assert from "node:assert/strict";
import { join } from "node:path";
import {
  assertRunUnlocked,
  lockRun,
  readRunLock,
  RUN_LOCK_FILE,
  RunLocked,
} from "../../../pipeline/training/mod.ts";

const since = "2020-01-01T00:00:00.000Z";

async function lockOf(dir: string, holder: unknown): Promise<void> {
  await Deno.writeTextFile(join(dir, RUN_LOCK_FILE), JSON.stringify(holder));
}

Deno.test("lockRun() records pid, host and start time, and refuses a second writer naming them", async () => {
  const dir = await Deno.makeTempDir();
  const lock = await lockRun(dir);
  const holder = await readRunLock(dir);
  assert.equal(holder?.pid, Deno.pid);
  assert.equal(holder?.host, Deno.hostname());
  assert.ok(Date.now() - Date.parse(holder!.since) < 60_000);
  const second = await lockRun(dir).catch((e) => e);
  assert.ok(second instanceof RunLocked);
  assert.equal(
    second.message,
    `Cannot write run "${dir}": it is locked by pid ${Deno.pid} on host ${Deno.hostname()} since ${holder?.since}`,
  );
  await assert.rejects(assertRunUnlocked(dir), RunLocked);
  lock.release();
  assert.equal(await readRunLock(dir), null);
  await assertRunUnlocked(dir);
});

Deno.test("lockRun() takes over the lock of a process that is gone, saying whose", async () => {
  const dir = await Deno.makeTempDir();
  const gone = new Deno.Command("true").spawn();
  await gone.status;
  await lockOf(dir, { pid: gone.pid, host: Deno.hostname(), since, processStart: null });
  const said: string[] = [];
  const lock = await lockRun(dir, (line) => said.push(line));
  assert.deepEqual(said, [
    `Took over the lock of run "${dir}": pid ${gone.pid} on host ${Deno.hostname()} (since ${since}) is no longer running`,
  ]);
  assert.equal((await readRunLock(dir))?.pid, Deno.pid);
  lock.release();
});

Deno.test("lockRun() takes over a lock whose pid now belongs to a later process, and an unreadable one", async () => {
  const dir = await Deno.makeTempDir();
  const other = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    // Alive, but not the process that took the lock: it started at another time.
    await lockOf(dir, { pid: other.pid, host: Deno.hostname(), since, processStart: 1 });
    const said: string[] = [];
    (await lockRun(dir, (line) => said.push(line))).release();
    assert.equal(said.length, 1);
    // The same pid with its real start time (or none recorded) is a live holder.
    await lockOf(dir, { pid: other.pid, host: Deno.hostname(), since, processStart: null });
    assert.ok((await lockRun(dir).catch((e) => e)) instanceof RunLocked);
  } finally {
    other.kill();
    await other.status;
  }
  await Deno.writeTextFile(join(dir, RUN_LOCK_FILE), "{cut sh");
  const said: string[] = [];
  (await lockRun(dir, (line) => said.push(line))).release();
  assert.deepEqual(said, [`Took over the unreadable lock of run "${dir}"`]);
});

Deno.test("a lock of another host is never taken over: its process cannot be probed from here", async () => {
  const dir = await Deno.makeTempDir();
  await lockOf(dir, { pid: 1, host: "elsewhere.example", since, processStart: null });
  const error = await lockRun(dir).catch((e) => e);
  assert.ok(error instanceof RunLocked);
  assert.match(
    error.message,
    /on host elsewhere\.example since .* \(another machine: remove ".*\.lock" if that process is gone\)$/,
  );
});

Deno.test("release() removes the folders locking created when nothing was written, and never another's lock", async () => {
  const root = await Deno.makeTempDir();
  (await lockRun(join(root, "a", "b"))).release();
  assert.deepEqual(await Array.fromAsync(Deno.readDir(root)), []);

  const kept = await lockRun(join(root, "run"));
  await Deno.writeTextFile(join(root, "run", "metrics.jsonl"), "");
  kept.release();
  assert.deepEqual((await Array.fromAsync(Deno.readDir(join(root, "run")))).map((e) => e.name), [
    "metrics.jsonl",
  ]);

  const taken = await lockRun(join(root, "run"));
  await lockOf(join(root, "run"), { pid: 1, host: "elsewhere.example", since });
  taken.release();
  assert.equal((await readRunLock(join(root, "run")))?.host, "elsewhere.example");
});

Deno.test("a process that exits with Deno.exit() releases its locks", async () => {
  const dir = await Deno.makeTempDir();
  const module = new URL("../../../pipeline/training/run_lock.ts", import.meta.url).href;
  const code = `const { lockRun } = await import(${JSON.stringify(module)});
    await lockRun(${JSON.stringify(dir)});
    Deno.exit(3);`;
  const { code: exit } = await new Deno.Command(Deno.execPath(), { args: ["eval", code] }).output();
  assert.equal(exit, 3);
  assert.equal(await readRunLock(dir), null);
});
