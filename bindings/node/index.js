'use strict'
// trellis for Node.js: a compiled decision table (`trellis compile -o FILE`)
// loaded in the process. This file loads the native addon (src/lib.rs, built
// by `napi build` into trellis.node) and wraps it in the package's API: the
// `Table` class, `TableError`, and the batch call's choice of form. The
// declarations, with the documentation, are index.d.ts.

const { existsSync } = require('node:fs')
const { join } = require('node:path')
const { fileURLToPath } = require('node:url')

/** The platform part of napi's file and package names (`linux-x64-gnu`). */
function platformTriple() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null
    const glibc = report?.header?.glibcVersionRuntime
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

/**
 * The addon: `trellis.node` as `npm run build` leaves it, else the file
 * `napi build --platform` names after the platform, else the platform
 * package `napi prepublish` publishes.
 */
function loadNative() {
  const local = join(__dirname, 'trellis.node')
  if (existsSync(local)) return require(local)
  const triple = platformTriple()
  const named = join(__dirname, `trellis.${triple}.node`)
  if (existsSync(named)) return require(named)
  try {
    return require(`trellis-${triple}`)
  } catch (cause) {
    throw new Error(
      `trellis: no native addon for ${triple}: build it (cd bindings/node && npm install && npm run build) ` +
        `or install the package trellis-${triple}`,
      { cause },
    )
  }
}

const native = loadNative()

/** "None" in packed handles: the resource's own org, or no resource. */
const NONE = 0xffffffff

/**
 * A table file that cannot be read, or is not a valid trellis table: wrong
 * magic number, unsupported format version, truncated, checksum mismatch or
 * a broken structure. The message says which.
 */
class TableError extends Error {
  constructor(message, options) {
    super(message, options)
    this.name = 'TableError'
  }
}

/** The native layer codes its load errors `TableError`; others pass. */
function rethrow(e) {
  if (e !== null && typeof e === 'object' && e.code === 'TableError') {
    throw new TableError(e.message)
  }
  throw e
}

/**
 * napi's conversion errors (an argument of the wrong type: codes such as
 * `StringExpected`, `NumberExpected`) as the TypeError JavaScript throws
 * for one, keeping the code; others pass.
 */
function typeError(e) {
  if (e !== null && typeof e === 'object' && typeof e.code === 'string' && !(e instanceof TypeError)) {
    if (e.code.endsWith('Expected') || e.code === 'InvalidArg') {
      const t = new TypeError(e.message)
      t.code = e.code
      return t
    }
  }
  return e
}

// Only open() and fromBytes() make tables.
const MAKE = Symbol('trellis.Table')

function columns(questions) {
  const n = questions.length
  const users = new Array(n)
  const permissions = new Array(n)
  const orgs = new Array(n)
  const resources = new Array(n)
  for (let i = 0; i < n; i++) {
    const q = questions[i]
    if (Array.isArray(q)) {
      users[i] = q[0]
      permissions[i] = q[1]
      orgs[i] = q[2] ?? null
      resources[i] = q[3] ?? null
    } else if (q !== null && typeof q === 'object') {
      users[i] = q.user
      permissions[i] = q.permission
      orgs[i] = q.org ?? null
      resources[i] = q.resource ?? null
    } else {
      throw new TypeError(`allowMany: question ${i} is neither [user, permission, org, resource?] nor an object`)
    }
  }
  return [users, permissions, orgs, resources]
}

/**
 * The questions' names end to end in one string, with their lengths (four
 * to a question, NONE for an org or resource left out): what
 * `allowManyPackedNames` reads with two conversions in all, where four
 * arrays of strings cost four conversions a question. null when a question
 * is not of strings (its error is the four arrays' to throw).
 */
function packNames(questions) {
  const n = questions.length
  // `+=` makes ropes that V8 flattens once, when Rust reads the string:
  // cheaper here than an array of parts and join('').
  let text = ''
  const lengths = new Uint32Array(4 * n)
  let total = 0
  const put = (k, s) => {
    if (s === null || s === undefined) {
      lengths[k] = NONE
      return true
    }
    if (typeof s !== 'string') return false
    text += s
    lengths[k] = s.length
    total += s.length
    return true
  }
  for (let i = 0; i < n; i++) {
    const q = questions[i]
    let u, p, x, r
    if (Array.isArray(q)) {
      u = q[0]
      p = q[1]
      x = q[2]
      r = q[3]
    } else if (q !== null && typeof q === 'object') {
      u = q.user
      p = q.permission
      x = q.org
      r = q.resource
    } else {
      return null
    }
    if (typeof u !== 'string' || typeof p !== 'string') return null
    const k = 4 * i
    if (!(put(k, u) && put(k + 1, p) && put(k + 2, x) && put(k + 3, r))) return null
    // Far below V8's longest string: bigger batches take the four arrays.
    if (total > 1 << 28) return null
  }
  return [text, lengths]
}

