/**
 * SIGINT and SIGTERM in one place. Schedulers and `make` stop jobs with SIGTERM, a person with
 * Ctrl-C; `moe` treats both alike. The innermost {@linkcode onStopSignal} handler gets the signal
 * (a training loop checkpoints, an atomic writer removes its temporary folder); with none, the
 * process prints one line and exits 130 (SIGINT) or 143 (SIGTERM).
 *
 * @module
 */
import { SIGNAL_EXIT_CODES, type StopSignal } from "./errors.ts";

/** What a handler is told. */
export type StopHandler = (signal: StopSignal) => void;

const SIGNALS: readonly StopSignal[] = ["SIGINT", "SIGTERM"];
const handlers: StopHandler[] = [];
let installed = false;

function dispatch(signal: StopSignal): void {
  const innermost = handlers.at(-1);
  if (innermost) return innermost(signal);
  console.error(`moe: stopped by ${signal}`);
  Deno.exit(SIGNAL_EXIT_CODES[signal]);
}

/** Listens for SIGINT and SIGTERM once per process; until then Deno's defaults apply. */
export function installStopSignals(): void {
  if (installed) return;
  installed = true;
  for (const signal of SIGNALS) Deno.addSignalListener(signal, () => dispatch(signal));
}

/**
 * Makes `handler` the one that gets SIGINT/SIGTERM until the returned function is called; the
 * handler that was innermost before gets them again afterwards.
 *
 * @param handler Told which signal arrived; it decides whether to exit.
 * @returns Removes the handler.
 *
 * @example
 * ```ts
 * import { onStopSignal } from "./signals.ts";
 * const seen: string[] = [];
 * const remove = onStopSignal((signal) => seen.push(signal));
 * remove();
 * console.assert(seen.length === 0);
 * ```
 */
export function onStopSignal(handler: StopHandler): () => void {
  installStopSignals();
  handlers.push(handler);
  return () => {
    const at = handlers.lastIndexOf(handler);
    if (at >= 0) handlers.splice(at, 1);
  };
}
