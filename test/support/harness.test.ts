/**
 * Tests of the integration-test harness itself (real redis-server processes).
 */
import { existsSync } from "node:fs"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { processAlive, runOrphanFixture } from "../harness/processes.ts"
import { RedisTestServer } from "./effect.ts"
import { requireRedis } from "./env.ts"
import { canBind, freePort, freePorts } from "./ports.ts"
import { stopAll } from "./registry.ts"
import { type RedisHandle, startRedis } from "./standalone.ts"
import { tlsClientOptions } from "./tls.ts"
import { waitFor } from "./wait.ts"

requireRedis() // throws under CI; locally a missing redis-server fails these tests, never skips them

const elapsed = async (f: () => Promise<unknown>): Promise<number> => {
  const start = Date.now()
  await f()
  return Date.now() - start
}

describe("requireRedis", () => {
  it("throws under CI and returns false locally when the binaries are missing", () => {
    const saved = { dir: process.env.REDIS_BIN_DIR, ci: process.env.CI }
    try {
      process.env.REDIS_BIN_DIR = "/nonexistent-redis-bin"
      process.env.CI = "true"
      expect(() => requireRedis()).toThrow(/must not be skipped under CI/)
      process.env.CI = "false"
      expect(requireRedis()).toBe(false)
    } finally {
      if (saved.dir === undefined) delete process.env.REDIS_BIN_DIR
      else process.env.REDIS_BIN_DIR = saved.dir
      if (saved.ci === undefined) delete process.env.CI
      else process.env.CI = saved.ci
    }
  })
})

describe("freePort", () => {
  it("hands out distinct bindable ports whose cluster bus port is free too", async () => {
    const ports = await freePorts(5, { clusterBus: true })
    expect(new Set(ports).size).toBe(5)
    for (const port of ports) {
      expect(await canBind(port)).toBe(true)
      expect(await canBind(port + 10000)).toBe(true)
    }
    expect(ports).not.toContain(await freePort())
  })
})

describe("standalone", () => {
  let redis: RedisHandle
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(() => redis.dispose())

  it("answers PING via ioredis and redis-cli", async () => {
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`)
    expect(await redis.client().ping()).toBe("PONG")
    expect(await redis.cli("PING")).toBe("PONG")
  })

  it("pause() and debugSleep() block clients for the requested time", async () => {
    const client = redis.client()
    await redis.pause(300)
    expect(await elapsed(() => client.set("k", "v"))).toBeGreaterThanOrEqual(200)
    await redis.debugSleep(1)
    expect(await elapsed(() => client.ping())).toBeGreaterThanOrEqual(700)
  })

  it("stop() shuts the server down gracefully and restart() brings it back on the same port", async () => {
    await redis.stop()
    expect(redis.isRunning()).toBe(false)
    expect(await canBind(redis.port)).toBe(true)
    await redis.restart()
    expect(await redis.client().ping()).toBe("PONG")
  })
})

describe("AOF persistence", () => {
  let redis: RedisHandle
  beforeAll(async () => {
    redis = await startRedis({ aof: true })
  })
  afterAll(() => redis.dispose())

  it("keeps a key written before SIGKILL across restart()", async () => {
    const client = redis.client({ maxRetriesPerRequest: null })
    await client.set("durable", "yes")
    const pid = redis.pid()
    await redis.kill()
    expect(processAlive(pid ?? -1)).toBe(false)
    await redis.restart()
    expect(redis.pid()).not.toBe(pid)
    expect(await client.get("durable")).toBe("yes")
  })
})

describe("TLS", () => {
  let redis: RedisHandle
  beforeAll(async () => {
    redis = await startRedis({ tls: true })
  })
  afterAll(() => redis.dispose())

  it("accepts a client with CA + client certificate", async () => {
    expect(redis.url).toBe(`rediss://127.0.0.1:${redis.port}`)
    const tls = redis.tls
    assert.isDefined(tls)
    const client = redis.client({ tls: tlsClientOptions(tls) })
    expect(await client.ping()).toBe("PONG")
    expect(await redis.cli("PING")).toBe("PONG")
  })

  it("rejects a plaintext connection", async () => {
    const plain = new Redis({
      host: redis.host,
      port: redis.port,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000
    })
    plain.on("error", () => {})
    try {
      await expect(plain.connect().then(() => plain.ping())).rejects.toThrow()
    } finally {
      plain.disconnect()
    }
  })
})

describe("ACL", () => {
  let redis: RedisHandle
  beforeAll(async () => {
    redis = await startRedis({
      password: "s3cret pass",
      aclUsers: [{ name: "reader", password: "r3ad", rules: "~* &* +@read -@dangerous +ping +info" }]
    })
  })
  afterAll(() => redis.dispose())

  it("protects the default user with requirepass", async () => {
    expect(redis.url).toBe(`redis://:s3cret%20pass@127.0.0.1:${redis.port}`)
    await redis.client().set("greeting", "hello")
    const anonymous = redis.client({ password: "" })
    await expect(anonymous.get("greeting")).rejects.toThrow(/NOAUTH|WRONGPASS/)
  })

  it("lets a read-only user read but not write", async () => {
    const reader = new Redis(redis.urlFor("reader"), { lazyConnect: true })
    try {
      expect(await reader.get("greeting")).toBe("hello")
      await expect(reader.set("greeting", "bye")).rejects.toThrow(/NOPERM/)
    } finally {
      reader.disconnect()
    }
  })
})

describe("Effect wrappers", () => {
  layer(RedisTestServer.layer({ aof: true }), { excludeTestServices: true })((it) => {
    it.effect("RedisTestServer.layer provides a running server", () =>
      Effect.gen(function* () {
        const redis = yield* RedisTestServer
        const pong = yield* Effect.promise(() => redis.client().ping())
        assert.strictEqual(pong, "PONG")
      })
    )
  })
})

describe("cleanup", () => {
  it("stopAll() kills every tracked process and removes its directory", async () => {
    const redis = await startRedis()
    const pid = redis.pid() ?? -1
    expect(processAlive(pid)).toBe(true)
    await stopAll()
    expect(processAlive(pid)).toBe(false)
    expect(existsSync(redis.dir)).toBe(false)
    const again = await startRedis({ tls: true })
    expect(await again.cli("PING")).toBe("PONG")
    await again.dispose()
  })

  it("the exit hook kills servers of a process that exits without cleanup", async () => {
    const run = await runOrphanFixture("exit", { watchdog: false })
    await run.exited
    await waitFor(async () => !processAlive(run.redisPid) && !existsSync(run.dir), {
      timeoutMs: 1000,
      description: "the fixture's server to be gone"
    })
  })

  it("the signal hook kills servers of a process stopped with SIGTERM (as vitest stops workers)", async () => {
    const run = await runOrphanFixture("idle", { watchdog: false })
    run.kill("SIGTERM")
    await run.exited
    await waitFor(async () => !processAlive(run.redisPid) && !existsSync(run.dir), {
      timeoutMs: 1000,
      description: "the fixture's server to be gone"
    })
  })

  it("the watchdog kills servers of a process that was SIGKILLed", async () => {
    const run = await runOrphanFixture("idle")
    expect(processAlive(run.redisPid)).toBe(true)
    run.kill()
    await run.exited
    await waitFor(async () => !processAlive(run.redisPid) && !existsSync(run.dir), {
      timeoutMs: 10_000,
      description: "the watchdog to clean up"
    })
  })
})
