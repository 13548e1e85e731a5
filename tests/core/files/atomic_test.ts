import assert from "node:assert/strict";
import { join } from "node:path";
import { InvalidRequest, SpelledError } from "../../../core/job/mod.ts";
import { CLI_SPELLING } from "../../../commands/_errors.ts";
import {
  OUTPUT_MARKER,
  withAtomicDir,
  writeFileAtomic,
  writeOutputMarker,
} from "../../../core/files/mod.ts";

const ATOMIC = new URL("../../../core/files/atomic.ts", import.meta.url).href;
// The command line listens for the signals and asks the writer's handler what to do.
const STOP_SIGNALS = new URL("../../../commands/_stop_signals.ts", import.meta.url).href;

/** Names in `dir`, sorted. */
async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir), (e) => e.name)).sort();
}

const write = (text: string) => (tmp: string) => Deno.writeTextFile(join(tmp, "x"), text);

Deno.test("withAtomicDir() writes the marker and replaces only with replace", async () => {
  const root = await Deno.makeTempDir();
  const out = join(root, "out");
  await withAtomicDir(out, write("1"), { command: "balance" });
  assert.deepEqual(await names(out), [OUTPUT_MARKER, "x"]);
  assert.equal(JSON.parse(await Deno.readTextFile(join(out, OUTPUT_MARKER))).command, "balance");
  const refused = await withAtomicDir(out, write("2")).catch((e: unknown) => e);
  assert.ok(refused instanceof SpelledError);
  assert.match(
    refused.message,
    /^Cannot write ".*out": it already exists \(use force to replace it\)$/,
  );
  assert.match(refused.describe(CLI_SPELLING), /\(use --force to replace it\)$/);
  await withAtomicDir(out, write("2"), { replace: true });
  assert.equal(await Deno.readTextFile(join(out, "x")), "2");
  assert.deepEqual(await names(root), ["out"]); // neither the temporary nor the old folder is left
});

Deno.test("withAtomicDir() refuses to replace a folder moe did not write, before filling", async () => {
  const root = await Deno.makeTempDir();
  await Deno.mkdir(join(root, "mine"));
  await Deno.writeTextFile(join(root, "mine", "notes.txt"), "keep me");
  let filled = false;
  await assert.rejects(
    withAtomicDir(join(root, "mine"), () => {
      filled = true;
      return Promise.resolve();
    }, { replace: true }),
    InvalidRequest,
  );
  assert.equal(filled, false);
  assert.deepEqual(await names(root), ["mine"]);
  assert.equal(await Deno.readTextFile(join(root, "mine", "notes.txt")), "keep me");
});

Deno.test("withAtomicDir() refuses to replace a folder holding an input", async () => {
  const root = await Deno.makeTempDir();
  const out = join(root, "out");
  await withAtomicDir(out, write("1"));
  await assert.rejects(
    withAtomicDir(out, write("2"), { replace: true, inputs: [join(out, "x")] }),
    /Cannot replace ".*out": it holds the input ".*x"/,
  );
  assert.equal(await Deno.readTextFile(join(out, "x")), "1");
});

Deno.test("withAtomicDir() fails with one clear line when another writer got there first", async () => {
  const root = await Deno.makeTempDir();
  const out = join(root, "out");
  // The other writer finishes while this one is filling.
  const other = (tmp: string) =>
    withAtomicDir(out, write("other")).then(() => Deno.writeTextFile(join(tmp, "x"), "mine"));
  await assert.rejects(
    withAtomicDir(out, other),
    /^Error: Cannot write ".*out": another process wrote it while this one ran \(this run's output was discarded\)$/,
  );
  assert.equal(await Deno.readTextFile(join(out, "x")), "other");
  assert.deepEqual(await names(root), ["out"]);
});

Deno.test("withAtomicDir() names a path component that is a file", async () => {
  const root = await Deno.makeTempDir();
  await Deno.writeTextFile(join(root, "afile"), "");
  await assert.rejects(
    withAtomicDir(join(root, "afile", "out"), write("1")),
    (e: Error) => e.message === `Cannot write "${root}/afile/out": "${root}/afile" is a file`,
  );
  await assert.rejects(
    writeFileAtomic(join(root, "afile", "tok.json"), "{}"),
    (e: Error) => e.message === `Cannot write "${root}/afile/tok.json": "${root}/afile" is a file`,
  );
});

Deno.test("withAtomicDir() refuses an output named by a trailing '..'", async () => {
  const root = await Deno.makeTempDir();
  await assert.rejects(withAtomicDir(`${root}/sub/..`, write("1")), InvalidRequest);
  assert.deepEqual(await names(root), []); // "sub" was not created
});

/** Starts a child that fills `out` and waits; `replace` an existing output. */
async function interruptedChild(out: string, signal: "SIGINT" | "SIGTERM") {
  const code = `
    import { withAtomicDir } from "${ATOMIC}";
    import { installStopSignals } from "${STOP_SIGNALS}";
    installStopSignals();
    await withAtomicDir(${JSON.stringify(out)}, async (tmp) => {
      await Deno.writeTextFile(tmp + "/x", "new");
      console.log("filling");
      await new Promise(() => setInterval(() => {}, 60_000));
    }, { replace: true });`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", code],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Wait until the temporary folder exists and the handlers are installed.
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("filling")) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
  }
  child.kill(signal);
  const status = await child.status;
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  const stderr = await new Response(child.stderr).text();
  return { code: status.code, stderr };
}

for (const [signal, exitCode] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`withAtomicDir() removes its temporary folder on ${signal} and exits ${exitCode}`, async () => {
    const root = await Deno.makeTempDir();
    const out = join(root, "out");
    await Deno.mkdir(out);
    await Deno.writeTextFile(join(out, "x"), "old");
    await writeOutputMarker(out, "balance");
    const { code, stderr } = await interruptedChild(out, signal);
    assert.equal(code, exitCode, stderr);
    assert.equal(stderr, `moe: stopped by ${signal}; nothing was written to "${out}"\n`);
    assert.deepEqual(await names(root), ["out"]);
    assert.equal(await Deno.readTextFile(join(out, "x")), "old");
  });
}
