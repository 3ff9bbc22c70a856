// Compiled (not run) by `npm run check:types`: the declarations in index.d.ts
// type the calls the tests make.
import { Table, TableError, NONE, Explanation, version } from '..'
const t: Table = Table.open('x.tbl')
const a: boolean = t.allow('u', 'm:a', 'o')
const b: boolean = t.allow('u', 'm:a', null, 'r')
const h: number | null = t.user('u')
const c: boolean = t.allowHandles(h, t.permission('m:a'), t.org('o'))
const many: boolean[] = t.allowMany([['u', 'm:a', 'o'], { user: 'u', permission: 'm:a', resource: 'r' }])
const packed: Uint8Array = t.allowMany(new Uint32Array([0, 0, 0, NONE]))
const e: Explanation = t.explain('u', 'm:a', 'o')
for (const s of e.steps) { if (s.kind === 'grant') { const r: string | null = s.role; void r } }
const roles: string[] = t.roles('u', 'o'); const who: string[] = t.who('m:a', 'o')
const ok: boolean = t.canAssign('a', 'r', 'u', 'o', { dim: ['q'] })
try { Table.fromBytes(new Uint8Array(3)) } catch (err) { if (err instanceof TableError) { const m: string = err.message; void m } }
const v: string = version
void [a, b, c, many, packed, roles, who, ok, v, t.inputHash, t.userCount]
// What the declarations refuse.
// @ts-expect-error: tables come from Table.open or Table.fromBytes
new Table()
// @ts-expect-error: names are strings
t.allow(1, 'm:a', 'o')
// @ts-expect-error: packed handles come in a typed array, not numbers
t.allowMany([0, 0, 0, NONE])
