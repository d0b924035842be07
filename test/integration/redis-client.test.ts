/**
 * The RedisClient layer on real redis-server processes: standalone, TLS with a
 * client certificate, and faults (Redis down at start, killed mid-use, paused
 * past the command timeout), plus the retry rules. ACL users: redis-acl.test.ts.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Duration, Effect, Fiber, Schedule } from "effect"
import { RedisClient, type RedisClientShape } from "../../src/layers/RedisClient.ts"
import { RedisTestServer, redisResource } from "../support/effect.ts"
import { requireRedis } from "../support/env.ts"
import { freePort } from "../support/ports.ts"
import { startRedis } from "../support/standalone.ts"
import {
  FAULT_ENV,
  failureTag,
  uniqueKey as key,
  noHang as noHangWithin,
  onServer,
  TIMEOUT_MS,
  withClient
} from "./redis-env.ts"

/** Fail loudly when a call hangs past its budget instead of answering. */
const noHang = <A, E, R>(effect: Effect.Effect<A, E, R>, ms = TIMEOUT_MS + 1500) => noHangWithin(effect, ms)

/** Wait (polling, bounded) until the client answers PING again. */
const awaitRecovery = (redis: RedisClientShape) =>
  redis
    .awaitReady(15_000)
    .pipe(
      Effect.andThen(redis.run("PING", (c) => c.ping())),
      Effect.retry(Schedule.spaced(Duration.millis(100)).pipe(Schedule.upTo({ times: 100 }))),
      Effect.orDie
    )

