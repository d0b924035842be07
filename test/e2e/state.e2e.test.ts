/**
 * The `state` toolset and `state://` resources through the built server over
 * stdio: TWO server processes on one real redis-server (as two agents' servers
 * would share it), and one server on the in-memory store.
 */
import { randomUUID } from "node:crypto"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { requireRedis } from "../support/env.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"
import { rpcError, type ServerUnderTest, startServer, useServer } from "./client.ts"
import { STATE_TOOLS } from "./tool-names.ts"

const TIMEOUT = 30_000

const textOf = (content: object) => ("text" in content ? String(content.text) : "")

/** Collects `notifications/resources/updated` and lets a test await one for a URI. */
const watchUpdates = (server: ServerUnderTest) => {
  const seen: Array<string> = []
  const waiters: Array<{ uri: string; resolve: () => void }> = []
  server.client.onResourceUpdated((uri) => {
    seen.push(uri)
    for (const w of waiters.filter((w) => w.uri === uri)) w.resolve()
  })
  const next = (uri: string, after = seen.filter((u) => u === uri).length) =>
    new Promise<void>((resolve, reject) => {
      if (seen.filter((u) => u === uri).length > after) return resolve()
      const timer = setTimeout(() => reject(new Error(`no notifications/resources/updated for ${uri}`)), 10_000)
      waiters.push({
        uri,
        resolve: () => {
          if (seen.filter((u) => u === uri).length > after) {
            clearTimeout(timer)
            resolve()
          }
        }
      })
    })
  return { seen, next, count: (uri: string) => seen.filter((u) => u === uri).length }
}

