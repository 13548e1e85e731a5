/**
 * The teacher logit cache: the teacher runs once over the train shards and keeps, for every
 * position, its k most likely next tokens and their log-probabilities at temperature τ; every
 * expert then distils from the cache without loading the teacher. The rest of the distribution
 * is one bucket of mass `1 − Σ p_top`, so the KL on the (k + 1)-bucket support is exact
 * (`forwardKLTopK` / `reverseKLTopK` in `core/losses`).
 *
 * Layout of a cache directory:
 *
 * - `manifest.json`: format, version, the teacher's fingerprint, the tokenizer's, the shards it
 *   covers (class, tokens, windows), the window length T, k, τ and the id type;
 * - `train/CLASS.topk`: one record per window `w` of the class's train shard (tokens `w·T …
 *   w·T + T`, exactly the windows `BatchSampler` draws): `T·k` ids (uint16 when the vocabulary
 *   fits, else uint32), then `T·k` log-probabilities as float16, position-major.
 *
 * Float16 keeps 3 significant digits of log p, far below the noise of a training step, and
 * halves the file. Size per million positions: `k · (id bytes + 2)` MB (k 32, uint16: 128 MB).
 *
 * This module reads a cache; `cache_build.ts` builds one.
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import {
  checkJson,
  finite,
  integer,
  name,
  parseJsonText,
  type SameType,
} from "../../core/schema/mod.ts";
import type { TokenizerId } from "./teacher.ts";

/** Format name of `manifest.json`. */
export const CACHE_FORMAT = "moe-teacher-cache";
/** Version of the layout above. */
export const CACHE_VERSION = 1;

/** `manifest.json` of a cache. */
export interface CacheManifest {
  format: typeof CACHE_FORMAT;
  version: number;
  teacher: { source: string; fingerprint: string; step: number };
  tokenizer: TokenizerId;
  /** The token shard directory the cache was built from. */
  tokens: string;
  /** Window length T. */
  seqLen: number;
  topK: number;
  temperature: number;
  idType: "uint16" | "uint32";
  /** Per class: tokens in its train shard and windows cached. */
  classes: Record<string, { tokens: number; windows: number }>;
  /** Total bytes of the record files. */
  bytes: number;
}

/** What `manifest.json` must hold; format and version are checked first, for their message. */
const cacheManifestSchema = z.object({
  format: z.literal(CACHE_FORMAT),
  version: z.number(),
  teacher: z.object({ source: z.string(), fingerprint: z.string(), step: integer(0) }),
  tokenizer: z.object({ fingerprint: z.string(), vocabSize: integer(2) }),
  tokens: z.string(),
  seqLen: integer(1),
  topK: integer(1),
  temperature: finite({ min: 0, open: "min" }),
  idType: z.enum(["uint16", "uint32"]),
  classes: z.record(name, z.object({ tokens: integer(0), windows: integer(0) })),
  bytes: integer(0),
});

// Compile-time check that the schema and the CacheManifest interface describe the same fields.
const _sameFields: SameType<z.output<typeof cacheManifestSchema>, CacheManifest> = true;

/** The top-k of a batch, ready to feed: `[B·T, k]` ids and log-probabilities. */
export interface TopKBatch {
  ids: BigInt64Array;
  logProbs: Float32Array;
}

/** An open cache. */
export interface TeacherCache {
  dir: string;
  manifest: CacheManifest;
  /** Reads the records of the given rows (class and window of each, as `Batch` carries them). */
  read(classes: readonly string[], windows: readonly number[]): Promise<TopKBatch>;
  close(): void;
}

/**
 * Opens a cache and checks its files.
 *
 * @param dir The cache directory.
 * @returns The open cache.
 * @throws {SyntaxError} If `manifest.json` is missing, not JSON, of another format or version, or
 *   a field is missing, of the wrong type or out of range, or a record file's size disagrees with
 *   it; the message names the file (and the field).
 *
 * @example
 * ```ts
 * import { openTeacherCache } from "./cache.ts";
 * const error = await openTeacherCache(await Deno.makeTempDir()).catch((e) => String(e));
 * console.assert(String(error).includes("manifest.json"));
 * ```
 */
