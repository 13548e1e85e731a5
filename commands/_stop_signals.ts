/**
 * SIGINT and SIGTERM in one place. Schedulers and `make` stop jobs with SIGTERM, a person with
 * Ctrl-C; `moe` treats both alike. The innermost handler registered with `onStopSignal`
 * (`core/job/stop_handlers.ts`) decides: a training loop checkpoints and stops after its step, an
 * atomic writer removes its temporary folder; with none, or when a handler asks to exit, the
 * process prints one line and exits 130 (SIGINT) or 143 (SIGTERM).
 *
 * @module
 */
import { innermostStopHandler, type StopSignal } from "../core/job/mod.ts";
import { SIGNAL_EXIT_CODES } from "./_errors.ts";

const SIGNALS: readonly StopSignal[] = ["SIGINT", "SIGTERM"];
let installed = false;

function dispatch(signal: StopSignal): void {
  const reply = innermostStopHandler()?.(signal) ?? { action: "exit" };
  if (reply.action === "finish") return;
  console.error(`moe: stopped by ${signal}${reply.left ? `; ${reply.left}` : ""}`);
  Deno.exit(SIGNAL_EXIT_CODES[signal]);
}

/** Listens for SIGINT and SIGTERM once per process; until then Deno's defaults apply. */
export function installStopSignals(): void {
  if (installed) return;
  installed = true;
  for (const signal of SIGNALS) Deno.addSignalListener(signal, () => dispatch(signal));
}
