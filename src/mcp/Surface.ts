/**
 * What a session sees, decided in one place: the tools, resources and prompts
 * of the toolsets that are on, read-only tools only in read-only mode, from the
 * server's settings narrowed by the session's role when it has one (auth/Role.ts:
 * a role never widens them). Also which background work runs.
 */
import type { Layer } from "effect"
import type { Feature, PromptDef, ResourceDef } from "../tools/Feature.ts"
import { effectiveSettings, type Role } from "./auth/Role.ts"
import { type ListedTool, makeToolTable, type ToolEntry } from "./Registry.ts"
import type { McpSettings } from "./Settings.ts"

/** Every feature with its tool table, built once per process. */
export interface Catalog<R> {
  readonly features: ReadonlyArray<Feature<R>>
  readonly tools: ReadonlyArray<ToolEntry<R>>
}

export const makeCatalog = <R>(features: ReadonlyArray<Feature<R>>): Catalog<R> => ({
  features,
  tools: makeToolTable(features.flatMap((f) => f.tools))
})

export interface Surface<R> {
  /** Calls of this session must not write. */
  readonly readOnly: boolean
  readonly role: Role | undefined
  readonly tools: ReadonlyMap<string, ToolEntry<R>>
  /** The `tools/list` result, in a fixed order (feature order, then each feature's own). */
  readonly listed: ReadonlyArray<ListedTool>
  readonly resources: ReadonlyArray<ResourceDef<R>>
  readonly prompts: ReadonlyArray<PromptDef<R>>
}

type Access = Pick<McpSettings, "toolsets" | "readOnly">

/** What a session with these settings (and role, if any) sees. */
export const surface = <R>(catalog: Catalog<R>, settings: Access, role?: Role): Surface<R> => {
  const { toolsets, readOnly } = effectiveSettings(settings, role)
  const on = new Set(toolsets)
  const visible = catalog.tools.filter(
    (e) => (e.tool.core === true || on.has(e.tool.toolset)) && (!readOnly || e.listedReadOnly.annotations.readOnlyHint)
  )
  const features = catalog.features.filter((f) => on.has(f.name))
  return {
    readOnly,
    role,
    tools: new Map(visible.map((e) => [e.tool.name, e])),
    listed: visible.map((e) => (readOnly ? e.listedReadOnly : e.listed)),
    resources: features.flatMap((f) => f.resources ?? []),
    prompts: features.flatMap((f) => f.prompts ?? [])
  }
}

type ToolsetLayers<R> = ReadonlyArray<{ readonly toolset: string; readonly layer: Layer.Layer<never, never, R> }>

/** The layer `layerOf` picks from each toolset that is on; none on a read-only server. */
const toolsetLayers = <R>(
  features: ReadonlyArray<Feature<R>>,
  settings: Access,
  layerOf: (feature: Feature<R>) => Layer.Layer<never, never, R> | undefined
): ToolsetLayers<R> =>
  settings.readOnly
    ? []
    : features.flatMap((f) => {
        const layer = layerOf(f)
        return layer !== undefined && settings.toolsets.includes(f.name) ? [{ toolset: f.name, layer }] : []
      })

/** Background work of the toolsets that are on; none on a read-only server (it would write). */
export const backgroundOf = <R>(features: ReadonlyArray<Feature<R>>, settings: Access): ToolsetLayers<R> =>
  toolsetLayers(features, settings, (f) => f.background)

/**
 * Metrics work of the toolsets that are on; none on a read-only server either: it reads only, but
 * in the background (a subscription, scans), which a read-only server never does of its own.
 */
export const metricsWorkOf = <R>(features: ReadonlyArray<Feature<R>>, settings: Access): ToolsetLayers<R> =>
  toolsetLayers(features, settings, (f) => f.metrics)
