/**
 * The pieces the HTTP transport plugs in, in the SDK v2's terms (no transport code here):
 * - `bearerGate`: `Request` → `AuthInfo` or the refusal `Response` (401 with an RFC 6750
 *   challenge, or 503 when the issuer is unreachable), reporting each failure's reason;
 *   `bearerCheck` is the same on the header value, with the failure itself;
 * - `tokenVerifier`: an `OAuthTokenVerifier` for the SDK's `requireBearerAuth({ verifier })`,
 *   which throws `OAuthError(InvalidToken)` for bad tokens (the SDK cannot answer 503: an
 *   unreachable issuer becomes `OAuthError(ServerError)`, a 500; prefer the gate);
 * - `toAuthInfo` / `principalOf`: the `AuthInfo` both produce, and reading it back in the factory.
 */
import { type AuthInfo, OAuthError, OAuthErrorCode, type OAuthTokenVerifier } from "@modelcontextprotocol/server"
import { Effect } from "effect"
import { AuthFailure } from "./AuthErrors.ts"
import type { Principal } from "./Authenticator.ts"
import type { Role } from "./Role.ts"

/** The realm of our challenges. */
export const REALM = "effect-redis-mcp"

/** Seconds a client is told to wait when the issuer is unavailable. */
export const RETRY_AFTER_SECONDS = 5

/** What `AuthInfo.extra` carries. `grant` is the role as it was when the token was verified. */
export interface AuthExtra {
  readonly principal: string
  readonly role: string
  readonly method: Principal["method"]
  readonly grant: Role
}

export const toAuthInfo = (token: string, principal: Principal, resource?: URL): AuthInfo => {
  const extra: AuthExtra = {
    principal: principal.id,
    role: principal.role.name,
    method: principal.method,
    grant: principal.role
  }
  return {
    token,
    clientId: principal.clientId,
    scopes: [...principal.scopes],
    expiresAt: principal.expiresAt,
    ...(resource === undefined ? {} : { resource }),
    extra: { ...extra }
  }
}

/** The principal and role of an `AuthInfo` made by `toAuthInfo`; undefined for any other (stdio: none). */
export const principalOf = (info: AuthInfo | undefined): AuthExtra | undefined => {
  const extra = info?.extra as Partial<AuthExtra> | undefined
  return typeof extra?.principal === "string" && typeof extra.role === "string" && extra.grant !== undefined
    ? (extra as AuthExtra)
    : undefined
}

/** An RFC 7230 quoted-string body: printable ASCII only (a header cannot carry the rest), `"` and `\` escaped. */
const quoted = (value: string): string =>
  value
    .slice(0, 300)
    .replace(/[^ -~]/g, " ")
    .replace(/[\\"]/g, (c) => `\\${c}`)

export interface ChallengeOptions {
  readonly realm?: string
  /** RFC 9728 metadata URL, advertised as `resource_metadata` (when OAuth is configured). */
  readonly resourceMetadataUrl?: string
}

/**
 * The `WWW-Authenticate` value for a refused request (RFC 6750 §3): no `error` when the request
 * carried no credentials (§3.1), else `error="invalid_token"` with a description.
 */
export const challenge = (failure: AuthFailure | undefined, options: ChallengeOptions = {}): string => {
  const parts = [`realm="${quoted(options.realm ?? REALM)}"`]
  if (failure !== undefined && failure.reason !== "missing") {
    parts.push(`error="invalid_token"`, `error_description="${quoted(failure.message)}"`)
  }
  if (options.resourceMetadataUrl !== undefined)
    parts.push(`resource_metadata="${quoted(options.resourceMetadataUrl)}"`)
  return `Bearer ${parts.join(", ")}`
}

/** The HTTP answer for a refusal: 503 when the issuer is unavailable (retry later), else 401 with a challenge. */
export const failureResponse = (failure: AuthFailure, options: ChallengeOptions = {}): Response =>
  failure.reason === "issuer_unavailable"
    ? Response.json(
        { error: "temporarily_unavailable", error_description: failure.message },
        { status: 503, headers: { "Retry-After": String(RETRY_AFTER_SECONDS), "Cache-Control": "no-store" } }
      )
    : Response.json(
        { error: "invalid_token", error_description: failure.message },
        { status: 401, headers: { "WWW-Authenticate": challenge(failure, options), "Cache-Control": "no-store" } }
      )

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, one token only). */
export const bearerToken = (header: string | null | undefined): Effect.Effect<string, AuthFailure> => {
  if (header === null || header === undefined || header.trim() === "") {
    return Effect.fail(new AuthFailure({ reason: "missing", message: "no bearer token" }))
  }
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header)
  return m
    ? Effect.succeed(m[1]!)
    : Effect.fail(new AuthFailure({ reason: "malformed", message: "the Authorization header is not 'Bearer <token>'" }))
}

