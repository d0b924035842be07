/**
 * The tool registry: which tools are enabled (toolsets, read-only mode), and how
 * one call runs (decode → handler → encode, typed errors → error envelope).
 */
import { Cause, Effect, Exit, Option, Schema } from "effect"
import { type AppError, InvalidArgument, TooLarge } from "../Errors.ts"
import type { ServerSettings } from "../layers/Config.ts"
import { toMcpJsonSchema } from "./JsonSchema.ts"
import type { AnyTool } from "./Tool.ts"

/** What a call produced, before it is put on the wire. */
export type CallOutcome =
  | { readonly _tag: "Success"; readonly value: Record<string, unknown> }
  | { readonly _tag: "Failure"; readonly error: ErrorEnvelope }

export interface ErrorEnvelope {
  readonly tag: string
  readonly message: string
  readonly retryable: boolean
  readonly [extra: string]: unknown
}

/**
 * Tools enabled by the settings: in an enabled toolset (or core), and read-only when the server is
 * (a tool with `readOnlyHints` is listed with those on a read-only server).
 */
export const enabledTools = <R>(
  all: ReadonlyArray<AnyTool<R>>,
  settings: Pick<ServerSettings, "toolsets" | "readOnly">
) =>
  all
    .map((t) => (settings.readOnly && t.readOnlyHints !== undefined ? { ...t, hints: t.readOnlyHints } : t))
    .filter(
      (t) => (t.core === true || settings.toolsets.includes(t.toolset)) && (!settings.readOnly || t.hints.readOnly)
    )

/** The `tools/list` entry of a tool. */
export const listEntry = (tool: AnyTool<unknown>) => ({
  name: tool.name,
  title: tool.title,
  description: tool.description,
  inputSchema: toMcpJsonSchema(tool.input),
  outputSchema: toMcpJsonSchema(tool.output),
  annotations: {
    title: tool.title,
    readOnlyHint: tool.hints.readOnly,
    destructiveHint: tool.hints.destructive,
    idempotentHint: tool.hints.idempotent,
    openWorldHint: false
  }
})

/** The error envelope of a typed error: tag, message, retryable, and the error's own fields. */
export const envelope = (error: AppError): ErrorEnvelope => {
  const { _tag, message, ...fields } = error as unknown as Record<string, unknown> & { _tag: string; message: string }
  return { tag: _tag, message, retryable: error.retryable, ...fields }
}

const defect: ErrorEnvelope = {
  tag: "Internal",
  message:
    "The server hit an internal error running this tool. Retry once; if it persists, report it with the server's stderr log.",
  retryable: false
}

const interrupted: ErrorEnvelope = {
  tag: "Cancelled",
  message: "The call was cancelled before it finished.",
  retryable: true
}

const describeIssue = (e: Schema.SchemaError) => e.message.replace(/\s+/g, " ").trim()

export interface Codecs {
  readonly decode: (u: unknown) => Effect.Effect<unknown, InvalidArgument>
  readonly encode: (a: unknown) => Effect.Effect<Record<string, unknown>, never>
}

/** JSON codecs of a tool, built once per tool. */
export const codecs = (tool: AnyTool<unknown>): Codecs => {
  const decode = Schema.decodeUnknownEffect(Schema.toCodecJson(tool.input))
  const encode = Schema.encodeUnknownEffect(Schema.toCodecJson(tool.output))
  return {
    decode: (u) =>
      decode(u ?? {}, { errors: "all", onExcessProperty: "error" }).pipe(
        Effect.mapError(
          (e) =>
            new InvalidArgument({
              message: `Invalid arguments for ${tool.name}: ${describeIssue(e)}. Fix the arguments to match the tool's input schema and call again.`
            })
        )
      ),
    encode: (a) =>
      encode(a).pipe(
        Effect.map((v) => v as Record<string, unknown>),
        Effect.orDie
      )
  }
}

/** One call of a tool: an Effect that never fails, with the outcome to send back. */
export const callTool = <R>(
  tool: AnyTool<R>,
  c: Codecs,
  args: unknown,
  maxOutputBytes: number
): Effect.Effect<CallOutcome, never, R> =>
  c.decode(args).pipe(
    Effect.flatMap((input) => tool.handler(input)),
    Effect.flatMap(c.encode),
    Effect.flatMap((value) => {
      const size = Buffer.byteLength(JSON.stringify(value))
      return size > maxOutputBytes
        ? Effect.fail(
            new TooLarge({
              message: `The result of ${tool.name} is ${size} bytes, over the ${maxOutputBytes}-byte output cap. Ask for less (a smaller count or limit, or a range).`,
              size,
              limit: maxOutputBytes
            })
          )
        : Effect.succeed(value)
    }),
    Effect.exit,
    Effect.flatMap((exit) => {
      if (Exit.isSuccess(exit)) return Effect.succeed<CallOutcome>({ _tag: "Success", value: exit.value })
      const failure = Cause.findErrorOption(exit.cause)
      if (Option.isSome(failure))
        return Effect.succeed<CallOutcome>({ _tag: "Failure", error: envelope(failure.value) })
      if (Cause.hasInterrupts(exit.cause) && !Cause.hasDies(exit.cause)) {
        return Effect.succeed<CallOutcome>({ _tag: "Failure", error: interrupted })
      }
      return Effect.logError("tool defect", { tool: tool.name, cause: Cause.pretty(exit.cause) }).pipe(
        Effect.as<CallOutcome>({ _tag: "Failure", error: defect })
      )
    })
  )
