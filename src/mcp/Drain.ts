/**
 * The HTTP transport's requests in flight, for a graceful stop: once draining, new requests are
 * turned away (the caller answers 503) while those already admitted run to the end, and `idle`
 * resolves when the last one finishes or the grace period is over.
 */

export interface Drain {
  /** Admit a request: false once draining (answer 503). Every admitted request must `leave` once. */
  readonly enter: () => boolean
  readonly leave: () => void
  /** Stop admitting. */
  readonly start: () => void
  readonly draining: () => boolean
  readonly inFlight: () => number
  /** Resolves true when nothing is in flight, false when `graceMs` passed first. */
  readonly idle: (graceMs: number) => Promise<boolean>
}

export const makeDrain = (): Drain => {
  let inFlight = 0
  let draining = false
  const waiters = new Set<() => void>()
  return {
    enter: () => {
      if (draining) return false
      inFlight++
      return true
    },
    leave: () => {
      inFlight--
      if (inFlight === 0) for (const w of [...waiters]) w()
    },
    start: () => {
      draining = true
    },
    draining: () => draining,
    inFlight: () => inFlight,
    idle: (graceMs) =>
      new Promise<boolean>((resolve) => {
        if (inFlight === 0) return resolve(true)
        const done = (ok: boolean) => {
          clearTimeout(timer)
          waiters.delete(onIdle)
          resolve(ok)
        }
        const onIdle = () => done(true)
        const timer = setTimeout(() => done(false), graceMs)
        waiters.add(onIdle)
      })
  }
}