/** A compiled trellis decision table, loaded and validated. Immutable. */
class Table {
  #t

  constructor(make, t) {
    if (make !== MAKE) {
      throw new TypeError('trellis: use Table.open(path) or Table.fromBytes(buffer)')
    }
    this.#t = t
  }

  static open(path) {
    if (path instanceof URL) path = fileURLToPath(path)
    if (typeof path !== 'string') {
      throw new TypeError('Table.open: path must be a string or a file: URL')
    }
    let t
    try {
      t = native.NativeTable.open(path)
    } catch (e) {
      rethrow(e)
    }
    return new Table(MAKE, t)
  }

  static fromBytes(data) {
    if (data instanceof ArrayBuffer) data = new Uint8Array(data)
    if (!(data instanceof Uint8Array)) {
      throw new TypeError('Table.fromBytes: data must be a Buffer, Uint8Array or ArrayBuffer')
    }
    let t
    try {
      t = native.NativeTable.fromBytes(data)
    } catch (e) {
      rethrow(e)
    }
    return new Table(MAKE, t)
  }

  get inputHash() {
    return this.#t.inputHash
  }
  get userCount() {
    return this.#t.userCount
  }
  get orgCount() {
    return this.#t.orgCount
  }
  get roleCount() {
    return this.#t.roleCount
  }

  allow(user, permission, org, resource) {
    try {
      return this.#t.allow(user, permission, org, resource)
    } catch (e) {
      throw typeError(e)
    }
  }

  allowHandles(u, p, x, q) {
    try {
      return this.#t.allowHandles(u, p, x, q)
    } catch (e) {
      throw typeError(e)
    }
  }

  allowMany(questions) {
    if (questions instanceof Uint32Array || questions instanceof Int32Array) {
      if (questions.length % 4 !== 0) {
        throw new RangeError('allowMany over handles: the length must be a multiple of 4 (user, permission, org, resource)')
      }
      const packed =
        questions instanceof Uint32Array
          ? questions
          : new Uint32Array(questions.buffer, questions.byteOffset, questions.length)
      return this.#t.allowManyHandles(packed)
    }
    if (!Array.isArray(questions)) {
      throw new TypeError('allowMany: an array of questions, or a Uint32Array of packed handles')
    }
    const packed = packNames(questions)
    if (packed !== null) {
      const bytes = this.#t.allowManyPackedNames(packed[0], packed[1])
      // push, not new Array(n): a long preallocated array is a slow one.
      const answers = []
      for (let i = 0; i < bytes.length; i++) answers.push(bytes[i] === 1)
      return answers
    }
    const [users, permissions, orgs, resources] = columns(questions)
    try {
      return this.#t.allowManyNames(users, permissions, orgs, resources)
    } catch (e) {
      throw typeError(e)
    }
  }


  user(name) {
    try {
      return this.#t.user(name)
    } catch (e) {
      throw typeError(e)
    }
  }

  org(name) {
    try {
      return this.#t.org(name)
    } catch (e) {
      throw typeError(e)
    }
  }

  permission(name) {
    try {
      return this.#t.permission(name)
    } catch (e) {
      throw typeError(e)
    }
  }

  resource(name) {
    try {
      return this.#t.resource(name)
    } catch (e) {
      throw typeError(e)
    }
  }

  role(name) {
    try {
      return this.#t.role(name)
    } catch (e) {
      throw typeError(e)
    }
  }

  policy(name) {
    try {
      return this.#t.policy(name)
    } catch (e) {
      throw typeError(e)
    }
  }

  dimension(name) {
    try {
      return this.#t.dimension(name)
    } catch (e) {
      throw typeError(e)
    }
  }

  roles(user, org) {
    try {
      return this.#t.roles(user, org)
    } catch (e) {
      throw typeError(e)
    }
  }

  policies(user, org) {
    try {
      return this.#t.policies(user, org)
    } catch (e) {
      throw typeError(e)
    }
  }

  who(permission, org, resource) {
    try {
      return this.#t.who(permission, org, resource)
    } catch (e) {
      throw typeError(e)
    }
  }

  published(role, org) {
    try {
      return this.#t.published(role, org)
    } catch (e) {
      throw typeError(e)
    }
  }

  canAssign(admin, role, user, org, resources) {
    try {
      return this.#t.canAssign(admin, role, user, org, resources)
    } catch (e) {
      throw typeError(e)
    }
  }

  explain(user, permission, org, resource) {
    try {
      return this.#t.explain(user, permission, org, resource)
    } catch (e) {
      throw typeError(e)
    }
  }

  toString() {
    const t = this.#t
    return `Table(inputHash=${t.inputHash}, users=${t.userCount}, orgs=${t.orgCount}, roles=${t.roleCount})`
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return this.toString()
  }
}

module.exports = { Table, TableError, NONE, version: native.version() }
