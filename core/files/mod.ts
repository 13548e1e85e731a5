/**
 * Files that are never half-written or wrongly replaced: atomic writes (temporary file or folder,
 * then rename), what `--force` may replace, and OS errors that name the file.
 *
 * @module
 */
export * from "./atomic.ts";
export * from "./safe_replace.ts";
export * from "./os_error.ts";
