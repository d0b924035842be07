/**
 * Per-call access: whether the call in progress may write, and who it runs for.
 * The MCP edge sets both around each call from the server's settings and the
 * session's role and principal; an app embedding the services leaves them at
 * their defaults (writable, the process).
 */
import { Context, type Effect } from "effect"
import type { LimitExceeded } from "../Errors.ts"

/** True when the current call must not write (`ReadOnlyMode` for anything that would). */
export const ReadOnly = Context.Reference<boolean>("effect-redis-mcp/ReadOnly", { defaultValue: () => false })

/** Who the call in progress runs for, when the edge authenticated someone (HTTP with tokens or OAuth). */
export interface CallerShape {
  /** A stable name of the principal (`token:ci-bot`, `oauth:<sub>`). */
  readonly principal: string
  /**
   * Counts one more long-lived subscription for the principal; fails with `LimitExceeded` over its
   * maximum. The returned effect gives the slot back (once): run it when the subscription closes.
   */
  readonly acquireSubscription: Effect.Effect<Effect.Effect<void>, LimitExceeded>
}

/**
 * The caller of the call in progress. Things a call opens that outlive it (pub/sub subscriptions)
 * belong to this principal: another principal cannot read or close them. Undefined (the default,
 * an embedding app, stdio, HTTP without auth): they belong to the process.
 */
export const Caller = Context.Reference<CallerShape | undefined>("effect-redis-mcp/Caller", {
  defaultValue: () => undefined
})
