/**
 * PubSub on memory and on Redis: publish/subscribe/read/unsubscribe, patterns,
 * binary messages, the bounded buffer (oldest dropped and counted), bounded
 * waits, idle expiry, the subscription cap. Then, on Redis only: every
 * subscription's connection is released (CLIENT LIST) on unsubscribe, expiry and
 * layer close; a dropped connection is reported; channels live under the key prefix.
 */
import { randomBytes } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Fiber, Layer, Schedule, Scope } from "effect"
import { RedisClient } from "../../src/layers/RedisClient.ts"
import { type Message, PubSub } from "../../src/services/PubSub.ts"
import { configLayer, onMemory, onRedis, redisServer, runContract } from "./layers.ts"

const env = {
  REDIS_MCP_PUBSUB_IDLE_MS: "1000",
  REDIS_MCP_PUBSUB_BUFFER: "5",
  REDIS_MCP_PUBSUB_MAX_SUBSCRIPTIONS: "4",
  REDIS_MCP_PUBSUB_BUFFER_BYTES: "4096",
  REDIS_MCP_PUBSUB_TOTAL_BYTES: "9000"
}
const unique = (name: string) => `${name}.${randomBytes(4).toString("hex")}`

/** Read until `n` messages arrived (on Redis they come over another connection, a moment after PUBLISH). */
const readN = (id: string, n: number) =>
  Effect.gen(function* () {
    const pubsub = yield* PubSub
    const out: Array<Message> = []
    for (let i = 0; i < 50 && out.length < n; i++) {
      out.push(...(yield* pubsub.read(id, { waitMs: 2000 })).messages)
    }
    return out
  })

