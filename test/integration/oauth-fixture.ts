/**
 * Shared set-up of the OAuth integration tests: an auth file with two roles and a file token,
 * four signing keys, and `scenario`, which starts a fake issuer on 127.0.0.1, runs a test body
 * with an authenticator configured for it, and closes the issuer.
 */
import { afterAll, beforeAll } from "@effect/vitest"
import { Effect, type Layer } from "effect"
import { base64url } from "jose"
import { Authenticator } from "../../src/mcp/auth/Authenticator.ts"
import { defaultJwksOptions, type JwksOptions } from "../../src/mcp/auth/OAuth.ts"
import { sha256Hex } from "../../src/mcp/auth/Tokens.ts"
import {
  authDir,
  authLayers,
  type FakeIssuer,
  type MetadataKind,
  makeKey,
  type SigningKey,
  type SignOptions,
  sign,
  startIssuer
} from "../support/auth.ts"

export const AUDIENCE = "https://mcp.test/mcp"
const roles = {
  reader: { toolsets: ["keys"], readOnly: true, keys: ["app:*"] },
  worker: { toolsets: ["task", "state"], queues: ["build-*"] }
}
export const claims = { redis_mcp_role: "reader", scope: "mcp redis" }

export type Auth = Authenticator["Service"]

export interface OAuthFixture {
  readonly authFile: string
  /** Published as `key-1` / `key-2`. */
  readonly key1: SigningKey
  readonly key2: SigningKey
  /** Another key under the kid `key-1`. */
  readonly stranger: SigningKey
  readonly ecKey: SigningKey
}

/** Registers the set-up hooks; the returned object is filled before the first test runs. */
export const useOAuthFixture = (): OAuthFixture => {
  const fx = {} as { -readonly [K in keyof OAuthFixture]: OAuthFixture[K] }
  let files: Awaited<ReturnType<typeof authDir>>
  beforeAll(async () => {
    files = await authDir()
    fx.authFile = await files.write("auth.json", {
      roles,
      tokens: [{ name: "ci-bot", sha256: sha256Hex("static-token"), role: "reader" }]
    })
    ;[fx.key1, fx.key2, fx.stranger, fx.ecKey] = await Promise.all([
      makeKey("key-1"),
      makeKey("key-2"),
      makeKey("key-1"),
      makeKey("ec-1", "ES256")
    ])
  })
  afterAll(() => files.dispose())
  return fx
}

export const env = (fx: OAuthFixture, issuer: FakeIssuer) => ({
  REDIS_MCP_AUTH_FILE: fx.authFile,
  REDIS_MCP_OAUTH_ISSUER: issuer.issuer,
  REDIS_MCP_OAUTH_AUDIENCE: AUDIENCE
})

/** Start an issuer publishing `keys`, run `body` with an authenticator for it, close the issuer. */
export const scenario = <A>(
  fx: OAuthFixture,
  keys: Array<SigningKey>,
  body: (auth: Auth, issuer: FakeIssuer) => Effect.Effect<A, unknown>,
  options: {
    metadata?: MetadataKind
    env?: (issuer: FakeIssuer) => Record<string, string>
    jwks?: Partial<JwksOptions>
  } = {}
) =>
  Effect.acquireUseRelease(
    Effect.promise(() => startIssuer(keys, options.metadata)),
    (issuer) =>
      Effect.flatMap(Authenticator, (auth) => body(auth, issuer)).pipe(
        Effect.provide(
          authLayers(
            { ...env(fx, issuer), ...options.env?.(issuer) },
            { ...defaultJwksOptions, ...options.jwks }
          ) as Layer.Layer<Authenticator, never>
        )
      ),
    (issuer) => Effect.promise(() => issuer.close())
  )

export const reason = (auth: Auth, token: string) => Effect.map(Effect.flip(auth.verify(token)), (e) => e.reason)

/** A token signed by `key` for `issuer`, subject alice, role reader, unless `extra`/`over` say otherwise. */
export const signed = (key: SigningKey, issuer: FakeIssuer, extra: object = {}, over: Partial<SignOptions> = {}) =>
  Effect.promise(() =>
    sign(key, { ...claims, ...extra }, { issuer: issuer.issuer, audience: AUDIENCE, subject: "alice", ...over })
  )

/** A JWT with the given header and payload and an arbitrary signature part. */
export const forged = (header: object, payload: object, signature = "") =>
  `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.${signature}`
