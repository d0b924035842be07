/**
 * The queues on the depth gauge: those whose tasks changed recently, at most
 * `max`, each marked when it needs counting again. Kept in the order of their
 * last change, so counting takes the longest-waiting first and a full set makes
 * room by dropping the queue that changed longest ago. A queue leaves once it has
 * been idle for a while with no unfinished task; one with a backlog stays (a
 * queue nobody works on is what the backlog alert is for).
 */

interface Tracked {
  lastChange: number
  /** Changed since it was last counted. */
  dirty: boolean
  /** The last count had a task waiting, delayed, blocked or active. */
  busy: boolean
}

export class RecentQueues {
  readonly #queues = new Map<string, Tracked>()
  readonly #max: number

  constructor(max: number) {
    this.#max = max
  }

  get size(): number {
    return this.#queues.size
  }

  has(queue: string): boolean {
    return this.#queues.has(queue)
  }

  /** A task of `queue` changed at `now`. Returns the queue dropped to make room for it, if one was. */
  changed(queue: string, now: number): string | undefined {
    const known = this.#queues.get(queue)
    this.#queues.delete(queue)
    let dropped: string | undefined
    if (known === undefined && this.#queues.size >= this.#max) {
      dropped = this.#queues.keys().next().value
      if (dropped !== undefined) this.#queues.delete(dropped)
    }
    this.#queues.set(queue, { lastChange: now, dirty: true, busy: known?.busy ?? false })
    return dropped
  }

  /** A queue known to exist (registered in the store): tracked if there is room, and never in place of another. */
  learn(queue: string, now: number): void {
    if (this.#queues.has(queue) || this.#queues.size >= this.#max) return
    this.#queues.set(queue, { lastChange: now, dirty: true, busy: false })
  }

  /** Changes may have been missed (the change listener reconnected): count every queue again. */
  markAllDirty(): void {
    for (const t of this.#queues.values()) t.dirty = true
  }

  /** At most `limit` queues to count, those that changed longest ago first. */
  dirty(limit: number): ReadonlyArray<string> {
    const out: Array<string> = []
    for (const [queue, t] of this.#queues) {
      if (out.length >= limit) break
      if (t.dirty) out.push(queue)
    }
    return out
  }

  /** `queue` was counted (it had unfinished tasks or not); false when it is no longer tracked. */
  counted(queue: string, busy: boolean): boolean {
    const t = this.#queues.get(queue)
    if (t === undefined) return false
    t.dirty = false
    t.busy = busy
    return true
  }

  /** A count failed (Redis down): try again at the next round. */
  retry(queue: string): void {
    const t = this.#queues.get(queue)
    if (t !== undefined) t.dirty = true
  }

  /** Drops and returns the queues unchanged since `now - idleMs`, counted, with nothing unfinished. */
  expire(now: number, idleMs: number): ReadonlyArray<string> {
    const out: Array<string> = []
    for (const [queue, t] of this.#queues) {
      if (now - t.lastChange < idleMs) break
      if (!t.dirty && !t.busy) out.push(queue)
    }
    for (const queue of out) this.#queues.delete(queue)
    return out
  }
}
