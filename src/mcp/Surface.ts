/**
 * What a session sees, decided in one place: the tools, resources and prompts
 * of the toolsets that are on, read-only tools only in read-only mode. Today
 * from the server's settings; a session's role (the HTTP service) narrows them
 * further and never widens them. Also which background work runs.
 */
import type { Layer } from "effect"
import type { Feature, PromptDef, ResourceDef } from "../tools/Feature.ts"
import { type ListedTool, makeToolTable, type ToolEntry } from "./Registry.ts"
import type { McpSettings } from "./Settings.ts"

/**
 * A principal's role: toolsets and read-only as the server's settings, and glob
 * lists over the logical names a call touches (enforced per call against the
 * tools' `touches`); an absent list allows all.
 */
export interface Role {
  readonly toolsets?: ReadonlyArray<string>
  readonly readOnly?: boolean
  readonly keys?: ReadonlyArray<string>
  readonly channels?: ReadonlyArray<string>
  readonly queues?: ReadonlyArray<string>
  readonly namespaces?: ReadonlyArray<string>
}

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

/** The toolsets on and read-only mode for the settings narrowed by the role. */
const access = (settings: Access, role: Role | undefined) => {
  const on = new Set(settings.toolsets)
  if (role?.toolsets !== undefined) {
    const allowed = new Set(role.toolsets)
    for (const t of on) if (!allowed.has(t)) on.delete(t)
  }
  return { on, readOnly: settings.readOnly || role?.readOnly === true }
}

/** What a session with these settings (and role, if any) sees. */
export const surface = <R>(catalog: Catalog<R>, settings: Access, role?: Role): Surface<R> => {
  const { on, readOnly } = access(settings, role)
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

/** Background work of the toolsets that are on; none on a read-only server (it would write). */
export const backgroundOf = <R>(
  features: ReadonlyArray<Feature<R>>,
  settings: Access
): ReadonlyArray<{ readonly toolset: string; readonly layer: Layer.Layer<never, never, R> }> =>
  settings.readOnly
    ? []
    : features.flatMap((f) =>
        f.background !== undefined && settings.toolsets.includes(f.name)
          ? [{ toolset: f.name, layer: f.background }]
          : []
      )
