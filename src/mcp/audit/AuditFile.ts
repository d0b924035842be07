/**
 * Where audit text goes: stderr, or a file opened for appending (`O_APPEND`, so logrotate's
 * `copytruncate` works: after the truncation the next write lands at the new end, offset 0).
 * `reopen` opens the path again and swaps the descriptor (logrotate's rename-and-create, or a
 * deleted file): the new file is opened first, so a failed reopen keeps writing to the old one.
 */
import { type FileHandle, open } from "node:fs/promises"
import { Effect, Schema, type Scope } from "effect"

/** The audit file cannot be opened or written. `message` is one line naming the path. */
export class AuditFileError extends Schema.TaggedError<AuditFileError>()("AuditFileError", {
  path: Schema.String,
  message: Schema.String
}) {
  get retryable(): boolean {
    return true
  }
}

export interface TextSink {
  /** Append `text` (whole lines) in one write. */
  readonly write: (text: string) => Effect.Effect<void, AuditFileError>
  /** Open the destination again (SIGHUP); a no-op for stderr. */
  readonly reopen: Effect.Effect<void, AuditFileError>
}

const reason = (e: unknown): string =>
  e instanceof Error ? ((e as NodeJS.ErrnoException).code ?? e.message) : String(e)

/** Created readable by its owner and group at most (the unit's UMask narrows it further). */
const FILE_MODE = 0o640

const openHandle = (path: string) =>
  Effect.tryPromise({
    try: () => open(path, "a", FILE_MODE),
    catch: (e) =>
      new AuditFileError({ path, message: `REDIS_MCP_AUDIT: cannot open ${path} for appending (${reason(e)})` })
  })

/** Lines to stderr, the process's log channel (journald under systemd). */
export const stderrSink: TextSink = {
  write: (text) =>
    Effect.try({
      try: () => {
        process.stderr.write(text)
      },
      catch: (e) => new AuditFileError({ path: "stderr", message: `cannot write to stderr (${reason(e)})` })
    }),
  reopen: Effect.void
}

/** A file sink on `path`, opened now (failing with `AuditFileError` when it cannot be) and closed with the scope. */
export const fileSink = Effect.fn("AuditFile.fileSink")(function* (path: string) {
  let handle: FileHandle = yield* openHandle(path)
  yield* Effect.addFinalizer(() => Effect.promise(() => handle.close().catch(() => undefined)))
  const sink: TextSink = {
    write: (text) =>
      Effect.tryPromise({
        try: () => handle.write(text),
        catch: (e) => new AuditFileError({ path, message: `cannot write to the audit file ${path} (${reason(e)})` })
      }).pipe(Effect.asVoid),
    reopen: Effect.gen(function* () {
      const next = yield* openHandle(path)
      const previous = handle
      handle = next
      yield* Effect.promise(() => previous.close().catch(() => undefined))
    })
  }
  return sink
}) satisfies (path: string) => Effect.Effect<TextSink, AuditFileError, Scope.Scope>
