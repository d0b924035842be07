/**
 * Cluster mode on a real 3 primaries + 3 replicas Redis Cluster: the multi-key
 * tools split per slot, SCAN walks every primary behind one cursor, DBSIZE and
 * INFO add up the primaries, topology shows the six nodes and every slot,
 * scaleReads=slave reads from replicas, dedicated connections reach the key's
 * node, concurrent calls' batched writes reach every node, and writes resume
 * after a primary is killed and its replica promoted.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Clock, ConfigProvider, Context, Duration, Effect, Fiber, Layer } from "effect"
import { keySlot } from "../../src/layers/ClusterSlots.ts"
import { RedisConfig, redisSettingsConfig, ServerConfig, serverSettingsConfig } from "../../src/layers/Config.ts"
import { type Cluster, RedisClient } from "../../src/layers/RedisClient.ts"
import { Admin } from "../../src/services/Admin.ts"
import { Kv } from "../../src/services/Kv.ts"
import type { RedisCluster } from "../support/cluster.ts"
import { RedisTestCluster } from "../support/effect.ts"
import { requireRedis } from "../support/env.ts"
import { waitFor } from "../support/wait.ts"
import { concurrentRoundTrip } from "./redis-env.ts"

const PREFIX = "app:"

const configFor = (env: Record<string, string>) => {
  const provider = ConfigProvider.fromEnvRecord(env)
  return Layer.mergeAll(
    Layer.effect(RedisConfig, redisSettingsConfig.parse(provider)),
    Layer.effect(ServerConfig, serverSettingsConfig.parse(provider))
  )
}

const clusterEnv = (cluster: RedisCluster, env: Record<string, string> = {}): Record<string, string> => ({
  REDIS_CLUSTER_NODES: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(","),
  REDIS_COMMAND_TIMEOUT_MS: "3000",
  REDIS_CONNECT_TIMEOUT_MS: "1000",
  REDIS_RETRY_BASE_MS: "50",
  REDIS_RETRY_MAX_MS: "300",
  REDIS_CLUSTER_SLOTS_REFRESH_INTERVAL_MS: "1000",
  REDIS_MCP_KEY_PREFIX: PREFIX,
  ...env
})

/** Kv, Admin and RedisClient on one cluster client (built from `env`; fresh, never shared through layer memoization). */
const servicesFor = (env: Record<string, string>) =>
  Layer.mergeAll(Layer.fresh(Kv.layer), Layer.fresh(Admin.layer)).pipe(
    Layer.provideMerge(Layer.effect(RedisClient, RedisClient.make)),
    Layer.provideMerge(configFor(env))
  )

const onCluster = Layer.unwrap(
  Effect.gen(function* () {
    requireRedis()
    return servicesFor(clusterEnv(yield* RedisTestCluster))
  })
).pipe(Layer.provideMerge(RedisTestCluster.layer({ primaries: 3, replicasPerPrimary: 1 })))

/** Services of their own on the same cluster, released with the caller's scope. */
const otherClient = (env: Record<string, string>) =>
  Effect.gen(function* () {
    const cluster = yield* RedisTestCluster
    const ctx = yield* Layer.build(servicesFor(clusterEnv(cluster, env)))
    const redis = Context.get(ctx, RedisClient)
    yield* redis.awaitReady(10_000).pipe(Effect.orDie)
    return { kv: Context.get(ctx, Kv), redis }
  })

const uid = () => Math.random().toString(36).slice(2, 10)
const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

/** Keys named `<base>:<n>` until they cover every primary (by slot owner), `count` at least. */
const spreadKeys = (cluster: RedisCluster, base: string, count: number) =>
  promise(async () => {
    const view = await cluster.primaries()
    const owner = (key: string) =>
      view.find((p) => p.slots.some(([from, to]) => keySlot(PREFIX + key) >= from && keySlot(PREFIX + key) <= to))!.port
    const keys: Array<string> = []
    const owners = new Set<number>()
    for (let i = 0; keys.length < count || owners.size < view.length; i++) {
      const key = `${base}:${i}`
      keys.push(key)
      owners.add(owner(key))
    }
    return { keys, owners }
  })

