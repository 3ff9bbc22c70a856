/// <reference types="node" />
/**
 * Decision tables of trellis, in-process.
 *
 * Load a table compiled with `trellis compile -o FILE` and ask it the
 * questions `trellis query` answers:
 *
 * ```js
 * const { Table } = require('trellis')
 * const table = Table.open('policies.tbl')
 * table.allow('alice', 'templates:read', 'acme') // -> boolean
 * ```
 *
 * A table is immutable. Names are user ids, org ids, `module:action`
 * permissions, resource ids, role names (`owner::name`, or a bare name held
 * by one owner) and policy ids; an unknown name answers `false` (or an
 * empty array, or `null` for a handle).
 *
 * Written by hand over the native layer (src/lib.rs, whose own generated
 * declarations `npm run build` writes to native.d.ts).
 */

/** The package version (tied to the table format it reads: see README.md). */
export declare const version: string

/** "None" in packed handles (`allowMany` over a `Uint32Array`): in the org,
 * the resource's own org; in the resource, no resource. `-1` in an
 * `Int32Array`. */
export declare const NONE: 0xffffffff

/**
 * A table file that cannot be read, or is not a valid trellis table.
 *
 * Thrown by {@link Table.open} and {@link Table.fromBytes} on a missing or
 * unreadable file, a wrong magic number, an unsupported format version, a
 * truncated file, a checksum mismatch or a broken structure; the message
 * says which. A corrupt table is always this error, never a crash.
 */
export declare class TableError extends Error {
  name: 'TableError'
}

/** One question by names. `org` may be null or left out for a resource of
 * an org (it is asked at its own org). */
export type Question =
  | [user: string, permission: string, org?: string | null, resource?: string | null]
  | { user: string; permission: string; org?: string | null; resource?: string | null }

/**
 * One step of an explanation (the decision server's `/v1/explain` shape).
 *
 * A `grant` step has `role` or `policy` (the other null), `at` (the org the
 * grant is made at), `locked`, `resources` (dimension -> resource ids),
 * `source` (`file:line` with `--provenance`, else null) and `effect`. A
 * `gate` step has `opened`; an `other_org` step has `owner`.
 */
export type Step =
  | { kind: 'no_grant' }
  | { kind: 'other_dimension' }
  | { kind: 'other_org'; owner: string }
  | { kind: 'gate'; opened: boolean }
  | {
      kind: 'grant'
      role: string | null
      policy: string | null
      at: string
      locked: boolean
      resources: Record<string, string[]>
      source: string | null
      effect: 'gives' | 'restricted' | 'not_published' | 'other'
    }

/** What {@link Table.explain} returns. */
export interface Explanation {
  decision: 'allow' | 'deny'
  allowed: boolean
  /** The lines `trellis query --explain` prints. */
  lines: string[]
  steps: Step[]
  /** The names the table does not know (then `decision` is `"deny"`). */
  unknown: string[]
}

/** A compiled trellis decision table, loaded and validated. Make one with
 * {@link Table.open} or {@link Table.fromBytes}. */
export declare class Table {
  private constructor()

  /** Maps the table file at `path` and validates it (magic, version,
   * checksum, structure). Throws {@link TableError} if it cannot be read
   * or is not a valid table. */
  static open(path: string | URL): Table

  /** Validates a table held in memory (copied once). Throws
   * {@link TableError} on bytes that are not a valid table. */
  static fromBytes(data: Uint8Array | ArrayBuffer): Table

  /** The hash of the inputs the table was compiled from, 16 hex digits. */
  readonly inputHash: string
  /** Number of users (user handles are `0 .. userCount - 1`). */
  readonly userCount: number
  /** Number of orgs (org handles are `0 .. orgCount - 1`). */
  readonly orgCount: number
  /** Number of roles. */
  readonly roleCount: number

  /** May `user` do `permission` (`module:action`) at `org`? With
   * `resource`, the question is about that resource; `org` may then be
   * null or left out for a resource of an org. Unknown names answer
   * `false`. */
  allow(user: string, permission: string, org?: string | null, resource?: string | null): boolean

  /** The decision by handles (from {@link user}, {@link permission},
   * {@link org}, {@link resource}), for hot loops. A null or unknown
   * handle answers `false`; `x` null (or negative) is the resource's own
   * org, `q` null (or negative) no resource. */
  allowHandles(u: number | null, p: number | null, x?: number | null, q?: number | null): boolean

  /** Many decisions at once. Over an array of questions by names, a
   * `boolean[]` equal to calling {@link allow} on each. Over a
   * `Uint32Array` (or `Int32Array`) of handles packed four to a question
   * (user, permission, org, resource; {@link NONE}, or `-1` in an
   * `Int32Array`, for the resource's own org or no resource), a
   * `Uint8Array` of 0 and 1; its length must be a multiple of 4
   * (`RangeError`). */
  allowMany(questions: readonly Question[]): boolean[]
  allowMany(packed: Uint32Array | Int32Array): Uint8Array

  /** The handle of user `name`, or null. */
  user(name: string): number | null
  /** The handle of org `name`, or null. */
  org(name: string): number | null
  /** The handle of permission `module:action`, or null. */
  permission(name: string): number | null
  /** The handle of resource `name`, or null. */
  resource(name: string): number | null
  /** The handle of role `owner::name` (or a bare name one owner holds), or null. */
  role(name: string): number | null
  /** The handle of access policy `name`, or null. */
  policy(name: string): number | null
  /** The handle of dimension `name`, or null. */
  dimension(name: string): number | null

  /** The effective roles of `user` at `org` by display name, sorted (as
   * `trellis query --roles`); a role held for some resources only is
   * held. Empty for unknown names. */
  roles(user: string, org: string): string[]
  /** The access policies reaching `user` at `org`, sorted by id; empty for unknown names. */
  policies(user: string, org: string): string[]
  /** Every user allowed `permission` at `org` (or on `resource`, at its
   * own org when `org` is null or left out), in id order. */
  who(permission: string, org?: string | null, resource?: string | null): string[]
  /** Is `role` published at `org`? `false` for unknown names. */
  published(role: string, org: string): boolean
  /** May `admin` give `role` to `user` at `org`, with the assignment's
   * `resources` (dimension -> resource ids)? `false` for unknown names or
   * a resource not of its dimension. */
  canAssign(
    admin: string,
    role: string,
    user: string,
    org: string,
    resources?: Record<string, string[]> | null,
  ): boolean
  /** Why {@link allow} answers what it does, as plain data. */
  explain(user: string, permission: string, org?: string | null, resource?: string | null): Explanation
}
