/**
 * A rolling latency histogram in fixed memory: log-spaced buckets (four per
 * doubling, 16 µs to about 220 s, so a quantile is off by at most 19 %), kept
 * per time slot over a window of a few slots. An observation is two array
 * increments; when a slot ages out its counts are subtracted from the running
 * total, so a quantile walks one array of `BUCKETS` counts whatever the traffic.
 * Time is passed in (epoch or Clock milliseconds), never read here.
 */

/** Buckets per doubling of latency. */
const PER_DOUBLING = 4
/** log2 of the first bucket's upper bound in ms (2^-6 ms ≈ 16 µs). */
const FIRST_EXPONENT = -6
/** Bucket count: the last one ends near 220 s and also takes anything slower. */
export const BUCKETS = 96

/** Upper bound (ms) of each bucket. */
const UPPER: ReadonlyArray<number> = Array.from({ length: BUCKETS }, (_, i) => 2 ** (i / PER_DOUBLING + FIRST_EXPONENT))

/** The bucket holding a latency of `ms` (its upper bound is at least `ms`). */
export const bucketOf = (ms: number): number => {
  if (!(ms > UPPER[0]!)) return 0
  const i = Math.ceil((Math.log2(ms) - FIRST_EXPONENT) * PER_DOUBLING - 1e-9)
  return i >= BUCKETS ? BUCKETS - 1 : i
}

/** The upper bound (ms) of bucket `i`. */
export const upperBound = (i: number): number => UPPER[i]!

export interface WindowOptions {
  /** Length of the window (ms). */
  readonly windowMs: number
  /** Slots the window is cut into; the oldest leaves as a whole when its time is up. */
  readonly slots: number
}

export class LatencyWindow {
  readonly windowMs: number
  readonly #slotMs: number
  readonly #slots: Array<Uint32Array>
  readonly #slotMax: Float64Array
  readonly #total = new Uint32Array(BUCKETS)
  #count = 0
  #current = 0
  /** When the current slot ends; NaN before the first observation. */
  #slotEnd = Number.NaN
  /** Bumped whenever a slot ages out, so cached results know to be recomputed. */
  rotations = 0

  constructor(options: WindowOptions) {
    this.windowMs = options.windowMs
    this.#slotMs = options.windowMs / options.slots
    this.#slots = Array.from({ length: options.slots }, () => new Uint32Array(BUCKETS))
    this.#slotMax = new Float64Array(options.slots)
  }

  /** Let the slots older than the window (as of `now`) age out. */
  advance(now: number): void {
    if (now < this.#slotEnd) return
    if (Number.isNaN(this.#slotEnd)) {
      this.#slotEnd = now + this.#slotMs
      return
    }
    const steps = Math.floor((now - this.#slotEnd) / this.#slotMs) + 1
    this.#slotEnd += steps * this.#slotMs
    this.rotations++
    const n = this.#slots.length
    if (steps >= n) {
      for (const slot of this.#slots) slot.fill(0)
      this.#total.fill(0)
      this.#slotMax.fill(0)
      this.#count = 0
      return
    }
    for (let s = 0; s < steps; s++) {
      this.#current = (this.#current + 1) % n
      const slot = this.#slots[this.#current]!
      for (let i = 0; i < BUCKETS; i++) {
        const c = slot[i]!
        if (c !== 0) {
          this.#total[i]! -= c
          this.#count -= c
          slot[i] = 0
        }
      }
      this.#slotMax[this.#current] = 0
    }
  }

  /** Record one latency of `ms` at time `now`. */
  observe(now: number, ms: number): void {
    this.advance(now)
    const i = bucketOf(ms)
    this.#slots[this.#current]![i]!++
    this.#total[i]!++
    this.#count++
    if (ms > this.#slotMax[this.#current]!) this.#slotMax[this.#current] = ms
  }

  /** Observations in the window (as of the last `advance`/`observe`). */
  get count(): number {
    return this.#count
  }

  /** The slowest observation in the window (ms), 0 when empty. */
  get max(): number {
    let max = 0
    for (const m of this.#slotMax) if (m > max) max = m
    return max
  }

  /**
   * The `q` quantile (0 < q ≤ 1) in ms: the upper bound of the bucket holding
   * it, never above the slowest observation; undefined when the window is empty.
   */
  quantile(q: number): number | undefined {
    if (this.#count === 0) return undefined
    const rank = Math.max(1, Math.ceil(q * this.#count))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#total[i]!
      if (seen >= rank) return Math.min(UPPER[i]!, this.max)
    }
    return this.max
  }
}
