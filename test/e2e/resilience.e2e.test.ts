/**
 * The built server against a real redis-server that goes away: tools answer
 * RedisUnavailable or Timeout within the command timeout instead of hanging, the
 * process stays up, and it recovers by itself when Redis is back.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { allTools } from "../../src/tools/index.ts"
import { requireRedis } from "../support/env.ts"
import { freePort } from "../support/ports.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"
import { type CallResult, type ServerUnderTest, startServer, useServer } from "./client.ts"

const TIMEOUT_MS = 1000
const ENV = {
  REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS),
  REDIS_CONNECT_TIMEOUT_MS: "1000",
  REDIS_RETRY_BASE_MS: "50",
  REDIS_RETRY_MAX_MS: "300"
}
const hasKeys = allTools.some((t) => t.name === "get") && allTools.some((t) => t.name === "set")
const key = `e2e:resilience:${Math.random().toString(36).slice(2)}`

/**
 * A call that must answer (success or error) rather than hang. The bound is the
 * command timeout plus room for process and pipe latency on a busy machine.
 */
const answer = (server: ServerUnderTest, name: string, args: Record<string, unknown> = {}) =>
  Promise.race([
    server.call(name, args),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${name} hung: no answer within ${TIMEOUT_MS + 4000} ms`)), TIMEOUT_MS + 4000)
    )
  ])

const assertDown = (result: CallResult, what: string) => {
  assert.isFalse(result.ok, `${what} succeeded with Redis down`)
  if (!result.ok) {
    assert.include(["RedisUnavailable", "Timeout"], result.error.tag, what)
    assert.isTrue(result.error.retryable, what)
    assert.include(result.error.message, "health", what)
  }
}

/** Poll until `probe` holds (an event in another process we cannot subscribe to). */
const eventually = async <A>(probe: () => Promise<A | undefined>, what: string, timeoutMs = 20_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const pingOk = (server: ServerUnderTest) => async () => ((await answer(server, "ping")).ok ? true : undefined)

const alive = (server: ServerUnderTest) => {
  const pid = server.pid
  assert.isNotNull(pid)
  assert.doesNotThrow(() => process.kill(pid!, 0), "the server process is gone")
}

describe("Redis killed mid-session", () => {
  const server = useServer("redis", { env: ENV })
  beforeAll(() => eventually(pingOk(server), "the first ping"))

  it("tools fail with RedisUnavailable/Timeout, the server stays up, and recovers after a restart", async () => {
    const redis = server.redis()
    if (hasKeys) {
      assert.isTrue((await answer(server, "set", { key, value: "before" })).ok)
      const got = await answer(server, "get", { key })
      assert.isTrue(got.ok && got.value.value === "before")
    }

    await redis.kill()
    assertDown(await answer(server, "ping"), "ping right after the kill")
    // Wait until the server has noticed, then every Redis-backed tool fails fast.
    await eventually(async () => {
      const h = await answer(server, "health")
      return h.ok && h.value.state !== "ready" ? h.value : undefined
    }, "health to leave ready")
    assertDown(await answer(server, "ping"), "ping")
    if (hasKeys) {
      assertDown(await answer(server, "get", { key }), "get")
      assertDown(await answer(server, "set", { key, value: "during" }), "set")
    }
    const down = await answer(server, "health")
    assert.isTrue(down.ok)
    if (down.ok) {
      assert.include(["reconnecting", "connecting"], down.value.state)
      assert.isString(down.value.lastError)
      assert.isAtLeast(down.value.reconnects, 1)
    }
    alive(server)

    await redis.restart()
    await eventually(pingOk(server), "ping after the restart")
    const up = await answer(server, "health")
    assert.isTrue(up.ok && up.value.state === "ready" && up.value.reconnects >= 1)
    if (hasKeys) {
      assert.isTrue((await answer(server, "set", { key, value: "after" })).ok)
      const got = await answer(server, "get", { key })
      assert.isTrue(got.ok && got.value.value === "after")
    }
    assert.isTrue(server.stderr.some((l) => l.includes("redis connection lost")))
    assert.isTrue(server.stderr.some((l) => l.includes("redis reconnected")))
    alive(server)
  })
})

describe("server started while Redis is down", () => {
  let redis: RedisHandle | undefined
  let server: ServerUnderTest
  let port: number
  beforeAll(async () => {
    requireRedis()
    port = await freePort()
    server = await startServer({ ...ENV, REDIS_URL: `redis://127.0.0.1:${port}` })
  })
  afterAll(async () => {
    await server?.close()
    await redis?.dispose()
  })

  it("starts, answers RedisUnavailable, and connects by itself once Redis comes up", async () => {
    const { tools } = await server.client.listTools()
    assert.isAbove(tools.length, 0)
    assertDown(await answer(server, "ping"), "ping")
    if (hasKeys) assertDown(await answer(server, "get", { key }), "get")
    const down = await answer(server, "health")
    assert.isTrue(down.ok)
    if (down.ok) {
      assert.include(["connecting", "reconnecting"], down.value.state)
      assert.match(down.value.lastError ?? "", /ECONNREFUSED/)
      assert.strictEqual(down.value.target, `redis://127.0.0.1:${port}`)
    }

    redis = await startRedis({ port })
    await eventually(pingOk(server), "ping once Redis is up")
    const up = await answer(server, "health")
    assert.isTrue(up.ok && up.value.state === "ready")
    if (hasKeys) assert.isTrue((await answer(server, "set", { key, value: "v" })).ok)
    alive(server)
  })
})
