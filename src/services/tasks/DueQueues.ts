/**
 * The queues the background sweep watches, each with the time its next
 * housekeeping is due: earliest first, so one round takes only what is due, up
 * to a limit, whatever the number of queues ever used. A queue used again is
 * due at once; one with nothing left to do is forgotten.
 */
import { SortedIndex } from "./SortedIndex.ts"

export class DueQueues {
  private readonly due = new SortedIndex()

  get size(): number {
    return this.due.size
  }

  /** The queue was used at `now`: due by then (queues waiting longer keep their place ahead of it). */
  touch(queue: string, now: number): void {
    const at = this.due.scoreOf(queue)
    if (at === undefined || at > now) this.due.add(queue, now)
  }

  /** Watch a queue not yet watched (seen in Redis at start), due at `now`. */
  learn(queue: string, now: number): void {
    if (!this.due.has(queue)) this.due.add(queue, now)
  }

  /** At most `limit` queues due at `now`, earliest first. */
  take(now: number, limit: number): ReadonlyArray<string> {
    return this.due.upTo(now, limit)
  }

  /** After a visit: due again at `at`, or forgotten when nothing is left to do (undefined). */
  schedule(queue: string, at: number | undefined): void {
    if (at === undefined) this.due.remove(queue)
    else this.due.add(queue, at)
  }
}

/** Most queues one sweep round visits; the rest wait for later rounds. */
export const SWEEP_BATCH = 100
/** How often a round runs. */
export const SWEEP_INTERVAL_MS = 1000
/** How long a queue whose housekeeping failed (Redis down) waits before the next try. */
export const SWEEP_RETRY_MS = 5000