/** Every key of a scan, paging until done, with the number of pages. */
const scanAll = (kv: Kv["Service"], match: string, limit: number) =>
  Effect.gen(function* () {
    const keys: Array<string> = []
    const cursors: Array<string> = []
    let cursor = "0"
    do {
      const page = yield* kv.scan({ cursor, match, limit })
      assert.isAtMost(page.keys.length, limit)
      keys.push(...page.keys)
      cursor = page.cursor
      cursors.push(cursor)
      assert.strictEqual(page.done, cursor === "0")
    } while (cursor !== "0")
    return { keys, cursors }
  })

describe("Cluster mode (3 primaries + 3 replicas)", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  layer(onCluster, { timeout: 180_000, excludeTestServices: true })((it) => {
    it.effect("connects; the client's slot map has three primaries covering every slot", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        yield* redis.awaitReady(10_000)
        const health = yield* redis.health
        assert.strictEqual(health.mode, "cluster")
        assert.strictEqual(health.state, "ready")
        const primaries = yield* redis.primaries
        assert.strictEqual(primaries.length, 3)
        const covered = primaries.flatMap((p) => p.slots).reduce((n, [from, to]) => n + to - from + 1, 0)
        assert.strictEqual(covered, 16384)
      })
    )

    it.effect("mset, mget, exists and del work across slots (split per slot, prefix applied)", () =>
      Effect.gen(function* () {
        const kv = yield* Kv
        const cluster = yield* RedisTestCluster
        const { keys, owners } = yield* spreadKeys(cluster, `multi:${uid()}`, 12)
        assert.strictEqual(owners.size, 3)
        const tagged = [`{t${uid()}}:a`, `{t${uid()}}:b`]
        const all = [...keys, ...tagged]
        assert.isTrue(yield* kv.mset(all.map((key, i) => ({ key, value: `v${i}` }))))
        const got = yield* kv.mget([...all, "multi:missing"])
        assert.deepStrictEqual(
          got.values.map((g) => g.value),
          [...all.map((_, i) => `v${i}`), null]
        )
        // The keys really sit on their own nodes, under the prefix.
        const node = yield* promise(() => cluster.primaryForKey(PREFIX + keys[0]!))
        assert.strictEqual(yield* promise(() => cluster.node(node.port).command("GET", PREFIX + keys[0]!)), "v0")

        const exists = yield* kv.exists([...all, "multi:missing"])
        assert.strictEqual(exists.count, all.length)
        assert.deepStrictEqual([...exists.existing].sort(), [...all].sort())

        assert.isTrue(
          yield* kv.mset(
            keys.slice(0, 4).map((key) => ({ key, value: "ttl" })),
            60
          )
        )
        assert.isAbove((yield* kv.keyInfo(keys[3]!)).ttlMs ?? 0, 50_000)

        assert.strictEqual(yield* kv.del([...all, "multi:missing"]), all.length)
        assert.strictEqual((yield* kv.exists(all)).count, 0)
      })
    )

    it.effect("busy writes (the default): concurrent calls on every node each get their own reply", () =>
      Effect.gen(function* () {
        const redis = yield* RedisClient
        const cluster = yield* RedisTestCluster
        const { keys, owners } = yield* spreadKeys(cluster, `batch:${uid()}`, 60)
        assert.strictEqual(owners.size, 3)
        const values = yield* concurrentRoundTrip(redis, keys)
        assert.deepStrictEqual(
          values,
          keys.map((_, i) => `v${i}`)
        )
      })
    )

    it.effect("mget across slots stays under the output cap; remaining and offset read every value back", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const cluster = yield* RedisTestCluster
          const { kv } = yield* otherClient({ REDIS_MCP_MAX_OUTPUT_BYTES: "8192", REDIS_MCP_MAX_VALUE_BYTES: "65536" })
          const { keys } = yield* spreadKeys(cluster, `cap:${uid()}`, 24)
          const stored = new Map(keys.map((k, i) => [k, (i === 5 ? "big" : String(i)).repeat(i === 5 ? 7000 : 900)]))
          yield* kv.mset([...stored].map(([key, value]) => ({ key, value })))
          const once = yield* kv.mget(Array.from({ length: 1000 }, () => keys[0]!))
          assert.deepStrictEqual(once.values.length, 1)
          const got = new Map<string, string>()
          let ask: ReadonlyArray<string> = [...keys, ...keys]
          for (let call = 0; ask.length > 0; call++) {
            assert.isBelow(call, 30, "mget made no progress")
            const r = yield* kv.mget(ask)
            assert.isAtMost(Buffer.byteLength(JSON.stringify(r)), 8192)
            for (const v of r.values) {
              if (v.value === null) continue
              let value = v.value
              if (v.offset !== undefined) {
                for (let at = v.offset; ; ) {
                  const part = yield* kv.get(v.key, { offset: at })
                  value += part.value
                  if (!part.truncated) break
                  at = part.offset!
                }
              }
              got.set(v.key, value)
            }
            assert.isBelow(r.remaining.length, new Set(ask).size)
            ask = r.remaining
          }
          assert.deepStrictEqual(new Map([...got].sort()), new Map([...stored].sort()))
        })
      )
    )

    it.effect("scan walks every primary behind one cursor: each key exactly once, in pages", () =>
      Effect.gen(function* () {
        const kv = yield* Kv
        const cluster = yield* RedisTestCluster
        const base = `scan:${uid()}`
        const { keys } = yield* spreadKeys(cluster, base, 300)
        for (let i = 0; i < keys.length; i += 100) {
          yield* kv.mset(keys.slice(i, i + 100).map((key) => ({ key, value: "x" })))
        }
        const { keys: seen, cursors } = yield* scanAll(kv, `${base}:*`, 40)
        assert.strictEqual(seen.length, keys.length, "no key twice")
        assert.deepStrictEqual([...seen].sort(), [...keys].sort())
        assert.isAtLeast(cursors.length, Math.ceil(keys.length / 40))
        // A SCAN cursor, or one naming a SCAN batch to read again (COUNT and the keys of it already returned).
        for (const c of cursors) assert.match(c, /^\d+(~\d+~[A-Za-z0-9_-]*)?$/)
        // A type filter and a MATCH that hits nothing still finish.
        assert.deepStrictEqual((yield* scanAll(kv, `${base}:*`, 1000)).keys.length, keys.length)
        assert.deepStrictEqual((yield* scanAll(kv, `nothing:${uid()}:*`, 50)).keys, [])
        const typed = yield* kv.scan({ match: `${base}:*`, type: "hash", limit: 1000 })
        assert.deepStrictEqual(typed.keys, [])
      })
    )

    it.effect(
      "info asks every primary; dbsize, which would count other tenants' keys, is refused under the prefix",
      () =>
        Effect.gen(function* () {
          const admin = yield* Admin
          const cluster = yield* RedisTestCluster
          const primaries = yield* promise(() => cluster.primaries())
          assert.strictEqual((yield* Effect.flip(admin.dbsize))._tag, "PermissionDenied")
          const info = yield* admin.info("replication")
          assert.strictEqual(info.length, 3)
          assert.deepStrictEqual(info.map((n) => n.node).sort(), primaries.map((p) => `${p.host}:${p.port}`).sort())
          for (const node of info) {
            assert.strictEqual(node.sections.replication!.role, "master")
            assert.strictEqual(node.sections.replication!.connected_slaves, "1")
          }
          const clients = yield* admin.clientList(1000)
          assert.isAtLeast(new Set(clients.clients.map((c) => c.node)).size, 3)
        })
    )

    it.effect("topology shows 6 nodes, 3 primaries each with a replica, and full slot coverage", () =>
      Effect.gen(function* () {
        const admin = yield* Admin
        const topology = yield* admin.topology
        assert.strictEqual(topology.mode, "cluster")
        assert.strictEqual(topology.nodes.length, 6)
        assert.strictEqual(topology.slotsCovered, 16384)
        const primaries = topology.nodes.filter((n) => n.role === "primary")
        const replicas = topology.nodes.filter((n) => n.role === "replica")
        assert.strictEqual(primaries.length, 3)
        assert.strictEqual(replicas.length, 3)
        assert.deepStrictEqual(replicas.map((r) => r.primary).sort(), primaries.map((p) => p.address).sort())
        for (const node of topology.nodes) {
          assert.deepStrictEqual(node.flags, [])
          assert.match(node.id ?? "", /^[0-9a-f]{40}$/)
        }
      })
    )

    it.effect("memory_usage and a dedicated connection reach the key's own node", () =>
      Effect.gen(function* () {
        const admin = yield* Admin
        const kv = yield* Kv
        const redis = yield* RedisClient
        const cluster = yield* RedisTestCluster
        const k = `{ded:${uid()}}`
        yield* kv.set(k, "hello")
        assert.isAbove((yield* admin.memoryUsage(k)).bytes ?? 0, 0)
        const owner = yield* promise(() => cluster.primaryForKey(PREFIX + k))
        yield* Effect.scoped(
          Effect.gen(function* () {
            const conn = yield* redis.dedicatedFor(k)
            assert.strictEqual(conn.options.port, owner.port)
            // Blocking reads work there, with the key prefix applied.
            yield* Effect.promise(() => conn.rpush(`${k}:list`, "item"))
            const popped = yield* Effect.promise(() => conn.blpop(`${k}:list`, 1))
            assert.deepStrictEqual(popped, [`${PREFIX}${k}:list`, "item"])
            const any = yield* redis.dedicated
            assert.strictEqual(yield* Effect.promise(() => any.ping()), "PONG")
          })
        )
      })
    )

    it.effect("scaleReads=slave sends read-only commands to replicas", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const cluster = yield* RedisTestCluster
          const { kv, redis } = yield* otherClient({ REDIS_CLUSTER_SCALE_READS: "slave" })
          const { keys } = yield* spreadKeys(cluster, `reads:${uid()}`, 6)
          yield* kv.mset(keys.map((key) => ({ key, value: "r" })))
          // CLUSTER SLOTS lists a replica only once it reported a replication offset; the client's slot
          // map (refreshed every second here) then routes reads to it.
          const slotMap = (redis.unsafeClient as Cluster).slots
          yield* promise(() =>
            waitFor(async () => keys.every((k) => (slotMap[keySlot(PREFIX + k)]?.length ?? 0) > 1), {
              timeoutMs: 20_000,
              description: "the client's slot map to list the replicas"
            })
          )
          // mget reads through a read-only script (EVALSHA_RO, or EVAL_RO the first time on a node).
          const mgetCalls = (ports: ReadonlyArray<number>) =>
            promise(async () => {
              let total = 0
              for (const port of ports) {
                const stats = await cluster.node(port).info("commandstats")
                for (const command of ["cmdstat_evalsha_ro", "cmdstat_eval_ro"]) {
                  total += Number(/calls=(\d+)/.exec(stats.get(command) ?? "")?.[1] ?? 0)
                }
              }
              return total
            })
          const primaries = (yield* promise(() => cluster.primaries())).map((p) => p.port)
          const replicas = (yield* promise(() => cluster.replicas())).map((r) => r.port)
          // Replication is asynchronous, and a replica connection's very first command may race its READONLY
          // handshake (answered by a MOVED to the primary): read until the replicas serve the values.
          let values: ReadonlyArray<string | null> = []
          for (let i = 0; i < 50; i++) {
            values = (yield* kv.mget(keys)).values.map((g) => g.value)
            if (values.every((v) => v === "r")) break
            yield* Effect.sleep(Duration.millis(50))
          }
          assert.deepStrictEqual(
            values,
            keys.map(() => "r")
          )
          const [p0, r0] = [yield* mgetCalls(primaries), yield* mgetCalls(replicas)]
          for (let i = 0; i < 5; i++) {
            assert.deepStrictEqual(
              (yield* kv.mget(keys)).values.map((g) => g.value),
              keys.map(() => "r")
            )
          }
          assert.strictEqual(yield* mgetCalls(primaries), p0, "no mget script reached a primary")
          assert.isAtLeast((yield* mgetCalls(replicas)) - r0, 5 * 3)
        })
      )
    )

    it.effect("a slot half-migrated: TRYAGAIN is retried with backoff for mget, and refused retryable for del", () =>
      Effect.gen(function* () {
        const kv = yield* Kv
        const cluster = yield* RedisTestCluster
        const tag = `{mig${uid()}}`
        const [a, b, c] = [`${tag}:a`, `${tag}:b`, `${tag}:c`]
        // c stands for any other key in the slot (keys of earlier tests may hash there): the move must take it too.
        yield* kv.mset([
          { key: a, value: "A" },
          { key: b, value: "B" },
          { key: c, value: "C" }
        ])
        const slot = keySlot(PREFIX + a)
        const view = yield* promise(() => cluster.clusterNodes())
        const source = view.find((n) => n.role === "primary" && n.slots.some(([f, t]) => slot >= f && slot <= t))!
        const target = view.find((n) => n.role === "primary" && n.id !== source.id)!
        const onSource = cluster.node(source.port)
        const onTarget = cluster.node(target.port)
        const migrate = (key: string) =>
          onSource.command("MIGRATE", target.host, String(target.port), "", "0", "5000", "KEYS", PREFIX + key)
        yield* promise(async () => {
          await onTarget.command("CLUSTER", "SETSLOT", String(slot), "IMPORTING", source.id)
          await onSource.command("CLUSTER", "SETSLOT", String(slot), "MIGRATING", target.id)
          await migrate(a)
        })
        // Mid-migration a command over both keys is refused (it did not run: both values are read back
        // below). ioredis re-sends it between the two nodes until its redirections run out; the last
        // answer is TRYAGAIN (RedisBusy) or, as often as timing has it, the MOVED of a node asked
        // without ASKING (RedisUnavailable: the slot map is changing). Either is retryable.
        const refused = yield* Effect.flip(kv.del([a, b]))
        assert.include(["RedisBusy", "RedisUnavailable"], refused._tag, refused.message)
        assert.isTrue(refused.retryable)
        assert.match(refused.message, /TRYAGAIN|MOVED|ASK/)
        const finish = yield* Effect.forkChild(
          Effect.sleep(Duration.millis(400)).pipe(
            Effect.andThen(
              promise(async () => {
                await migrate(b)
                // Keys of earlier tests may share the slot; the source must hold none before the slot moves.
                for (;;) {
                  const rest = (await onSource.command(
                    "CLUSTER",
                    "GETKEYSINSLOT",
                    String(slot),
                    "100"
                  )) as Array<string>
                  if (rest.length === 0) break
                  await onSource.command("MIGRATE", target.host, String(target.port), "", "0", "5000", "KEYS", ...rest)
                }
                for (const n of view.filter((x) => x.role === "primary")) {
                  await cluster.node(n.port).command("CLUSTER", "SETSLOT", String(slot), "NODE", target.id)
                }
              })
            )
          )
        )
        // Sent while the slot is still split, so it can only succeed by being retried after the migration.
        assert.isUndefined(finish.pollUnsafe())
        const values = yield* kv.mget([a, b])
        yield* Fiber.join(finish)
        assert.deepStrictEqual(
          values.values.map((v) => v.value),
          ["A", "B"]
        )
        assert.strictEqual(yield* kv.del([a, b]), 2)
        assert.strictEqual(yield* kv.del([c]), 1)
        yield* promise(() => cluster.waitForClusterOk(30_000))
      })
    )

    it.effect("a killed primary: writes to its slots resume after its replica is promoted", () =>
      Effect.gen(function* () {
        const kv = yield* Kv
        const admin = yield* Admin
        const cluster = yield* RedisTestCluster
        const k = `failover:${uid()}`
        yield* kv.set(k, "before")
        const victim = yield* promise(() => cluster.primaryForKey(PREFIX + k))
        const start = yield* Clock.currentTimeMillis
        const fault = yield* Effect.forkChild(
          promise(async () => {
            await cluster.killNode(victim.port)
            await cluster.waitForFailover(victim.port, 60_000)
          })
        )
        let failures = 0
        const seen = new Set<string>()
        let firstOk: number | undefined
        let last = -1
        for (let i = 0; firstOk === undefined || fault.pollUnsafe() === undefined; i++) {
          const written = yield* Effect.result(kv.set(k, `v${i}`))
          if (written._tag === "Failure") {
            failures++
            seen.add(written.failure._tag === "RedisBusy" ? written.failure.reason : written.failure._tag)
            assert.isTrue(written.failure.retryable, written.failure.message)
          } else {
            last = i
            if (i > 0 && firstOk === undefined && failures > 0) firstOk = yield* Clock.currentTimeMillis
          }
          if ((yield* Clock.currentTimeMillis) - start > 90_000) return yield* Effect.die("writes did not resume")
          yield* Effect.sleep(Duration.millis(50))
        }
        yield* Fiber.join(fault)
        const recovered = firstOk === undefined ? "no write failed" : `${firstOk - start} ms`
        yield* Effect.logInfo(
          `cluster: primary killed → writes to its slots resumed after ${recovered} (${failures} failed writes: ${[...seen].join(", ")})`
        )
        const owner = yield* promise(() => cluster.primaryForKey(PREFIX + k))
        assert.notStrictEqual(owner.port, victim.port)
        assert.strictEqual((yield* kv.get(k)).value, `v${last}`)
        assert.strictEqual(yield* promise(() => cluster.node(owner.port).command("GET", PREFIX + k)), `v${last}`)
        const topology = yield* admin.topology
        assert.strictEqual(topology.slotsCovered, 16384)
        assert.isTrue(topology.nodes.some((n) => n.address.endsWith(`:${victim.port}`) && n.flags.includes("fail")))
      })
    )
  })
})
