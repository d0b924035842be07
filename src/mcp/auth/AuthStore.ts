/**
 * The loaded auth file, held in a `SubscriptionRef` and swapped whole on `reload` (SIGHUP): an
 * invalid file keeps the previous state and logs why. Readers take one snapshot per request, so
 * a reload never changes a call already in flight.
 */
import { Context, Effect, Layer, Semaphore, type Stream, SubscriptionRef } from "effect"
import { AuthFileError } from "./AuthErrors.ts"
import { type AuthState, emptyAuthState, loadAuthFile, type ToolsetCatalog } from "./AuthFile.ts"
import { AuthSettings, type AuthSettingsShape } from "./AuthSettings.ts"
import type { Role } from "./Role.ts"

export interface AuthStoreShape {
  /** The state now (one immutable snapshot). */
  readonly current: Effect.Effect<AuthState>
  /** The current state, then every state a reload installs. */
  readonly changes: Stream.Stream<AuthState>
  /**
   * Read the file again. Valid: installed and returned. Invalid: the previous state stays, an
   * error is logged, and the error is returned (callers need not log it again).
   */
  readonly reload: Effect.Effect<AuthState, AuthFileError>
  /** The role a stdio session runs as (`REDIS_MCP_ROLE`), in the current state. */
  readonly sessionRole: Effect.Effect<Role | undefined>
}

const summary = (state: AuthState) => ({ roles: state.roles.size, tokens: state.tokens.length })

/** Rules that span the settings and the file: `REDIS_MCP_ROLE` must name one of its roles. */
const checkAgainstSettings = (settings: AuthSettingsShape) => (state: AuthState) =>
  settings.role === undefined || state.roles.has(settings.role)
    ? Effect.succeed(state)
    : Effect.fail(
        new AuthFileError({
          path: state.path ?? "",
          message: `REDIS_MCP_ROLE: no role named "${settings.role}" in REDIS_MCP_AUTH_FILE (${state.path}); roles: ${[...state.roles.keys()].join(", ") || "none"}`
        })
      )

export const make = Effect.fn("AuthStore.make")(function* (catalog: ToolsetCatalog) {
  const settings = yield* AuthSettings
  const path = settings.authFile
  const load =
    path === undefined
      ? Effect.succeed(emptyAuthState)
      : loadAuthFile(path, catalog).pipe(Effect.flatMap(checkAgainstSettings(settings)))
  const initial = yield* load
  if (path !== undefined)
    yield* Effect.logInfo("auth file loaded").pipe(Effect.annotateLogs({ path, ...summary(initial) }))
  const ref = yield* SubscriptionRef.make(initial)
  const serial = yield* Semaphore.make(1)
  const reload = load.pipe(
    Effect.tap((state) => SubscriptionRef.set(ref, state)),
    Effect.tap((state) => Effect.logInfo("auth file reloaded").pipe(Effect.annotateLogs({ path, ...summary(state) }))),
    Effect.tapError((e) => Effect.logError(`auth file reload refused, keeping the previous one: ${e.message}`)),
    serial.withPermits(1),
    Effect.withSpan("AuthStore.reload")
  )
  const current = SubscriptionRef.get(ref)
  return AuthStore.of({
    current,
    changes: SubscriptionRef.changes(ref),
    reload,
    sessionRole: Effect.map(current, (s) => (settings.role === undefined ? undefined : s.roles.get(settings.role)))
  })
})

export class AuthStore extends Context.Service<AuthStore, AuthStoreShape>()("effect-redis-mcp/AuthStore") {
  /** Loads `REDIS_MCP_AUTH_FILE` (none: an empty state); fails with `AuthFileError` (exit 2 at start). */
  static readonly layer = (catalog: ToolsetCatalog) => Layer.effect(AuthStore, make(catalog))
}
