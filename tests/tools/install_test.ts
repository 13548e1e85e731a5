import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

async function run(cmd: string, args: string[], env: Record<string, string>, cwd = ROOT) {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    cwd,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

Deno.test("tools/install.ts (deno task install) puts a moe on PATH that works from any folder without deno on PATH", async () => {
  const root = await Deno.makeTempDir();
  const env = { DENO_INSTALL_ROOT: root, NO_COLOR: "1" };
  // What `deno task install` runs after `deno install` (which the suite has done; running it again
  // here would lock node_modules under the other tests' feet).
  const installed = await run(Deno.execPath(), ["run", "-A", "tools/install.ts"], env);
  assert.equal(installed.code, 0, installed.stderr);
  const moe = join(root, "bin", "moe");
  const elsewhere = await Deno.makeTempDir();
  // An empty PATH: the launcher must not depend on finding `deno` there.
  const help = await run(moe, ["--help"], { PATH: "" }, elsewhere);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage: moe/);
  const distill = await run(moe, ["distill", "--lang", "fr", "--help"], { PATH: "" }, elsewhere);
  assert.equal(distill.code, 0, distill.stderr);
  assert.match(distill.stdout, /Usage: moe distill/);
  const removed = await run(Deno.execPath(), ["task", "uninstall"], env);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(await Deno.stat(moe).then(() => true, () => false), false);
});
