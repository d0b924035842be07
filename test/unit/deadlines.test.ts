/**
 * The one sweep timer behind every command's timeout (`Deadlines.ts`), on fake timers and
 * a fake `now`: a deadline expires never early and at most one resolution late, a deleted
 * one never fires, and the sweep stops once nothing is pending (and starts again).
 */
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { vi } from "vitest"
import { type Deadline, Deadlines } from "../../src/layers/Deadlines.ts"

const RESOLUTION = 10

/** A fake clock the sweep reads, moved together with the fake timers, 1 ms at a time. */
let now = 0
const advance = (ms: number) => {
  for (let i = 0; i < ms; i++) {
    now++
    vi.advanceTimersByTime(1)
  }
}

/** A deadline `inMs` from now that records when it expired. */
const deadline = (inMs: number, expired: Map<Deadline, number>): Deadline => {
  const d: Deadline = {
    at: now + inMs,
    expire: () => {
      assert.isFalse(expired.has(d), "a deadline expires once")
      expired.set(d, now)
    }
  }
  return d
}

describe("Deadlines", () => {
  beforeEach(() => {
    now = 0
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it("a deadline expires never before it and at most one resolution after it", () => {
    const deadlines = new Deadlines(RESOLUTION, () => now)
    const expired = new Map<Deadline, number>()
    const all: Array<Deadline> = []
    // Deadlines added at different moments, with lengths around and below the resolution.
    for (let step = 0; step < 40; step++) {
      for (const inMs of [0, 1, 3, 7, 9, 10, 11, 19, 25, 60]) {
        const d = deadline(inMs, expired)
        all.push(d)
        deadlines.add(d)
      }
      advance(3)
    }
    advance(100)
    assert.strictEqual(expired.size, all.length, "every deadline expired")
    for (const d of all) {
      const at = expired.get(d) ?? Number.NaN
      assert.isAtLeast(at, d.at, "not early")
      assert.isAtMost(at, d.at + RESOLUTION, "at most one resolution late")
    }
    assert.strictEqual(deadlines.size, 0)
  })

  it("a deleted deadline never fires; the others still do", () => {
    const deadlines = new Deadlines(RESOLUTION, () => now)
    const expired = new Map<Deadline, number>()
    const kept = deadline(15, expired)
    const dropped = deadline(15, expired)
    const droppedLate = deadline(25, expired)
    deadlines.add(kept)
    deadlines.add(dropped)
    deadlines.add(droppedLate)
    advance(5)
    deadlines.delete(dropped)
    advance(15)
    assert.isTrue(expired.has(kept))
    deadlines.delete(droppedLate) // after a sweep that expired another, before its own time
    advance(50)
    assert.isFalse(expired.has(dropped), "deleted before its time: never fires")
    assert.isFalse(expired.has(droppedLate))
    assert.strictEqual(expired.size, 1)
  })

  it("the sweep timer runs only while something is pending", () => {
    const deadlines = new Deadlines(RESOLUTION, () => now)
    const expired = new Map<Deadline, number>()
    assert.strictEqual(vi.getTimerCount(), 0, "no timer before the first deadline")
    const first = deadline(1000, expired)
    const second = deadline(1000, expired)
    deadlines.add(first)
    deadlines.add(second)
    assert.strictEqual(vi.getTimerCount(), 1, "one timer for any number of deadlines")
    deadlines.delete(first)
    deadlines.delete(second)
    advance(RESOLUTION)
    assert.strictEqual(vi.getTimerCount(), 0, "the first sweep that finds nothing stops the timer")
    advance(10 * RESOLUTION)
    assert.strictEqual(vi.getTimerCount(), 0)

    // Expiry empties it too; a later deadline starts the sweep again.
    deadlines.add(deadline(5, expired))
    assert.strictEqual(vi.getTimerCount(), 1)
    advance(2 * RESOLUTION + 1)
    assert.strictEqual(expired.size, 1)
    assert.strictEqual(vi.getTimerCount(), 0, "stopped after the deadline expired")
    deadlines.add(deadline(5, expired))
    assert.strictEqual(vi.getTimerCount(), 1)
    advance(2 * RESOLUTION + 1)
    assert.strictEqual(expired.size, 2)
  })
})
