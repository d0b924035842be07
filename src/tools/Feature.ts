/**
 * A feature is one toolset as data: its tools, and the resources and prompts
 * that go with them, plus background work that only matters while it is on.
 * `src/mcp/` serves it; nothing here knows the protocol. Resource and prompt
 * shapes are our own plain data (they match MCP's on the wire).
 */
import type { Effect, Layer, Stream } from "effect"
import type { AppError } from "../Errors.ts"
import type { AnyTool, Touches } from "./Tool.ts"

/** A family of resources, as `resources/templates/list` shows it. */
export interface ResourceTemplate {
  readonly uriTemplate: string
  readonly name: string
  readonly title: string
  readonly description: string
  readonly mimeType: string
}

/** One concrete resource, as `resources/list` shows it. */
export interface ResourceEntry {
  readonly uri: string
  readonly name: string
  readonly title?: string
  readonly mimeType?: string
}

/** What reading a resource gives: text contents, with optional metadata. */
export interface ResourceContents {
  readonly uri: string
  readonly mimeType: string
  readonly text: string
  readonly _meta?: Record<string, unknown>
}

/**
 * What a change listener sees: `Ready` once listening (again after a lost
 * connection came back, when changes may have been missed), then the canonical
 * URI of each changed resource.
 */
export type ResourceChange = { readonly _tag: "Ready" } | { readonly _tag: "Changed"; readonly uri: string }

export interface ResourceDef<R = never> {
  readonly template: ResourceTemplate
  /** Concrete resources for `resources/list` (a failure should yield what is known, e.g. nothing). */
  readonly list?: Effect.Effect<ReadonlyArray<ResourceEntry>, never, R>
  /**
   * The canonical form of a URI of this family (the form `changes` reports), undefined
   * for another family's URI; a malformed URI of this family is `InvalidArgument`.
   */
  readonly canonical: (uri: string) => Effect.Effect<string | undefined, AppError>
  /** The queue or namespace a URI of this family names, checked against a session's role before a read or a watch. */
  readonly touches: (uri: string) => Effect.Effect<Touches, AppError>
  /** Reads a URI of this family: a missing resource is `NotFound`, a malformed URI `InvalidArgument`. */
  readonly read: (uri: string) => Effect.Effect<ReadonlyArray<ResourceContents>, AppError, R>
  /** Changes to the family, made through any server on the same store; offering it makes the family subscribable. */
  readonly changes?: Stream.Stream<ResourceChange, never, R>
}

export interface PromptArgument {
  readonly name: string
  readonly description: string
  readonly required: boolean
}

export interface PromptMessage {
  readonly role: "user" | "assistant"
  readonly content: { readonly type: "text"; readonly text: string }
}

export interface PromptDef<R = never> {
  readonly name: string
  readonly title: string
  readonly description: string
  readonly arguments: ReadonlyArray<PromptArgument>
  /** Renders the prompt; bad arguments are `InvalidArgument`. */
  readonly get: (
    args: Readonly<Record<string, string>>
  ) => Effect.Effect<{ readonly description: string; readonly messages: ReadonlyArray<PromptMessage> }, AppError, R>
}

export interface Feature<R = never> {
  /** The toolset name, as `--toolsets` takes it. */
  readonly name: string
  /** Part of `--toolsets default`. */
  readonly default: boolean
  /** Its tools, in `tools/list` order. */
  readonly tools: ReadonlyArray<AnyTool<R>>
  readonly resources?: ReadonlyArray<ResourceDef<R>>
  readonly prompts?: ReadonlyArray<PromptDef<R>>
  /** Work that runs while the toolset is on and the server may write (e.g. the task sweep). */
  readonly background?: Layer.Layer<never, never, R>
  /** Work that feeds the metrics while the toolset is on (e.g. the queue depths): as `background`, and not with metrics off. */
  readonly metrics?: Layer.Layer<never, never, R>
}

/** Define a feature (the identity, for type inference). */
export const make = <R>(feature: Feature<R>): Feature<R> => feature
