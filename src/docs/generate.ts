/**
 * Generates docs/tools.md, the reference of every tool, from the tool
 * definitions themselves: per toolset, each tool's name, title, description,
 * hints, and its input and output JSON Schemas exactly as `tools/list` serves
 * them. `npm run docs` writes the file; `--check` exits 1 when it is stale.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath, pathToFileURL } from "node:url"
import { listEntry } from "../mcp/Registry.ts"
import { DEFAULT_TOOLSETS, TOOLSETS } from "../mcp/Settings.ts"
import { allTools } from "../tools/index.ts"
import type { AnyTool } from "../tools/Tool.ts"

type Toolset = string

/** Where the reference lives, from src/docs or dist/docs alike. */
export const TOOLS_DOC_PATH = fileURLToPath(new URL("../../docs/tools.md", import.meta.url))

type Json = Record<string, unknown>
type Entry = ReturnType<typeof listEntry>

const MAX_DEPTH = 3

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

const cell = (text: string) => text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|")

/** A short type name for a JSON Schema node, e.g. `integer`, `"a" | "b"`, `array of string`. */
const typeOf = (s: Json): string => {
  if (typeof s.$ref === "string") return s.$ref.slice(s.$ref.lastIndexOf("/") + 1)
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(" | ")
  if ("const" in s) return JSON.stringify(s.const)
  const union = (s.anyOf ?? s.oneOf) as ReadonlyArray<unknown> | undefined
  if (Array.isArray(union)) return union.map((m) => (isObject(m) ? typeOf(m) : "any")).join(" | ")
  if (Array.isArray(s.type)) return s.type.join(" | ")
  switch (s.type) {
    case "array":
      return isObject(s.items) ? `array of ${typeOf(s.items)}` : "array"
    case "object":
      if (isObject(s.properties)) return "object"
      if (isObject(s.additionalProperties)) return `map of string to ${typeOf(s.additionalProperties)}`
      return "object"
    case undefined:
      return "any JSON value"
    default:
      return String(s.type)
  }
}

/** Bounds and formats worth telling a reader: `≥ 1`, `≤ 1000`, `1–64 chars`, `pattern ^a`. */
const constraints = (s: Json): ReadonlyArray<string> => {
  const out: Array<string> = []
  const n = (k: string) => (typeof s[k] === "number" ? (s[k] as number) : undefined)
  if (n("minimum") !== undefined) out.push(`≥ ${n("minimum")}`)
  if (n("exclusiveMinimum") !== undefined) out.push(`> ${n("exclusiveMinimum")}`)
  if (n("maximum") !== undefined) out.push(`≤ ${n("maximum")}`)
  if (n("exclusiveMaximum") !== undefined) out.push(`< ${n("exclusiveMaximum")}`)
  const range = (min: number | undefined, max: number | undefined, unit: string) => {
    if (min !== undefined && max !== undefined) out.push(`${min}–${max} ${unit}`)
    else if (min !== undefined) out.push(`≥ ${min} ${unit}`)
    else if (max !== undefined) out.push(`≤ ${max} ${unit}`)
  }
  range(n("minLength"), n("maxLength"), "chars")
  range(n("minItems"), n("maxItems"), "items")
  if (typeof s.pattern === "string") out.push(`pattern \`${s.pattern}\``)
  if (typeof s.format === "string") out.push(`format ${s.format}`)
  if ("default" in s) out.push(`default \`${JSON.stringify(s.default)}\``)
  return out
}

/** A node's description, or the first one found among its union members. */
const describe = (s: Json): string => {
  if (typeof s.description === "string") return s.description
  const union = (s.anyOf ?? s.oneOf) as ReadonlyArray<unknown> | undefined
  if (Array.isArray(union)) {
    for (const m of union) if (isObject(m) && typeof m.description === "string") return m.description
  }
  return ""
}

/** The object schema nested in a node (an object, an array of objects, or a nullable one), if any. */
const nestedObject = (s: Json): { readonly schema: Json; readonly suffix: string } | undefined => {
  if (isObject(s.properties)) return { schema: s, suffix: "" }
  if (s.type === "array" && isObject(s.items) && isObject(s.items.properties)) return { schema: s.items, suffix: "[]" }
  const union = (s.anyOf ?? s.oneOf) as ReadonlyArray<unknown> | undefined
  if (Array.isArray(union)) {
    const objects = union.filter((m): m is Json => isObject(m) && m.type !== "null")
    if (objects.length === 1) return nestedObject(objects[0]!)
  }
  return undefined
}

/** Table rows for an object schema's properties, nested ones as `a.b` / `a[].b`. */
const rows = (schema: Json, prefix = "", depth = 0): ReadonlyArray<string> => {
  const properties = isObject(schema.properties) ? schema.properties : {}
  const required = new Set(Array.isArray(schema.required) ? (schema.required as ReadonlyArray<string>) : [])
  const out: Array<string> = []
  for (const [name, node] of Object.entries(properties)) {
    if (!isObject(node)) continue
    const bounds = constraints(node)
    const type = bounds.length === 0 ? typeOf(node) : `${typeOf(node)} (${bounds.join(", ")})`
    const path = `${prefix}${name}`
    out.push(`| \`${path}\` | ${cell(type)} | ${required.has(name) ? "yes" : "no"} | ${cell(describe(node))} |`)
    const nested = nestedObject(node)
    if (nested !== undefined && depth < MAX_DEPTH)
      out.push(...rows(nested.schema, `${path}${nested.suffix}.`, depth + 1))
  }
  return out
}

