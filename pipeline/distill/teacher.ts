/**
 * The teacher of a distillation: a `moe train` checkpoint or a Hugging Face GPT-2 folder read
 * once (`readGPTCheckpoint`) — its config, its parameters (without optimizer moments) and a
 * fingerprint of those parameters, so a logit cache can prove which teacher produced it.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { type CheckpointConfig, readGPTCheckpoint } from "../training/mod.ts";

/** A loaded teacher checkpoint. */
export interface Teacher {
  /** The checkpoint directory. */
  dir: string;
  config: CheckpointConfig;
  /** Parameters by config name (`wte`, `h0.ln1.scale`, …). */
  values: Map<string, Float32Array>;
  /** sha256 of the parameters (names, sizes, bytes) in config order. */
  fingerprint: string;
}

/** Tokenizer identity as recorded in checkpoints and shard manifests. */
export interface TokenizerId {
  fingerprint: string;
  vocabSize: number;
}

/**
 * Reads a teacher: a `moe train` run directory, one of its `step-N` directories, or a Hugging
 * Face GPT-2 folder.
 *
 * @param path The run, checkpoint or Hugging Face directory.
 * @returns The teacher's config, parameters and fingerprint.
 * @throws {Deno.errors.NotFound} If there is no checkpoint at `path`.
 * @throws {RangeError} If the state lacks a parameter of the config or holds it in another
 *   shape; the message names the file.
 *
 * @example
 * ```ts
 * import { loadTeacher } from "./teacher.ts";
 * const missing = await loadTeacher(await Deno.makeTempDir()).catch((e) => String(e));
 * console.assert(String(missing).includes("No checkpoint"));
 * ```
 */
export async function loadTeacher(path: string): Promise<Teacher> {
  const { dir, config, values } = await readGPTCheckpoint(path);
  const hash = createHash("sha256");
  for (const [name, data] of values) {
    hash.update(`${name}:${data.length};`);
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return { dir, config, values, fingerprint: hash.digest("hex") };
}

/**
 * Refuses a teacher whose tokenizer differs from the student's data.
 *
 * @param teacher The teacher checkpoint's tokenizer and where it came from.
 * @param data The token shards' tokenizer and where they are.
 * @throws {RangeError} Naming both when the fingerprints or vocabulary sizes differ.
 *
 * @example
 * ```ts
 * import { checkSameTokenizer } from "./teacher.ts";
 * const id = { fingerprint: "abc", vocabSize: 300 };
 * checkSameTokenizer({ ...id, source: "runs/t" }, { ...id, source: "data/tokens" }); // no throw
 * ```
 */
export function checkSameTokenizer(
  teacher: TokenizerId & { source: string },
  data: TokenizerId & { source: string },
): void {
  if (teacher.fingerprint === data.fingerprint && teacher.vocabSize === data.vocabSize) return;
  throw new RangeError(
    `The teacher "${teacher.source}" and the data "${data.source}" use different tokenizers ` +
      `(${describe(teacher)} vs ${
        describe(data)
      }): distil on shards encoded with the teacher's tokenizer`,
  );
}

function describe(t: TokenizerId): string {
  return `fingerprint ${t.fingerprint.slice(0, 12)}…, vocab ${t.vocabSize}`;
}
