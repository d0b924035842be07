/**
 * OAuth 2.1 resource server: JWT access tokens verified with `jose` against the issuer's JWKS.
 * Checked: the signature (algorithms pinned to asymmetric ones, so `alg: none` and an HMAC
 * "signed" with the public key are refused before any key is looked at), `iss`, `aud`, `exp`
 * (required), `nbf`, with a small clock tolerance; then `sub` and the role claim, which must name
 * a role of the auth file. The JWKS is fetched on first use, cached by `createRemoteJWKSet`
 * (10 min), and fetched again on an unknown `kid` at most once per cooldown (30 s). Keys that
 * cannot be fetched fail closed with `issuer_unavailable`.
 */
import { Clock, Deferred, Effect, Option, Ref } from "effect"
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  type JWTPayload,
  jwtVerify,
  type RemoteJWKSetOptions
} from "jose"
import { AuthFailure, type AuthFailureReason } from "./AuthErrors.ts"
import type { OAuthSettings } from "./AuthSettings.ts"
import { discoverJwksUrl } from "./Discovery.ts"
import type { Role } from "./Role.ts"

export interface JwksOptions {
  /** Timeout of one metadata or JWKS request. @default 5000 */
  readonly timeoutMs: number
  /** After a JWKS fetch, an unknown `kid` fetches again only after this long. @default 30000 */
  readonly cooldownMs: number
  /** Cached keys are fetched again after this long. @default 600000 */
  readonly cacheMaxAgeMs: number
}

export const defaultJwksOptions: JwksOptions = { timeoutMs: 5000, cooldownMs: 30_000, cacheMaxAgeMs: 600_000 }

/** A verified access token. */
export interface VerifiedJwt {
  readonly subject: string
  readonly clientId: string
  readonly scopes: ReadonlyArray<string>
  /** `exp`, seconds since the epoch. */
  readonly expiresAt: number
  readonly role: Role
}

type KeyResolver = ReturnType<typeof createRemoteJWKSet>

/** Marks a failure to obtain keys (network, HTTP status, bad JWKS) as the issuer's, not the token's. */
class KeysUnavailable extends Error {}

const keyErrorsOfTheToken = [errors.JWKSNoMatchingKey, errors.JWKSMultipleMatchingKeys, errors.JOSENotSupported]

const resolverOf = (jwks: KeyResolver) => async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
  try {
    return await jwks(header, token)
  } catch (e) {
    if (keyErrorsOfTheToken.some((c) => e instanceof c)) throw e
    throw new KeysUnavailable(e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e))
  }
}

const failure = (reason: AuthFailureReason, message: string, detail?: string) =>
  new AuthFailure(detail === undefined ? { reason, message } : { reason, message, detail })

/** A jose error as a bounded reason. */
export const classify = (e: unknown): AuthFailure => {
  if (e instanceof KeysUnavailable) {
    return failure("issuer_unavailable", "the issuer's signing keys could not be fetched; try again later", e.message)
  }
  if (e instanceof errors.JWTExpired) return failure("expired", "the token has expired")
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === "nbf") return failure("not_yet_valid", "the token is not valid yet (nbf)")
    if (e.claim === "iss") return failure("wrong_issuer", "the token is from another issuer")
    if (e.claim === "aud") return failure("wrong_audience", "the token is for another audience")
    return failure(
      "invalid_claims",
      `the token's "${e.claim}" claim is ${e.reason === "missing" ? "missing" : "invalid"}`
    )
  }
  if (e instanceof errors.JWSSignatureVerificationFailed || e instanceof errors.JWKSMultipleMatchingKeys) {
    return failure("bad_signature", "the token's signature does not verify")
  }
  if (e instanceof errors.JOSEAlgNotAllowed || e instanceof errors.JOSENotSupported) {
    return failure("bad_algorithm", "the token's signing algorithm is not accepted")
  }
  if (e instanceof errors.JWKSNoMatchingKey)
    return failure("unknown_key", "the token is signed by a key the issuer does not list")
  return failure("malformed", "the token is not a well-formed JWT", e instanceof Error ? e.message : String(e))
}

const scopesOf = (payload: JWTPayload): ReadonlyArray<string> => {
  if (typeof payload.scope === "string") return payload.scope.split(" ").filter((s) => s !== "")
  const scp = payload["scp"]
  return Array.isArray(scp) ? scp.filter((s): s is string => typeof s === "string") : []
}

const roleNameOf = (value: unknown): string | undefined =>
  typeof value === "string"
    ? value
    : Array.isArray(value) && value.length === 1 && typeof value[0] === "string"
      ? value[0]
      : undefined