const fieldsTable = (schema: Json, empty: string): string => {
  const body = rows(schema)
  return body.length === 0
    ? empty
    : ["| field | type | required | description |", "|---|---|---|---|", ...body].join("\n")
}

const hintsLine = (e: Entry): string =>
  [
    `readOnlyHint: ${e.annotations.readOnlyHint}`,
    `destructiveHint: ${e.annotations.destructiveHint}`,
    `idempotentHint: ${e.annotations.idempotentHint}`,
    `openWorldHint: ${e.annotations.openWorldHint}`
  ]
    .map((h) => `\`${h}\``)
    .join(" · ")

const jsonBlock = (summary: string, value: unknown): string =>
  [
    "<details>",
    `<summary>${summary}</summary>`,
    "",
    "```json",
    JSON.stringify(value, null, 2),
    "```",
    "",
    "</details>"
  ].join("\n")

const renderTool = (tool: AnyTool<unknown>): string => {
  const e = listEntry(tool)
  return [
    `### \`${e.name}\``,
    "",
    `**${e.title}**${tool.core === true ? " (always listed)" : ""}`,
    "",
    e.description,
    "",
    `Hints: ${hintsLine(e)}`,
    "",
    "Arguments:",
    "",
    fieldsTable(e.inputSchema, "None."),
    "",
    "Result (`structuredContent`):",
    "",
    fieldsTable(e.outputSchema, "An object (see the schema)."),
    "",
    jsonBlock("Input schema", e.inputSchema),
    "",
    jsonBlock("Output schema", e.outputSchema)
  ].join("\n")
}

const anchor = (toolset: Toolset) => `toolset-${toolset}`

/** The whole reference, as `npm run docs` writes it. */
export const renderToolsDoc = (tools: ReadonlyArray<AnyTool<any>> = allTools): string => {
  const byToolset = new Map<Toolset, Array<AnyTool<any>>>()
  for (const t of tools) byToolset.set(t.toolset, [...(byToolset.get(t.toolset) ?? []), t])
  const present = TOOLSETS.filter((t) => byToolset.has(t))
  const isDefault = (t: Toolset) => DEFAULT_TOOLSETS.includes(t)
  const defaultCount = tools.filter((t) => t.core === true || isDefault(t.toolset)).length

  const summary = [
    "| toolset | on by default | tools |",
    "|---|---|---|",
    ...present.map((t) => {
      const list = byToolset.get(t)!
      const on = isDefault(t) ? "yes" : list.some((x) => x.core === true) ? "partly (core tools)" : "no"
      return `| [\`${t}\`](#${anchor(t)}) | ${on} | ${list.map((x) => `\`${x.name}\``).join(" ")} |`
    })
  ].join("\n")

  const sections = present.map((t) => {
    const list = byToolset.get(t)!
    const core = list.filter((x) => x.core === true).map((x) => `\`${x.name}\``)
    const note = isDefault(t)
      ? "On by default."
      : core.length === list.length
        ? `${core.join(" and ")}: always listed, whatever the toolsets.`
        : core.length > 0
          ? `Off by default, except ${core.join(" and ")}, which are always listed. Enable the rest with \`--toolsets default,${t}\`.`
          : `Off by default. Enable with \`--toolsets default,${t}\` (or \`REDIS_MCP_TOOLSETS=default,${t}\`).`
    return [
      `<a id="${anchor(t)}"></a>`,
      "",
      `## Toolset \`${t}\``,
      "",
      note,
      "",
      ...list.map((x) => `${renderTool(x)}\n`)
    ]
      .join("\n")
      .trimEnd()
  })

  return `${[
    "# Tool reference",
    "",
    "<!-- Generated by src/docs/generate.ts from the tool definitions. Do not edit: run `npm run docs`. -->",
    "",
    `${tools.length} tools in ${present.length} toolsets. The default selection (\`${DEFAULT_TOOLSETS.join(",")}\` plus the always-listed core tools) exposes ${defaultCount} of them; ` +
      "`--toolsets` / `REDIS_MCP_TOOLSETS` picks others (`all` for every tool) and `--read-only` keeps only tools whose `readOnlyHint` is true.",
    "",
    "Every tool answers with `structuredContent` matching its output schema plus the same JSON as text. " +
      'A failure is `isError: true` with one text block `{"error":{"tag","message","retryable",…}}` and no `structuredContent` ' +
      "(see docs/troubleshooting.md for each tag). The schemas below are exactly what `tools/list` serves.",
    "",
    summary,
    "",
    ...sections.flatMap((s) => [s, ""])
  ]
    .join("\n")
    .trimEnd()}\n`
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href

if (isMain) {
  const check = process.argv.includes("--check")
  const next = renderToolsDoc()
  let current: string | undefined
  try {
    current = readFileSync(TOOLS_DOC_PATH, "utf8")
  } catch {
    current = undefined
  }
  if (check) {
    if (current !== next) {
      process.stderr.write("docs/tools.md is stale: run `npm run docs` and commit the result.\n")
      process.exit(1)
    }
    process.stderr.write(`docs/tools.md is up to date (${allTools.length} tools).\n`)
  } else {
    if (current !== next) writeFileSync(TOOLS_DOC_PATH, next)
    process.stderr.write(
      `docs/tools.md: ${allTools.length} tools ${current === next ? "(unchanged)" : "written"} to ${TOOLS_DOC_PATH}\n`
    )
  }
}
