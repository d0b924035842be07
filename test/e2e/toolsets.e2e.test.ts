/**
 * A toolset is one feature: its tools, resources and prompts appear and
 * disappear together with --toolsets; its background work (the task sweep) runs
 * only while it is on.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { features } from "../../src/tools/index.ts"
import { requireRedis } from "../support/env.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"
import { type ServerUnderTest, startServer } from "./client.ts"

const TIMEOUT = 60_000
const CORE = features
  .flatMap((f) => f.tools)
  .filter((t) => t.core === true)
  .map((t) => t.name)
const toolsOf = (...names: ReadonlyArray<string>) =>
  features
    .filter((f) => names.includes(f.name))
    .flatMap((f) => f.tools.filter((t) => t.core !== true).map((t) => t.name))

/** Everything a client can see of the server's surface. */
const surfaceOf = async (server: ServerUnderTest) => {
  const capabilities = server.client.getServerCapabilities() ?? {}
  const tools = (await server.client.listTools()).tools.map((t) => t.name)
  const templates = capabilities.resources
    ? (await server.client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate)
    : []
  const prompts = capabilities.prompts ? (await server.client.listPrompts()).prompts.map((p) => p.name) : []
  return { tools, templates, prompts, subscribe: capabilities.resources?.subscribe === true }
}

describe("toolsets switch tools, resources and prompts together", () => {
  const cases: ReadonlyArray<{
    readonly toolsets: string
    readonly on: ReadonlyArray<string>
    readonly templates: ReadonlyArray<string>
    readonly prompts: ReadonlyArray<string>
  }> = [
    { toolsets: "keys", on: ["keys"], templates: [], prompts: [] },
    { toolsets: "keys,task", on: ["keys", "task"], templates: ["tasks://{queue}"], prompts: ["task-worker"] },
    { toolsets: "state", on: ["state"], templates: ["state://{namespace}/{key}"], prompts: [] },
    {
      toolsets: "default",
      on: ["keys", "task", "state"],
      templates: ["tasks://{queue}", "state://{namespace}/{key}"],
      prompts: ["task-worker"]
    }
  ]
  for (const c of cases) {
    it(
      `--toolsets ${c.toolsets}`,
      async () => {
        const server = await startServer({}, ["--toolsets", c.toolsets])
        try {
          const seen = await surfaceOf(server)
          assert.sameMembers(seen.tools, [...CORE, ...toolsOf(...c.on)])
          assert.sameMembers(seen.templates, [...c.templates])
          assert.sameMembers(seen.prompts, [...c.prompts])
          assert.strictEqual(seen.subscribe, c.templates.length > 0)
        } finally {
          await server.close()
        }
      },
      TIMEOUT
    )
  }
})

/** Calls of a command Redis has served so far (INFO commandstats). */
const calls = async (redis: RedisHandle, command: string) => {
  const info = await redis.cli("INFO", "commandstats")
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0)
}

/** Lua scripts Redis has run (EVALSHA, or EVAL the first time a script is sent). */
const scripts = async (redis: RedisHandle) => (await calls(redis, "evalsha")) + (await calls(redis, "eval"))

describe("the task sweep runs only with the task toolset on (and writes allowed)", () => {
  let off: RedisHandle
  let on: RedisHandle
  const servers: Array<ServerUnderTest> = []

  beforeAll(async () => {
    requireRedis()
    ;[off, on] = await Promise.all([startRedis(), startRedis()])
    // A queue registered earlier: a sweep learns it from Redis with its first round (SSCAN, then a script).
    for (const redis of [off, on]) await redis.cli("SADD", "task:queues", "left-behind")
  }, TIMEOUT)

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()))
    await Promise.all([off?.stop(), on?.stop()])
  }, TIMEOUT)

  it(
    "off: no sweep command ever reaches Redis, while a server started after it with tasks on has swept",
    async () => {
      const debug = { REDIS_MCP_LOG_LEVEL: "debug" }
      const without = await startServer({ ...debug, REDIS_URL: off.url }, ["--toolsets", "keys"])
      servers.push(without)
      const readOnly = await startServer({ ...debug, REDIS_URL: off.url }, ["--toolsets", "keys,task", "--read-only"])
      servers.push(readOnly)
      await without.expectOk("set", { key: "k", value: "v" })
      await readOnly.expectOk("queue_stats", { queue: "left-behind" })
      const withTasks = await startServer({ ...debug, REDIS_URL: on.url }, ["--toolsets", "keys,task"])
      servers.push(withTasks)
      // The positive control: the same observation sees a sweep where one runs.
      for (let i = 0; (await calls(on, "sscan")) === 0 || (await scripts(on)) === 0; i++) {
        assert.isBelow(i, 500, "the task sweep never ran on the server with tasks on")
        await new Promise((r) => setTimeout(r, 20))
      }
      assert.strictEqual(await calls(off, "sscan"), 0)
      // queue_stats is one read-only script; a sweep would have run more.
      assert.strictEqual(await scripts(off), 1)
      for (const server of [without, readOnly]) {
        assert.isTrue(server.stderr.some((l) => l.includes('"background work",{"toolsets":[]}')))
        assert.isFalse(server.stderr.some((l) => l.includes("task sweep started")))
      }
      assert.isTrue(withTasks.stderr.some((l) => l.includes('"background work",{"toolsets":["task"]}')))
    },
    TIMEOUT
  )
})