export async function openTeacherCache(dir: string): Promise<TeacherCache> {
  const path = join(dir, "manifest.json");
  const text = await Deno.readTextFile(path).catch(() => null);
  if (text === null) {
    throw new SyntaxError(`Cannot open teacher cache "${dir}": no manifest.json there`);
  }
  const raw = parseJsonText(text, "teacher cache manifest", path) as Partial<CacheManifest> | null;
  if (raw?.format !== CACHE_FORMAT || raw.version !== CACHE_VERSION) {
    throw new SyntaxError(
      `Cannot open teacher cache "${path}": format ${JSON.stringify(raw?.format)} version ${
        JSON.stringify(raw?.version)
      }, expected ${CACHE_FORMAT} version ${CACHE_VERSION}`,
    );
  }
  const manifest = checkJson(cacheManifestSchema, raw, "teacher cache manifest", path);
  const { seqLen: T, topK: k } = manifest;
  const idBytes = manifest.idType === "uint16" ? 2 : 4;
  const recordBytes = T * k * (idBytes + 2);
  const files = new Map<string, Deno.FsFile>();
  const close = () => files.forEach((f) => f.close());
  try {
    for (const [c, { windows }] of Object.entries(manifest.classes)) {
      const file = join(dir, "train", `${c}.topk`);
      const size = (await Deno.stat(file).catch(() => null))?.size;
      if (size !== windows * recordBytes) {
        throw new SyntaxError(
          `Cannot open teacher cache "${file}": ${
            size === undefined ? "missing" : `${size} bytes`
          }, expected ${windows} windows × ${recordBytes} bytes`,
        );
      }
      files.set(c, await Deno.open(file, { read: true }));
    }
  } catch (error) {
    close();
    throw error;
  }
  const read = async (classes: readonly string[], windows: readonly number[]) => {
    const n = classes.length * T * k;
    const ids = new BigInt64Array(n), logProbs = new Float32Array(n);
    const record = new Uint8Array(recordBytes);
    for (let r = 0; r < classes.length; r++) {
      const file = files.get(classes[r]!);
      if (!file) throw new RangeError(`The teacher cache "${dir}" has no class "${classes[r]}"`);
      await file.seek(windows[r]! * recordBytes, Deno.SeekMode.Start);
      for (let at = 0; at < recordBytes;) {
        const got = await file.read(record.subarray(at));
        if (got === null) throw new SyntaxError(`Teacher cache "${dir}" is truncated`);
        at += got;
      }
      const idView = idBytes === 2
        ? new Uint16Array(record.buffer, 0, T * k)
        : new Uint32Array(record.buffer, 0, T * k);
      for (let i = 0; i < T * k; i++) ids[r * T * k + i] = BigInt(idView[i]!);
      logProbs.set(new Float16Array(record.buffer, T * k * idBytes, T * k), r * T * k);
    }
    return { ids, logProbs };
  };
  return { dir, manifest, read, close };
}

/**
 * Refuses a cache that was not built from these shards and this teacher.
 *
 * @param cache The open cache.
 * @param expected The shards' tokenizer and tokens per class; the teacher's fingerprint when a
 *   teacher is given too.
 * @throws {RangeError} Naming the cache and what differs.
 */
export function checkCacheFits(
  cache: TeacherCache,
  expected: {
    tokenizer: TokenizerId;
    tokens: Record<string, number>;
    teacherFingerprint?: string;
  },
): void {
  const m = cache.manifest;
  const fail = (what: string) => {
    throw new RangeError(`Cannot distil from the teacher cache "${cache.dir}": ${what}`);
  };
  if (m.tokenizer.fingerprint !== expected.tokenizer.fingerprint) {
    fail(
      `it was built with another tokenizer (fingerprint ${
        m.tokenizer.fingerprint.slice(0, 12)
      }…, the data's is ${expected.tokenizer.fingerprint.slice(0, 12)}…)`,
    );
  }
  if (
    expected.teacherFingerprint !== undefined &&
    expected.teacherFingerprint !== m.teacher.fingerprint
  ) {
    fail(`it was built from another teacher ("${m.teacher.source}", step ${m.teacher.step})`);
  }
  for (const [c, tokens] of Object.entries(expected.tokens)) {
    const entry = m.classes[c];
    if (!entry) fail(`it has no class "${c}" (it has ${Object.keys(m.classes).join(", ")})`);
    if (entry!.tokens !== tokens) {
      fail(`its "${c}" shard had ${entry!.tokens} tokens, the data's has ${tokens}`);
    }
  }
}
