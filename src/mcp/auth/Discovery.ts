/**
 * Finding the issuer's signing keys when `REDIS_MCP_OAUTH_JWKS_URL` is not given: its RFC 8414
 * authorization server metadata, then its OpenID Connect discovery document, each must name the
 * configured issuer exactly and give a `jwks_uri`. Any failure is `issuer_unavailable`: the
 * server fails closed and tries again on the next request.
 */
import { Effect } from "effect"
import { AuthFailure } from "./AuthErrors.ts"

/** Largest metadata document read (real ones are a few KiB). */
const MAX_METADATA_BYTES = 256 * 1024

/** RFC 8414 §3 (well-known segment before the issuer's path), then OIDC Discovery §4 (after it). */
export const metadataUrls = (issuer: string): ReadonlyArray<URL> => {
  const url = new URL(issuer)
  const path = url.pathname.replace(/\/+$/, "")
  return [
    new URL(`/.well-known/oauth-authorization-server${path}`, url.origin),
    new URL(`${path}/.well-known/openid-configuration`, url.origin)
  ]
}

/** https, or http to a loopback address (tests, a local IdP). */
export const isAcceptableKeyUrl = (url: URL): boolean =>
  url.protocol === "https:" || (url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname))

const readBounded = async (response: Response, max: number): Promise<string> => {
  const reader = response.body?.getReader()
  if (reader === undefined) return ""
  const chunks: Array<Uint8Array> = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.length
    if (size > max) {
      await reader.cancel()
      throw new Error(`larger than ${max} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString("utf8")
}

/** The `jwks_uri` of one metadata document, or why not. */
const jwksUriFrom = async (url: URL, issuer: string, timeoutMs: number): Promise<URL> => {
  const response = await fetch(url, {
    redirect: "manual",
    headers: { accept: "application/json" },
    signal: AbortSignal.timeout(timeoutMs)
  })
  if (response.status !== 200) {
    await response.body?.cancel()
    throw new Error(`HTTP ${response.status}`)
  }
  const doc: unknown = JSON.parse(await readBounded(response, MAX_METADATA_BYTES))
  if (typeof doc !== "object" || doc === null) throw new Error("not a JSON object")
  const { issuer: named, jwks_uri } = doc as { issuer?: unknown; jwks_uri?: unknown }
  if (named !== issuer) throw new Error(`names issuer ${JSON.stringify(named)}, not ${JSON.stringify(issuer)}`)
  if (typeof jwks_uri !== "string" || !URL.canParse(jwks_uri)) throw new Error("has no jwks_uri")
  const keys = new URL(jwks_uri)
  if (!isAcceptableKeyUrl(keys)) throw new Error(`jwks_uri ${jwks_uri} is not https`)
  return keys
}

const describe = (e: unknown): string => {
  const error = e as { name?: string; message?: string; cause?: { code?: string; message?: string } }
  if (error.name === "TimeoutError") return "timed out"
  return error.cause?.code ?? error.cause?.message ?? error.message ?? String(e)
}

/** The issuer's JWKS URL from its metadata; `issuer_unavailable` when neither document gives it. */
export const discoverJwksUrl = Effect.fn("OAuth.discoverJwksUrl")(function* (issuer: string, timeoutMs: number) {
  const problems: Array<string> = []
  for (const url of metadataUrls(issuer)) {
    const found = yield* Effect.tryPromise(() => jwksUriFrom(url, issuer, timeoutMs)).pipe(
      Effect.map((jwks): URL | undefined => jwks),
      Effect.catch((e) => Effect.sync(() => void problems.push(`${url.href}: ${describe(e.cause)}`)))
    )
    if (found !== undefined) return found
  }
  return yield* new AuthFailure({
    reason: "issuer_unavailable",
    message: "the authorization server's metadata could not be fetched to check the token; try again later",
    detail: `no JWKS URL from the issuer's metadata (${problems.join("; ")})`
  })
})
