/**
 * Drive the built server (dist/main.js) over stdio with the SDK Client, as an MCP
 * client would. `npm test` builds first.
 */
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll } from "@effect/vitest"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { requireRedis } from "../support/env.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"

export const MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url))

export interface ServerUnderTest {
  readonly client: Client
  readonly transport: StdioClientTransport
  /** Lines the server wrote to stderr. */
  readonly stderr: Array<string>
  /** Call a tool; returns the parsed structuredContent, or the error envelope when isError. */
  readonly call: (name: string, args?: Record<string, unknown>) => Promise<CallResult>
  /** Call a tool that must succeed (the test fails otherwise); returns its structuredContent. */
  readonly expectOk: (name: string, args?: Record<string, unknown>) => Promise<any>
  /** Call a tool that must fail (the test fails otherwise); returns its error envelope. */
  readonly expectError: (name: string, args?: Record<string, unknown>) => Promise<CallError>
  readonly close: () => Promise<void>
}

export interface CallError {
  readonly tag: string
  readonly message: string
  readonly retryable: boolean
  readonly [k: string]: unknown
}

export type CallResult = { readonly ok: true; readonly value: any } | { readonly ok: false; readonly error: CallError }

/** Spawn the built server with the given environment (on top of PATH and HOME only) and CLI args. */
export const startServer = async (
  env: Record<string, string> = {},
  args: ReadonlyArray<string> = []
): Promise<ServerUnderTest> => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does it)`)
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MAIN, ...args],
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", REDIS_MCP_LOG_LEVEL: "info", ...env },
    stderr: "pipe"
  })
  const stderr: Array<string> = []
  transport.stderr?.on("data", (chunk: Buffer) =>
    stderr.push(
      ...chunk
        .toString("utf8")
        .split("\n")
        .filter((l) => l !== "")
    )
  )
  const client = new Client({ name: "e2e", version: "1.0.0" })
  await client.connect(transport)
  const call = async (name: string, args: Record<string, unknown> = {}): Promise<CallResult> => {
    const result = await client.callTool({ name, arguments: args })
    if (result.isError === true) {
      const content = result.content as Array<{ type: string; text: string }>
      return { ok: false, error: JSON.parse(content[0]!.text).error }
    }
    return { ok: true, value: result.structuredContent }
  }
  const expectOk = async (name: string, args: Record<string, unknown> = {}) => {
    const r = await call(name, args)
    if (!r.ok) assert.fail(`${name} failed: ${JSON.stringify(r.error)}`)
    return r.value
  }
  const expectError = async (name: string, args: Record<string, unknown> = {}) => {
    const r = await call(name, args)
    if (r.ok) assert.fail(`${name} should have failed, got ${JSON.stringify(r.value)}`)
    return r.error
  }
  return { client, transport, stderr, call, expectOk, expectError, close: () => client.close() }
}

/** Wait until the server reports its Redis connection ready (it starts before connecting). */
export const redisReady = async (server: ServerUnderTest): Promise<ServerUnderTest> => {
  for (let i = 0; i < 100; i++) {
    const health = await server.call("health", {})
    if (health.ok && health.value.state === "ready") return server
    await new Promise((r) => setTimeout(r, 100))
  }
  assert.fail("the server never reported Redis ready")
}

export interface UseServerOptions {
  /** Environment for the server; in redis mode REDIS_URL is added. */
  readonly env?: Record<string, string>
  /** CLI args for the server. */
  readonly args?: ReadonlyArray<string>
  /** Redis mode: runs on the fresh redis-server before the server starts. */
  readonly seed?: (redis: RedisHandle) => Promise<unknown>
  /** Timeout of the beforeAll and afterAll hooks (the vitest default otherwise). */
  readonly timeout?: number
}

/** A server that `useServer` starts and stops; it forwards to the running one. */
export interface SharedServer extends ServerUnderTest {
  /** The redis-server under it (redis mode only). */
  readonly redis: () => RedisHandle
}

/**
 * One server for the enclosing `describe`: started in `beforeAll` (in redis mode
 * on a fresh redis-server, after `requireRedis()`), closed with its redis-server
 * in `afterAll`. Call it in the describe's body; tests use the handle like a
 * `ServerUnderTest`.
 */
export const useServer = (mode: "memory" | "redis", options: UseServerOptions = {}): SharedServer => {
  let redis: RedisHandle | undefined
  let server: ServerUnderTest | undefined
  beforeAll(async () => {
    const env = { ...options.env }
    if (mode === "redis") {
      requireRedis()
      redis = await startRedis()
      await options.seed?.(redis)
      env.REDIS_URL = redis.url
    }
    server = await startServer(env, options.args)
  }, options.timeout)
  afterAll(async () => {
    await server?.close()
    await redis?.stop()
  }, options.timeout)
  const current = () => server ?? assert.fail("useServer: the server starts in beforeAll")
  return {
    get client() {
      return current().client
    },
    get transport() {
      return current().transport
    },
    get stderr() {
      return current().stderr
    },
    call: (name, args) => current().call(name, args),
    expectOk: (name, args) => current().expectOk(name, args),
    expectError: (name, args) => current().expectError(name, args),
    close: () => current().close(),
    redis: () => redis ?? assert.fail("useServer: there is no redis-server in memory mode")
  }
}