runContract("PubSub contract", onMemory(PubSub.layerMemory, env), onRedis(PubSub.layer, env), (it, target) => {
  it.effect("publish reaches subscribers; read drains in order; unsubscribe closes", () =>
    Effect.gen(function* () {
      const pubsub = yield* PubSub
      const channel = unique("news")
      assert.strictEqual(yield* pubsub.publish(channel, Buffer.from("nobody")), 0)
      const sub = yield* pubsub.subscribe({ channels: [channel] })
      assert.match(sub.subscriptionId, /^sub_/)
      assert.deepStrictEqual(sub.channels, [channel])
      assert.strictEqual(sub.idleTimeoutMs, 1000)
      assert.strictEqual(yield* pubsub.publish(channel, Buffer.from("one")), 1)
      assert.strictEqual(yield* pubsub.publish(channel, Buffer.from("two")), 1)
      const got = yield* readN(sub.subscriptionId, 2)
      assert.deepStrictEqual(
        got.map((m) => [m.channel, m.message, m.encoding, m.pattern]),
        [
          [channel, "one", "utf8", undefined],
          [channel, "two", "utf8", undefined]
        ]
      )
      assert.isNumber(got[0]!.receivedAt)
      const empty = yield* pubsub.read(sub.subscriptionId)
      assert.deepStrictEqual(empty, { messages: [], dropped: 0, droppedBytes: 0, remaining: 0, truncated: false })
      assert.isTrue(yield* pubsub.unsubscribe(sub.subscriptionId))
      assert.isFalse(yield* pubsub.unsubscribe(sub.subscriptionId))
      assert.strictEqual(yield* pubsub.publish(channel, Buffer.from("gone")), 0)
      const error = yield* Effect.flip(pubsub.read(sub.subscriptionId))
      assert.strictEqual(error._tag, "NotFound")
    })
  )

  it.effect("glob patterns match; a channel and a pattern both matching deliver twice", () =>
    Effect.gen(function* () {
      const pubsub = yield* PubSub
      const base = unique("ev")
      const sub = yield* pubsub.subscribe({ channels: [`${base}.a`], patterns: [`${base}.*`, `${base}.[xy]`] })
      assert.strictEqual(yield* pubsub.publish(`${base}.a`, Buffer.from("1")), 2)
      assert.strictEqual(yield* pubsub.publish(`${base}.x`, Buffer.from("2")), 2)
      assert.strictEqual(yield* pubsub.publish(`${base}.z`, Buffer.from("3")), 1)
      assert.strictEqual(yield* pubsub.publish(`other.${base}`, Buffer.from("4")), 0)
      const got = yield* readN(sub.subscriptionId, 5)
      const seen = got.map(
        (m) => `${m.message} ${m.channel.slice(base.length)} ${m.pattern?.slice(base.length) ?? "-"}`
      )
      assert.sameMembers(seen, ["1 .a -", "1 .a .*", "2 .x .*", "2 .x .[xy]", "3 .z .*"])
      yield* pubsub.unsubscribe(sub.subscriptionId)
    })
  )

  it.effect("binary messages come back base64", () =>
    Effect.gen(function* () {
      const pubsub = yield* PubSub
      const channel = unique("bin")
      const sub = yield* pubsub.subscribe({ channels: [channel] })
      yield* pubsub.publish(channel, Buffer.from([0xff, 0x00, 0x01]))
      const [m] = yield* readN(sub.subscriptionId, 1)
      assert.strictEqual(m!.encoding, "base64")
      assert.deepStrictEqual(Buffer.from(m!.message, "base64"), Buffer.from([0xff, 0x00, 0x01]))
      yield* pubsub.unsubscribe(sub.subscriptionId)
    })
  )

  it.effect("a full buffer drops the oldest messages and reports how many", () =>
    Effect.gen(function* () {
      const pubsub = yield* PubSub
      const channel = unique("flood")
      const sub = yield* pubsub.subscribe({ channels: [channel] })
      const total = 40
      for (let i = 0; i < total; i++) yield* pubsub.publish(channel, Buffer.from(String(i)))
      const seen: Array<number> = []
      let dropped = 0
      while (seen.length + dropped < total) {
        const r = yield* pubsub.read(sub.subscriptionId, { waitMs: 2000 })
        seen.push(...r.messages.map((m) => Number(m.message)))
        dropped += r.dropped
      }
      // Whatever the timing: the newest arrive in order, the oldest were dropped and counted.
      assert.isAbove(dropped, 0)
      assert.strictEqual(seen.at(-1), total - 1)
      assert.deepStrictEqual(
        seen,
        [...seen].sort((a, b) => a - b)
      )
      if (target.name === "memory") {
        assert.deepStrictEqual(seen, [35, 36, 37, 38, 39])
        assert.strictEqual(dropped, 35)
      }
      assert.strictEqual((yield* pubsub.read(sub.subscriptionId)).dropped, 0)
      yield* pubsub.unsubscribe(sub.subscriptionId)
    })
  )

  it.effect("buffers are capped in bytes: per subscription and in all, the oldest dropped and counted", () =>
    Effect.gen(function* () {
      const pubsub = yield* PubSub
      const base = unique("bytes")
      const [a, b, c] = [`${base}.a`, `${base}.b`, `${base}.c`]
      const name = Buffer.byteLength(a)
      const subs: Array<string> = []
      const unsubscribeAll = Effect.forEach(subs, (id) => pubsub.unsubscribe(id), { discard: true })
      yield* Effect.gen(function* () {
        for (const channel of [a, b, c]) subs.push((yield* pubsub.subscribe({ channels: [channel] })).subscriptionId)
        /** Wait until the subscriptions hold `bytes` in all (on Redis messages arrive a moment after PUBLISH). */
        const held = (bytes: number) =>
          Effect.gen(function* () {
            for (let i = 0; i < 200 && (yield* pubsub.bufferedBytes) !== bytes; i++) yield* target.advance(10)
            assert.strictEqual(yield* pubsub.bufferedBytes, bytes)
          })
        const publish = (channel: string, text: string, size: number) =>
          pubsub.publish(channel, Buffer.from(text.repeat(size)))
        // Each state below holds a different number of bytes, so each wait knows its messages arrived.
        for (const i of ["0", "1", "2", "3"]) yield* publish(a, i, 1000)
        yield* held(4 * (1000 + name))
        // 4096 bytes per subscription: this one pushes out a's oldest.
        yield* publish(a, "4", 500)
        yield* held(3 * (1000 + name) + 500 + name)
        for (const i of ["0", "1", "2", "3"]) yield* publish(b, i, 1000)
        yield* held(7 * (1000 + name) + 500 + name)
        // 9000 bytes in all: c's second message pushes out the oldest of b, the subscription holding most.
        yield* publish(c, "0", 1000)
        yield* publish(c, "1", 800)
        yield* held(7 * (1000 + name) + 500 + name + 800 + name)
        const [fromA, fromB, fromC] = [
          yield* pubsub.read(subs[0]!),
          yield* pubsub.read(subs[1]!),
          yield* pubsub.read(subs[2]!)
        ]
        assert.deepStrictEqual(
          [fromA, fromB, fromC].map((r) => [r.messages.map((m) => m.message[0]).join(""), r.dropped, r.droppedBytes]),
          [
            ["1234", 1, 1000 + name],
            ["123", 1, 1000 + name],
            ["01", 0, 0]
          ]
        )
        yield* held(0)
      }).pipe(Effect.ensuring(unsubscribeAll))
    })
  )

  it.effect("a message bigger than a subscription's buffer is not kept, only counted", () =>
    Effect.gen(function* () {
      const pubsub = yield* PubSub
      const channel = unique("huge")
      const sub = yield* pubsub.subscribe({ channels: [channel] })
      yield* pubsub.publish(channel, Buffer.alloc(5000, 0x61))
      yield* pubsub.publish(channel, Buffer.from("small"))
      const seen: Array<string> = []
      let [dropped, droppedBytes] = [0, 0]
      for (let i = 0; i < 20 && seen.length === 0; i++) {
        const r = yield* pubsub.read(sub.subscriptionId, { waitMs: 2000 })
        seen.push(...r.messages.map((m) => m.message))
        dropped += r.dropped
        droppedBytes += r.droppedBytes
      }
      assert.deepStrictEqual(seen, ["small"])
      assert.deepStrictEqual([dropped, droppedBytes], [1, 5000 + Buffer.byteLength(channel)])
      assert.strictEqual(yield* pubsub.bufferedBytes, 0)
      yield* pubsub.unsubscribe(sub.subscriptionId)
    })
  )

  it.effect("maxCount leaves the rest buffered (remaining, truncated)", () =>
    Effect.gen(function* () {
      const pubsub = yield* PubSub
      const channel = unique("few")
      const sub = yield* pubsub.subscribe({ channels: [channel] })
      for (const m of ["a", "b", "c"]) yield* pubsub.publish(channel, Buffer.from(m))
      const one: Array<string> = []
      for (let i = 0; i < 3; i++) {
        const r = yield* pubsub.read(sub.subscriptionId, { maxCount: 1, waitMs: 2000 })
        assert.strictEqual(r.messages.length, 1)
        one.push(r.messages[0]!.message)
      }
      assert.deepStrictEqual(one, ["a", "b", "c"])
      if (target.name === "memory") {
        for (const m of ["d", "e", "f"]) yield* pubsub.publish(channel, Buffer.from(m))
        const part = yield* pubsub.read(sub.subscriptionId, { maxCount: 2 })
        assert.deepStrictEqual(
          [part.messages.map((m) => m.message), part.remaining, part.truncated],
          [["d", "e"], 1, true]
        )
      }
      yield* pubsub.unsubscribe(sub.subscriptionId)
    })
  )

  it.effect("waitMs waits for the first message, and returns empty when none comes", () =>
    Effect.gen(function* () {
      const pubsub = yield* PubSub
      const channel = unique("wait")
      const sub = yield* pubsub.subscribe({ channels: [channel] })
      const waiting = yield* Effect.forkChild(pubsub.read(sub.subscriptionId, { waitMs: 10_000 }))
      yield* Effect.yieldNow
      yield* pubsub.publish(channel, Buffer.from("late"))
      const got = yield* Fiber.join(waiting)
      assert.deepStrictEqual(
        got.messages.map((m) => m.message),
        ["late"]
      )
      const idle = yield* Effect.forkChild(pubsub.read(sub.subscriptionId, { waitMs: 200 }))
      yield* target.advance(200)
      assert.deepStrictEqual((yield* Fiber.join(idle)).messages, [])
      yield* pubsub.unsubscribe(sub.subscriptionId)
    })
  )

  it.effect("a subscription not read for idleTimeoutMs expires", () =>
    Effect.gen(function* () {
      const pubsub = yield* PubSub
      const sub = yield* pubsub.subscribe({ channels: [unique("idle")] })
      yield* target.advance(1600)
      const error = yield* Effect.flip(pubsub.read(sub.subscriptionId))
      assert.strictEqual(error._tag, "NotFound")
      assert.include(error.message, "subscribe again")
      assert.isFalse(yield* pubsub.unsubscribe(sub.subscriptionId))
    })
  )

  it.effect("the server's own change channels are refused: publishing there would forge its events", () =>
    Effect.gen(function* () {
      const pubsub = yield* PubSub
      // A name that only resembles them is an ordinary channel, and the control that the others were not sent.
      const control = "state:changes:x"
      const sub = yield* pubsub.subscribe({ channels: ["state:changes", "task:changes", control] })
      for (const channel of ["state:changes", "task:changes"]) {
        const error = yield* Effect.flip(pubsub.publish(channel, Buffer.from('["ns","key"]')))
        assert.strictEqual(error._tag, "PermissionDenied")
        assert.include(error.message, channel)
      }
      assert.strictEqual(yield* pubsub.publish(control, Buffer.from("ok")), 1)
      const got = yield* readN(sub.subscriptionId, 1)
      assert.deepStrictEqual(
        got.map((m) => [m.channel, m.message]),
        [[control, "ok"]]
      )
      yield* pubsub.unsubscribe(sub.subscriptionId)
    })
  )

  it.effect("the number of subscriptions is capped; naming nothing is an InvalidArgument", () =>
    Effect.gen(function* () {
      const pubsub = yield* PubSub
      assert.strictEqual(yield* pubsub.size, 0)
      const subs = yield* Effect.forEach([1, 2, 3, 4], (i) => pubsub.subscribe({ channels: [unique(`cap${i}`)] }))
      const full = yield* Effect.flip(pubsub.subscribe({ patterns: ["*"] }))
      assert.strictEqual(full._tag, "TooLarge")
      yield* pubsub.unsubscribe(subs[0]!.subscriptionId)
      subs[0] = yield* pubsub.subscribe({ patterns: ["*"] })
      for (const s of subs) yield* pubsub.unsubscribe(s.subscriptionId)
      assert.strictEqual(yield* pubsub.size, 0)
      const none = yield* Effect.flip(pubsub.subscribe({ channels: [], patterns: [] }))
      assert.strictEqual(none._tag, "InvalidArgument")
    })
  )
})

