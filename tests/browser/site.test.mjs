// End-to-end tests of `trellis site` in headless Chromium: the site built
// from the bundled examples, served on localhost (and opened from file://),
// used as a tenant administrator and a reviewer would use it.
//
// TRELLIS: the trellis binary (default ../../target/debug/trellis).
// CHROMIUM: the browser (default /usr/bin/chromium).
// SCREENSHOTS: where to save the pages' pictures (default ../../docs/site).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, readdirSync, statSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, extname, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const TRELLIS = resolve(process.env.TRELLIS || join(root, "target/debug/trellis"));
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = resolve(process.env.SCREENSHOTS || join(root, "docs/site"));

const work = mkdtempSync(join(tmpdir(), "trellis-site-"));
let server, base, browser;

function trellis(args) {
  return execFileSync(TRELLIS, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function site(name, set, extra = []) {
  const out = join(work, name);
  trellis(["site", join(root, set), "-o", out, ...extra]);
  return out;
}

function files(dir) {
  const out = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else out.push(p);
  }
  return out;
}

const types = { ".html": "text/html; charset=utf-8", ".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml" };

before(async () => {
  site("quickstart", "policies-examples/quickstart");
  site("atlantic", "policies-examples/quickstart", ["--org", "atlantic"]);
  site("msp", "policies-examples/msp-distributor");
  site("hostile", "tests/site/hostile");
  site("north", "tests/site/hostile", ["--org", "north"]);
  // A static server over the work directory, on a free loopback port.
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = resolve(work, "." + path);
    if (!file.startsWith(work)) { res.writeHead(403).end(); return; }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { "content-type": types[extname(file)] || "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.close();
  rmSync(work, { recursive: true, force: true });
});

// A page that fails the test on any script error, dialog (an injected
// alert) or request that leaves the site.
async function open(url, origin = base) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push(`script error: ${e.message}`));
  page.on("dialog", (d) => { problems.push(`dialog: ${d.message()}`); d.dismiss(); });
  page.on("request", (r) => {
    if (!r.url().startsWith(origin)) problems.push(`request outside the site: ${r.url()}`);
  });
  await page.goto(url);
  page.problems = problems;
  return page;
}

async function visibleRoles(page) {
  return page.$$eval("#roles-table tbody tr", (rows) =>
    rows.filter((r) => !r.hidden && r.offsetParent !== null).map((r) => r.getAttribute("data-name")));
}

test("the role search finds a role whatever the case, as `trellis roles --search` does", async () => {
  const page = await open(`${base}/quickstart/org/atlantic.html`);
  const all = await visibleRoles(page);
  assert.deepEqual(all, ["analyst", "editor", "org-admin", "safe-editor", "viewer"]);
  for (const q of ["EDIT", "edit", "eDiT", "Safe", "CANNOT UPDATE", "zzz", "-"]) {
    await page.fill("#roles-table-search", q);
    const shown = await visibleRoles(page);
    const json = JSON.parse(trellis(["roles", "--org", "atlantic", "--search", q, "--format", "json",
      join(root, "policies-examples/quickstart")]));
    const expected = json.roles.map((r) => r.name.split("::").pop());
    assert.deepEqual(shown, expected, `search ${JSON.stringify(q)}`);
    const count = await page.textContent("#roles-table-count");
    assert.equal(count, `${expected.length} of ${all.length}`);
  }
  await page.fill("#roles-table-search", "EDIT");
  assert.deepEqual(await visibleRoles(page), ["editor", "safe-editor"]);
  await page.screenshot({ path: join(SHOTS, "org-search.png"), fullPage: true });
  assert.deepEqual(page.problems, []);
  await page.close();
});

test("a locked item shows as read-only, with who locked it", async () => {
  const page = await open(`${base}/quickstart/org/pacific.html`);
  // The provider's locked assignment of viewer to every member of pacific.
  const row = page.locator("#grants tbody tr", { hasText: "every member of" });
  assert.equal(await row.count(), 1);
  assert.match(await row.getAttribute("class"), /locked/);
  assert.equal(await row.getAttribute("aria-readonly"), "true");
  assert.match(await row.innerText(), /locked by the provider · read-only/);
  assert.match(await row.locator(".badge").getAttribute("title"), /locked by the provider \(.*provider\.yaml:\d+\)/);
  // A provider role in the console list is read-only; the tenant's own is not.
  const tenant = await open(`${base}/quickstart/org/atlantic.html`);
  const viewer = tenant.locator("#roles-table tbody tr[data-name=viewer]");
  assert.match(await viewer.innerText(), /read-only/);
  const own = tenant.locator("#roles-table tbody tr[data-name=safe-editor]");
  assert.doesNotMatch(await own.innerText(), /read-only/);
  assert.equal(await own.getAttribute("aria-readonly"), null);
  // A locked role in north's list.
  const north = await open(`${base}/hostile/org/north.html`);
  const auditor = north.locator("#roles-table tbody tr[data-name=auditor]");
  assert.match(await auditor.innerText(), /locked by the provider · read-only/);
  await page.screenshot({ path: join(SHOTS, "org-locked.png"), fullPage: true });
  for (const p of [page, tenant, north]) { assert.deepEqual(p.problems, []); await p.close(); }
});

