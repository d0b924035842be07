/**
 * The `task` toolset, the `task-worker` prompt and the `tasks://{queue}`
 * resource through the built server over stdio: one server on the in-memory
 * store, then two server processes sharing one redis-server (a planner's and
 * the workers' servers), then the read-only and toolset switches.
 */
import { randomUUID } from "node:crypto"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { requireRedis } from "../support/env.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"
import { redisReady, type ServerUnderTest, startServer, useServer } from "./client.ts"
import { TASK_TOOLS } from "./tool-names.ts"

const TIMEOUT = 30_000

const rejects = async (promise: Promise<unknown>, pattern?: RegExp) => {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  if (outcome === undefined) assert.fail("expected the request to be rejected")
  if (pattern) assert.match(String(outcome), pattern)
}

const queue = () => `e2e-${randomUUID().slice(0, 8)}`

/** The worked example of docs/guide/task.md: a planner and two workers. */
const plannerAndWorkers = async (planner: ServerUnderTest, w1: ServerUnderTest, w2: ServerUnderTest) => {
  const q = queue()
  const research = await planner.expectOk("task_create", { queue: q, payload: { step: "research", topic: "redis" } })
  const outline = await planner.expectOk("task_create", { queue: q, payload: { step: "outline" }, priority: 1 })
  const write = await planner.expectOk("task_create", {
    queue: q,
    payload: { step: "write" },
    dependsOn: [research.taskId, outline.taskId],
    idempotencyKey: "write-article"
  })
  assert.deepStrictEqual(write, { taskId: write.taskId, created: true, status: "blocked" })
  const dup = await planner.expectOk("task_create", { queue: q, payload: {}, idempotencyKey: "write-article" })
  assert.deepStrictEqual(dup, { taskId: write.taskId, created: false, status: "blocked" })

  const c1 = (await w1.expectOk("task_claim", { queue: q, worker: "w1", leaseSeconds: 60 })).tasks
  const c2 = (await w2.expectOk("task_claim", { queue: q, worker: "w2", leaseSeconds: 60 })).tasks
  assert.strictEqual(c1[0].taskId, outline.taskId)
  assert.strictEqual(c2[0].taskId, research.taskId)
  assert.deepStrictEqual((await w2.expectOk("task_claim", { queue: q, worker: "w2" })).tasks, [])

  const hb = await w2.expectOk("task_heartbeat", { queue: q, taskId: research.taskId, leaseToken: c2[0].leaseToken })
  assert.isAbove(hb.leaseExpiresAt, Date.now())
  const first = await w1.expectOk("task_complete", {
    queue: q,
    taskId: outline.taskId,
    leaseToken: c1[0].leaseToken,
    result: { sections: 3 }
  })
  assert.deepStrictEqual(first.unblocked, [])
  const second = await w2.expectOk("task_complete", {
    queue: q,
    taskId: research.taskId,
    leaseToken: c2[0].leaseToken,
    result: { sources: ["a", "b"] }
  })
  assert.deepStrictEqual(second.unblocked, [write.taskId])

  const c3 = (await w1.expectOk("task_claim", { queue: q, worker: "w1" })).tasks
  assert.strictEqual(c3[0].taskId, write.taskId)
  assert.deepStrictEqual(c3[0].payload, { step: "write" })
  await w1.expectOk("task_complete", { queue: q, taskId: write.taskId, leaseToken: c3[0].leaseToken, result: "done" })

  const got = await planner.expectOk("task_get", { queue: q, taskId: write.taskId })
  assert.strictEqual(got.status, "completed")
  assert.strictEqual(got.result, "done")
  assert.strictEqual(got.worker, "w1")
  assert.deepStrictEqual(got.dependsOn, [research.taskId, outline.taskId])
  const stats = await planner.expectOk("queue_stats", { queue: q })
  assert.strictEqual(stats.counts.completed, 3)
  assert.strictEqual(stats.total, 3)
  return q
}