describe("PubSub on Redis: connections", () => {
  /** The Redis PubSub layer on a fresh server, in a scope the test may close; and the server's client count. */
  const setup = (extraEnv: Record<string, string> = {}) =>
    Effect.gen(function* () {
      const handle = yield* redisServer()
      const admin = handle.client()
      const clients = Effect.promise(() => admin.client("LIST") as Promise<string>).pipe(
        Effect.map((list) => list.trim().split("\n").length)
      )
      const scope = yield* Scope.make()
      yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
      const layer = PubSub.layer.pipe(
        Layer.provideMerge(RedisClient.layer),
        Layer.provideMerge(configLayer({ ...env, ...extraEnv, REDIS_URL: handle.url }))
      )
      const context = yield* Layer.buildWithScope(layer, scope)
      yield* Effect.orDie(Context.get(context, RedisClient).awaitReady(10_000))
      return { admin, clients, scope, context, pubsub: Context.get(context, PubSub) }
    })

  /** Wait (polling) until the server counts `n` clients: closing a socket reaches Redis a moment later. */
  const expectClients = (clients: Effect.Effect<number>, n: number) =>
    clients.pipe(
      Effect.filterOrFail(
        (c) => c === n,
        (c) => `expected ${n} clients, Redis counts ${c}`
      ),
      Effect.retry(Schedule.spaced(Duration.millis(50)).pipe(Schedule.upTo({ duration: Duration.seconds(5) }))),
      Effect.orDie
    )

  it.live("each subscription holds one connection, released on unsubscribe, expiry and layer close", () =>
    Effect.gen(function* () {
      const { clients, scope, pubsub: p } = yield* setup()
      const base = yield* clients // the admin client and the server's main connection
      const a = yield* p.subscribe({ channels: ["a"] })
      const b = yield* p.subscribe({ patterns: ["b.*"] })
      yield* expectClients(clients, base + 2)
      yield* p.unsubscribe(a.subscriptionId)
      yield* expectClients(clients, base + 1)
      // b is not read: it expires after 1 s of idleness, and its connection goes with it.
      yield* expectClients(clients, base)
      assert.strictEqual((yield* Effect.flip(p.read(b.subscriptionId)))._tag, "NotFound")
      yield* p.subscribe({ channels: ["c"] })
      yield* p.subscribe({ channels: ["d"] })
      yield* expectClients(clients, base + 2)
      yield* Scope.close(scope, Exit.void)
      yield* expectClients(clients, 1)
    })
  )

  it.live("a subscription whose connection drops answers RedisUnavailable once, then is gone", () =>
    Effect.gen(function* () {
      const { admin, pubsub } = yield* setup()
      const sub = yield* pubsub.subscribe({ channels: ["lost"] })
      yield* Effect.promise(() => admin.call("CLIENT", "KILL", "TYPE", "pubsub"))
      const error = yield* Effect.flip(pubsub.read(sub.subscriptionId, { waitMs: 5000 }))
      assert.strictEqual(error._tag, "RedisUnavailable")
      assert.include(error.message, "subscribe again")
      assert.strictEqual((yield* Effect.flip(pubsub.read(sub.subscriptionId)))._tag, "NotFound")
      assert.strictEqual(yield* pubsub.size, 0)
    })
  )

  it.live("channels live under the key prefix: raw publishers must use the prefixed name", () =>
    Effect.gen(function* () {
      const { admin, context, pubsub: p } = yield* setup({ REDIS_MCP_KEY_PREFIX: "app:" })
      const sub = yield* p.subscribe({ channels: ["news"], patterns: ["ne*"] })
      assert.strictEqual(yield* Effect.promise(() => admin.publish("app:news", "raw")), 2)
      assert.strictEqual(yield* Effect.promise(() => admin.publish("news", "unscoped")), 0)
      const got = yield* readN(sub.subscriptionId, 2).pipe(Effect.provideContext(context))
      assert.sameDeepMembers(
        got.map((m) => [m.channel, m.pattern ?? null, m.message]),
        [
          ["news", null, "raw"],
          ["news", "ne*", "raw"]
        ]
      )
      assert.strictEqual(yield* p.publish("news", Buffer.from("mine")), 2)
    })
  )

  it.live("a refused publish to a change channel reaches no raw subscriber on its prefixed name", () =>
    Effect.gen(function* () {
      const { admin, pubsub: p } = yield* setup({ REDIS_MCP_KEY_PREFIX: "app:" })
      const listener = admin.duplicate()
      yield* Effect.addFinalizer(() => Effect.sync(() => listener.disconnect()))
      const heard: Array<string> = []
      listener.on("message", (channel: string, message: string) => heard.push(`${channel} ${message}`))
      yield* Effect.promise(() => listener.subscribe("app:state:changes", "app:task:changes", "app:other"))
      for (const channel of ["state:changes", "task:changes"]) {
        assert.strictEqual((yield* Effect.flip(p.publish(channel, Buffer.from("q"))))._tag, "PermissionDenied")
      }
      // A positive control on the same connection: once it is heard, the refused ones would have been too.
      assert.strictEqual(yield* p.publish("other", Buffer.from("control")), 1)
      for (let i = 0; i < 100 && heard.length === 0; i++) yield* Effect.sleep(Duration.millis(20))
      assert.deepStrictEqual(heard, ["app:other control"])
    })
  )
})
