/**
 * The tool table, built once per process: for every tool its JSON codecs and
 * its `tools/list` entries (with and without its read-only hints). How one call
 * runs: check the arguments' shape, decode → handler → encode, typed errors →
 * the error envelope, never a failure.
 */
import { Cause, Effect, Exit, Option, Schema } from "effect"
import { type AppError, InvalidArgument, TooLarge } from "../Errors.ts"
import type { AnyTool, ToolHints } from "../tools/Tool.ts"
import { type CallOutcome, cancelled, defect, envelope } from "./Envelope.ts"
import { toMcpJsonSchema } from "./JsonSchema.ts"

/** Arguments nested deeper than this are refused before decoding (no deep recursion on hostile input). */
export const MAX_ARGUMENT_DEPTH = 100

export interface ListedTool {
  readonly name: string
  readonly title: string
  readonly description: string
  readonly inputSchema: { readonly type: "object"; readonly [k: string]: unknown }
  readonly outputSchema: { readonly type: "object"; readonly [k: string]: unknown }
  readonly annotations: {
    readonly title: string
    readonly readOnlyHint: boolean
    readonly destructiveHint: boolean
    readonly idempotentHint: boolean
    readonly openWorldHint: false
  }
}

/** The `tools/list` entry of a tool with the given hints. */
export const listEntry = (tool: AnyTool<unknown>, hints: ToolHints = tool.hints): ListedTool => ({
  name: tool.name,
  title: tool.title,
  description: tool.description,
  inputSchema: toMcpJsonSchema(tool.input) as ListedTool["inputSchema"],
  outputSchema: toMcpJsonSchema(tool.output) as ListedTool["outputSchema"],
  annotations: {
    title: tool.title,
    readOnlyHint: hints.readOnly,
    destructiveHint: hints.destructive,
    idempotentHint: hints.idempotent,
    openWorldHint: false
  }
})

export interface Codecs {
  readonly decode: (u: unknown) => Effect.Effect<unknown, InvalidArgument>
  readonly encode: (a: unknown) => Effect.Effect<Record<string, unknown>, never>
}

const describeIssue = (e: Schema.SchemaError) => e.message.replace(/\s+/g, " ").trim()

const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const kindOf = (u: unknown) => (u === null ? "null" : Array.isArray(u) ? "an array" : `a ${typeof u}`)

/** Whether a JSON value nests deeper than `max` (walked without recursion). */
export const nestsDeeperThan = (value: unknown, max: number): boolean => {
  const stack: Array<{ readonly node: unknown; readonly depth: number }> = [{ node: value, depth: 0 }]
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!
    if (typeof node !== "object" || node === null) continue
    if (depth >= max) return true
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push({ node: child, depth: depth + 1 })
  }
  return false
}

/** Why `args` cannot be a tool's arguments (not an object, or nested too deep), or undefined. */
export const argumentsProblem = (toolName: string, args: unknown): InvalidArgument | undefined => {
  if (args === undefined) return undefined
  if (!isPlainObject(args)) {
    return new InvalidArgument({
      message: `Invalid arguments for ${toolName}: arguments must be a JSON object of named arguments, not ${kindOf(args)}. Pass {"name": value, …} as the tool's input schema says.`
    })
  }
  if (nestsDeeperThan(args, MAX_ARGUMENT_DEPTH)) {
    return new InvalidArgument({
      message: `Invalid arguments for ${toolName}: they nest more than ${MAX_ARGUMENT_DEPTH} levels deep. Flatten the value.`
    })
  }
  return undefined
}

/** JSON codecs of a tool, built once per tool. */
export const codecs = (tool: AnyTool<unknown>): Codecs => {
  const decode = Schema.decodeUnknownEffect(Schema.toCodecJson(tool.input))
  const encode = Schema.encodeUnknownEffect(Schema.toCodecJson(tool.output))
  return {
    decode: (u) => {
      const problem = argumentsProblem(tool.name, u)
      if (problem !== undefined) return Effect.fail(problem)
      return decode(u ?? {}, { errors: "all", onExcessProperty: "error" }).pipe(
        Effect.mapError(
          (e) =>
            new InvalidArgument({
              message: `Invalid arguments for ${tool.name}: ${describeIssue(e)}. Fix the arguments to match the tool's input schema and call again.`
            })
        )
      )
    },
    encode: (a) =>
      encode(a).pipe(
        Effect.map((v) => v as Record<string, unknown>),
        Effect.orDie
      )
  }
}

/** A tool as the table holds it: codecs and list entries computed once. */
export interface ToolEntry<R> {
  readonly tool: AnyTool<R>
  readonly codecs: Codecs
  /** Its `tools/list` entry on a writable server. */
  readonly listed: ListedTool
  /** Its entry on a read-only server (its read-only hints when it has them). */
  readonly listedReadOnly: ListedTool
}

export const makeToolTable = <R>(tools: ReadonlyArray<AnyTool<R>>): ReadonlyArray<ToolEntry<R>> =>
  tools.map((tool) => {
    const listed = listEntry(tool)
    return {
      tool,
      codecs: codecs(tool),
      listed,
      listedReadOnly: tool.readOnlyHints === undefined ? listed : listEntry(tool, tool.readOnlyHints)
    }
  })

/** Checks a call's decoded input before its handler runs (the session's role); a failure is the call's result. */
export type CallCheck<R> = (tool: AnyTool<R>, input: unknown) => Effect.Effect<void, AppError, R>

/**
 * One call of a tool: an Effect that never fails, with the outcome to send back. `decoded`, when
 * given, sees the decoded input before the handler runs (the audit takes the call's keys from it);
 * `check`, when given, may refuse the call then (the session's role).
 */
export const callTool = <R>(
  tool: AnyTool<R>,
  c: Codecs,
  args: unknown,
  maxOutputBytes: number,
  decoded?: (input: unknown) => void,
  check?: CallCheck<R>
): Effect.Effect<CallOutcome, never, R> =>
  c.decode(args).pipe(
    Effect.tap((input) => (decoded === undefined ? Effect.void : Effect.sync(() => decoded(input)))),
    Effect.flatMap((input) =>
      check === undefined ? tool.handler(input) : Effect.andThen(check(tool, input), () => tool.handler(input))
    ),
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
        return Effect.succeed<CallOutcome>({ _tag: "Failure", error: cancelled })
      }
      return Effect.logError("tool defect", { tool: tool.name, cause: Cause.pretty(exit.cause) }).pipe(
        Effect.as<CallOutcome>({ _tag: "Failure", error: defect })
      )
    })
  )