/** The claims the server needs, from a token whose signature and registered claims were verified. */
const toVerified = (payload: JWTPayload, roleClaim: string, roles: ReadonlyMap<string, Role>) => {
  if (typeof payload.sub !== "string" || payload.sub === "") {
    return Effect.fail(failure("invalid_claims", `the token's "sub" claim is missing`))
  }
  const roleName = roleNameOf(payload[roleClaim])
  const role = roleName === undefined ? undefined : roles.get(roleName)
  if (role === undefined) {
    return Effect.fail(
      failure(
        "unknown_role",
        roleName === undefined
          ? `the token has no "${roleClaim}" claim naming one role`
          : `the token's role "${roleName.slice(0, 64)}" is not a role of this server`
      )
    )
  }
  const clientId = [payload["client_id"], payload["azp"], payload.sub].find((v) => typeof v === "string") as string
  return Effect.succeed<VerifiedJwt>({
    subject: payload.sub,
    clientId,
    scopes: scopesOf(payload),
    expiresAt: payload.exp!,
    role
  })
}

/** Looks like a JWS compact serialization (three base64url parts): worth handing to jose. */
export const looksLikeJwt = (token: string): boolean => /^[\w-]+\.[\w-]*\.[\w-]*$/.test(token)

export interface JwtVerifier {
  readonly verify: (token: string, roles: ReadonlyMap<string, Role>) => Effect.Effect<VerifiedJwt, AuthFailure>
}

export const makeJwtVerifier = Effect.fn("OAuth.makeJwtVerifier")(function* (
  settings: OAuthSettings,
  options: JwksOptions = defaultJwksOptions
) {
  const remote: RemoteJWKSetOptions = {
    timeoutDuration: options.timeoutMs,
    cooldownDuration: options.cooldownMs,
    cacheMaxAge: options.cacheMaxAgeMs
  }
  const cache = yield* Ref.make(
    settings.jwksUrl === undefined
      ? Option.none<KeyResolver>()
      : Option.some(createRemoteJWKSet(settings.jwksUrl, remote))
  )
  const inflight = yield* Ref.make(Option.none<Deferred.Deferred<KeyResolver, AuthFailure>>())
  // Single flight: concurrent requests share one discovery (each waiting its own turn would queue
  // them behind an IdP timeout). It runs detached, so a caller that goes away does not cancel it
  // for the others; a failure is not cached, so the next request tries again.
  const discover = Effect.gen(function* () {
    const mine = yield* Deferred.make<KeyResolver, AuthFailure>()
    const pending = yield* Ref.modify(inflight, (current) =>
      Option.isSome(current) ? [current.value, current] : [mine, Option.some(mine)]
    )
    if (pending === mine) {
      yield* discoverJwksUrl(settings.issuer, options.timeoutMs).pipe(
        Effect.map((url) => createRemoteJWKSet(url, remote)),
        Effect.tap((jwks) => Ref.set(cache, Option.some(jwks))),
        Effect.exit,
        // Cleared before waiters wake, so a retry right after a failure starts a new discovery.
        Effect.tap(() => Ref.set(inflight, Option.none())),
        Effect.flatMap((exit) => Deferred.done(mine, exit)),
        Effect.forkDetach
      )
    }
    return yield* Deferred.await(pending)
  })
  const keys = Effect.flatMap(Ref.get(cache), (cached) =>
    Option.isSome(cached) ? Effect.succeed(cached.value) : discover
  )
  const verifyOptions = {
    issuer: settings.issuer,
    audience: settings.audience,
    algorithms: [...settings.algorithms],
    clockTolerance: settings.clockToleranceSeconds,
    requiredClaims: ["exp"]
  }
  const allowed = new Set(settings.algorithms)
  // The header is checked before the keys are fetched, so garbage, `alg: none` or an HMAC never
  // costs a request to the issuer (jose checks it again while verifying).
  const checkHeader = (token: string) =>
    Effect.try({ try: () => decodeProtectedHeader(token), catch: classify }).pipe(
      Effect.flatMap((header) =>
        typeof header.alg === "string" && allowed.has(header.alg)
          ? Effect.void
          : Effect.fail(failure("bad_algorithm", "the token's signing algorithm is not accepted"))
      )
    )
  const verify = Effect.fn("OAuth.verify")(function* (token: string, roles: ReadonlyMap<string, Role>) {
    yield* checkHeader(token)
    const jwks = yield* keys
    const now = yield* Clock.currentTimeMillis
    const { payload } = yield* Effect.tryPromise({
      try: () => jwtVerify(token, resolverOf(jwks), { ...verifyOptions, currentDate: new Date(now) }),
      catch: classify
    })
    return yield* toVerified(payload, settings.roleClaim, roles)
  })
  return { verify } satisfies JwtVerifier
})
