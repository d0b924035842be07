/**
 * One timer for every command in flight instead of one each: a sweep every
 * `resolutionMs` while any deadline is pending, which expires those it finds past
 * (a deadline is met at most `resolutionMs` late). Arming and clearing a timer per
 * command costs an allocation and two list operations; adding to and removing from
 * a Set costs less, and the sweep timer stays armed across back-to-back calls,
 * stopping at the first sweep that finds nothing pending.
 */

/** A deadline: when it is, and what to do when it passes. */
export interface Deadline {
  readonly at: number
  readonly expire: () => void
}

export class Deadlines {
  private readonly pending = new Set<Deadline>()
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly resolutionMs: number
  private readonly now: () => number

  /** `now` must be the clock `at` is on (default: performance.now). */
  constructor(resolutionMs: number, now: () => number = () => performance.now()) {
    this.resolutionMs = resolutionMs
    this.now = now
  }

  get size(): number {
    return this.pending.size
  }

  add(deadline: Deadline): void {
    this.pending.add(deadline)
    if (this.timer !== undefined) return
    this.timer = setInterval(this.sweep, this.resolutionMs)
    // A pending command holds the process open by other means (its socket); the sweep must not.
    this.timer.unref()
  }

  delete(deadline: Deadline): void {
    this.pending.delete(deadline)
  }

  private readonly sweep = (): void => {
    if (this.pending.size === 0) {
      clearInterval(this.timer)
      this.timer = undefined
      return
    }
    const now = this.now()
    for (const deadline of this.pending) {
      if (deadline.at > now) continue
      this.pending.delete(deadline)
      deadline.expire()
    }
  }
}
