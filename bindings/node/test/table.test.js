'use strict'
// The Node package answers as `trellis query` does (the same checks as
// bindings/python/tests/test_table.py).
//
// For each bundled example: compile it with the trellis binary ($TRELLIS,
// or target/release/trellis of the repository), ask every user x org x
// permission (and, for sets with resources, every user x resource x
// permission, at every org and with the org left out) of both
// `trellis query TABLE --batch` and `Table`, and compare; the same for the
// effective roles of every user x org; then the shared question file
// (bindings/questions/EXAMPLE.jsonl) and the error paths.

const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { describe, test, before, after } = require('node:test')
const { Worker } = require('node:worker_threads')

const ROOT = path.resolve(__dirname, '..', '..', '..')
const trellis = require(path.join(ROOT, 'bindings', 'node'))
const { Table, TableError, NONE } = trellis

const EXAMPLES = ['quickstart', 'cloud-ops']

function trellisBin() {
  const target = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target')
  const bin = process.env.TRELLIS || path.join(target, 'release', 'trellis')
  try {
    fs.accessSync(bin, fs.constants.X_OK)
  } catch {
    assert.fail(`no trellis binary at ${bin}: build it (cargo build --release) or set TRELLIS`)
  }
  return bin
}

function run(bin, args) {
  const out = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 64 << 20 })
  assert.equal(out.status, 0, `trellis ${args.join(' ')}: ${out.stderr}`)
  return out.stdout
}

function readQuestions(name) {
  const file = path.join(ROOT, 'bindings', 'questions', `${name}.jsonl`)
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)
  return lines.map((l) => JSON.parse(l))
}

const ask = (t, q) => t.allow(q.user, q.permission, q.org, q.resource)

class Example {
  constructor(name, dir) {
    this.name = name
    this.bin = trellisBin()
    const src = path.join(ROOT, 'policies-examples', name)
    this.path = path.join(dir, `${name}.tbl`)
    const dump = path.join(dir, `${name}.json`)
    run(this.bin, ['compile', src, '-o', this.path, '--json', dump])
    this.dump = JSON.parse(fs.readFileSync(dump, 'utf8'))
    this.users = this.dump.users.map((u) => u.id)
    this.orgs = this.dump.orgs.map((o) => o.id)
    this.resources = (this.dump.resources || []).map((r) => r.id)
    this.shared = readQuestions(name)
    // The permissions: those the shared file asks (it asks every one).
    const unknown = (p) => p.includes('no-such-') || !p.includes(':')
    this.perms = [...new Set(this.shared.map((q) => q.permission).filter((p) => !unknown(p)))]
    assert.ok(this.perms.length > 0, `no permissions in the question file of ${name}`)
    const qs = []
    for (const user of this.users)
      for (const org of this.orgs) for (const permission of this.perms) qs.push({ user, org, permission })
    for (const user of this.users)
      for (const resource of this.resources)
        for (const permission of this.perms) {
          qs.push({ user, permission, resource })
          for (const org of this.orgs) qs.push({ user, org, permission, resource })
        }
    const [u0, x0, p0] = [this.users[0], this.orgs[0], this.perms[0]]
    this.unknown = [
      { user: 'no-such-user', org: x0, permission: p0 },
      { user: u0, org: 'no-such-org', permission: p0 },
      { user: u0, org: x0, permission: 'no-such-module:read' },
      { user: u0, org: x0, permission: p0.split(':')[0] + ':no-such-action' },
      { user: u0, org: x0, permission: 'no-colon' },
      { user: u0, org: x0, permission: p0, resource: 'no-such-resource' },
    ]
    this.questions = qs.concat(this.unknown)
    const batch = path.join(dir, `${name}.q`)
    fs.writeFileSync(batch, this.questions.map((q) => JSON.stringify(q) + '\n').join(''))
    const out = run(this.bin, ['query', this.path, '--batch', batch]).split(/\s+/).filter(Boolean)
    assert.equal(out.length, this.questions.length)
    assert.ok(out.every((a) => a === 'allow' || a === 'deny'))
    this.expected = out.map((a) => a === 'allow')
    this.table = Table.open(this.path)
  }
}

let tmp
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-node-test-'))
})
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

function handles(t, q) {
  return [
    t.user(q.user),
    t.permission(q.permission),
    q.org ? t.org(q.org) : null,
    q.resource ? t.resource(q.resource) : null,
  ]
}

/** Handles of the questions whose every given name is known. */
function known(t, qs) {
  return qs.filter((q) => {
    const [u, p, x, r] = handles(t, q)
    return u !== null && p !== null && !(q.org && x === null) && !(q.resource && r === null)
  })
}