type Verify = (token: string) => Effect.Effect<Principal, AuthFailure>
type Run = <A>(effect: Effect.Effect<A>) => Promise<A>

export interface GateOptions extends ChallengeOptions {
  /** Stamped on `AuthInfo.resource` (the SDK's `expectedResource` check compares it). */
  readonly resource?: URL
  /** Run once per refused request: count it, audit it. Its failures are the caller's to handle. */
  readonly onFailure?: (failure: AuthFailure) => Effect.Effect<void>
  /** How to run Effects (the transport's runtime, for its logger and metrics). @default Effect.runPromise */
  readonly runPromise?: Run
}

const authInfoOrFailure = (verify: Verify, token: Effect.Effect<string, AuthFailure>, options: GateOptions) =>
  Effect.flatMap(token, (t) => Effect.map(verify(t), (p) => toAuthInfo(t, p, options.resource))).pipe(
    Effect.tapError((f) => options.onFailure?.(f) ?? Effect.void),
    Effect.result
  )

/** What the gate decided: the `AuthInfo` for the MCP handler, or why not and the `Response` to send instead. */
export type GateOutcome =
  | { readonly _tag: "Authorized"; readonly info: AuthInfo }
  | { readonly _tag: "Refused"; readonly failure: AuthFailure; readonly response: Response }

/** The gate on an `Authorization` header value, for transports that read headers before making a `Request`. */
export const bearerCheck = (verify: Verify, options: GateOptions = {}) => {
  const run: Run = options.runPromise ?? Effect.runPromise
  return async (authorization: string | null | undefined): Promise<GateOutcome> => {
    const result = await run(authInfoOrFailure(verify, bearerToken(authorization), options))
    return result._tag === "Success"
      ? { _tag: "Authorized", info: result.success }
      : { _tag: "Refused", failure: result.failure, response: failureResponse(result.failure, options) }
  }
}

/** A fetch-style gate: the `AuthInfo` to hand to the MCP handler, or the `Response` to send instead. */
export const bearerGate = (verify: Verify, options: GateOptions = {}) => {
  const check = bearerCheck(verify, options)
  return async (request: Request): Promise<AuthInfo | Response> => {
    const outcome = await check(request.headers.get("authorization"))
    return outcome._tag === "Authorized" ? outcome.info : outcome.response
  }
}

/** The SDK error for a refusal: `InvalidToken` (401), or `ServerError` when the issuer is unavailable. */
export const toOAuthError = (failure: AuthFailure): OAuthError =>
  new OAuthError(
    failure.reason === "issuer_unavailable" ? OAuthErrorCode.ServerError : OAuthErrorCode.InvalidToken,
    failure.message
  )

/** For `requireBearerAuth({ verifier })`. A missing or malformed header never reaches a verifier there. */
export const tokenVerifier = (
  verify: Verify,
  options: Omit<GateOptions, keyof ChallengeOptions> = {}
): OAuthTokenVerifier => {
  const run: Run = options.runPromise ?? Effect.runPromise
  return {
    verifyAccessToken: async (token) => {
      const result = await run(authInfoOrFailure(verify, Effect.succeed(token), options))
      if (result._tag === "Failure") throw toOAuthError(result.failure)
      return result.success
    }
  }
}
