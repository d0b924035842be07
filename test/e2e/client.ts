/**
 * Drive the built server (dist/main.js) over stdio as an MCP client would. The
 * whole e2e suite runs twice (vitest projects, see vitest.config.ts): with the
 * v1 SDK `Client` speaking 2025-11-25 (E2E_CLIENT=v1) and with the v2 `Client`
 * pinned to 2026-07-28 (E2E_CLIENT=v2), through one `TestClient` surface so the
 * assertions are the same. `npm test` builds first.
 */
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll } from "@effect/vitest"
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as HttpClientTransportV2
} from "@modelcontextprotocol/client"
import { StdioClientTransport as StdioClientTransportV2 } from "@modelcontextprotocol/client/stdio"
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport as StdioClientTransportV1 } from "@modelcontextprotocol/sdk/client/stdio.js"
import { StreamableHTTPClientTransport as HttpClientTransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import { requireRedis } from "../support/env.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"

export const MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url))

/** Which client this run of the suite uses. */
export const CLIENT: "v1" | "v2" = process.env.E2E_CLIENT === "v2" ? "v2" : "v1"
/** The protocol revision the client speaks. */
export const PROTOCOL = CLIENT === "v2" ? "2026-07-28" : "2025-11-25"

type Params = Record<string, unknown>
interface RequestOptions {
  readonly signal?: AbortSignal
  readonly timeout?: number
}

/** What the tests use of an MCP client, the same for both SDK generations. */
export interface TestClient {
  readonly listTools: () => Promise<{ tools: Array<any> }>
  readonly callTool: (params: { name: string; arguments?: Params }, options?: RequestOptions) => Promise<any>
  readonly listPrompts: () => Promise<{ prompts: Array<any> }>
  readonly getPrompt: (params: { name: string; arguments?: Record<string, string> }) => Promise<any>
  readonly listResources: () => Promise<{ resources: Array<any> }>
  readonly listResourceTemplates: () => Promise<{ resourceTemplates: Array<any> }>
  readonly readResource: (params: { uri: string }) => Promise<any>
  /** Be told of changes to `uri`: resources/subscribe (2025) or a subscriptions/listen stream (2026). */
  readonly subscribe: (uri: string) => Promise<void>
  readonly unsubscribe: (uri: string) => Promise<void>
  /** Called with the URI of every notifications/resources/updated. */
  readonly onResourceUpdated: (handler: (uri: string) => void) => void
  readonly getServerVersion: () =>
    | { readonly name: string; readonly version: string; readonly title?: string | undefined }
    | undefined
  readonly getServerCapabilities: () => Record<string, any> | undefined
  readonly getInstructions: () => string | undefined
  readonly protocolVersion: () => string | undefined
  readonly close: () => Promise<void>
}

/** The JSON-RPC error a client call failed with (code and message), whichever SDK threw it. */
export const rpcError = (e: unknown): { readonly code: number | undefined; readonly message: string } => {
  const error = e as { code?: unknown; message?: unknown }
  return { code: typeof error?.code === "number" ? error.code : undefined, message: String(error?.message ?? e) }
}

export interface ServerUnderTest {
  readonly client: TestClient
  /** The spawned server process. */
  readonly pid: number | null
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

interface Spawned {
  readonly client: TestClient
  readonly stderr: NodeJS.ReadableStream | null
  readonly pid: () => number | null
}

/** The methods both SDK generations' Clients have with the same shape. */
const sameOnBoth = (client: ClientV1 | ClientV2) => {
  const c = client as ClientV1
  return {
    listTools: () => c.listTools(),
    listPrompts: () => c.listPrompts(),
    getPrompt: (p: { name: string; arguments?: Record<string, string> }) => c.getPrompt(p),
    listResources: () => c.listResources(),
    listResourceTemplates: () => c.listResourceTemplates(),
    readResource: (p: { uri: string }) => c.readResource(p),
    getServerVersion: () => c.getServerVersion(),
    getInstructions: () => c.getInstructions(),
    close: () => c.close()
  }
}

type StdioParams = { command: string; args: Array<string>; env: Record<string, string> }
type TransportV1 = StdioClientTransportV1 | HttpClientTransportV1

const v1 = (params: StdioParams): Promise<Spawned> => {
  const transport = new StdioClientTransportV1({ ...params, stderr: "pipe" })
  return v1Over(transport, transport.stderr as NodeJS.ReadableStream | null, () => transport.pid)
}

const v1Over = async (
  transport: TransportV1,
  stderr: NodeJS.ReadableStream | null,
  pid: () => number | null
): Promise<Spawned> => {
  const client = new ClientV1({ name: "e2e", version: "1.0.0" })
  // The v1 Client hands the negotiated version to a transport that takes it (HTTP sends it as a header).
  let negotiated: string | undefined
  const own = (transport as { setProtocolVersion?: (v: string) => void }).setProtocolVersion?.bind(transport)
  Object.assign(transport, {
    setProtocolVersion: (version: string) => {
      negotiated = version
      own?.(version)
    }
  })
  await client.connect(transport)
  return {
    stderr,
    pid,
    client: {
      ...sameOnBoth(client),
      callTool: (p, o) => client.callTool(p, undefined, o),
      subscribe: async (uri) => {
        await client.subscribeResource({ uri })
      },
      unsubscribe: async (uri) => {
        await client.unsubscribeResource({ uri })
      },
      onResourceUpdated: (handler) =>
        client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => handler(n.params.uri)),
      getServerCapabilities: () => client.getServerCapabilities(),
      protocolVersion: () => negotiated
    }
  }
}

