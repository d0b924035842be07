/**
 * Auth test support: a toolset catalog, auth files in a temp directory, the auth layers built
 * from an environment, and a fake OAuth issuer on 127.0.0.1 (RFC 8414 / OIDC metadata and a
 * JWKS endpoint) with keys made by `jose`.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ConfigProvider, Layer } from "effect"
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose"
import { Authenticator, make as makeAuthenticator } from "../../src/mcp/auth/Authenticator.ts"
import type { ToolsetCatalog } from "../../src/mcp/auth/AuthFile.ts"
import { AuthSettings } from "../../src/mcp/auth/AuthSettings.ts"
import { AuthStore } from "../../src/mcp/auth/AuthStore.ts"
import { defaultJwksOptions, type JwksOptions } from "../../src/mcp/auth/OAuth.ts"

export const catalog: ToolsetCatalog = {
  known: ["keys", "hash", "list", "pubsub", "task", "state", "command"],
  defaults: ["keys", "task", "state"]
}

/** A temp directory for auth files; `dispose` removes it. */
export const authDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "redis-mcp-auth-"))
  return {
    dir,
    write: async (name: string, content: unknown) => {
      const path = join(dir, name)
      await writeFile(path, typeof content === "string" ? content : JSON.stringify(content))
      return path
    },
    dispose: () => rm(dir, { recursive: true, force: true })
  }
}

/** AuthSettings + AuthStore + Authenticator from an environment record. */
export const authLayers = (env: Record<string, string>, jwks: JwksOptions = defaultJwksOptions) => {
  const settings = AuthSettings.layer.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(env))))
  const store = AuthStore.layer(catalog).pipe(Layer.provideMerge(settings))
  return Layer.effect(Authenticator, makeAuthenticator(jwks)).pipe(Layer.provideMerge(store))
}

export interface SigningKey {
  readonly kid: string
  readonly alg: string
  readonly privateKey: CryptoKey
  readonly publicKey: CryptoKey
  readonly publicJwk: JWK
}

export const makeKey = async (kid: string, alg = "RS256"): Promise<SigningKey> => {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" }
  return { kid, alg, privateKey, publicKey, publicJwk }
}

export interface SignOptions {
  readonly issuer: string
  readonly audience: string | ReadonlyArray<string>
  readonly subject?: string | undefined
  /** Seconds from now; negative is in the past. @default 3600 */
  readonly expiresIn?: number
  readonly notBeforeIn?: number
  readonly kid?: string
}

const now = () => Math.floor(Date.now() / 1000)

export const sign = (key: SigningKey, claims: JWTPayload, options: SignOptions): Promise<string> => {
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: options.kid ?? key.kid, typ: "at+jwt" })
    .setIssuer(options.issuer)
    .setAudience(options.audience as string | Array<string>)
    .setIssuedAt()
    .setExpirationTime(now() + (options.expiresIn ?? 3600))
  if (options.subject !== undefined) jwt = jwt.setSubject(options.subject)
  if (options.notBeforeIn !== undefined) jwt = jwt.setNotBefore(now() + options.notBeforeIn)
  return jwt.sign(key.privateKey)
}

/** Which discovery documents the fake issuer serves. */
export type MetadataKind = "rfc8414" | "oidc" | "none"

export interface FakeIssuer {
  /** The issuer identifier (`http://127.0.0.1:<port>/realms/test`). */
  readonly issuer: string
  readonly jwksUrl: string
  /** Requests served, by route. */
  readonly hits: { metadata: number; oidc: number; jwks: number }
  /** The keys `/jwks` publishes now (change it to rotate). */
  published: Array<SigningKey>
  metadata: MetadataKind
  /** What the metadata documents name as issuer. @default issuer */
  metadataIssuer: string | undefined
  /** Answer every request with 503 (an issuer in trouble). */
  failing: boolean
  close(): Promise<void>
}

export const startIssuer = async (keys: Array<SigningKey>, metadata: MetadataKind = "rfc8414"): Promise<FakeIssuer> => {
  const path = "/realms/test"
  const state = {
    hits: { metadata: 0, oidc: 0, jwks: 0 },
    published: keys,
    metadata,
    metadataIssuer: undefined as string | undefined,
    failing: false
  }
  const server = createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" })
      res.end(JSON.stringify(body))
    }
    const doc = () => ({ issuer: state.metadataIssuer ?? issuer, jwks_uri: jwksUrl })
    const failing = () => json(503, { error: "temporarily_unavailable" })
    if (req.url === `/.well-known/oauth-authorization-server${path}`) {
      state.hits.metadata++
      if (state.failing) return failing()
      return state.metadata === "rfc8414" ? json(200, doc()) : json(404, { error: "not found" })
    }
    if (req.url === `${path}/.well-known/openid-configuration`) {
      state.hits.oidc++
      if (state.failing) return failing()
      return state.metadata === "oidc" ? json(200, doc()) : json(404, { error: "not found" })
    }
    if (req.url === `${path}/jwks`) {
      state.hits.jwks++
      if (state.failing) return failing()
      return json(200, { keys: state.published.map((k) => k.publicJwk) })
    }
    json(404, { error: "not found" })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  const issuer = `http://127.0.0.1:${port}${path}`
  const jwksUrl = `${issuer}/jwks`
  return Object.assign(state, {
    issuer,
    jwksUrl,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  })
}
