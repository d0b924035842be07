/**
 * Redis Cluster key slots: CRC16 with hash tags (as the server computes them),
 * grouping keys per slot for the multi-key commands that a Cluster refuses with
 * CROSSSLOT, and the opaque cursor of a SCAN that walks every primary.
 */

/** Slots of a Redis Cluster. */
export const SLOT_COUNT = 16384

const table = (() => {
  const t = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let crc = i << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    t[i] = crc
  }
  return t
})()

const crc16 = (bytes: Uint8Array): number => {
  let crc = 0
  for (const b of bytes) crc = ((crc << 8) & 0xffff) ^ table[((crc >> 8) ^ b) & 0xff]!
  return crc
}

/** The slot of a key (the full key, prefix included): the `{tag}` part when there is a non-empty one. */
export const keySlot = (key: string | Buffer): number => {
  const bytes = typeof key === "string" ? Buffer.from(key) : key
  const open = bytes.indexOf(0x7b) // {
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1) // }
    if (close > open + 1) return crc16(bytes.subarray(open + 1, close)) % SLOT_COUNT
  }
  return crc16(bytes) % SLOT_COUNT
}

/** Positions of `keys` grouped by the slot of `prefix + key`, in first-seen order. */
export const groupBySlot = (keys: ReadonlyArray<string>, prefix: string): Array<Array<number>> => {
  const groups = new Map<number, Array<number>>()
  keys.forEach((key, i) => {
    const slot = keySlot(prefix + key)
    const group = groups.get(slot)
    if (group === undefined) groups.set(slot, [i])
    else group.push(i)
  })
  return [...groups.values()]
}

/** Contiguous slot ranges `[from, to]` (inclusive) of a sorted or unsorted list of slots. */
export const toRanges = (slots: ReadonlyArray<number>): Array<readonly [number, number]> => {
  const sorted = [...slots].sort((a, b) => a - b)
  const out: Array<[number, number]> = []
  for (const s of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && s === last[1] + 1) last[1] = s
    else if (last === undefined || s > last[1]) out.push([s, s])
  }
  return out
}

/**
 * A cluster-wide SCAN cursor: the SCAN cursor of one primary plus the lowest
 * slot that primary served when the page was taken (which names it across
 * calls, even after its address changed in a failover). Encoded as one decimal
 * number, `nodeCursor * 16384 + slot`, so "0" still means "start" and "done".
 */
export interface ClusterCursor {
  readonly slot: number
  readonly nodeCursor: bigint
}

export const encodeClusterCursor = (c: ClusterCursor): string =>
  (c.nodeCursor * BigInt(SLOT_COUNT) + BigInt(c.slot)).toString()

/** Undefined when `cursor` is not a decimal number. */
export const decodeClusterCursor = (cursor: string): ClusterCursor | undefined => {
  if (!/^[0-9]+$/.test(cursor)) return undefined
  const n = BigInt(cursor)
  return { slot: Number(n % BigInt(SLOT_COUNT)), nodeCursor: n / BigInt(SLOT_COUNT) }
}