for (const name of EXAMPLES) {
  describe(name, () => {
    let ex
    before(() => {
      const dir = fs.mkdtempSync(path.join(tmp, `${name}-`))
      ex = new Example(name, dir)
    })

    test('every question as trellis query', () => {
      const got = ex.questions.map((q) => ask(ex.table, q))
      const wrong = ex.questions.filter((q, i) => got[i] !== ex.expected[i])
      assert.deepEqual(wrong, [], `${wrong.length} of ${got.length} differ`)
      // The comparison means something: both answers occur.
      assert.ok(got.some(Boolean) && !got.every(Boolean))
      if (name === 'cloud-ops') assert.ok(ex.resources.length > 0, 'cloud-ops declares resources')
    })

    test('the shared question file', () => {
      const qs = ex.shared
      assert.ok(qs.length > 0)
      for (const [i, q] of qs.entries()) {
        assert.equal(typeof q.allow, 'boolean', `line ${i + 1}`)
        assert.equal(ask(ex.table, q), q.allow, `line ${i + 1}: ${JSON.stringify(q)}`)
      }
      const expected = qs.map((q) => q.allow)
      assert.deepEqual(ex.table.allowMany(qs), expected)
      assert.deepEqual(
        ex.table.allowMany(qs.map((q) => [q.user, q.permission, q.org, q.resource])),
        expected,
      )
      const k = known(ex.table, qs)
      const packed = new Uint32Array(k.flatMap((q) => handles(ex.table, q).map((h) => h ?? NONE)))
      assert.deepEqual([...ex.table.allowMany(packed)], k.map((q) => Number(q.allow)))
      assert.ok(expected.some(Boolean) && !expected.every(Boolean))
    })

    test('unknown names deny', () => {
      const t = ex.table
      for (const q of ex.unknown) assert.equal(ask(t, q), false, JSON.stringify(q))
      assert.equal(t.user('no-such-user'), null)
      assert.equal(t.org('no-such-org'), null)
      assert.equal(t.permission('no-such-module:read'), null)
      assert.equal(t.resource('no-such-resource'), null)
      assert.equal(t.role('no-such-role'), null)
      assert.equal(t.policy('no-such-policy'), null)
      assert.equal(t.dimension('no-such-dimension'), null)
      assert.deepEqual(t.roles('no-such-user', ex.orgs[0]), [])
      assert.deepEqual(t.policies('no-such-user', ex.orgs[0]), [])
      assert.deepEqual(t.who('no-such-module:read', ex.orgs[0]), [])
      assert.deepEqual(t.who(ex.perms[0], ex.orgs[0], 'no-such-resource'), [])
      assert.equal(t.allowHandles(1e9, 0, 0), false)
      assert.equal(t.allowHandles(-1, 0, 0), false)
      assert.equal(t.allowHandles(0.5, 0, 0), false)
      assert.equal(t.allowHandles(NaN, 0, 0), false)
      assert.equal(t.allowHandles(null, 0, 0), false)
      assert.equal(t.allowHandles(t.user('no-such-user'), t.permission(ex.perms[0]), 0), false)
      assert.equal(t.allow('', ex.perms[0], ex.orgs[0]), false)
    })

    test('allowMany equals allow', () => {
      const t = ex.table
      const got = t.allowMany(ex.questions.map((q) => [q.user, q.permission, q.org ?? null, q.resource]))
      assert.ok(Array.isArray(got))
      assert.deepEqual(got, ex.questions.map((q) => ask(t, q)))
      assert.deepEqual(got, ex.expected)
      assert.deepEqual(t.allowMany(ex.questions), ex.expected)
      const plain = ex.questions.filter((q) => !('resource' in q))
      assert.deepEqual(
        t.allowMany(plain.map((q) => [q.user, q.permission, q.org])),
        plain.map((q) => ask(t, q)),
      )
      assert.deepEqual(t.allowMany([]), [])
      // The names cross into Rust in one string with their lengths: names
      // beyond ASCII (a lone surrogate too), empty ones, a left-out org and
      // a mix of arrays and objects answer as allow does, one by one.
      const q0 = ex.questions.find((q) => q.org && ask(t, q))
      const odd = [
        [q0.user, q0.permission, q0.org, q0.resource],
        ['é' + q0.user, q0.permission, q0.org],
        [q0.user + '\ud800', q0.permission, q0.org],
        ['\u{1F600}', '\ud83d', '', undefined],
        [q0.user, q0.permission, ''],
        [q0.user, q0.permission],
        { user: q0.user, permission: q0.permission, org: q0.org, resource: q0.resource },
        ['', '', null, null],
      ]
      assert.deepEqual(
        t.allowMany(odd),
        odd.map((q) => (Array.isArray(q) ? t.allow(q[0], q[1], q[2] ?? null, q[3] ?? null) : ask(t, q))),
      )
      assert.equal(t.allowMany(odd)[0], true)
      assert.throws(() => t.allowMany([42]), TypeError)
      assert.throws(() => t.allowMany(new Uint32Array(5)), RangeError)
      // Arguments of the wrong type are TypeErrors, as in Python.
      assert.throws(() => t.allowMany([[1, 'm:a', 'x']]), TypeError)
      assert.throws(() => t.allowMany([{ permission: 'm:a', org: 'x' }]), TypeError)
      assert.throws(() => t.allow(1, 'm:a', 'x'), TypeError)
      assert.throws(() => t.allowHandles('0', 0, 0), TypeError)
      assert.throws(() => t.roles(null, 'x'), TypeError)
      assert.throws(() => t.canAssign('a', 'r', 'u', 'x', { dim: 'not an array' }), TypeError)
    })

    test('handles equal names', () => {
      const t = ex.table
      const k = known(t, ex.questions)
      assert.ok(k.length > 0)
      for (const q of k) {
        const [u, p, x, r] = handles(t, q)
        assert.equal(t.allowHandles(u, p, x, r), ask(t, q), JSON.stringify(q))
      }
      // Packed, in a Uint32Array (NONE) and in an Int32Array (-1).
      const hs = k.flatMap((q) => handles(t, q))
      const want = k.map((q) => Number(ask(t, q)))
      const u32 = t.allowMany(Uint32Array.from(hs, (h) => h ?? NONE))
      assert.ok(u32 instanceof Uint8Array)
      assert.deepEqual([...u32], want)
      assert.deepEqual([...t.allowMany(Int32Array.from(hs, (h) => h ?? -1))], want)
      // An unknown handle in a packed question denies; a resource handle
      // that is not one never becomes "no resource".
      const [u, p, x] = handles(t, k.find((q) => ask(t, q)))
      assert.deepEqual([...t.allowMany(new Uint32Array([u, p, x, NONE, 1e9, p, x, NONE, u, p, x, 1e9]))], [1, 0, 0])
      assert.equal(t.allowHandles(u, p, x, 1e9), false)
    })

    test('roles as trellis query', () => {
      for (const u of ex.users) {
        for (const x of ex.orgs) {
          const out = run(ex.bin, ['query', ex.path, '--user', u, '--org', x, '--roles', '--format', 'json'])
          assert.deepEqual(ex.table.roles(u, x), JSON.parse(out).roles, `${u} at ${x}`)
        }
      }
    })

    test('who and policies', () => {
      const t = ex.table
      for (const x of ex.orgs) {
        for (const p of ex.perms) {
          assert.deepEqual(t.who(p, x), ex.users.filter((u) => t.allow(u, p, x)), `${p} at ${x}`)
        }
        for (const u of ex.users) {
          assert.ok(t.policies(u, x).every((n) => typeof n === 'string'))
        }
      }
      for (const q of ex.resources) {
        for (const p of ex.perms) {
          assert.deepEqual(t.who(p, null, q), ex.users.filter((u) => t.allow(u, p, null, q)), `${p} on ${q}`)
        }
      }
    })

    test('published and canAssign', () => {
      const t = ex.table
      for (const u of ex.users) {
        for (const x of ex.orgs) {
          for (const r of t.roles(u, x)) {
            assert.notEqual(t.role(r), null, r)
            assert.equal(t.published(r, x), true, `${r} at ${x}`)
          }
        }
      }
      assert.equal(t.published('no-such-role', ex.orgs[0]), false)
      assert.equal(t.canAssign(ex.users[0], 'no-such-role', ex.users[0], ex.orgs[0]), false)
      assert.equal(t.canAssign(ex.users[0], 'x', ex.users[0], ex.orgs[0], { 'no-such-dim': ['q'] }), false)
      const roles = [...new Set(ex.users.flatMap((u) => ex.orgs.flatMap((x) => t.roles(u, x))))].sort()
      for (const a of ex.users) {
        for (const r of roles) {
          assert.equal(typeof t.canAssign(a, r, ex.users.at(-1), ex.orgs[0]), 'boolean')
        }
      }
    })

    test('explain', () => {
      const t = ex.table
      const kinds = new Set(['no_grant', 'grant', 'gate', 'other_dimension', 'other_org'])
      const effects = new Set(['gives', 'restricted', 'not_published', 'other'])
      for (const [i, q] of ex.questions.entries()) {
        const e = t.explain(q.user, q.permission, q.org, q.resource)
        assert.equal(e.allowed, ex.expected[i], JSON.stringify(q))
        assert.equal(e.decision, ex.expected[i] ? 'allow' : 'deny')
        assert.ok(Array.isArray(e.lines) && e.lines.every((s) => typeof s === 'string'))
        for (const step of e.steps) {
          assert.ok(kinds.has(step.kind), step.kind)
          if (step.kind === 'grant') {
            assert.ok(effects.has(step.effect), step.effect)
            assert.ok((step.role === null) !== (step.policy === null))
            assert.equal(typeof step.at, 'string')
            assert.equal(typeof step.resources, 'object')
          }
        }
      }
      const e = t.explain('no-such-user', ex.perms[0], ex.orgs[0])
      assert.deepEqual(e, {
        decision: 'deny',
        allowed: false,
        lines: ['unknown user `no-such-user`'],
        unknown: ['unknown user `no-such-user`'],
        steps: [],
      })
    })

    test('explain lines as trellis query', () => {
      const t = ex.table
      const step = Math.max(1, Math.floor(ex.questions.length / 40))
      let asked = 0
      for (let i = 0; i < ex.questions.length; i += step) {
        const q = ex.questions[i]
        if ('resource' in q || ex.unknown.includes(q)) continue
        const args = ['query', ex.path, '--user', q.user, '--org', q.org, '--permission', q.permission]
        const out = spawnSync(ex.bin, [...args, '--explain', '--format', 'json'], { encoding: 'utf8' })
        const ref = JSON.parse(out.stdout)
        const got = t.explain(q.user, q.permission, q.org)
        assert.equal(got.decision, ref.decision, JSON.stringify(q))
        if ('explanation' in ref) assert.deepEqual(got.lines, ref.explanation, JSON.stringify(q))
        asked++
      }
      assert.ok(asked > 0)
    })

    test('worker threads open and ask tables of their own', async () => {
      const code = `
        const { parentPort, workerData } = require('node:worker_threads')
        const { Table } = require(workerData.pkg)
        const t = Table.open(workerData.path)
        parentPort.postMessage(t.allowMany(workerData.questions))
      `
      const questions = ex.shared.map(({ user, permission, org, resource }) => ({ user, permission, org, resource }))
      const data = { pkg: path.join(ROOT, 'bindings', 'node'), path: ex.path, questions }
      const results = await Promise.all(
        [0, 1, 2].map(
          () =>
            new Promise((resolve, reject) => {
              const w = new Worker(code, { eval: true, workerData: data })
              w.once('message', resolve)
              w.once('error', reject)
            }),
        ),
      )
      for (const r of results) assert.deepEqual(r, ex.shared.map((q) => q.allow))
    })

    test('properties', () => {
      const t = ex.table
      assert.equal(t.inputHash, ex.dump.input_hash)
      assert.match(t.inputHash, /^[0-9a-f]{16}$/)
      assert.equal(t.userCount, ex.users.length)
      assert.equal(t.orgCount, ex.orgs.length)
      assert.ok(t.roleCount > 0)
      assert.ok(String(t).startsWith(`Table(inputHash=${t.inputHash}`))
      const bytes = fs.readFileSync(ex.path)
      assert.equal(Table.fromBytes(bytes).inputHash, t.inputHash)
      const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)
      assert.equal(Table.fromBytes(copy).inputHash, t.inputHash)
      // A view at an odd offset into a larger buffer.
      const padded = Buffer.concat([Buffer.alloc(3), bytes, Buffer.alloc(5)])
      assert.equal(Table.fromBytes(padded.subarray(3, 3 + bytes.length)).inputHash, t.inputHash)
      assert.throws(() => Table.fromBytes(padded), TableError)
      assert.equal(Table.open(new URL(`file://${ex.path}`)).inputHash, t.inputHash)
      assert.equal(typeof trellis.version, 'string')
      assert.throws(() => new Table(), TypeError)
    })

    test('corrupt tables throw TableError', () => {
      assert.ok(TableError.prototype instanceof Error)
      const good = fs.readFileSync(ex.path)
      const flipped = Buffer.from(good)
      flipped[100] ^= 0xff
      const cases = {
        flipped,
        truncated: good.subarray(0, good.length >> 1),
        empty: Buffer.alloc(0),
        'not a table': Buffer.from('hello, world\n'.repeat(20)),
        'tail cut': good.subarray(0, good.length - 1),
      }
      const dir = fs.mkdtempSync(path.join(tmp, 'bad-'))
      for (const [label, data] of Object.entries(cases)) {
        const file = path.join(dir, 'bad.tbl')
        fs.writeFileSync(file, data)
        assert.throws(
          () => Table.open(file),
          (e) => e instanceof TableError && e.name === 'TableError' && e.message.length > 0,
          label,
        )
        assert.throws(() => Table.fromBytes(data), TableError, label)
      }
      assert.throws(() => Table.open(path.join(dir, 'missing.tbl')), (e) => e instanceof TableError && /cannot read/.test(e.message))
      assert.throws(() => Table.open(dir), TableError)
      assert.throws(() => Table.fromBytes(flipped), (e) => e instanceof TableError && /checksum/.test(e.message))
      assert.throws(() => Table.fromBytes('not bytes'), TypeError)
      assert.throws(() => Table.open(42), TypeError)
    })
  })
}