/**
 * The v2 client's own StdioClientTransport sends its server/discover probe to a sibling process spawned
 * for it; a subclass probes on the connection itself: one server process per test server, and
 * server/discover goes over the connection under test.
 */
class InPlaceStdioTransport extends StdioClientTransportV2 {}

const v2 = (params: StdioParams): Promise<Spawned> => {
  const transport = new InPlaceStdioTransport({ ...params, stderr: "pipe" })
  return v2Over(transport, transport.stderr as NodeJS.ReadableStream | null, () => transport.pid)
}

const v2Over = async (
  transport: InPlaceStdioTransport | HttpClientTransportV2,
  stderr: NodeJS.ReadableStream | null,
  pid: () => number | null
): Promise<Spawned> => {
  const client = new ClientV2(
    { name: "e2e", version: "1.0.0" },
    { versionNegotiation: { mode: { pin: "2026-07-28" } } }
  )
  await client.connect(transport)
  const listens = new Map<string, { close: () => Promise<void> }>()
  return {
    stderr,
    pid,
    client: {
      ...sameOnBoth(client),
      callTool: (p, o) => client.callTool(p, o),
      subscribe: async (uri) => {
        if (listens.has(uri)) return
        const subscription = await client.listen({ resourceSubscriptions: [uri] })
        const honored = subscription.honoredFilter.resourceSubscriptions ?? []
        if (!honored.includes(uri)) throw new Error(`subscriptions/listen did not honor ${uri}`)
        listens.set(uri, subscription)
      },
      unsubscribe: async (uri) => {
        await listens.get(uri)?.close()
        listens.delete(uri)
      },
      onResourceUpdated: (handler) =>
        client.setNotificationHandler("notifications/resources/updated", (n) => handler(n.params.uri)),
      getServerCapabilities: () => client.getServerCapabilities() as Record<string, any> | undefined,
      protocolVersion: () => client.getNegotiatedProtocolVersion()
    }
  }
}

/** Spawn the built server with the given environment (on top of PATH and HOME only) and CLI args. */
export const startServer = async (
  env: Record<string, string> = {},
  args: ReadonlyArray<string> = []
): Promise<ServerUnderTest> => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does it)`)
  const params = {
    command: process.execPath,
    args: [MAIN, ...args],
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      REDIS_MCP_LOG_LEVEL: "info",
      // The projects named "…sdk-path" run with the stdio fast path off (vitest.config.ts).
      ...(process.env.E2E_FASTPATH === "0" ? { REDIS_MCP_FASTPATH: "0" } : {}),
      ...env
    }
  }
  const stderr: Array<string> = []
  const spawned = await (CLIENT === "v2" ? v2 : v1)(params)
  spawned.stderr?.on("data", (chunk: Buffer) =>
    stderr.push(
      ...chunk
        .toString("utf8")
        .split("\n")
        .filter((l) => l !== "")
    )
  )
  return underTest(spawned, stderr)
}

/**
 * Connect this run's client (v1 on 2025-11-25 or v2 on 2026-07-28) to an HTTP server already
 * running (see test/support/http-server.ts), with a bearer token when given.
 */
export const connectHttp = async (
  url: string,
  options: { readonly token?: string; readonly pid?: number } = {}
): Promise<ServerUnderTest> => {
  const requestInit = options.token === undefined ? {} : { headers: { authorization: `Bearer ${options.token}` } }
  const pid = () => options.pid ?? null
  const spawned =
    CLIENT === "v2"
      ? await v2Over(new HttpClientTransportV2(new URL(url), { requestInit }), null, pid)
      : await v1Over(new HttpClientTransportV1(new URL(url), { requestInit }), null, pid)
  return underTest(spawned, [])
}

const underTest = (spawned: Spawned, stderr: Array<string>): ServerUnderTest => {
  const { client } = spawned
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
  return {
    client,
    get pid() {
      return spawned.pid()
    },
    stderr,
    call,
    expectOk,
    expectError,
    close: () => client.close()
  }
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
    get pid() {
      return current().pid
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
