/**
 * Sentinel mode on a real primary + replica watched by three sentinels: connect
 * through the sentinels, use the Kv service, follow failovers (requested and
 * after a killed primary), and the READONLY rules: a connection left on a demoted
 * primary reconnects through the sentinels; an idempotent call is retried once,
 * any other fails with a retryable error and writes nothing twice.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Clock, ConfigProvider, Context, Duration, Effect, Fiber, Layer, Metric } from "effect"
import { RedisConfig, redisSettingsConfig, ServerConfig, serverSettingsConfig } from "../../src/layers/Config.ts"
import * as Metrics from "../../src/layers/Metrics.ts"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { Kv } from "../../src/services/Kv.ts"
import { RedisTestSentinel } from "../support/effect.ts"
import { requireRedis } from "../support/env.ts"
import type { SentinelSet } from "../support/sentinel.ts"
import type { RedisHandle } from "../support/standalone.ts"
import { waitFor } from "../support/wait.ts"

const TIMEOUT_MS = 3000
const FAST_RETRY = { REDIS_RETRY_BASE_MS: "50", REDIS_RETRY_MAX_MS: "300", REDIS_CONNECT_TIMEOUT_MS: "1000" }

const configFor = (env: Record<string, string>) => {
  const provider = ConfigProvider.fromEnvRecord(env)
  return Layer.mergeAll(
    Layer.effect(RedisConfig, redisSettingsConfig.parse(provider)),
    Layer.effect(ServerConfig, serverSettingsConfig.parse(provider))
  )
}

const sentinelEnv = (set: SentinelSet): Record<string, string> => ({
  REDIS_SENTINELS: set.sentinels.map((s) => `${s.host}:${s.port}`).join(","),
  REDIS_SENTINEL_MASTER: set.masterName,
  REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS),
  ...FAST_RETRY
})

/** Kv and RedisClient in sentinel mode, on a fresh sentinel set (also provided). */
const onSentinels = (options: Parameters<typeof RedisTestSentinel.layer>[0] = {}, env: Record<string, string> = {}) =>
  Layer.unwrap(
    Effect.gen(function* () {
      requireRedis()
      const set = yield* RedisTestSentinel
      return Kv.layer.pipe(
        Layer.provideMerge(Layer.effect(RedisClient, RedisClient.make)),
        Layer.provideMerge(configFor({ ...sentinelEnv(set), ...env }))
      )
    })
  ).pipe(Layer.provideMerge(RedisTestSentinel.layer(options)))

/** A RedisClient of its own, released with the caller's scope. */
const clientFrom = (env: Record<string, string>) =>
  Effect.map(Layer.build(Layer.effect(RedisClient, RedisClient.make).pipe(Layer.provide(configFor(env)))), (ctx) =>
    Context.get(ctx, RedisClient)
  )

const key = (name: string) => `sentinel-it:${Math.random().toString(36).slice(2)}:${name}`
const promise = <A>(f: () => Promise<A>) => Effect.promise(f)
const now = Clock.currentTimeMillis

const nodeOn = (set: SentinelSet, port: number): RedisHandle => set.nodes.find((n) => n.port === port)!

/** `redis_mcp_redis_failovers_total` in this test process (the layer's client records into the default registry). */
const failovers = Effect.map(Metric.value(Metrics.redisFailovers), (s) => s.count)

/**
 * A role swap the sentinels are not told about by a failover: `FAILOVER TO` makes the
 * replica primary and demotes the primary (its clients stay connected), then the
 * sentinels are re-pointed at the new primary without a +switch-master event. A
 * client still on the old primary learns it only from a READONLY reply.
 */
const swapRolesQuietly = (set: SentinelSet) =>
  promise(async () => {
    const primary = await set.primaryHandle()
    const replica = set.nodes.find((n) => n.port !== primary.port)!
    await primary.command("FAILOVER", "TO", replica.host, String(replica.port))
    await waitFor(async () => (await replica.role()) === "master" && (await primary.role()) === "slave", {
      timeoutMs: 15_000,
      description: "FAILOVER TO to swap the roles"
    })
    for (const sentinel of set.sentinelNodes) {
      await sentinel.command("SENTINEL", "REMOVE", set.masterName)
      await sentinel.command("SENTINEL", "MONITOR", set.masterName, replica.host, String(replica.port), "2")
      await sentinel.command("SENTINEL", "SET", set.masterName, "down-after-milliseconds", "1000")
      await sentinel.command("SENTINEL", "SET", set.masterName, "failover-timeout", "5000")
    }
    await set.waitForHealthy(30_000)
    return { demoted: primary, promoted: replica }
  })

/**
 * Write every 50 ms while `fault` runs; resolves once a write succeeded after the
 * fault finished, with the time from the fault's start to that write.
 */
