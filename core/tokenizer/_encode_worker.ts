/**
 * Worker side of {@linkcode encodeDataset} with threads: loads the tokenizer once, then encodes
 * one dataset file into one shard per request, reporting progress about every megabyte.
 *
 * @module
 */
import { encodeFile, type EncodeReply, type EncodeRequest } from "./encode_dataset.ts";
import { loadTokenizer } from "./hf_json.ts";
import type { TextTokenizer } from "./text_tokenizer.ts";

const scope = self as unknown as Worker;
let loaded: { path: string; tokenizer: TextTokenizer } | null = null;

scope.onmessage = async (event: MessageEvent<EncodeRequest>) => {
  const { tokenizerPath, fingerprint, input, output } = event.data;
  const reply = (message: EncodeReply) => scope.postMessage(message);
  try {
    if (loaded?.path !== tokenizerPath) {
      loaded = { path: tokenizerPath, tokenizer: await loadTokenizer(tokenizerPath) };
    }
    if (loaded.tokenizer.fingerprint !== fingerprint) {
      throw new Error(`Tokenizer "${tokenizerPath}" changed on disk while encoding`);
    }
    let pending = 0;
    const counts = await encodeFile(loaded.tokenizer, input, output, (n) => {
      pending += n;
      if (pending >= 1 << 20) {
        reply({ type: "bytes", n: pending });
        pending = 0;
      }
    });
    if (pending > 0) reply({ type: "bytes", n: pending });
    reply({ type: "done", ...counts });
  } catch (error) {
    reply({ type: "error", message: error instanceof Error ? error.message : String(error) });
  }
};
