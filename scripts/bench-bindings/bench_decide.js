'use strict'
// Per-decision cost of the Node package (scripts/bench-bindings.sh; not a test).
//
//   node bench_decide.js TABLE QUESTIONS.tsv [PASSES]
//
// QUESTIONS: `user TAB permission TAB org TAB resource` a line (org or
// resource empty for none). Each form of call is timed PASSES times
// (default 7) over every question; prints `node KIND LABEL MEDIAN_NS
// ALLOWED` per form, as the Rust example does (TRELLIS_BENCH_ONLY=LABEL:
// that form alone, PASSES may be 0).

const { readFileSync } = require('node:fs')
const { join } = require('node:path')
const { Table } = require(join(__dirname, '..', '..', 'bindings', 'node'))

const [tablePath, questionsPath, passesArg] = process.argv.slice(2)
const passes = Number(passesArg ?? 7)
const t = Table.open(tablePath)
const questions = readFileSync(questionsPath, 'utf8')
  .split('\n')
  .filter((l) => l.length > 0)
  .map((l) => {
    const [u, p, x, q] = l.split('\t')
    return [u, p, x || null, q || null]
  })
const n = questions.length
const NONE = 0xffffffff
const h = (v) => (v === null ? -1 : v)
const handles = questions.map(([u, p, x, q]) => [
  h(t.user(u)),
  h(t.permission(p)),
  x === null ? null : h(t.org(x)),
  q === null ? null : h(t.resource(q)),
])
// Packed: an unknown name is a handle no table has (NONE - 1 answers deny).
const packed = new Uint32Array(4 * n)
handles.forEach(([u, p, x, q], i) => {
  const k = (v) => (v === null ? NONE : v < 0 ? NONE - 1 : v)
  packed[4 * i] = u < 0 ? NONE - 1 : u
  packed[4 * i + 1] = p < 0 ? NONE - 1 : p
  packed[4 * i + 2] = k(x)
  packed[4 * i + 3] = k(q)
})

const only = process.env.TRELLIS_BENCH_ONLY
function measure(kind, label, f) {
  if ((only !== undefined && only !== label) || passes === 0) return
  const times = []
  let allowed = f() // one untimed pass: the JIT's, the caches'

  for (let i = 0; i < passes; i++) {
    const start = process.hrtime.bigint()
    allowed = f()
    times.push(Number(process.hrtime.bigint() - start) / n)
  }
  times.sort((a, b) => a - b)
  console.log(`node ${kind} ${label} ${times[times.length >> 1].toFixed(1)} ${allowed}`)
}

const count = (answers) => {
  let c = 0
  for (let i = 0; i < answers.length; i++) c += answers[i] ? 1 : 0
  return c
}

measure('handle', 'allowHandles', () => {
  let c = 0
  for (const [u, p, x, q] of handles) c += t.allowHandles(u, p, x, q) ? 1 : 0
  return c
})
measure('name', 'allow', () => {
  let c = 0
  for (const [u, p, x, q] of questions) c += t.allow(u, p, x, q) ? 1 : 0
  return c
})
measure('name', 'allowMany(array of names)', () => count(t.allowMany(questions)))
measure('handle', 'allowMany(Uint32Array)', () => count(t.allowMany(packed)))
