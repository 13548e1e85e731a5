/**
 * Validation of the files `moe` reads as configuration or metadata: field schemas with the
 * message a user reads, and loading a JSON file against a schema with one-line errors that name
 * the file and the field.
 *
 * @example
 * ```ts
 * import { checkJson, fields, integer } from "./mod.ts";
 * try {
 *   checkJson(fields({ layers: integer(1) }), { layers: 2, layer: 2 }, "model config", "cfg.json");
 * } catch (error) {
 *   console.assert((error as Error).message ===
 *     'Cannot load model config "cfg.json": unknown field "layer" (allowed: layers)');
 * }
 * ```
 *
 * @module
 */
export * from "./fields.ts";
export * from "./json_file.ts";
