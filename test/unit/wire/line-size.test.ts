/**
 * Issue 9 item 7 on the stdio wire: a line over the limit is skipped up to its
 * newline without being held (memory stays bounded while it streams in),
 * answered with -32600 (id null) naming the limit, and the session goes on.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import type { StdioWire } from "../../../src/mcp/StdioWire.ts"
import { DEFAULT_MAX_MESSAGE_BYTES } from "../../../src/mcp/WireSettings.ts"
import { type Harness, start } from "./harness.ts"

const MiB = 1024 * 1024
const CHUNK = Buffer.alloc(64 * 1024, "a")

let h: Harness
afterEach(async () => {
  await h.handle.close()
})

/**
 * Streams a line of `bytes` bytes (newline excluded) in 64 KiB chunks, honouring
 * backpressure, and returns the most the wire held of it after any chunk.
 */
const streamLine = async (bytes: number): Promise<number> => {
  const wire = h.transport as StdioWire
  let most = 0
  let left = bytes
  while (left > 0) {
    const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left)
    left -= chunk.length
    if (!h.input.write(chunk)) await Promise.race([new Promise((resolve) => h.input.once("drain", resolve)), h.closed])
    if (h.isClosed()) throw new Error("the transport closed while the line streamed in")
    most = Math.max(most, wire.bufferedBytes)
  }
  h.input.write("\n")
  return most
}

const assertTooLarge = (reply: any, bytes: number, limit: number) => {
  assert.strictEqual(reply.id, null)
  assert.strictEqual(reply.error.code, -32600)
  assert.include(reply.error.message, `${bytes} bytes`)
  assert.include(reply.error.message, `${limit}-byte limit`)
  assert.include(reply.error.message, "REDIS_MCP_MAX_MESSAGE_BYTES")
}

describe("oversized lines with the default limit", () => {
  it("is 8 MiB", () => {
    h = start()
    assert.strictEqual((h.transport as StdioWire).maxMessageBytes, 8 * MiB)
    assert.strictEqual(DEFAULT_MAX_MESSAGE_BYTES, 8 * MiB)
  })

  it("10 MiB + 100 bytes: answered, memory bounded, the next request served", async () => {
    h = start()
    await h.open()
    const most = await streamLine(10 * MiB + 100)
    assert.isAtMost(most, DEFAULT_MAX_MESSAGE_BYTES)
    assert.isAbove(most, 0, "the start of the line was held until it proved too long")
    assertTooLarge(await h.next(), 10 * MiB + 100, DEFAULT_MAX_MESSAGE_BYTES)
    const [pong] = await h.ping("after 10 MiB")
    assert.deepStrictEqual(pong.result, {})
    assert.strictEqual((h.transport as StdioWire).bufferedBytes, 0)
  })

  it("50 MiB: the wire never holds more than the limit while it streams in", async () => {
    h = start()
    await h.open()
    const most = await streamLine(50 * MiB)
    assert.isAtMost(most, DEFAULT_MAX_MESSAGE_BYTES)
    assertTooLarge(await h.next(), 50 * MiB, DEFAULT_MAX_MESSAGE_BYTES)
    const [pong] = await h.ping("after 50 MiB")
    assert.deepStrictEqual(pong.result, {})
  })
})

describe("oversized lines with a small limit", () => {
  const LIMIT = 4096

  it("several in a row, each answered, and the session goes on", async () => {
    h = start({ maxMessageBytes: LIMIT })
    await h.open()
    for (const bytes of [LIMIT + 1, 3 * LIMIT, 200 * 1024]) {
      const most = await streamLine(bytes)
      assert.isAtMost(most, LIMIT)
    }
    assertTooLarge(await h.next(), LIMIT + 1, LIMIT)
    assertTooLarge(await h.next(), 3 * LIMIT, LIMIT)
    assertTooLarge(await h.next(), 200 * 1024, LIMIT)
    const [pong] = await h.ping("after three")
    assert.deepStrictEqual(pong.result, {})
    assert.lengthOf(
      h.logs.filter((l) => l.level === "Warn" && l.message === "stdin line rejected"),
      3
    )
  })

  it("a line of exactly the limit is served; one byte more is not", async () => {
    h = start({ maxMessageBytes: LIMIT })
    await h.open()
    const exact = (id: string, bytes: number) => {
      const head = `{"jsonrpc":"2.0","id":"${id}","method":"ping"`
      return `${head}${" ".repeat(bytes - head.length - 1)}}`
    }
    h.send(exact("fits", LIMIT))
    const [fits] = await h.until("fits")
    assert.deepStrictEqual(fits.result, {})
    h.send(exact("over", LIMIT + 1))
    assertTooLarge(await h.next(), LIMIT + 1, LIMIT)
  })

  it("an oversized line and a valid one in the same chunk", async () => {
    h = start({ maxMessageBytes: LIMIT })
    await h.open()
    h.input.write(`${"x".repeat(LIMIT * 2)}\n{"jsonrpc":"2.0","id":"same chunk","method":"ping"}\n`)
    const seen = await h.until("same chunk")
    assert.strictEqual(seen.length, 2)
    assertTooLarge(seen[0], LIMIT * 2, LIMIT)
  })

  it("an oversized last line without a newline is answered when stdin ends", async () => {
    h = start({ maxMessageBytes: LIMIT })
    await h.open()
    h.input.end("y".repeat(LIMIT + 10))
    assertTooLarge(await h.next(), LIMIT + 10, LIMIT)
    await h.closed
  })
})
