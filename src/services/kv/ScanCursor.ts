/**
 * The cursor of a Redis-backed `scan` page. Usually the SCAN cursor itself
 * (plain digits, "0" to start and when done). When SCAN answered a batch with more
 * keys than the page had room for, the cursor names that batch instead: the SCAN
 * cursor that read it, the COUNT it was read with (a batch is only read again the
 * same with the same COUNT), and a short hash of each key of it already returned,
 * so the next call reads the batch again and returns only the others. Keys deleted
 * in between are simply gone from the batch; keys added may come back or not, as
 * with SCAN itself.
 */
import { createHash } from "node:crypto"

/** A batch to read again: its COUNT and the hashes of the keys of it already returned. */
export interface Batch {
  readonly count: number
  readonly seen: Set<string>
}

export interface ScanFrom {
  readonly cursor: string
  readonly batch?: Batch
}

const HASH_CHARS = 8
const FORM = /^([0-9]+)(?:~([1-9][0-9]{0,6})~((?:[A-Za-z0-9_-]{8})*))?$/

/** 48 bits of SHA-256 of a key as Redis named it: a collision (rare) only hides a key from one page's batch. */
export const scanKeyHash = (key: string): string =>
  createHash("sha256").update(key, "utf8").digest("base64url").slice(0, HASH_CHARS)

export const encodeScanCursor = (cursor: string, batch: Batch): string =>
  `${cursor}~${batch.count}~${[...batch.seen].join("")}`

/** Undefined when `cursor` is not one `scan` hands out. */
export const decodeScanCursor = (cursor: string): ScanFrom | undefined => {
  const m = FORM.exec(cursor)
  if (m === null) return undefined
  if (m[2] === undefined) return { cursor: m[1]! }
  const hashes = m[3]!
  const seen = new Set<string>()
  for (let i = 0; i < hashes.length; i += HASH_CHARS) seen.add(hashes.slice(i, i + HASH_CHARS))
  return { cursor: m[1]!, batch: { count: Number(m[2]), seen } }
}