describe("RedisClient on a standalone redis-server", () => {
  layer(onServer(), { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("connects and runs commands; health is ready with a latency", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        yield* redis.awaitReady(10_000)
        const k = key("s")
        assert.strictEqual(yield* redis.run("SET", (c) => c.set(k, "v")), "OK")
        assert.strictEqual(yield* redis.run("GET", (c) => c.get(k), { idempotent: true }), "v")
        const health = yield* redis.health
        assert.strictEqual(health.mode, "standalone")
        assert.strictEqual(health.state, "ready")
        assert.isNull(health.lastError)
        assert.isNumber(health.latencyMs)
        assert.isNumber(health.connectedSince)
        assert.match(health.target, /^redis:\/\/127\.0\.0\.1:\d+$/)
      })
    )

    it.effect("Redis error replies become tagged errors", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        const handle = yield* RedisTestServer
        const k = key("wrongtype")
        yield* redis.run("SET", (c) => c.set(k, "string"))
        assert.strictEqual(yield* failureTag(redis.run("LPUSH", (c) => c.lpush(k, "x"))), "WrongType")
        assert.strictEqual(
          yield* failureTag(redis.run("BOGUS", (c) => (c as any).call("NOSUCHCOMMAND"))),
          "RedisCommandError"
        )
        yield* Effect.promise(() => handle.command("CONFIG", "SET", "maxmemory", "1"))
        const oom = yield* failureTag(redis.run("SET", (c) => c.set(key("oom"), "x".repeat(1000)))).pipe(
          Effect.ensuring(Effect.promise(() => handle.command("CONFIG", "SET", "maxmemory", "0")))
        )
        assert.strictEqual(oom, "OutOfMemory")
      })
    )

    it.effect("a script runs (string and Buffer replies), and again after the server's script cache is flushed", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        const handle = yield* RedisTestServer
        const k = key("script")
        const echo = redis.script("test_echo", "redis.call('SET', KEYS[1], ARGV[1]) return {KEYS[1], ARGV[1]}")
        const bytes = redis.script("test_bytes", "return ARGV[1]", { buffers: true })
        for (let round = 0; round < 3; round++) {
          assert.deepStrictEqual(yield* echo([k], [`v${round}`]), [k, `v${round}`])
          assert.deepStrictEqual(yield* bytes([], [Buffer.from([0xff, round])]), Buffer.from([0xff, round]))
          assert.strictEqual(yield* redis.run("GET", (c) => c.get(k), { idempotent: true }), `v${round}`)
          // Like a restarted or failed-over server: the next call finds no script by its SHA.
          yield* Effect.promise(() => handle.command("SCRIPT", "FLUSH"))
        }
      })
    )

    it.effect("an idempotent call is retried after a transient failure; a non-idempotent one is not", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        let calls = 0
        const flaky = (c: Parameters<Parameters<RedisClientShape["run"]>[1]>[0]) => {
          calls++
          return calls === 1 ? Promise.reject(new Error("LOADING Redis is loading the dataset in memory")) : c.ping()
        }
        assert.strictEqual(yield* redis.run("PING", flaky, { idempotent: true }), "PONG")
        assert.strictEqual(calls, 2)

        calls = 0
        const error = yield* Effect.flip(redis.run("PING", flaky))
        assert.strictEqual(error._tag, "RedisBusy")
        assert.isTrue(error.retryable)
        assert.strictEqual(calls, 1)
      })
    )

    it.effect("an idempotent call is not retried on a non-retryable error", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        const k = key("wt")
        yield* redis.run("SET", (c) => c.set(k, "string"))
        let calls = 0
        const tag = yield* failureTag(
          redis.run(
            "LLEN",
            (c) => {
              calls++
              return c.llen(k)
            },
            { idempotent: true }
          )
        )
        assert.strictEqual(tag, "WrongType")
        assert.strictEqual(calls, 1)
      })
    )

    it.effect("a Redis paused past the command timeout gives Timeout, then recovers", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        const handle = yield* RedisTestServer
        yield* Effect.promise(() => handle.pause(TIMEOUT_MS * 3))
        const k = key("paused")
        const set = yield* noHang(Effect.flip(redis.run("SET", (c) => c.set(k, "v"))))
        assert.strictEqual(set._tag, "Timeout")
        assert.isTrue(set.retryable)
        // Idempotent: retries stay inside the same budget, so it times out just the same.
        assert.strictEqual(yield* failureTag(redis.run("GET", (c) => c.get(k), { idempotent: true })), "Timeout")
        assert.strictEqual(yield* awaitRecovery(redis), "PONG")
        assert.strictEqual(yield* redis.run("SET", (c) => c.set(k, "after")), "OK")
        assert.strictEqual((yield* redis.health).state, "ready")
      })
    )

    it.effect("Redis killed mid-use: calls fail fast with RedisUnavailable, then succeed after a restart", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        const handle = yield* RedisTestServer
        const before = (yield* redis.health).reconnects
        assert.strictEqual(yield* redis.run("PING", (c) => c.ping()), "PONG")

        yield* Effect.promise(() => handle.kill())
        // Right after the kill the socket may not have noticed yet: unavailable or timed out, never a hang.
        assert.include(["RedisUnavailable", "Timeout"], yield* failureTag(redis.run("PING", (c) => c.ping())))
        yield* redis.health.pipe(
          Effect.flatMap((h) => (h.state === "ready" ? Effect.fail("still ready") : Effect.succeed(h))),
          Effect.retry(Schedule.spaced(Duration.millis(50)).pipe(Schedule.upTo({ times: 100 }))),
          Effect.orDie
        )
        const k = key("killed")
        assert.strictEqual(
          yield* failureTag(redis.run("PING", (c) => c.ping(), { idempotent: true })),
          "RedisUnavailable"
        )
        assert.strictEqual(yield* failureTag(redis.run("SET", (c) => c.set(k, "v"))), "RedisUnavailable")
        const down = yield* redis.health
        assert.strictEqual(down.state, "reconnecting", "it was ready before: reconnecting")
        assert.isNotNull(down.lastError)
        assert.isNotNull(down.lastErrorAt)
        assert.isNull(down.connectedSince)
        assert.isAbove(down.reconnects, before)

        yield* Effect.promise(() => handle.restart())
        assert.strictEqual(yield* awaitRecovery(redis), "PONG")
        assert.strictEqual(yield* redis.run("SET", (c) => c.set(k, "v")), "OK")
        const up = yield* redis.health
        assert.strictEqual(up.state, "ready")
        assert.isAtLeast(up.reconnects, before + 1)
      })
    )
  })
})

describe("RedisClient started while Redis is down", () => {
  it.live(
    "fails fast with RedisUnavailable, then connects by itself once Redis starts",
    () =>
      Effect.gen(function* () {
        requireRedis()
        const port = yield* Effect.promise(() => freePort())
        yield* withClient({ ...FAULT_ENV, REDIS_URL: `redis://127.0.0.1:${port}` }, (redis) =>
          Effect.gen(function* () {
            assert.strictEqual(
              yield* failureTag(redis.run("PING", (c) => c.ping(), { idempotent: true })),
              "RedisUnavailable"
            )
            assert.strictEqual(yield* failureTag(redis.run("SET", (c) => c.set("k", "v"))), "RedisUnavailable")
            const down = yield* redis.health
            assert.strictEqual(down.state, "connecting", "never reached: connecting, with the reason in lastError")
            assert.strictEqual(down.reconnects, 0)
            assert.match(down.lastError ?? "", /ECONNREFUSED|refused/i)
            assert.strictEqual((yield* Effect.flip(redis.awaitReady(200)))._tag, "RedisUnavailable")

            yield* Effect.acquireRelease(
              Effect.promise(() => startRedis({ port })),
              (h) => Effect.promise(() => h.dispose())
            )
            assert.strictEqual(yield* awaitRecovery(redis), "PONG")
            assert.strictEqual((yield* redis.health).state, "ready")
          })
        )
      }),
    60_000
  )
})

