/**
 * Corpora and datasets: reading documents in every accepted format, measuring, de-duplicating,
 * balancing and group-aware splitting, and reading the balanced datasets back.
 *
 * @example
 * ```ts
 * import { readDocuments } from "./mod.ts";
 * let n = 0;
 * for await (const _ of readDocuments("fixtures/corpus/en.jsonl.gz")) n++;
 * console.assert(n > 0);
 * ```
 *
 * @module
 */
export * from "./documents.ts";
export * from "./lines.ts";
export * from "./measure.ts";
export * from "./content_hash.ts";
export * from "./select.ts";
export * from "./split.ts";
export * from "./dataset.ts";
export * from "./jsonl_writer.ts";
export * from "./balance.ts";
export * from "./columns.ts";
