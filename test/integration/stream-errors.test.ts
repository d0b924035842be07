/**
 * A socket that reports a second error (a refused TLS handshake, then the reset) must not
 * end the process: ioredis listens for the first one only, and an `error` event nobody
 * listens to is an uncaught exception. `guardStreamErrors` (used by every connection the
 * server opens: RedisConnect.ts, RedisDedicated.ts, the Cluster's nodes) adds a listener.
 * Against a real redis-server; the unguarded client is the control that shows the hazard.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Redis } from "ioredis"
import { guardStreamErrors } from "../../src/layers/StreamErrors.ts"
import { requireRedis } from "../support/env.ts"
import { type RedisHandle, startRedis } from "../support/standalone.ts"

let server: RedisHandle

beforeAll(async () => {
  requireRedis()
  server = await startRedis()
}, 30_000)

afterAll(async () => {
  await server?.stop()
})

/** A connected client and its socket, with the client's own `error` event listened to (as the server does). */
const connected = async (guard: boolean) => {
  const made = new Redis({ host: server.host, port: server.port, lazyConnect: true, maxRetriesPerRequest: 0 })
  const client = guard ? guardStreamErrors(made) : made
  client.on("error", () => undefined)
  await client.connect()
  const stream = (client as unknown as { stream: NodeJS.EventEmitter }).stream
  return { client, stream }
}

describe("a socket's second error", () => {
  it("is an uncaught exception on a client as ioredis makes it (the control)", async () => {
    const { client, stream } = await connected(false)
    stream.emit("error", new Error("handshake refused"))
    assert.throws(() => stream.emit("error", new Error("connection reset")), /connection reset/)
    client.disconnect()
  })

  it("is ignored on a guarded client, which goes on answering on a new socket", async () => {
    const { client, stream } = await connected(true)
    stream.emit("error", new Error("handshake refused"))
    stream.emit("error", new Error("connection reset"))
    const ended = new Promise((resolve) => client.once("end", resolve))
    client.disconnect()
    await ended
    await client.connect()
    assert.strictEqual(await client.ping(), "PONG")
    const next = (client as unknown as { stream: NodeJS.EventEmitter }).stream
    assert.notStrictEqual(next, stream)
    assert.isAtLeast(next.listenerCount("error"), 2)
    client.disconnect()
  })
})
