/**
 * What a long job (training, encoding, a study) shares with whoever runs it: a progress sink, a
 * stop request and the error for a request it cannot carry out, so the code below `commands/`
 * never draws a bar, handles a signal or names a flag itself.
 *
 * @module
 */
export * from "./spelled_errors.ts";
export * from "./progress.ts";
export * from "./stop.ts";
export * from "./stop_handlers.ts";
