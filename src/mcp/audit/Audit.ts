/**
 * The audit log as a service: `record(event)` turns the event into one JSON line (AuditLine.ts,
 * an allow-list of fields) and puts it on a bounded queue; one writer fiber appends what is
 * queued, in batches, to the sink, and waits `LINGER` after each write so that lines recorded
 * meanwhile share the next one (a write per call cost more CPU than the call itself; a line
 * is written at most `LINGER` after it is recorded). The call path never waits for a disk: a full queue drops
 * the line and counts it (`redis_mcp_audit_dropped_total`), and a failed write loses its lines,
 * counts them (`redis_mcp_audit_write_errors_total`) and logs one error until writes succeed
 * again — it never fails a call. SIGHUP reopens a file sink. Closing the layer writes what is
 * still queued (for at most `DRAIN_TIMEOUT`), then closes the file.
 */
import { Cause, Clock, Context, Deferred, Effect, Fiber, Layer, Metric, Queue, Semaphore } from "effect"
import { ServerConfig } from "../../layers/Config.ts"
import { auditDropped, auditWriteErrors } from "../../layers/Metrics.ts"
import { type AuditFileError, fileSink, stderrSink, type TextSink } from "./AuditFile.ts"
import { type AuditEvent, type LineContext, toLine } from "./AuditLine.ts"
import { type AuditSettings, auditSettingsConfig, DEFAULT_BUFFER_LINES } from "./AuditSettings.ts"

export interface AuditStats {
  /** Lines written to the sink. */
  readonly written: number
  /** Lines dropped because the queue was full. */
  readonly dropped: number
  /** Lines lost to failed writes. */
  readonly writeErrors: number
}

export interface AuditShape {
  /** False when the audit is off: callers may skip building events. */
  readonly enabled: boolean
  /** Queue one line. Never fails, never waits. */
  readonly record: (event: AuditEvent) => Effect.Effect<void>
  /** Open the file again (what SIGHUP does); a failure is logged and the old file kept. */
  readonly reopen: Effect.Effect<void>
  /** Wait until every line recorded so far has been written (or lost). */
  readonly flush: Effect.Effect<void>
  readonly stats: Effect.Effect<AuditStats>
}

export interface AuditOptions {
  /** Lines queued at most. @default 10000 */
  readonly bufferLines?: number
  /** Reopen the sink on SIGHUP. @default true */
  readonly reopenOnSighup?: boolean
}

/** How long the writer waits after a write before the next, gathering the lines recorded meanwhile. */
export const LINGER = "10 millis"

/** How long closing the layer waits for queued lines to be written. */
export const DRAIN_TIMEOUT = "5 seconds"

const off: AuditShape = {
  enabled: false,
  record: () => Effect.void,
  reopen: Effect.void,
  flush: Effect.void,
  stats: Effect.succeed({ written: 0, dropped: 0, writeErrors: 0 })
}

