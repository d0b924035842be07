/**
 * Metric names in PromQL, read with the Prometheus project's own PromQL grammar
 * (@prometheus-io/lezer-promql), and matched against the catalog of Metrics.ts.
 */
import { parser } from "@prometheus-io/lezer-promql"
import type { Series } from "../../src/layers/Metrics.ts"

/** Grafana's interval variables, which are not PromQL, replaced by durations. */
export const withoutGrafanaVariables = (expr: string): string =>
  expr.replace(/\$__rate_interval|\$__interval|\$__range/g, "5m").replace(/\$\{?\w+\}?/g, "x")

export interface Parsed {
  /** Metric names of every vector selector. */
  readonly names: ReadonlyArray<string>
  /** The source text around each syntax error. */
  readonly errors: ReadonlyArray<string>
}

/** Parses `expr` (PromQL; Grafana variables inside label values are fine). */
export const parsePromQL = (expr: string): Parsed => {
  const text = withoutGrafanaVariables(expr)
  const names: Array<string> = []
  const errors: Array<string> = []
  parser.parse(text).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(text.slice(Math.max(0, node.from - 20), node.to + 20))
      if (node.name === "VectorSelector") {
        const identifier = node.node.getChild("Identifier")
        if (identifier !== null) names.push(text.slice(identifier.from, identifier.to))
      }
    }
  })
  return { names, errors }
}

/**
 * The catalog series a queried name belongs to: the name itself for a counter or
 * gauge, `<histogram>_bucket`, `_sum` or `_count` for a histogram.
 */
export const seriesFor = (catalog: ReadonlyArray<Series>, name: string): Series | undefined => {
  const exact = catalog.find((s) => s.name === name && s.type !== "histogram")
  if (exact !== undefined) return exact
  const base = name.replace(/_(bucket|sum|count)$/, "")
  return base === name ? undefined : catalog.find((s) => s.name === base && s.type === "histogram")
}
