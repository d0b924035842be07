/**
 * Per-principal limits: calls in flight and open subscriptions, counted per principal so one
 * agent cannot take the whole server. Over the maximum: `LimitExceeded` at once (nothing runs,
 * nothing waits). Counts live in one map, changed only in synchronous steps, and a principal's
 * entry goes away when it has nothing in flight, so memory follows activity, not history.
 */
import { Context, Effect, Layer } from "effect"
import { LimitExceeded } from "../../Errors.ts"
import { AuthSettings, type PrincipalLimitSettings } from "./AuthSettings.ts"

interface Counts {
  calls: number
  subscriptions: number
}

export interface PrincipalLimitsShape {
  /** Run `effect` as one of `principal`'s calls; `LimitExceeded` when it already has the maximum in flight. */
  readonly call: <A, E, R>(principal: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | LimitExceeded, R>
  /**
   * Count one more open subscription for `principal`. The returned effect gives it back (once;
   * later runs do nothing): run it when the subscription closes, for whatever reason.
   */
  readonly acquireSubscription: (principal: string) => Effect.Effect<Effect.Effect<void>, LimitExceeded>
  /** What `principal` holds now. */
  readonly usage: (principal: string) => Effect.Effect<Readonly<Counts>>
}

export const make = (limits: PrincipalLimitSettings): PrincipalLimitsShape => {
  const counts = new Map<string, Counts>()
  const entry = (principal: string): Counts => {
    let c = counts.get(principal)
    if (c === undefined) {
      c = { calls: 0, subscriptions: 0 }
      counts.set(principal, c)
    }
    return c
  }
  const release = (principal: string, kind: keyof Counts) => {
    const c = counts.get(principal)
    if (c === undefined) return
    c[kind] = Math.max(0, c[kind] - 1)
    if (c.calls === 0 && c.subscriptions === 0) counts.delete(principal)
  }
  const take = (principal: string, kind: keyof Counts, max: number, what: string) =>
    Effect.suspend(() => {
      const c = entry(principal)
      if (c[kind] >= max) {
        if (c.calls === 0 && c.subscriptions === 0) counts.delete(principal)
        return Effect.fail(
          new LimitExceeded({
            message: `${principal} already has ${max} ${what} (the per-principal maximum); ${kind === "calls" ? "wait for some to finish" : "unsubscribe from some"} and try again`,
            limit: kind,
            max
          })
        )
      }
      c[kind]++
      return Effect.void
    })

  return {
    call: (principal, effect) =>
      Effect.acquireUseRelease(
        take(principal, "calls", limits.maxConcurrentCalls, "calls in flight"),
        () => effect,
        () => Effect.sync(() => release(principal, "calls"))
      ),
    acquireSubscription: (principal) =>
      Effect.map(take(principal, "subscriptions", limits.maxSubscriptions, "open subscriptions"), () => {
        let released = false
        return Effect.sync(() => {
          if (released) return
          released = true
          release(principal, "subscriptions")
        })
      }),
    usage: (principal) => Effect.sync(() => ({ ...(counts.get(principal) ?? { calls: 0, subscriptions: 0 }) }))
  }
}

export class PrincipalLimits extends Context.Service<PrincipalLimits, PrincipalLimitsShape>()(
  "effect-redis-mcp/PrincipalLimits"
) {
  /** Maxima from `REDIS_MCP_MAX_CONCURRENT_CALLS_PER_PRINCIPAL` / `REDIS_MCP_MAX_SUBSCRIPTIONS_PER_PRINCIPAL`. */
  static readonly layer = Layer.effect(
    PrincipalLimits,
    Effect.map(AuthSettings, (s) => PrincipalLimits.of(make(s.limits)))
  )
}