describe("state toolset over stdio, two servers on one redis-server", () => {
  let redis: RedisHandle
  let a: ServerUnderTest
  let b: ServerUnderTest

  beforeAll(async () => {
    requireRedis()
    redis = await startRedis()
    const env = { REDIS_URL: redis.url, REDIS_MCP_KEY_PREFIX: "e2e:", REDIS_MCP_STATE_HISTORY: "3" }
    ;[a, b] = await Promise.all([startServer(env), startServer(env)])
  }, TIMEOUT)

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()])
    await redis?.stop()
  }, TIMEOUT)

  it("lists every state tool with honest hints and output schemas", async () => {
    const { tools } = await a.client.listTools()
    const byName = new Map(tools.map((t) => [t.name, t]))
    for (const name of STATE_TOOLS) {
      assert.isTrue(byName.has(name), name)
      assert.strictEqual(byName.get(name)!.outputSchema?.type, "object", name)
      assert.isFalse(byName.get(name)!.annotations?.openWorldHint, name)
    }
    for (const name of ["state_get", "state_list", "state_history"]) {
      assert.isTrue(byName.get(name)!.annotations?.readOnlyHint, name)
    }
    for (const name of ["state_set", "state_patch", "state_delete", "lock_acquire", "lock_release"]) {
      assert.isFalse(byName.get(name)!.annotations?.readOnlyHint, name)
    }
    assert.isTrue(byName.get("state_delete")!.annotations?.destructiveHint)
  })

  it(
    "the lifecycle of a document: create, conflict, patch, history, list, delete",
    async () => {
      const ns = `life-${randomUUID()}`
      const doc = { namespace: ns, key: "plan" }
      assert.deepStrictEqual(await a.expectOk("state_get", doc), {
        found: false,
        value: null,
        version: 0,
        updatedAt: null,
        expiresAt: null
      })
      const created = await a.expectOk("state_set", {
        ...doc,
        value: { steps: ["a", "b"], owner: "planner" },
        expectedVersion: 0
      })
      assert.strictEqual(created.version, 1)
      const exists = await b.expectError("state_set", { ...doc, value: {}, expectedVersion: 0 })
      assert.strictEqual(exists.tag, "VersionConflict")
      assert.strictEqual(exists.currentVersion, 1)
      assert.isFalse(exists.retryable)
      const read = await b.expectOk("state_get", doc)
      assert.deepStrictEqual(read.value, { steps: ["a", "b"], owner: "planner" })
      assert.strictEqual(read.version, 1)
      const patched = await b.expectOk("state_patch", {
        ...doc,
        patch: { owner: null, status: "running" },
        expectedVersion: 1
      })
      assert.deepStrictEqual(patched, { ...patched, version: 2, value: { steps: ["a", "b"], status: "running" } })
      const stale = await a.expectError("state_patch", { ...doc, patch: { status: "x" }, expectedVersion: 1 })
      assert.strictEqual(stale.tag, "VersionConflict")
      assert.strictEqual(stale.currentVersion, 2)
      assert.strictEqual(
        (await a.expectError("state_patch", { ...doc, patch: ["not", "an", "object"] })).tag,
        "InvalidArgument"
      )
      assert.strictEqual((await a.expectError("state_get", { namespace: "bad{ns}", key: "k" })).tag, "InvalidArgument")
      await a.expectOk("state_set", { ...doc, value: { v: 3 } })
      await a.expectOk("state_set", { ...doc, value: { v: 4 }, ttlSeconds: 3600 })
      const history = await b.expectOk("state_history", doc)
      assert.deepStrictEqual(
        history.entries.map((e: { version: number }) => e.version),
        [4, 3, 2]
      )
      assert.deepStrictEqual(history.entries[0].value, { v: 4 })
      const current = await b.expectOk("state_get", doc)
      assert.isAbove(current.expiresAt, current.updatedAt)
      await a.expectOk("state_set", { namespace: ns, key: "notes", value: "text" })
      const list = await b.expectOk("state_list", { namespace: ns, limit: 1 })
      assert.deepStrictEqual(
        list.items.map((i: { key: string }) => i.key),
        ["notes"]
      )
      assert.isTrue(list.truncated)
      const rest = await b.expectOk("state_list", { namespace: ns, cursor: list.cursor })
      assert.deepStrictEqual(
        rest.items.map((i: { key: string; version: number }) => [i.key, i.version]),
        [["plan", 4]]
      )
      assert.deepStrictEqual(rest.cursor, null)
      assert.deepStrictEqual(await a.expectOk("state_delete", { ...doc, expectedVersion: 4 }), {
        deleted: true,
        version: 4
      })
      assert.isFalse((await b.expectOk("state_get", doc)).found)
    },
    TIMEOUT
  )

  it(
    "20 patchers across the two servers at once: no update is lost",
    async () => {
      const doc = { namespace: `race-${randomUUID()}`, key: "progress" }
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? a : b).expectOk("state_patch", { ...doc, patch: { [`worker${i}`]: { done: true }, last: i } })
        )
      )
      const final = await a.expectOk("state_get", doc)
      assert.strictEqual(final.version, 20)
      for (let i = 0; i < 20; i++) assert.deepStrictEqual(final.value[`worker${i}`], { done: true }, `worker${i}`)
    },
    TIMEOUT
  )

  it(
    "lock contention between the two servers; fencing tokens increase; only the holder releases",
    async () => {
      const name = `lock-${randomUUID()}`
      const [ra, rb] = await Promise.all([
        a.expectOk("lock_acquire", { name, owner: "agent-a", ttlSeconds: 30 }),
        b.expectOk("lock_acquire", { name, owner: "agent-b", ttlSeconds: 30 })
      ])
      assert.strictEqual([ra, rb].filter((r) => r.acquired).length, 1)
      const [winner, loser] = ra.acquired ? [ra, rb] : [rb, ra]
      const [winnerServer, loserServer] = ra.acquired ? [a, b] : [b, a]
      const loserName = loser === ra ? "agent-a" : "agent-b"
      assert.isNull(loser.fencingToken)
      assert.strictEqual(loser.owner, winner.owner)
      const refused = await loserServer.expectError("lock_release", {
        name,
        owner: loserName,
        fencingToken: winner.fencingToken
      })
      assert.strictEqual(refused.tag, "LeaseExpired")
      assert.deepStrictEqual(
        await winnerServer.expectOk("lock_release", { name, owner: winner.owner, fencingToken: winner.fencingToken }),
        { released: true }
      )
      const next = await loserServer.expectOk("lock_acquire", { name, owner: loserName, ttlSeconds: 30 })
      assert.isTrue(next.acquired)
      assert.isAbove(next.fencingToken, winner.fencingToken)
    },
    TIMEOUT
  )

  it(
    "a subscribed resource gets notifications/resources/updated for a change made through the other server",
    async () => {
      const ns = `res-${randomUUID()}`
      const key = "progress/worker 1"
      const uri = `state://${encodeURIComponent(ns)}/${encodeURIComponent(key)}`
      const { resourceTemplates } = await a.client.listResourceTemplates()
      assert.include(
        resourceTemplates.map((t) => t.uriTemplate),
        "state://{namespace}/{key}"
      )
      const updates = watchUpdates(a)
      await a.client.subscribe(uri)
      const first = updates.next(uri)
      await b.expectOk("state_set", { namespace: ns, key, value: { percent: 10 } })
      await first
      const read = await a.client.readResource({ uri })
      assert.strictEqual(read.contents[0]!.mimeType, "application/json")
      assert.deepStrictEqual(JSON.parse(textOf(read.contents[0]!)), { percent: 10 })
      assert.strictEqual(read.contents[0]!._meta?.version, 1)
      const second = updates.next(uri)
      await b.expectOk("state_patch", { namespace: ns, key, patch: { percent: 50 } })
      await second
      await b.expectOk("state_set", { namespace: ns, key: "unrelated", value: 1 })
      await a.client.unsubscribe(uri)
      const before = updates.count(uri)
      await b.expectOk("state_delete", { namespace: ns, key })
      // A change to a subscribed document made after this one proves the earlier delete was not delivered.
      const other = `state://${encodeURIComponent(ns)}/marker`
      await a.client.subscribe(other)
      const marker = updates.next(other)
      await b.expectOk("state_set", { namespace: ns, key: "marker", value: 1 })
      await marker
      assert.strictEqual(updates.count(uri), before)
      assert.notInclude(updates.seen, `state://${encodeURIComponent(ns)}/unrelated`)
    },
    TIMEOUT
  )
})

describe("state resources over stdio on the in-memory store", () => {
  const server = useServer("memory", { timeout: TIMEOUT })

  it(
    "a change notifies the subscribed client; a missing document is a resource-not-found error",
    async () => {
      const uri = "state://mem/doc"
      const updates = watchUpdates(server)
      await server.client.subscribe(uri)
      const first = updates.next(uri)
      await server.expectOk("state_patch", { namespace: "mem", key: "doc", patch: { a: 1 } })
      await first
      const read = await server.client.readResource({ uri })
      assert.deepStrictEqual(JSON.parse(textOf(read.contents[0]!)), { a: 1 })
      const missing = await server.client.readResource({ uri: "state://mem/missing" }).then(
        () => undefined,
        (e: unknown) => e
      )
      // Resource not found is -32602 with data.uri since the 2026-07-28 spec (on every revision).
      assert.strictEqual(rpcError(missing).code, -32602)
      assert.include(rpcError(missing).message, "missing")
    },
    TIMEOUT
  )
})
