/**
 * A tool is data: name, title, model-facing description, input and output Schemas,
 * annotation hints and toolset, what a call touches, plus a thin handler that calls a service.
 */
import { type Effect, Schema } from "effect"
import type { AppError } from "../Errors.ts"

/** A struct schema with no service requirements (tool inputs and outputs). */
export type ToolSchema = Schema.Codec<any, any, never, never>

export interface ToolHints {
  /** Does not change Redis. Read-only mode lists only these. */
  readonly readOnly: boolean
  /** May delete or overwrite data. */
  readonly destructive: boolean
  /** Calling twice with the same input has the same effect as once. */
  readonly idempotent: boolean
}

/**
 * What one call reaches, as logical names (before the key prefix), so a role's
 * glob lists can be checked before anything is sent. Names are exact; glob
 * patterns a call takes (a `scan` MATCH, `subscribe` patterns) are listed apart,
 * since a pattern reaches every name it matches. Locks are the namespace
 * `lock:<name>`. Raw commands (`pipeline`, `command`) list the commands: their
 * keys and channels come from Redis's command key specs.
 */
export interface Touches {
  readonly keys?: ReadonlyArray<string>
  readonly channels?: ReadonlyArray<string>
  readonly queues?: ReadonlyArray<string>
  readonly namespaces?: ReadonlyArray<string>
  /** Glob patterns over key names (`scan` MATCH; `*` when absent). */
  readonly keyPatterns?: ReadonlyArray<string>
  /** Glob patterns over channel names (pattern subscriptions). */
  readonly channelPatterns?: ReadonlyArray<string>
  /** Raw commands, each `[name, ...args]`. */
  readonly commands?: ReadonlyArray<ReadonlyArray<string>>
  /** The call reports on the whole keyspace or on other clients (key names, commands, counts), not on names it is given. */
  readonly serverWide?: true
}

export interface ToolDef<I extends ToolSchema, O extends ToolSchema, R> {
  readonly name: string
  readonly title: string
  readonly description: string
  /** The toolset (feature) the tool belongs to. */
  readonly toolset: string
  /** Listed whatever the toolsets (`ping`, `health`). */
  readonly core?: boolean
  readonly input: I
  readonly output: O
  readonly hints: ToolHints
  /** Hints on a read-only server, for a tool that then refuses writes itself (ReadOnlyMode) and so stays listed. */
  readonly readOnlyHints?: ToolHints
  /** The keys, channels, queues and namespaces a call with this (decoded) input touches. */
  readonly touches: (input: I["Type"]) => Touches
  readonly handler: (input: I["Type"]) => Effect.Effect<O["Type"], AppError, R>
  /**
   * A cheap test of the input's common shape, for the hot tools and those whose input can be large:
   * the arguments themselves when they plainly are what `input` decodes to unchanged, undefined to
   * let the schema decide (and word the error). It must accept nothing the schema refuses
   * (test/unit/tools/quick-input.test.ts holds each one to its schema).
   */
  readonly quickInput?: (u: unknown) => I["Type"] | undefined
  /**
   * The handler's output is already its own JSON encoding (JSON values only, keys in the schema's
   * order), so it is sent as it is instead of being encoded by `output` again. Contract tests on both
   * stores hold get, set and the lease cycle's tools to it (kv-bounds, tasks).
   */
  readonly outputIsJson?: true
}

/** A tool with its types erased, as the registry holds it. */
export interface AnyTool<R = any> {
  readonly name: string
  readonly title: string
  readonly description: string
  readonly toolset: string
  readonly core?: boolean
  readonly input: ToolSchema
  readonly output: ToolSchema
  readonly hints: ToolHints
  /** Hints on a read-only server, for a tool that then refuses writes itself (ReadOnlyMode) and so stays listed. */
  readonly readOnlyHints?: ToolHints
  readonly touches: (input: any) => Touches
  readonly handler: (input: any) => Effect.Effect<unknown, AppError, R>
  readonly quickInput?: (u: unknown) => any
  readonly outputIsJson?: true
}

/** Define a tool; the types of `handler` and `touches` follow from `input` and `output`. */
export const make = <I extends ToolSchema, O extends ToolSchema, R>(def: ToolDef<I, O, R>): AnyTool<R> => def

/** Common hint sets. */
export const hints = {
  read: { readOnly: true, destructive: false, idempotent: true },
  write: { readOnly: false, destructive: false, idempotent: false },
  idempotentWrite: { readOnly: false, destructive: false, idempotent: true },
  overwrite: { readOnly: false, destructive: true, idempotent: true },
  destroy: { readOnly: false, destructive: true, idempotent: false }
} as const satisfies Record<string, ToolHints>

/** Common `touches`: nothing, reports on the whole server, one `key`, the `keys` list. */
export const touches = {
  nothing: (): Touches => ({}),
  serverWide: (): Touches => ({ serverWide: true }),
  key: (input: { readonly key: string }): Touches => ({ keys: [input.key] }),
  keys: (input: { readonly keys: ReadonlyArray<string> }): Touches => ({ keys: input.keys }),
  queue: (input: { readonly queue: string }): Touches => ({ queues: [input.queue] }),
  namespace: (input: { readonly namespace: string }): Touches => ({ namespaces: [input.namespace] })
} as const

/** The input of a tool that takes no arguments (an empty Struct would not give an object JSON Schema). */
export const NoInput = Schema.Record(Schema.String, Schema.Never)