const timeToRecovery = <E>(fault: Effect.Effect<unknown, E>, write: (i: number) => Effect.Effect<unknown, unknown>) =>
  Effect.gen(function* () {
    const start = yield* now
    const faultFiber = yield* Effect.forkChild(fault)
    let failures = 0
    let faultDone = false
    for (let i = 0; ; i++) {
      const result = yield* Effect.result(write(i))
      if (result._tag === "Failure") failures++
      else if (faultDone) return { ms: (yield* now) - start, failures, last: i }
      if (!faultDone && faultFiber.pollUnsafe() !== undefined) {
        yield* Fiber.join(faultFiber)
        faultDone = true
      }
      if ((yield* now) - start > 60_000) return yield* Effect.die("writes did not resume within 60 s")
      yield* Effect.sleep(Duration.millis(50))
    }
  })

describe("Sentinel mode", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  layer(onSentinels({ replicas: 1 }), { timeout: 180_000, excludeTestServices: true })((it) => {
    it.effect("connects to the current primary through the sentinels; set/get through the Kv service", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        const kv = yield* Kv
        const set = yield* RedisTestSentinel
        yield* redis.awaitReady(10_000)
        const k = key("hello")
        assert.isTrue(yield* kv.set(k, "world"))
        assert.strictEqual((yield* kv.get(k)).value, "world")
        const primary = yield* promise(() => set.primaryHandle())
        assert.strictEqual(yield* promise(() => primary.command("GET", k)), "world")
        const health = yield* redis.health
        assert.strictEqual(health.mode, "sentinel")
        assert.strictEqual(health.state, "ready")
        assert.match(health.target, /^sentinel mymaster via 127\.0\.0\.1:\d+/)
        const [node] = yield* redis.primaries
        assert.strictEqual(node?.address, `127.0.0.1:${primary.port}`)
      })
    )

    it.effect(
      "READONLY on a demoted primary: reconnect through the sentinels, then one retry of an idempotent call",
      () =>
        Effect.gen(function* () {
          const redis = yield* RedisClient
          const kv = yield* Kv
          const set = yield* RedisTestSentinel
          const k = key("idempotent")
          yield* kv.set(k, "before")
          const before = (yield* redis.health).reconnects
          const { promoted } = yield* swapRolesQuietly(set)

          const replies: Array<string> = []
          const value = yield* redis.run(
            "SET",
            (c) =>
              c.set(k, "after").then(
                (ok) => {
                  replies.push(ok)
                  return ok
                },
                (e: Error) => {
                  replies.push(e.message.split(" ")[0]!)
                  throw e
                }
              ),
            { idempotent: true }
          )
          assert.strictEqual(value, "OK")
          assert.deepStrictEqual(replies, ["READONLY", "OK"])
          assert.strictEqual(yield* promise(() => promoted.command("GET", k)), "after")
          assert.strictEqual((yield* kv.get(k)).value, "after")
          assert.isAbove((yield* redis.health).reconnects, before)
        })
    )

    it.effect("READONLY on a demoted primary: a non-idempotent call fails retryable and writes nothing twice", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        const kv = yield* Kv
        const set = yield* RedisTestSentinel
        const k = key("counter")
        assert.strictEqual(yield* kv.incr(k), 1)
        const { promoted } = yield* swapRolesQuietly(set)

        const error = yield* Effect.flip(kv.incr(k))
        assert.strictEqual(error._tag, "RedisBusy")
        assert.isTrue(error.retryable)
        assert.include(error.message, "READONLY")
        assert.strictEqual(yield* promise(() => promoted.command("GET", k)), "1")
        // The caller retries (as the error says) once the client found the new primary: exactly one increment.
        yield* redis.awaitReady(10_000)
        assert.strictEqual(yield* kv.incr(k), 2)
        assert.strictEqual(yield* promise(() => promoted.command("GET", k)), "2")
      })
    )

    it.effect("MASTERDOWN and LOADING replies: an idempotent call is retried, a non-idempotent one is not", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        for (const reply of ["MASTERDOWN Link with MASTER is down", "LOADING Redis is loading the dataset"]) {
          let calls = 0
          const flaky = (c: Parameters<Parameters<typeof redis.run>[1]>[0]) => {
            calls++
            return calls === 1 ? Promise.reject(new Error(reply)) : c.ping()
          }
          assert.strictEqual(yield* redis.run("PING", flaky, { idempotent: true }), "PONG")
          assert.strictEqual(calls, 2)
          yield* redis.awaitReady(10_000)
          calls = 0
          const error = yield* Effect.flip(redis.run("PING", flaky))
          assert.strictEqual(error._tag, "RedisBusy")
          assert.isTrue(error.retryable)
          assert.strictEqual(calls, 1)
          yield* redis.awaitReady(10_000)
        }
      })
    )

    it.effect("SENTINEL FAILOVER: the client follows the new primary and writes resume", () =>
      Effect.gen(function* () {
        const kv = yield* Kv
        const set = yield* RedisTestSentinel
        yield* promise(() => set.waitForHealthy(30_000))
        const old = (yield* promise(() => set.primary())).port
        const k = key("failover")
        const failoversBefore = yield* failovers
        const recovery = yield* timeToRecovery(
          promise(() => set.failover()),
          (i) => kv.set(k, `v${i}`)
        )
        yield* Effect.logInfo(
          `sentinel: SENTINEL FAILOVER → writes resumed after ${recovery.ms} ms (${recovery.failures} failed writes)`
        )
        const current = (yield* promise(() => set.primary())).port
        assert.notStrictEqual(current, old)
        assert.strictEqual(yield* promise(() => nodeOn(set, current).command("GET", k)), `v${recovery.last}`)
        assert.strictEqual((yield* kv.get(k)).value, `v${recovery.last}`)
        assert.strictEqual((yield* failovers) - failoversBefore, 1, "the new primary is counted once")
      })
    )

    it.effect("a killed primary: the sentinels promote the replica and writes resume on it", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        const kv = yield* Kv
        const set = yield* RedisTestSentinel
        yield* promise(() => set.waitForHealthy(30_000))
        const k = key("killed")
        const failoversBefore = yield* failovers
        let killed: RedisHandle | undefined
        const recovery = yield* timeToRecovery(
          promise(async () => {
            killed = await set.killPrimary()
            return set.waitForPrimaryChange(killed.port)
          }),
          (i) => kv.set(k, `v${i}`)
        )
        yield* Effect.logInfo(
          `sentinel: primary killed → writes resumed after ${recovery.ms} ms (${recovery.failures} failed writes)`
        )
        const current = (yield* promise(() => set.primary())).port
        assert.notStrictEqual(current, killed!.port)
        assert.strictEqual(yield* promise(() => nodeOn(set, current).command("GET", k)), `v${recovery.last}`)
        assert.strictEqual((yield* redis.health).state, "ready")
        assert.strictEqual((yield* failovers) - failoversBefore, 1, "the new primary is counted once")
      })
    )
  })
})

