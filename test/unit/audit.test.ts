/**
 * The Audit service on real files: one line per event, SIGHUP reopens (logrotate's rename),
 * copytruncate keeps appending at the new end, a failing sink never fails `record`, a full
 * buffer drops and counts, the settings' defaults follow the transport.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, truncateSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Context, Deferred, Effect, Layer, Logger, Metric } from "effect"
import { auditDropped, auditWriteErrors } from "../../src/layers/Metrics.ts"
import { Audit, make } from "../../src/mcp/audit/Audit.ts"
import { authFailureEvent, callEvent } from "../../src/mcp/audit/AuditEvents.ts"
import { AuditFileError, type TextSink } from "../../src/mcp/audit/AuditFile.ts"
import { auditSettingsConfig, parseSink } from "../../src/mcp/audit/AuditSettings.ts"

const dir = mkdtempSync(join(tmpdir(), "audit-test-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const freshPath = () => join(dir, `audit-${++n}.log`)

const context = { transport: "http", keyPrefix: "" } as const
const lines = (path: string) =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>)

const writeCall = (key: string) =>
  callEvent({
    tool: "set",
    readOnly: false,
    touches: { keys: [key] },
    outcome: "ok",
    durationMs: 1,
    principal: "stdio"
  })!

/** Log lines at Error level, captured. */
const captureErrors = () => {
  const errors: Array<string> = []
  const layer = Logger.layer([
    Logger.make((o) => {
      if (o.logLevel === "Error") errors.push(String(o.message))
    })
  ])
  return { errors, layer }
}

const counter = (metric: typeof auditDropped) => Effect.map(Metric.value(metric), (s) => Number(s.count))

