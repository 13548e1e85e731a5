/**
 * `deno task install`: puts `moe` on PATH with `deno install -g` (permissions and this project's
 * deno.json; `DENO_INSTALL_ROOT` chooses where, default `~/.deno`), then points the launcher at
 * the Deno that ran this task. Deno's launcher runs `deno` from PATH, which a user who ran
 * `npx deno@… task install` may not have; with the absolute path, `moe` works from any folder,
 * shell script or Makefile. `deno task uninstall` removes it.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const installed = await new Deno.Command(Deno.execPath(), {
  args: [
    "install",
    "--global",
    "--allow-all",
    // Training collects the replaced state's buffers after each step (core/runtime/training_step.ts).
    "--v8-flags=--expose-gc",
    "--force",
    "--name",
    "moe",
    "--config",
    join(root, "deno.json"),
    join(root, "main.ts"),
  ],
  stdout: "inherit",
  stderr: "inherit",
}).output();
if (!installed.success) Deno.exit(installed.code);

const home = Deno.env.get("HOME") ?? "";
const bin = join(Deno.env.get("DENO_INSTALL_ROOT") ?? join(home, ".deno"), "bin");
const launcher = join(bin, "moe");
const text = await Deno.readTextFile(launcher);
// Deno writes `exec deno run …`; quote the path, which may hold spaces.
await Deno.writeTextFile(launcher, text.replace(/^exec deno /m, `exec '${Deno.execPath()}' `));
console.log(`moe: installed ${launcher} (runs ${join(root, "main.ts")} with ${Deno.execPath()})`);
