/**
 * Errors of authentication: a request whose credentials are refused (`AuthFailure`, with a
 * bounded `reason` for the `redis_mcp_auth_failures_total{reason}` metric and the audit log),
 * and an auth file that cannot be used (`AuthFileError`, exit 2 at start, a refused reload).
 */
import { Schema } from "effect"

/**
 * Why credentials were refused. A closed set: it is a metric label.
 * - `missing`: no `Authorization: Bearer …` header
 * - `malformed`: not a bearer header, or a token that is not a well-formed JWT
 * - `unknown_token`: not a token of the auth file (and not a JWT, or OAuth is off)
 * - `expired`, `not_yet_valid`, `wrong_audience`, `wrong_issuer`: the JWT's `exp`, `nbf`, `aud`, `iss`
 * - `bad_signature`: the signature does not verify with the issuer's key
 * - `bad_algorithm`: `alg` is `none`, HMAC, or otherwise not in the pinned list
 * - `unknown_key`: no key of the issuer's JWKS has the JWT's `kid`, even after a refresh
 * - `invalid_claims`: a claim the server needs (`exp`, `sub`) is missing or of the wrong type
 * - `unknown_role`: the role claim is missing or names no role of the auth file
 * - `issuer_unavailable`: the issuer's metadata or JWKS could not be fetched (fails closed)
 */
export const AuthFailureReason = Schema.Literals([
  "missing",
  "malformed",
  "unknown_token",
  "expired",
  "not_yet_valid",
  "wrong_audience",
  "wrong_issuer",
  "bad_signature",
  "bad_algorithm",
  "unknown_key",
  "invalid_claims",
  "unknown_role",
  "issuer_unavailable"
])
export type AuthFailureReason = typeof AuthFailureReason.Type

/**
 * Credentials refused. `message` is safe to send to the client (it never repeats the token);
 * `detail`, when present, is for the server's log only (issuer URLs, network errors).
 * `issuer_unavailable` is a server-side problem (HTTP 503), every other reason is HTTP 401.
 */
export class AuthFailure extends Schema.TaggedError<AuthFailure>()("AuthFailure", {
  reason: AuthFailureReason,
  message: Schema.String,
  detail: Schema.optionalKey(Schema.String)
}) {
  get retryable(): boolean {
    return this.reason === "issuer_unavailable"
  }
}

/** The auth file cannot be read or is invalid; `message` is one line naming the problem. */
export class AuthFileError extends Schema.TaggedError<AuthFileError>()("AuthFileError", {
  path: Schema.String,
  message: Schema.String
}) {
  get retryable(): boolean {
    return false
  }
}
