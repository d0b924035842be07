/**
 * The big reads of issue 9 items 1 and 6 (the multi-value reads, hget of a huge field, the
 * consumer-group reads, pub/sub), each against a fresh redis-server and a fresh built server
 * (so one read's memory is not hidden by what an earlier one left): the data (1 MiB values),
 * the call, and probes of memory on both sides.
 * Used by read-bounds.test.ts (bounds asserted) and scripts/read-bounds.ts (printed).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import type { Redis } from "ioredis"
import { heapProbe, MiB } from "../../support/memory.ts"
import { type RedisHandle, startRedis } from "../../support/standalone.ts"

export const ONE_MIB = Buffer.alloc(MiB, "x")

export interface Target {
  readonly redis: RedisHandle
  readonly raw: Redis
  readonly serverPid: number
  readonly redisPid: number
  /** Call a tool; its result text (an error envelope when isError) and whether it failed. */
  readonly call: (name: string, args: Record<string, unknown>) => Promise<{ ok: boolean; text: string }>
  /** What the server holds after a full GC (heap plus Buffers). */
  readonly retained: () => Promise<number>
  /** Bytes Redis has sent its clients so far, and its used_memory_peak. */
  readonly redisStats: () => Promise<{ readonly sent: number; readonly usedPeak: number }>
  readonly stop: () => Promise<void>
}

export const startTarget = async (main: string, env: Record<string, string> = {}): Promise<Target> => {
  const redis = await startRedis()
  const raw = redis.client()
  const probe = heapProbe()
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [main],
    env: {
      PATH: process.env.PATH ?? "",
      REDIS_URL: redis.url,
      REDIS_MCP_TOOLSETS: "all",
      REDIS_COMMAND_TIMEOUT_MS: "120000",
      REDIS_MCP_LOG_LEVEL: "error",
      ...probe.env,
      ...env
    },
    stderr: "ignore"
  })
  const client = new Client({ name: "read-bounds", version: "1.0.0" })
  await client.connect(transport)
  const serverPid = transport.pid!
  return {
    redis,
    raw,
    serverPid,
    redisPid: redis.pid()!,
    call: async (name, args) => {
      const r = await client.callTool({ name, arguments: args }, undefined, { timeout: 300_000 })
      return { ok: r.isError !== true, text: (r.content as Array<{ text: string }>)[0]?.text ?? "" }
    },
    retained: () => probe.retained(serverPid),
    redisStats: async () => {
      const stats = await raw.info("stats")
      const memory = await raw.info("memory")
      return {
        sent: Number(/total_net_output_bytes:(\d+)/.exec(stats)![1]),
        usedPeak: Number(/used_memory_peak:(\d+)/.exec(memory)![1])
      }
    },
    stop: async () => {
      await client.close()
      await redis.dispose()
      probe.dispose()
    }
  }
}

export interface Scenario {
  readonly name: string
  /** Write the data, past the server (another client). */
  readonly load: (t: Target) => Promise<unknown>
  /** The read (for pub/sub: subscribe, publish, read); what the server still buffers after a GC, if it buffers. */
  readonly run: (t: Target) => Promise<{ readonly ok: boolean; readonly text: string; readonly buffered?: number }>
}

const hundred = <A>(f: (i: number) => A) => Array.from({ length: 100 }, (_, i) => f(i))
const tagged = (i: number) => Buffer.concat([Buffer.from(`${i}:`), ONE_MIB])
const addEntries = async ({ raw }: Target) => {
  for (let i = 0; i < 100; i++) await raw.xadd("x", "*", "v", ONE_MIB)
}

export const SCENARIOS: ReadonlyArray<Scenario> = [
  {
    name: "mget of one 1 MiB key named 1000 times",
    load: ({ raw }) => raw.set("v", ONE_MIB),
    run: ({ call }) => call("mget", { keys: Array.from({ length: 1000 }, () => "v") })
  },
  {
    name: "hgetall of 100 fields of 1 MiB",
    load: ({ raw }) => raw.hset("h", Object.fromEntries(hundred((i) => [`f${i}`, ONE_MIB]))),
    run: ({ call }) => call("hgetall", { key: "h" })
  },
  {
    name: "lrange of 100 values of 1 MiB",
    load: ({ raw }) => raw.rpush("l", ...hundred(() => ONE_MIB)),
    run: ({ call }) => call("lrange", { key: "l", start: 0, stop: -1 })
  },
  {
    name: "smembers of 100 members of 1 MiB",
    load: ({ raw }) => raw.sadd("s", ...hundred(tagged)),
    run: ({ call }) => call("smembers", { key: "s" })
  },
  {
    name: "zrange of 100 members of 1 MiB",
    load: ({ raw }) => raw.zadd("z", ...hundred((i) => [i, tagged(i)]).flat()),
    run: ({ call }) => call("zrange", { key: "z", by: "index", start: 0, stop: -1 })
  },
  {
    name: "xrange of 100 entries of 1 MiB",
    load: addEntries,
    run: ({ call }) => call("xrange", { key: "x" })
  },
  {
    name: "xread of 100 entries of 1 MiB",
    load: addEntries,
    run: ({ call }) => call("xread", { streams: [{ key: "x", id: "0" }] })
  },
  {
    name: "hget of one 100 MiB field",
    load: ({ raw }) => raw.hset("hb", "f", Buffer.alloc(100 * MiB, "y")),
    run: ({ call }) => call("hget", { key: "hb", field: "f" })
  },
  {
    name: "xreadgroup of 100 entries of 1 MiB",
    load: async (t) => {
      await addEntries(t)
      await t.raw.xgroup("CREATE", "x", "g", "0")
    },
    run: ({ call }) => call("xreadgroup", { key: "x", group: "g", consumer: "c" })
  },
  {
    name: "xautoclaim of 100 pending entries of 1 MiB",
    load: async (t) => {
      await addEntries(t)
      await t.raw.xgroup("CREATE", "x", "g", "0")
      // Delivered to another consumer one at a time, so they are pending without one big reply.
      for (let i = 0; i < 100; i++) await t.raw.xreadgroup("GROUP", "g", "other", "COUNT", 1, "STREAMS", "x", ">")
    },
    run: ({ call }) => call("xautoclaim", { key: "x", group: "g", consumer: "c", minIdleMs: 0 })
  },
  {
    name: "120 messages of 1 MiB published to 3 subscriptions",
    load: async () => undefined,
    run: async ({ call, retained }) => {
      const start = await retained()
      const ids: Array<string> = []
      for (let i = 0; i < 3; i++) {
        const r = await call("subscribe", { channels: ["big"] })
        ids.push((JSON.parse(r.text) as { subscriptionId: string }).subscriptionId)
      }
      // Through the tool, as an agent would (a raw burst makes Redis drop the subscribers at its own output limit).
      const message = ONE_MIB.toString("utf8")
      for (let i = 0; i < 120; i++) await call("publish", { channel: "big", message })
      // Let the server take in what Redis pushed before its memory is read.
      await new Promise((r) => setTimeout(r, 2000))
      const buffered = (await retained()) - start
      const read = await call("read_messages", { subscriptionId: ids[0]!, maxCount: 1000 })
      for (const id of ids) await call("unsubscribe", { subscriptionId: id })
      return { ...read, buffered }
    }
  }
]
