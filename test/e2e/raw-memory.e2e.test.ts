/**
 * The built server's memory while `command` and `pipeline` meet replies far over
 * the output cap (a 200 MB value; 100 reads of a 5 MiB value), on a real
 * redis-server: each call is refused with TooLarge and the server's peak RSS
 * (VmHWM, read from /proc: Linux) grows by less than 64 MiB. On 0.1.0 the 200 MB
 * GET took the server past 1 GiB.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { useServer } from "./client.ts"

const MiB = 1024 * 1024

describe("raw replies over the output cap, through the built server", () => {
  const server = useServer("redis", {
    args: ["--toolsets", "default,batch,command"],
    seed: async (redis) => {
      const c = redis.client()
      // SETRANGE at the last offset: Redis builds the value itself, nothing this big crosses the wire.
      await c.setrange("big", 200 * MiB - 1, "x")
      await c.setrange("mid", 5 * MiB - 1, "x")
    },
    timeout: 60_000
  })

  /** The server process's peak resident memory so far, in bytes. */
  const peak = () => {
    const pid = server.pid
    assert.isNotNull(pid)
    const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]
    return Number(kib) * 1024
  }

  it("command GET of a 200 MB value: TooLarge, peak RSS grows by less than 64 MiB", async () => {
    await server.expectOk("ping")
    const before = peak()
    // GET is sized first and never sent; GETRANGE 0 -1 is read on a connection cut past the cap.
    for (const args of [
      ["GET", "big"],
      ["GETRANGE", "big", "0", "-1"]
    ]) {
      const e = await server.expectError("command", { args })
      assert.strictEqual(e.tag, "TooLarge")
      assert.include(e.message, "GETRANGE key start end")
    }
    const grown = peak() - before
    assert.isBelow(grown, 64 * MiB, `peak RSS grew by ${(grown / MiB).toFixed(1)} MiB`)
    // The server and its connection go on.
    const part = await server.expectOk("command", { args: ["GETRANGE", "big", "0", "3"] })
    assert.strictEqual(part.result, "\u0000\u0000\u0000\u0000")
  })

  it("pipeline of 100 GETs of a 5 MiB value: TooLarge, peak RSS grows by less than 64 MiB", async () => {
    const before = peak()
    for (const atomic of [false, true]) {
      for (const read of [
        ["GET", "mid"],
        ["GETRANGE", "mid", "0", "-1"]
      ]) {
        const e = await server.expectError("pipeline", { commands: Array.from({ length: 100 }, () => read), atomic })
        assert.strictEqual(e.tag, "TooLarge")
      }
    }
    const grown = peak() - before
    assert.isBelow(grown, 64 * MiB, `peak RSS grew by ${(grown / MiB).toFixed(1)} MiB`)
    assert.strictEqual((await server.expectOk("command", { args: ["STRLEN", "mid"] })).result, 5 * MiB)
  })
})