describe("Sentinel mode with authentication", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  const password = "data-node-pass"
  layer(onSentinels({ replicas: 1, password }, { REDIS_PASSWORD: password }), {
    timeout: 120_000,
    excludeTestServices: true
  })((it) => {
    it.effect("REDIS_PASSWORD authenticates to the data nodes; a wrong one never connects and health says why", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        const kv = yield* Kv
        const set = yield* RedisTestSentinel
        yield* redis.awaitReady(10_000)
        const k = key("auth")
        assert.isTrue(yield* kv.set(k, "v"))
        assert.strictEqual((yield* kv.get(k)).value, "v")

        const wrong = { ...sentinelEnv(set), REDIS_PASSWORD: "not-it" }
        yield* Effect.scoped(
          Effect.gen(function* () {
            const other = yield* clientFrom(wrong)
            assert.strictEqual((yield* Effect.flip(other.awaitReady(1500)))._tag, "RedisUnavailable")
            assert.match((yield* other.health).lastError ?? "", /WRONGPASS|NOAUTH|invalid/i)
            assert.notInclude(JSON.stringify(yield* other.health), "not-it")
          })
        )
      })
    )

    it.effect("REDIS_SENTINEL_PASSWORD authenticates to sentinels that require a password", () =>
      Effect.gen(function* () {
        const set = yield* RedisTestSentinel
        const sentinelPassword = "sentinel-pass"
        // Last test of this set: the harness's own probes do not authenticate to the sentinels.
        for (const s of set.sentinelNodes) {
          yield* promise(() => s.command("SENTINEL", "CONFIG", "SET", "sentinel-pass", sentinelPassword))
          yield* promise(() => s.command("ACL", "SETUSER", "default", "resetpass", `>${sentinelPassword}`))
        }
        const env = { ...sentinelEnv(set), REDIS_PASSWORD: password }
        const attempt = (extra: Record<string, string>) =>
          Effect.scoped(
            Effect.gen(function* () {
              const client = yield* clientFrom({ ...env, ...extra })
              const ready = yield* Effect.result(client.awaitReady(5000))
              return { ready: ready._tag === "Success", health: yield* client.health }
            })
          )
        const without = yield* attempt({})
        assert.isFalse(without.ready)
        assert.match(without.health.lastError ?? "", /sentinel|NOAUTH|WRONGPASS/i)
        const withPassword = yield* attempt({ REDIS_SENTINEL_PASSWORD: sentinelPassword })
        assert.isTrue(withPassword.ready)
        assert.notInclude(JSON.stringify(withPassword.health), sentinelPassword)
      })
    )
  })
})
