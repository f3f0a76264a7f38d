/**
 * Which shard a message goes to: FNV-1a of producer and key. All messages of
 * one producer/key pair land in one shard, so they keep their order.
 */
export function shardFor(producer: string, key: string, shards: number): number {
  let h = 0x811c9dc5;
  const text = producer + '\u0000' + key;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}
