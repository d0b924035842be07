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

/**
 * A tool's JSON codecs, compiled once. Both run synchronously (no fiber): the
 * arguments' decode, and the output's encode to the JSON the wire carries.
 */
export interface Codecs {
  readonly decode: (u: unknown) => Exit.Exit<unknown, InvalidArgument>
  readonly encode: (a: unknown) => Exit.Exit<Record<string, unknown>, Schema.SchemaError>
}

const describeIssue = (e: Schema.SchemaError) => e.message.replace(/\s+/g, " ").trim()

const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const kindOf = (u: unknown) => (u === null ? "null" : Array.isArray(u) ? "an array" : `a ${typeof u}`)

/** Whether a JSON value nests deeper than `max` (walked without recursion, one number per pending value). */
export const nestsDeeperThan = (value: unknown, max: number): boolean => {
  const nodes: Array<unknown> = [value]
  const depths: Array<number> = [0]
  while (nodes.length > 0) {
    const node = nodes.pop()
    const depth = depths.pop()!
    if (typeof node !== "object" || node === null) continue
    if (depth >= max) return true
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child !== "object" || child === null) continue
      nodes.push(child)
      depths.push(depth + 1)
    }
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

const DECODE_OPTIONS = { errors: "all", onExcessProperty: "error" } as const

/** JSON codecs of a tool, built once per tool. */
export const codecs = (tool: AnyTool<unknown>): Codecs => {
  const decode = Schema.decodeUnknownExit(Schema.toCodecJson(tool.input))
  const encode = Schema.encodeUnknownExit(Schema.toCodecJson(tool.output))
  const quick = tool.quickInput
  return {
    decode: (u) => {
      const problem = argumentsProblem(tool.name, u)
      if (problem !== undefined) return Exit.fail(problem)
      const plain = quick?.(u)
      if (plain !== undefined) return Exit.succeed(plain)
      return Exit.mapError(
        decode(u ?? {}, DECODE_OPTIONS),
        (e) =>
          new InvalidArgument({
            message: `Invalid arguments for ${tool.name}: ${describeIssue(e)}. Fix the arguments to match the tool's input schema and call again.`
          })
      )
    },
    encode:
      tool.outputIsJson === true
        ? (a) => Exit.succeed(a as Record<string, unknown>)
        : (a) => encode(a) as Exit.Exit<Record<string, unknown>, Schema.SchemaError>
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

/** What a finished call's Exit means for the client. */
const outcomeOf = (tool: Pick<AnyTool, "name">, cause: Cause.Cause<AppError>): Effect.Effect<CallOutcome> => {
  const failure = Cause.findErrorOption(cause)
  if (Option.isSome(failure)) return Effect.succeed({ _tag: "Failure", error: envelope(failure.value) })
  if (Cause.hasInterrupts(cause) && !Cause.hasDies(cause)) return Effect.succeed({ _tag: "Failure", error: cancelled })
  return Effect.logError("tool defect", { tool: tool.name, cause: Cause.pretty(cause) }).pipe(
    Effect.as<CallOutcome>({ _tag: "Failure", error: defect })
  )
}

/**
 * The output as JSON text, once: the same text is the result's text block, its size is checked
 * against the cap, and a transport that writes its own bytes splices it in as `structuredContent`.
 */
const encoded = (
  tool: Pick<AnyTool, "name">,
  c: Codecs,
  output: unknown,
  maxOutputBytes: number
): Effect.Effect<CallOutcome> => {
  const value = c.encode(output)
  // An output its own schema refuses is a bug of the tool: a defect.
  if (Exit.isFailure(value)) return outcomeOf(tool, Cause.die(value.cause))
  const json = JSON.stringify(value.value)
  // A UTF-16 unit is at most 3 UTF-8 bytes: only a long text needs counting.
  if (json.length * 3 <= maxOutputBytes) return Effect.succeed({ _tag: "Success", value: value.value, json })
  const size = Buffer.byteLength(json)
  if (size <= maxOutputBytes) return Effect.succeed({ _tag: "Success", value: value.value, json })
  const tooLarge = new TooLarge({
    message: `The result of ${tool.name} is ${size} bytes, over the ${maxOutputBytes}-byte output cap. Ask for less (a smaller count or limit, or a range).`,
    size,
    limit: maxOutputBytes
  })
  return Effect.succeed({ _tag: "Failure", error: envelope(tooLarge) })
}

/**
 * One call of a tool: an Effect that never fails, with the outcome to send back. `decoded`, when
 * given, sees the decoded input before the handler runs (the audit takes the call's keys from it);
 * `check`, when given, may refuse the call then (the session's role). Decoding and encoding run
 * synchronously; the only fiber work is the check and the handler.
 */
export const callTool = <R>(
  tool: AnyTool<R>,
  c: Codecs,
  args: unknown,
  maxOutputBytes: number,
  decoded?: (input: unknown) => void,
  check?: CallCheck<R>
): Effect.Effect<CallOutcome, never, R> =>
  Effect.suspend(() => {
    const input = c.decode(args)
    if (Exit.isFailure(input)) return outcomeOf(tool, input.cause)
    decoded?.(input.value)
    const run =
      check === undefined
        ? tool.handler(input.value)
        : Effect.andThen(check(tool, input.value), () => tool.handler(input.value))
    return Effect.matchCauseEffect(run, {
      onSuccess: (output) => encoded(tool, c, output, maxOutputBytes),
      onFailure: (cause) => outcomeOf(tool, cause)
    })
  })