/** The service over `sink`, with its writer fiber in the current scope. */
export const make = Effect.fnUntraced(function* (sink: TextSink, context: LineContext, options: AuditOptions = {}) {
  const queue = yield* Queue.dropping<string, Cause.Done>(options.bufferLines ?? DEFAULT_BUFFER_LINES)
  const lock = yield* Semaphore.make(1)
  let enqueued = 0
  let processed = 0
  let written = 0
  let dropped = 0
  let writeErrors = 0
  let failing = false
  let waiters: Array<{ readonly target: number; readonly done: Deferred.Deferred<void> }> = []

  const onWritten = (n: number) =>
    Effect.suspend(() => {
      written += n
      if (!failing) return Effect.void
      failing = false
      return Effect.logInfo("audit writes succeed again")
    })

  const onFailed = (n: number, error: AuditFileError) =>
    Effect.suspend(() => {
      writeErrors += n
      const count = Metric.update(auditWriteErrors, n)
      if (failing) return count
      failing = true
      return Effect.andThen(
        count,
        Effect.logError(
          `audit: ${error.message}; lines are lost and counted in redis_mcp_audit_write_errors_total until a write succeeds`
        )
      )
    })

  const settle = Effect.suspend(() => {
    const ready = waiters.filter((w) => w.target <= processed)
    waiters = waiters.filter((w) => w.target > processed)
    return Effect.forEach(ready, (w) => Deferred.succeed(w.done, undefined), { discard: true })
  })

  const writeBatch = (lines: ReadonlyArray<string>) =>
    sink.write(`${lines.join("\n")}\n`).pipe(
      Effect.matchEffect({
        onSuccess: () => onWritten(lines.length),
        onFailure: (e) => onFailed(lines.length, e)
      }),
      lock.withPermits(1),
      Effect.andThen(
        Effect.suspend(() => {
          processed += lines.length
          return settle
        })
      )
    )

  const writer = Effect.forever(
    Queue.takeAll(queue).pipe(Effect.flatMap(writeBatch), Effect.andThen(Effect.sleep(LINGER)))
  ).pipe(Effect.catchIf(Cause.isDone, () => Effect.void))
  const fiber = yield* Effect.forkScoped(writer)
  yield* Effect.addFinalizer(() =>
    Queue.end(queue).pipe(
      Effect.andThen(Fiber.join(fiber)),
      Effect.timeoutOrElse({
        duration: DRAIN_TIMEOUT,
        orElse: () => Effect.logWarning("audit: queued lines not written within the drain timeout at shutdown")
      }),
      Effect.ignore
    )
  )

  const reopen = sink.reopen.pipe(
    lock.withPermits(1),
    Effect.tap(() => Effect.logInfo("audit: file reopened")),
    Effect.catch((e) => Effect.logError(`audit: reopen failed, still writing to the previous file: ${e.message}`))
  )

  if (options.reopenOnSighup ?? true) {
    const signals = yield* Queue.sliding<void>(1)
    const onHup = () => {
      Queue.offerUnsafe(signals, undefined)
    }
    yield* Effect.acquireRelease(
      Effect.sync(() => process.on("SIGHUP", onHup)),
      () => Effect.sync(() => process.off("SIGHUP", onHup))
    )
    yield* Effect.forkScoped(Effect.forever(Effect.andThen(Queue.take(signals), reopen)))
  }

  return Audit.of({
    enabled: true,
    record: (event) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (Queue.offerUnsafe(queue, toLine(event, now, context))) {
          enqueued++
          return Effect.void
        }
        dropped++
        return Metric.update(auditDropped, 1)
      }),
    reopen,
    flush: Effect.suspend(() => {
      if (processed >= enqueued) return Effect.void
      return Effect.flatMap(Deferred.make<void>(), (done) => {
        waiters.push({ target: enqueued, done })
        return Deferred.await(done)
      })
    }),
    stats: Effect.sync(() => ({ written, dropped, writeErrors }))
  })
})

export class Audit extends Context.Service<Audit, AuditShape>()("effect-redis-mcp/Audit") {
  /** The service when the audit is off: `record` does nothing. */
  static readonly off: AuditShape = off

  /** No audit: `record` does nothing. */
  static readonly layerOff: Layer.Layer<Audit> = Layer.succeed(Audit, off)

  /** Lines to stderr. */
  static readonly layerStderr = (context: LineContext, options: AuditOptions = {}): Layer.Layer<Audit> =>
    Layer.effect(Audit, make(stderrSink, context, { reopenOnSighup: false, ...options }))

  /** Lines appended to `path`, opened at start (`AuditFileError` when it cannot be: exit 2). */
  static readonly layerFile = (
    path: string,
    context: LineContext,
    options: AuditOptions = {}
  ): Layer.Layer<Audit, AuditFileError> =>
    Layer.effect(
      Audit,
      Effect.flatMap(fileSink(path), (sink) => make(sink, context, options))
    )

  /** The sink the settings name. */
  static readonly layer = (settings: AuditSettings, context: LineContext): Layer.Layer<Audit, AuditFileError> => {
    const options = { bufferLines: settings.bufferLines }
    switch (settings.sink._tag) {
      case "Off":
        return Audit.layerOff
      case "Stderr":
        return Audit.layerStderr(context, options)
      case "File":
        return Audit.layerFile(settings.sink.path, context, options)
    }
  }

  /** From `REDIS_MCP_AUDIT` / `REDIS_MCP_AUDIT_BUFFER` (default by `transport`) and the key prefix. */
  static readonly layerConfig = (transport: "stdio" | "http") =>
    Layer.unwrap(
      Effect.gen(function* () {
        const settings = yield* auditSettingsConfig(transport)
        const { keyPrefix } = yield* ServerConfig
        if (settings.sink._tag !== "Off") {
          yield* Effect.logInfo("audit log on").pipe(
            Effect.annotateLogs({ sink: settings.sink._tag === "File" ? settings.sink.path : "stderr" })
          )
        }
        return Audit.layer(settings, { transport, keyPrefix })
      })
    )
}
