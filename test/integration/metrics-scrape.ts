/**
 * Reading a running server's `/metrics` the way Prometheus would: fetched over
 * HTTP and parsed by the official Python client's parser (test/deploy/exposition.ts),
 * then looked up by sample name and labels.
 */
import { type Family, parseExposition } from "../deploy/exposition.ts"

export interface Scrape {
  readonly families: ReadonlyArray<Family>
  /** The value of the one sample `name` whose labels are exactly `labels` (undefined: none). */
  readonly value: (name: string, labels?: Record<string, string>) => number | undefined
  /** Every sample as `name{label="value",…}`, sorted: the series as Prometheus stores them. */
  readonly series: ReadonlyArray<string>
  /** The samples named `name`. */
  readonly samples: (name: string) => ReadonlyArray<{ readonly labels: Record<string, string>; readonly value: number }>
}

const key = (name: string, labels: Readonly<Record<string, string>>) =>
  `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(",")}}`

export const parseScrape = (text: string): Scrape => {
  const families = parseExposition(text)
  const all = families.flatMap((f) => f.samples)
  return {
    families,
    value: (name, labels = {}) => {
      const want = key(name, labels)
      const found = all.filter((s) => key(s.name, s.labels) === want)
      if (found.length > 1) throw new Error(`${want} is rendered ${found.length} times`)
      return found[0]?.value
    },
    series: all.map((s) => key(s.name, s.labels)).sort(),
    samples: (name) => all.filter((s) => s.name === name).map((s) => ({ labels: { ...s.labels }, value: s.value }))
  }
}

/** GET `<base>/metrics`, parsed; throws on anything but a 200 in the text format. */
export const scrape = async (base: string): Promise<Scrape> => {
  const response = await fetch(`${base}/metrics`)
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`)
  const type = response.headers.get("content-type") ?? ""
  if (!type.startsWith("text/plain; version=0.0.4")) throw new Error(`/metrics is ${type}`)
  return parseScrape(await response.text())
}

/** How much each `name` sample selected by `labels` grew between two scrapes (absent counts as 0). */
export const delta = (before: Scrape, after: Scrape, name: string, labels: Record<string, string>) =>
  (after.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0)

/** The sum of every `name` sample (e.g. all tool calls), for "nothing else moved". */
export const total = (s: Scrape, name: string) => s.samples(name).reduce((sum, x) => sum + x.value, 0)
