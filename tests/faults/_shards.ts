/**
 * Shard directories for the resume checks: the fixture byte shards with each shard's sha256 in
 * the manifest (as `moe tokenizer encode` records it), and the same text re-encoded in place by
 * another tokenizer of the same vocabulary size.
 *
 * @module
 */
import { join } from "node:path";
import { sha256File } from "../../core/data/mod.ts";
import {
  readShard,
  saveTokenizer,
  ShardWriter,
  type TokensManifest,
} from "../../core/tokenizer/mod.ts";
import { BYTE_MODEL, byteShards } from "../pipeline/training/_fixtures.ts";

/** Byte shards whose manifest records every shard's sha256. */
export async function hashedShards(): Promise<string> {
  const { dir } = await byteShards({ classes: ["en", "fr"], trainBytes: 6_000 });
  const manifest = await readManifest(dir);
  for (const path of Object.keys(manifest.shards)) {
    manifest.shards[path]!.sha256 = await sha256File(join(dir, path));
  }
  await writeManifest(dir, manifest);
  return dir;
}

/**
 * Re-encodes `dir` in place with another byte-level tokenizer of the same vocabulary (byte b is
 * id 255 − b): new `tokenizer.json`, new shards of the same lengths, a manifest naming both.
 */
export async function reencodeInPlace(dir: string): Promise<string> {
  const fingerprint = await saveTokenizer(join(dir, "tokenizer.json"), {
    ...BYTE_MODEL,
    byteIds: Int32Array.from({ length: 256 }, (_, b) => 255 - b),
  });
  const manifest = await readManifest(dir);
  for (const path of Object.keys(manifest.shards)) {
    const { tokens } = await readShard(join(dir, path));
    const writer = await ShardWriter.create(join(dir, path), {
      vocabSize: 258,
      eotId: 256,
      fingerprint,
    });
    let doc: number[] = [];
    for (const id of tokens) {
      if (id === 256) {
        await writer.writeDocument(doc);
        doc = [];
      } else doc.push(255 - id);
    }
    await writer.close();
    manifest.shards[path]!.sha256 = await sha256File(join(dir, path));
  }
  manifest.tokenizer = { ...manifest.tokenizer, fingerprint, path: join(dir, "tokenizer.json") };
  await writeManifest(dir, manifest);
  return fingerprint;
}

/** The manifest of a shard directory. */
export async function readManifest(dir: string): Promise<TokensManifest> {
  return JSON.parse(await Deno.readTextFile(join(dir, "manifest.json"))) as TokensManifest;
}

async function writeManifest(dir: string, manifest: TokensManifest): Promise<void> {
  await Deno.writeTextFile(join(dir, "manifest.json"), JSON.stringify(manifest, null, 2));
}
