/**
 * Worker side of {@linkcode WordCounter}: counts the pieces of the texts it is sent and posts the
 * counts back on "finish".
 *
 * @module
 */
import { type CountReply, type CountRequest, countWords } from "./count.ts";

const counts = new Map<string, number>();
const scope = self as unknown as Worker;
scope.onmessage = (event: MessageEvent<CountRequest>) => {
  const message = event.data;
  if (message.type === "texts") {
    for (const text of message.texts) countWords(text, counts);
    scope.postMessage({ type: "ack" } satisfies CountReply);
  } else {
    scope.postMessage({ type: "counts", counts } satisfies CountReply);
    self.close();
  }
};