describe("task toolset over stdio, in-memory store", () => {
  const server = useServer("memory", { env: { REDIS_MCP_MAX_VALUE_BYTES: "2048" }, timeout: TIMEOUT })

  it("lists the nine task tools by default, with honest hints and object schemas", async () => {
    const { tools } = await server.client.listTools()
    const byName = new Map(tools.map((t) => [t.name, t]))
    for (const name of TASK_TOOLS) {
      const tool = byName.get(name)
      assert.isDefined(tool, name)
      assert.strictEqual(tool!.inputSchema.type, "object")
      assert.strictEqual(tool!.outputSchema?.type, "object")
      assert.isFalse(tool!.annotations?.openWorldHint)
    }
    for (const name of ["task_get", "task_list", "queue_stats"])
      assert.isTrue(byName.get(name)!.annotations?.readOnlyHint)
    assert.isTrue(byName.get("task_cancel")!.annotations?.destructiveHint)
    assert.isFalse(byName.get("task_claim")!.annotations?.readOnlyHint)
    assert.deepStrictEqual(byName.get("task_create")!.inputSchema.required, ["queue", "payload"])
  })

  it("a planner and two workers run a dependency graph to completion", async () => {
    await plannerAndWorkers(server, server, server)
  })

  it("failures come back as typed envelopes: InvalidArgument, TooLarge, LeaseExpired, NotFound, DependencyFailed", async () => {
    const q = queue()
    const badQueue = await server.expectError("task_create", { queue: "has space", payload: {} })
    assert.strictEqual(badQueue.tag, "InvalidArgument")
    const badPriority = await server.expectError("task_create", { queue: q, payload: {}, priority: 0 })
    assert.strictEqual(badPriority.tag, "InvalidArgument")
    const tooLarge = await server.expectError("task_create", { queue: q, payload: { blob: "x".repeat(3000) } })
    assert.strictEqual(tooLarge.tag, "TooLarge")
    assert.isFalse(tooLarge.retryable)
    const { taskId } = await server.expectOk("task_create", { queue: q, payload: {}, maxAttempts: 1 })
    const [claimed] = (await server.expectOk("task_claim", { queue: q, worker: "w" })).tasks
    const stale = await server.expectError("task_complete", { queue: q, taskId, leaseToken: "not-the-token.1" })
    assert.strictEqual(stale.tag, "LeaseExpired")
    assert.match(stale.message, /Stop working on it/)
    assert.deepStrictEqual(
      await server.expectOk("task_fail", { queue: q, taskId, leaseToken: claimed.leaseToken, error: "broken" }),
      { status: "failed" }
    )
    const dep = await server.expectError("task_create", { queue: q, payload: {}, dependsOn: [taskId] })
    assert.strictEqual(dep.tag, "DependencyFailed")
    const missing = await server.expectError("task_get", { queue: q, taskId: "t999" })
    assert.strictEqual(missing.tag, "NotFound")
    const failedList = await server.expectOk("task_list", { queue: q, status: "failed" })
    assert.deepStrictEqual(
      failedList.tasks.map((t: { taskId: string; error: string }) => [t.taskId, t.error]),
      [[taskId, "broken"]]
    )
  })

  it("a failed attempt is retried until maxAttempts, then dead-lettered; a cancelled claim is refused", async () => {
    const q = queue()
    const { taskId } = await server.expectOk("task_create", {
      queue: q,
      payload: {},
      maxAttempts: 2,
      backoffSeconds: 0
    })
    const [first] = (await server.expectOk("task_claim", { queue: q, worker: "w" })).tasks
    assert.strictEqual(first.attempt, 1)
    const retried = await server.expectOk("task_fail", {
      queue: q,
      taskId,
      leaseToken: first.leaseToken,
      error: "flaky"
    })
    assert.include(["waiting", "delayed"], retried.status)
    const [second] = (await server.expectOk("task_claim", { queue: q, worker: "w" })).tasks
    assert.strictEqual(second.taskId, taskId)
    assert.strictEqual(second.attempt, 2)
    const dead = await server.expectOk("task_fail", { queue: q, taskId, leaseToken: second.leaseToken, error: "flaky" })
    assert.strictEqual(dead.status, "failed")
    assert.strictEqual((await server.expectOk("task_get", { queue: q, taskId })).status, "failed")

    const other = await server.expectOk("task_create", { queue: q, payload: {} })
    const [held] = (await server.expectOk("task_claim", { queue: q, worker: "w" })).tasks
    assert.strictEqual(held.taskId, other.taskId)
    assert.strictEqual((await server.expectOk("task_cancel", { queue: q, taskId: other.taskId })).cancelled, true)
    const beat = await server.expectError("task_heartbeat", {
      queue: q,
      taskId: other.taskId,
      leaseToken: held.leaseToken
    })
    assert.strictEqual(beat.tag, "LeaseExpired")
    const late = await server.expectError("task_complete", {
      queue: q,
      taskId: other.taskId,
      leaseToken: held.leaseToken
    })
    assert.strictEqual(late.tag, "LeaseExpired")
    assert.strictEqual((await server.expectOk("task_get", { queue: q, taskId: other.taskId })).status, "cancelled")
  })

  it("serves the task-worker prompt with the queue filled in", async () => {
    const { prompts } = await server.client.listPrompts()
    const prompt = prompts.find((p) => p.name === "task-worker")
    assert.isDefined(prompt)
    assert.deepStrictEqual(
      prompt!.arguments?.map((a: { name: string; required?: boolean }) => [a.name, a.required]),
      [
        ["queue", true],
        ["worker", false]
      ]
    )
    const got = await server.client.getPrompt({ name: "task-worker", arguments: { queue: "emails", worker: "bot-7" } })
    const text = String((got.messages[0]!.content as { text: string }).text)
    for (const word of [
      "task_claim",
      "task_heartbeat",
      "task_complete",
      "task_fail",
      "LeaseExpired",
      '"emails"',
      "bot-7"
    ]) {
      assert.include(text, word)
    }
    await rejects(server.client.getPrompt({ name: "task-worker", arguments: {} }), /queue/)
  })

  it("serves tasks://{queue}: template, listed queues, counts and newest tasks", async () => {
    const q = queue()
    const a = await server.expectOk("task_create", { queue: q, payload: { n: 1 } })
    const b = await server.expectOk("task_create", { queue: q, payload: { n: 2 }, delaySeconds: 60 })
    const { resourceTemplates } = await server.client.listResourceTemplates()
    assert.include(
      resourceTemplates.map((t) => t.uriTemplate),
      "tasks://{queue}"
    )
    const { resources } = await server.client.listResources()
    assert.include(
      resources.map((r) => r.uri),
      `tasks://${q}`
    )
    const read = await server.client.readResource({ uri: `tasks://${q}` })
    const content = read.contents[0] as { uri: string; mimeType: string; text: string }
    assert.strictEqual(content.mimeType, "application/json")
    const body = JSON.parse(content.text)
    assert.strictEqual(body.queue, q)
    assert.strictEqual(body.total, 2)
    assert.strictEqual(body.counts.waiting, 1)
    assert.strictEqual(body.counts.delayed, 1)
    assert.deepStrictEqual(
      body.newest.map((t: { taskId: string }) => t.taskId),
      [b.taskId, a.taskId]
    )
    await rejects(server.client.readResource({ uri: "tasks://bad queue" }), /queue/)
  })
})

