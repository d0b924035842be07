/**
 * Reading one value a part at a time (`get`, `hget`): the byte range to read,
 * checked before the store is touched and never more than fits the output cap,
 * and the result for the part that was read, with where the next part starts.
 */
import type { Effect } from "effect"
import { InvalidArgument, orVoid } from "../Errors.ts"
import type { Limits } from "../layers/Config.ts"
import { toCharBoundary } from "./Budget.ts"
import { type Encoding, fromBuffer } from "./Values.ts"

export interface RangeOptions {
  /** First byte to read. @default 0 */
  readonly offset?: number | undefined
  /** Most bytes to read (the output cap may return fewer). @default to the end */
  readonly length?: number | undefined
}

export interface ValuePart {
  readonly found: boolean
  readonly value: string | null
  readonly encoding: Encoding
  /** Total size of the stored value in bytes (0 when missing). */
  readonly length: number
  /** More of the value follows the returned part. */
  readonly truncated: boolean
  /** Where the next part starts: pass it back as `offset` (only when truncated). */
  readonly offset?: number
}

/** Room kept for the JSON around a value (field names, length, offset…). */
const ENVELOPE_BYTES = 256

/** Bytes of value one result may carry under the output cap. */
export const valueBudget = (limits: Limits): number => Math.max(64, limits.maxOutputBytes - ENVELOPE_BYTES)

export const missing: ValuePart = { found: false, value: null, encoding: "utf8", length: 0, truncated: false }

/** What is wrong with a byte range, or undefined. */
export const rangeProblem = (options: RangeOptions): InvalidArgument | undefined => {
  if (options.offset !== undefined && !(Number.isSafeInteger(options.offset) && options.offset >= 0)) {
    return new InvalidArgument({ message: "offset must be a whole number of bytes, 0 or more." })
  }
  if (options.length !== undefined && !(Number.isSafeInteger(options.length) && options.length > 0)) {
    return new InvalidArgument({ message: "length must be a whole number of bytes above 0." })
  }
  return undefined
}

export const checkRange = (options: RangeOptions): Effect.Effect<void, InvalidArgument> => orVoid(rangeProblem(options))

/** How many bytes to read from `offset`: what was asked, at most what fits the output. */
export const readLength = (options: RangeOptions, limits: Limits): number =>
  Math.min(options.length ?? Number.POSITIVE_INFINITY, valueBudget(limits))

/**
 * The result for bytes read at `offset` of a `total`-byte value, shrunk until its
 * JSON fits `budget` (by default what one value may take of the output cap).
 */
export const toPart = (chunk: Buffer, offset: number, total: number, limits: Limits, budget = valueBudget(limits)) => {
  let part = chunk
  while (true) {
    if (offset + part.length < total) part = toCharBoundary(part)
    const encoded = fromBuffer(part)
    const cost = Buffer.byteLength(JSON.stringify(encoded.value))
    if (cost <= budget || part.length <= 1) {
      const end = offset + part.length
      const truncated = end < total
      return {
        found: true,
        ...encoded,
        length: total,
        truncated,
        ...(truncated ? { offset: end } : {})
      } satisfies ValuePart
    }
    part = part.subarray(0, Math.min(part.length - 1, Math.max(1, Math.floor((part.length * budget) / cost))))
  }
}