test("navigation from an org to a role to a user works by clicking links", async () => {
  const page = await open(`${base}/quickstart/index.html`);
  // The pictures (trellis graph --format svg) load from the site itself.
  const width = await page.$eval(".pictures img", (i) => i.complete ? i.naturalWidth : 0);
  assert.ok(width > 100, `the picture did not load (${width})`);
  await page.screenshot({ path: join(SHOTS, "index.png"), fullPage: true });
  await page.click("ul.tree a:text-is('atlantic-lab')");
  assert.equal(await page.textContent("h1"), "Org atlantic-lab");
  await page.click("#roles-table a:text-is('safe-editor')");
  assert.equal(await page.textContent("h1"), "Role safe-editor");
  assert.match(await page.innerText("main"), /cloned from editor/);
  assert.match(await page.innerText("main"), /templates:create/);
  await page.screenshot({ path: join(SHOTS, "role.png"), fullPage: true });
  await page.click("#holders a:text-is('carol')");
  // Users are kept a file per home org; the address picks carol's
  // section, and the page shows it alone.
  assert.match(page.url(), /user\/atlantic-lab\.html#carol$/);
  const carol = page.locator("section.user:target");
  assert.equal(await carol.locator("h2").textContent(), "User carol");
  assert.equal(await page.locator("section.user:visible").count(), 1);
  const text = await page.innerText("main");
  assert.match(text, /effective roles: safe-editor/);
  // The why: the assignment, with its file and line.
  assert.match(text, /assignment of role `safe-editor` to `carol` at `atlantic-lab` \(.*atlantic\.toml:\d+\)/);
  await carol.locator("details summary").first().click();
  assert.match(await carol.innerText(), /templates: create, read/);
  await page.screenshot({ path: join(SHOTS, "user.png"), fullPage: true });
  // And back up to the home org.
  await carol.locator("a:text-is('atlantic-lab')").first().click();
  assert.equal(await page.textContent("h1"), "Org atlantic-lab");
  assert.deepEqual(page.problems, []);
  await page.close();
});

test("the site of one tenant holds no sibling's names", async () => {
  // Every page of atlantic's site, opened and read as shown.
  const dir = join(work, "atlantic");
  const pages = files(dir).filter((f) => f.endsWith(".html"));
  assert.ok(pages.length >= 5);
  for (const f of pages) {
    const rel = f.slice(work.length);
    const page = await open(`${base}${rel}`);
    const shown = await page.innerText("body");
    const html = await page.content();
    for (const name of ["pacific"]) {
      assert.ok(!shown.includes(name) && !html.includes(name), `${rel} holds ${name}`);
    }
    assert.deepEqual(page.problems, []);
    await page.close();
  }
  // The hostile set: north sees nothing of south.
  for (const f of files(join(work, "north")).filter((f) => f.endsWith(".html"))) {
    const page = await open(`${base}${f.slice(work.length)}`);
    const html = await page.content();
    for (const name of ["south", "sam", "sue", "south-teller", "teller-secret", "sue-secret"]) {
      assert.ok(!new RegExp(`(^|[^a-z0-9_.-])${name}($|[^a-z0-9_.-])`).test(html), `${f} holds ${name}`);
    }
    assert.deepEqual(page.problems, []);
    await page.close();
  }
  const index = await open(`${base}/atlantic/index.html`);
  await index.screenshot({ path: join(SHOTS, "tenant-index.png"), fullPage: true });
  await index.close();
});

test("free text that looks like markup is shown as text, and runs nothing", async () => {
  const page = await open(`${base}/hostile/org/north.html`);
  assert.match(await page.innerText("main"), /North <\/title><script>alert\(2\)<\/script>/);
  assert.match(await page.title(), /^Org north/);
  const scripts = await page.$$eval("script", (s) => s.map((x) => x.getAttribute("src")));
  // The site's role rows (data, escaped HTML in JSON strings) and the
  // bundled script; nothing inline.
  assert.deepEqual(scripts, ["../roles-data.js", "../assets/site.js"]);
  await page.fill("#roles-table-search", "<EM>");
  assert.deepEqual(await visibleRoles(page), ["north-clerk"]);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test("the site works opened from file://", async () => {
  const dir = join(work, "quickstart");
  const url = pathToFileURL(join(dir, "index.html")).href;
  const page = await open(url, "file://");
  await page.click("ul.tree a:text-is('atlantic')");
  assert.equal(await page.textContent("h1"), "Org atlantic");
  // The style sheet and the script loaded: the search filters.
  const font = await page.$eval("header", (h) => getComputedStyle(h).borderBottomStyle);
  assert.equal(font, "solid");
  await page.fill("#roles-table-search", "VIEW");
  assert.deepEqual(await visibleRoles(page), ["viewer"]);
  await page.click("#roles-table a:text-is('viewer')");
  assert.equal(await page.textContent("h1"), "Role viewer");
  assert.deepEqual(page.problems, []);
  await page.close();
});

test("a larger example: every org page loads without errors", async () => {
  const dir = join(work, "msp");
  const orgs = files(join(dir, "org")).filter((f) => f.endsWith(".html"));
  assert.ok(orgs.length > 3);
  for (const f of orgs) {
    const page = await open(`${base}${f.slice(work.length)}`);
    assert.match(await page.textContent("h1"), /^Org /);
    assert.deepEqual(page.problems, []);
    await page.close();
  }
  const page = await open(`${base}/msp/index.html`);
  await page.screenshot({ path: join(SHOTS, "msp-index.png"), fullPage: true });
  await page.close();
});