describe("task toolset over stdio, two servers on one redis-server", () => {
  let redis: RedisHandle
  let a: ServerUnderTest
  let b: ServerUnderTest

  beforeAll(async () => {
    requireRedis()
    redis = await startRedis()
    const env = { REDIS_URL: redis.url, REDIS_MCP_KEY_PREFIX: "e2e:" }
    ;[a, b] = await Promise.all([startServer(env).then(redisReady), startServer(env).then(redisReady)])
  }, TIMEOUT)

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()])
    await redis?.stop()
  }, TIMEOUT)

  it("a planner and two workers on different servers run a dependency graph", async () => {
    const q = await plannerAndWorkers(a, a, b)
    const keys = await redis.client().keys(`e2e:task:{${q}}:*`)
    assert.isAbove(keys.length, 0)
  })

  it("a lease that runs out on one server is reclaimed by the other; the late worker is refused", async () => {
    const q = queue()
    const { taskId } = await a.expectOk("task_create", { queue: q, payload: { job: 1 } })
    const [first] = (await a.expectOk("task_claim", { queue: q, worker: "slow", leaseSeconds: 1 })).tasks
    let second: { taskId: string; leaseToken: string; attempt: number } | undefined
    const deadline = Date.now() + 7000
    while (second === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200))
      second = (await b.expectOk("task_claim", { queue: q, worker: "fast", leaseSeconds: 30 })).tasks[0]
    }
    assert.strictEqual(second?.taskId, taskId)
    assert.strictEqual(second?.attempt, 2)
    const late = await a.expectError("task_complete", { queue: q, taskId, leaseToken: first.leaseToken })
    assert.strictEqual(late.tag, "LeaseExpired")
    const cancelled = await a.expectOk("task_cancel", { queue: q, taskId })
    assert.deepStrictEqual(cancelled, { cancelled: true, previousStatus: "active", status: "cancelled" })
    const refused = await b.expectError("task_heartbeat", { queue: q, taskId, leaseToken: second!.leaseToken })
    assert.strictEqual(refused.tag, "LeaseExpired")
    assert.match(refused.message, /cancelled/)
  })

  it("the resource reads the shared queue from either server", async () => {
    const q = queue()
    await a.expectOk("task_create", { queue: q, payload: {} })
    const read = await b.client.readResource({ uri: `tasks://${q}` })
    const body = JSON.parse(String((read.contents[0] as { text: string }).text))
    assert.strictEqual(body.counts.waiting, 1)
    const { resources } = await b.client.listResources()
    assert.include(
      resources.map((r) => r.uri),
      `tasks://${q}`
    )
  })

  it("a subscribed queue resource is updated when a task in it changes state through the other server", async () => {
    const q = queue()
    const uri = `tasks://${q}`
    const seen: Array<string> = []
    a.client.onResourceUpdated((u) => {
      seen.push(u)
    })
    const updates = async (n: number) => {
      const deadline = Date.now() + 10_000
      while (seen.filter((u) => u === uri).length < n) {
        if (Date.now() > deadline) assert.fail(`expected ${n} updates of ${uri}, got ${JSON.stringify(seen)}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    await a.client.subscribe(uri)
    const { taskId } = await b.expectOk("task_create", { queue: q, payload: {} })
    await updates(1)
    const [task] = (await b.expectOk("task_claim", { queue: q, worker: "w" })).tasks
    await updates(2)
    await b.expectOk("task_complete", { queue: q, taskId, leaseToken: task.leaseToken })
    await updates(3)
    const body = JSON.parse(String((await a.client.readResource({ uri })).contents[0].text))
    assert.strictEqual(body.counts.completed, 1)
    await a.client.unsubscribe(uri)
  })
})

describe("task toolset switches", () => {
  it("--read-only keeps only task_get, task_list and queue_stats", async () => {
    const server = await startServer({}, ["--read-only"])
    try {
      const names = (await server.client.listTools()).tools.map((t) => t.name)
      assert.sameMembers(
        names.filter((n) => TASK_TOOLS.includes(n)),
        ["task_get", "task_list", "queue_stats"]
      )
    } finally {
      await server.close()
    }
  })

  it("without the task toolset there are no task tools and no task-worker prompt", async () => {
    const server = await startServer({}, ["--toolsets", "keys"])
    try {
      const names = (await server.client.listTools()).tools.map((t) => t.name)
      assert.deepStrictEqual(
        names.filter((n) => TASK_TOOLS.includes(n)),
        []
      )
      const prompts = await server.client.listPrompts().then(
        (r) => r.prompts.map((p) => p.name),
        () => []
      )
      assert.notInclude(prompts, "task-worker")
    } finally {
      await server.close()
    }
  })
})