describe("Audit service", () => {
  it.live("a write, a denied call and an auth failure: one line each, in order, with the right fields", () => {
    const path = freshPath()
    return Effect.gen(function* () {
      const audit = yield* Audit
      assert.isTrue(audit.enabled)
      yield* audit.record(writeCall("a"))
      yield* audit.record(
        callEvent({
          tool: "get",
          readOnly: true,
          outcome: "PermissionDenied",
          refusedBy: "key_pattern",
          durationMs: 0
        })!
      )
      yield* audit.record(authFailureEvent({ reason: "expired" }))
      yield* audit.flush
      const got = lines(path)
      assert.deepStrictEqual(
        got.map((l) => [l.event, l.tool, l.outcome, l.reason]),
        [
          ["call", "set", "ok", undefined],
          ["denied", "get", "PermissionDenied", "key_pattern"],
          ["auth_failure", null, "refused", "expired"]
        ]
      )
      assert.deepStrictEqual(yield* audit.stats, { written: 3, dropped: 0, writeErrors: 0 })
    }).pipe(Effect.provide(Audit.layerFile(path, context, { reopenOnSighup: false })))
  })

  it.live("SIGHUP after a rename (logrotate create): the next line lands in a new file at the same path", () => {
    const path = freshPath()
    return Effect.gen(function* () {
      const audit = yield* Audit
      yield* audit.record(writeCall("before"))
      yield* audit.flush
      renameSync(path, `${path}.1`)
      yield* audit.record(writeCall("still-old"))
      yield* audit.flush
      process.emit("SIGHUP", "SIGHUP")
      // The signal is handled by a fiber; wait until the new file exists.
      yield* Effect.promise(async () => {
        for (let i = 0; i < 200; i++) {
          try {
            readFileSync(path)
            return
          } catch {
            await new Promise((r) => setTimeout(r, 10))
          }
        }
      })
      yield* audit.record(writeCall("after"))
      yield* audit.flush
      assert.deepStrictEqual(
        lines(`${path}.1`).map((l) => l.keys),
        [["before"], ["still-old"]]
      )
      assert.deepStrictEqual(
        lines(path).map((l) => l.keys),
        [["after"]]
      )
    }).pipe(Effect.provide(Audit.layerFile(path, context)), Effect.provide(captureErrors().layer))
  })

  it.live("copytruncate: after the file is truncated in place the next line starts it (no hole)", () => {
    const path = freshPath()
    return Effect.gen(function* () {
      const audit = yield* Audit
      yield* audit.record(writeCall("one"))
      yield* audit.flush
      truncateSync(path, 0)
      yield* audit.record(writeCall("two"))
      yield* audit.flush
      const text = readFileSync(path, "utf8")
      assert.notInclude(text, "\0")
      assert.deepStrictEqual(
        lines(path).map((l) => l.keys),
        [["two"]]
      )
    }).pipe(Effect.provide(Audit.layerFile(path, context, { reopenOnSighup: false })))
  })

  it.live("reopen that fails keeps the old file and says so", () => {
    const gone = mkdtempSync(join(dir, "gone-"))
    const path = join(gone, "audit.log")
    const { errors, layer } = captureErrors()
    return Effect.gen(function* () {
      const audit = yield* Audit
      yield* audit.record(writeCall("x"))
      yield* audit.flush
      rmSync(gone, { recursive: true, force: true })
      yield* audit.reopen
      assert.strictEqual(errors.length, 1)
      assert.include(errors[0], "reopen failed")
    }).pipe(Effect.provide(Audit.layerFile(path, context, { reopenOnSighup: false })), Effect.provide(layer))
  })

  it.live("a sink that cannot be written never fails a call: lines counted, one error logged", () => {
    const { errors, layer } = captureErrors()
    return Effect.gen(function* () {
      const before = yield* counter(auditWriteErrors)
      const audit = yield* Audit
      for (let i = 0; i < 3; i++) {
        yield* audit.record(writeCall(`k${i}`))
        yield* audit.flush
      }
      assert.deepStrictEqual(yield* audit.stats, { written: 0, dropped: 0, writeErrors: 3 })
      assert.strictEqual((yield* counter(auditWriteErrors)) - before, 3)
      assert.strictEqual(errors.length, 1, errors.join("\n"))
      assert.include(errors[0], "ENOSPC")
    }).pipe(Effect.provide(Audit.layerFile("/dev/full", context, { reopenOnSighup: false })), Effect.provide(layer))
  })

  it.live("a full buffer drops new lines and counts them; the queued ones are still written", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const before = yield* counter(auditDropped)
        const started = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const written: Array<string> = []
        const slow: TextSink = {
          write: (text) =>
            Effect.gen(function* () {
              yield* Deferred.succeed(started, undefined)
              yield* Deferred.await(release)
              written.push(text)
            }),
          reopen: Effect.void
        }
        const audit = yield* make(slow, context, { bufferLines: 2, reopenOnSighup: false })
        yield* audit.record(writeCall("first"))
        yield* Deferred.await(started) // the writer holds "first"; the queue is empty again
        for (const k of ["q1", "q2", "drop1", "drop2", "drop3"]) yield* audit.record(writeCall(k))
        assert.strictEqual((yield* audit.stats).dropped, 3)
        assert.strictEqual((yield* counter(auditDropped)) - before, 3)
        yield* Deferred.succeed(release, undefined)
        yield* audit.flush
        const keys = written
          .join("")
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => JSON.parse(l).keys[0])
        assert.deepStrictEqual(keys, ["first", "q1", "q2"])
      })
    )
  )

  it.live("closing the layer writes what is still queued", () => {
    const path = freshPath()
    return Effect.gen(function* () {
      yield* Effect.scoped(
        Effect.gen(function* () {
          const built = yield* Layer.build(Audit.layerFile(path, context, { reopenOnSighup: false }))
          const service = Context.get(built, Audit)
          for (let i = 0; i < 50; i++) yield* service.record(writeCall(`k${i}`))
        })
      )
      assert.strictEqual(lines(path).length, 50)
    })
  })

  it.effect("an audit file that cannot be opened fails the layer with one line naming the setting", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Effect.scoped(Layer.build(Audit.layerFile("/nonexistent-dir/a.log", context))))
      assert.instanceOf(error, AuditFileError)
      assert.match(error.message, /^REDIS_MCP_AUDIT: cannot open \/nonexistent-dir\/a\.log for appending \(ENOENT\)$/)
    })
  )

  it.effect("off: record does nothing", () =>
    Effect.gen(function* () {
      const audit = yield* Audit
      assert.isFalse(audit.enabled)
      yield* audit.record(writeCall("x"))
      assert.deepStrictEqual(yield* audit.stats, { written: 0, dropped: 0, writeErrors: 0 })
    }).pipe(Effect.provide(Audit.layerOff))
  )
})

describe("audit settings", () => {
  const parse = (env: Record<string, string>, transport: "stdio" | "http") =>
    auditSettingsConfig(transport).parse(ConfigProvider.fromEnvRecord(env))

  it.effect("default: off on stdio, stderr over HTTP; a path is made absolute", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual((yield* parse({}, "stdio")).sink, { _tag: "Off" })
      assert.deepStrictEqual((yield* parse({}, "http")).sink, { _tag: "Stderr" })
      assert.deepStrictEqual((yield* parse({ REDIS_MCP_AUDIT: "OFF" }, "http")).sink, { _tag: "Off" })
      assert.deepStrictEqual((yield* parse({ REDIS_MCP_AUDIT: "stderr" }, "stdio")).sink, { _tag: "Stderr" })
      assert.deepStrictEqual(parseSink("logs/a.log", "stdio"), {
        _tag: "File",
        path: join(process.cwd(), "logs/a.log")
      })
      assert.strictEqual((yield* parse({}, "http")).bufferLines, 10_000)
    })
  )

  it.effect("stdout is refused (the MCP channel), as is a bad buffer size", () =>
    Effect.gen(function* () {
      const stdout = yield* Effect.flip(parse({ REDIS_MCP_AUDIT: "stdout" }, "stdio"))
      assert.include(String(stdout), "REDIS_MCP_AUDIT")
      const buffer = yield* Effect.flip(parse({ REDIS_MCP_AUDIT_BUFFER: "0" }, "stdio"))
      assert.include(String(buffer), "REDIS_MCP_AUDIT_BUFFER")
    })
  )
})
