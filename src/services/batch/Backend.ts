/**
 * What `Batch` needs from a backing: send checked commands in one round trip and
 * give back each one's reply or error, never holding more than a byte budget of
 * replies (past it: `Over`, and the replies are not read).
 */
import type { Effect } from "effect"
import type { InvalidArgument, RedisError } from "../../Errors.ts"

/** One command the policy allowed, as it goes out. */
export interface Prepared {
  /** The arguments to send (key prefix applied), name first. */
  readonly args: ReadonlyArray<string>
  /** The keys it names, as sent; empty when they are not known (no prefix, unscoped command). */
  readonly keys: ReadonlyArray<string>
}

export type Sent = { readonly ok: true; readonly reply: unknown } | { readonly ok: false; readonly error: RedisError }

export type Outcome = { readonly _tag: "Done"; readonly results: ReadonlyArray<Sent> } | { readonly _tag: "Over" }

export interface Backend {
  /**
   * Send `commands` in one round trip (MULTI/EXEC when `atomic`). `bounded`: every reply is
   * small by construction (see ReplySize), so no budget is kept; otherwise the replies together
   * may take at most `budget` bytes as Redis sends them, or the outcome is `Over`.
   */
  readonly send: (
    commands: ReadonlyArray<Prepared>,
    options: { readonly atomic: boolean; readonly idempotent: boolean; readonly bounded: boolean }
  ) => Effect.Effect<Outcome, RedisError | InvalidArgument>
}