describe("RedisClient during an outage shorter than the command timeout", () => {
  it.live(
    "a call made while Redis restarts waits for the reconnect and succeeds, sent once",
    () =>
      Effect.gen(function* () {
        requireRedis()
        const handle = yield* redisResource()
        const env = { ...FAULT_ENV, REDIS_COMMAND_TIMEOUT_MS: "10000", REDIS_URL: handle.url }
        yield* withClient(env, (redis) =>
          Effect.gen(function* () {
            yield* redis.awaitReady(10_000)
            const k = key("outage")
            yield* Effect.promise(() => handle.kill())
            yield* redis.health.pipe(
              Effect.flatMap((h) => (h.state === "ready" ? Effect.fail("still ready") : Effect.void)),
              Effect.retry(Schedule.spaced(Duration.millis(20)).pipe(Schedule.upTo({ times: 250 }))),
              Effect.orDie
            )
            let sends = 0
            const call = yield* Effect.forkChild(
              redis.run("INCR", (c) => {
                sends++
                return c.incr(k)
              })
            )
            yield* Effect.promise(() => handle.restart())
            assert.strictEqual(yield* Fiber.join(call), 1)
            assert.strictEqual(sends, 1)
            assert.strictEqual(yield* Effect.promise(() => handle.command("GET", k)), "1")
          })
        )
      }),
    60_000
  )
})

describe("RedisClient over TLS (rediss://) with a client certificate", () => {
  // tls-auth-clients yes: the server refuses a client without a certificate.
  layer(onServer({ tls: true, config: [["tls-auth-clients", "yes"]] }), { timeout: 60_000, excludeTestServices: true })(
    (it) => {
      it.effect("connects with the CA, the client certificate and key", () =>
        Effect.gen(function* () {
          const handle = yield* RedisTestServer
          assert.match(handle.url, /^rediss:\/\//)
          const env = {
            ...FAULT_ENV,
            REDIS_URL: handle.url,
            REDIS_TLS_CA_FILE: handle.tls!.caFile,
            REDIS_TLS_CERT_FILE: handle.tls!.certFile,
            REDIS_TLS_KEY_FILE: handle.tls!.keyFile
          }
          yield* withClient(env, (redis) =>
            Effect.gen(function* () {
              yield* redis.awaitReady(10_000)
              assert.strictEqual(yield* redis.run("PING", (c) => c.ping()), "PONG")
              assert.match((yield* redis.health).target, /^rediss:\/\//)
            })
          )
        })
      )

      it.effect("a plain redis:// URL with REDIS_TLS_CA_FILE turns TLS on", () =>
        Effect.gen(function* () {
          const handle = yield* RedisTestServer
          const env = {
            ...FAULT_ENV,
            REDIS_URL: `redis://127.0.0.1:${handle.port}`,
            REDIS_TLS_CA_FILE: handle.tls!.caFile,
            REDIS_TLS_CERT_FILE: handle.tls!.certFile,
            REDIS_TLS_KEY_FILE: handle.tls!.keyFile
          }
          yield* withClient(env, (redis) =>
            Effect.gen(function* () {
              yield* redis.awaitReady(10_000)
              assert.strictEqual(yield* redis.run("PING", (c) => c.ping()), "PONG")
            })
          )
        })
      )

      it.effect("without the CA the certificate is rejected: never ready, health says why", () =>
        Effect.gen(function* () {
          const handle = yield* RedisTestServer
          const env = {
            ...FAULT_ENV,
            REDIS_URL: handle.url,
            REDIS_TLS_CERT_FILE: handle.tls!.certFile,
            REDIS_TLS_KEY_FILE: handle.tls!.keyFile
          }
          yield* withClient(env, (redis) =>
            Effect.gen(function* () {
              assert.strictEqual((yield* Effect.flip(redis.awaitReady(1500)))._tag, "RedisUnavailable")
              assert.strictEqual(yield* failureTag(redis.run("PING", (c) => c.ping())), "RedisUnavailable")
              assert.match((yield* redis.health).lastError ?? "", /certificate/i)
            })
          )
        })
      )

      it.effect("without a client certificate the server refuses the connection", () =>
        Effect.gen(function* () {
          const handle = yield* RedisTestServer
          const env = { ...FAULT_ENV, REDIS_URL: handle.url, REDIS_TLS_CA_FILE: handle.tls!.caFile }
          yield* withClient(env, (redis) =>
            Effect.gen(function* () {
              assert.strictEqual((yield* Effect.flip(redis.awaitReady(1500)))._tag, "RedisUnavailable")
              assert.isNotNull((yield* redis.health).lastError)
            })
          )
        })
      )
    }
  )
})
