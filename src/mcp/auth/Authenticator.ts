/**
 * One bearer token in, one principal out: first the auth file's hashed tokens, then (when OAuth
 * is configured and the token is a JWT) the issuer's signature. Each request reads one snapshot
 * of the auth file, so a reload applies from the next request on and never to one in flight.
 */
import { Clock, Context, Effect, Layer } from "effect"
import { AuthFailure } from "./AuthErrors.ts"
import { AuthSettings } from "./AuthSettings.ts"
import { AuthStore } from "./AuthStore.ts"
import { defaultJwksOptions, type JwksOptions, looksLikeJwt, makeJwtVerifier } from "./OAuth.ts"
import type { Role } from "./Role.ts"
import { findToken } from "./Tokens.ts"

/** Who is calling, with what role. */
export interface Principal {
  /** Namespaced so a file token and a JWT subject never collide: `token:<name>` or `oauth:<sub>`. */
  readonly id: string
  readonly method: "token" | "oauth"
  readonly role: Role
  readonly clientId: string
  readonly scopes: ReadonlyArray<string>
  /** Seconds since the epoch: the JWT's `exp`; for a file token, a short horizon (see below). */
  readonly expiresAt: number
}

/**
 * File tokens do not expire, but the SDK refuses an `AuthInfo` without `expiresAt`. Every request
 * is verified again (a removed token is refused on its next request), so this horizon only has
 * to outlast one request.
 */
export const FILE_TOKEN_HORIZON_SECONDS = 300

export interface AuthenticatorShape {
  /**
   * True when an auth file or OAuth is configured: every HTTP request then needs a valid token
   * (an auth file with no tokens refuses everyone until a reload adds some).
   */
  readonly enabled: boolean
  readonly verify: (token: string) => Effect.Effect<Principal, AuthFailure>
}

export const make = Effect.fn("Authenticator.make")(function* (jwksOptions: JwksOptions = defaultJwksOptions) {
  const settings = yield* AuthSettings
  const store = yield* AuthStore
  const jwt = settings.oauth === undefined ? undefined : yield* makeJwtVerifier(settings.oauth, jwksOptions)

  const verify = Effect.fn("Authenticator.verify")(function* (token: string) {
    const state = yield* store.current
    const entry = findToken(state.tokens, token)
    if (entry !== undefined) {
      const now = yield* Clock.currentTimeMillis
      return {
        id: `token:${entry.name}`,
        method: "token",
        role: state.roles.get(entry.role)!,
        clientId: entry.name,
        scopes: [],
        expiresAt: Math.floor(now / 1000) + FILE_TOKEN_HORIZON_SECONDS
      } satisfies Principal
    }
    if (jwt === undefined || !looksLikeJwt(token)) {
      return yield* new AuthFailure({ reason: "unknown_token", message: "the token is not known to this server" })
    }
    const verified = yield* jwt.verify(token, state.roles)
    return {
      id: `oauth:${verified.subject}`,
      method: "oauth",
      role: verified.role,
      clientId: verified.clientId,
      scopes: verified.scopes,
      expiresAt: verified.expiresAt
    } satisfies Principal
  })

  return Authenticator.of({
    enabled: settings.authFile !== undefined || settings.oauth !== undefined,
    verify
  })
})

export class Authenticator extends Context.Service<Authenticator, AuthenticatorShape>()(
  "effect-redis-mcp/Authenticator"
) {
  /** Needs `AuthSettings` and `AuthStore`. */
  static readonly layer = Layer.effect(Authenticator, make())
}
