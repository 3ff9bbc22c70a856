//! HTML text: escaping, and the frame every page shares.

use std::fmt::Write as _;

/// `s` escaped for HTML text and attribute values (quoted with `"`): the
/// diff page's escaping, one for every page trellis writes.
pub use crate::diff::render::html_escape as esc;

/// The style sheet, bundled into every site.
pub const CSS: &str = include_str!("assets/site.css");
/// The script (the role search), bundled into every site.
pub const JS: &str = include_str!("assets/site.js");

/// One page: `up` is the way back to the site's root (`""`, `"../"`, …).
pub struct Page {
    up: String,
    title: String,
    body: String,
    /// Further scripts (paths from the site's root), run before the
    /// bundled one.
    scripts: Vec<&'static str>,
}

impl Page {
    /// A page at `depth` folders below the site's root.
    pub fn new(depth: usize, title: &str) -> Page {
        Page {
            up: "../".repeat(depth),
            title: title.to_owned(),
            body: String::new(),
            scripts: Vec::new(),
        }
    }

    /// The way back to the site's root (`""`, `"../"`, …).
    pub fn up(&self) -> &str {
        &self.up
    }

    /// The relative address of `path` (from the site's root) on this page.
    pub fn href(&self, path: &str) -> String {
        esc(&format!("{}{path}", self.up))
    }

    /// A link to `path` with `text` (escaped here).
    pub fn link(&self, path: &str, text: &str) -> String {
        format!("<a href=\"{}\">{}</a>", self.href(path), esc(text))
    }

    /// Loads the site's script at `path` (from the site's root) too.
    pub fn script(&mut self, path: &'static str) {
        self.scripts.push(path);
    }

    /// Appends raw HTML.
    pub fn push(&mut self, html: &str) {
        self.body.push_str(html);
    }

    /// Appends a heading (escaped).
    pub fn h2(&mut self, text: &str, id: &str) {
        let _ = writeln!(self.body, "<h2 id=\"{id}\">{}</h2>", esc(text));
    }

    /// The whole document: `site` names the site in the header.
    pub fn finish(self, site: &str) -> String {
        let scripts: String = self
            .scripts
            .iter()
            .map(|p| format!("<script src=\"{}{p}\" defer></script>\n", self.up))
            .collect();
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title} · {site}</title>\n\
             <link rel=\"stylesheet\" href=\"{up}assets/site.css\">\n\
             {scripts}<script src=\"{up}assets/site.js\" defer></script>\n</head>\n<body>\n\
             <header><a class=\"home\" href=\"{up}index.html\">{site}</a> \
             <a href=\"{up}roles.html\">roles</a></header>\n<main>\n<h1>{title}</h1>\n{body}</main>\n\
             <footer>written by <code>trellis site</code> from the policy set; read-only</footer>\n\
             </body>\n</html>\n",
            title = esc(&self.title),
            site = esc(site),
            up = self.up,
            body = self.body,
        )
    }
}

/// A badge for an item the viewer cannot change.
pub fn read_only(locked: bool, read_only: bool, source: Option<&str>) -> String {
    let at = source.map(|s| format!(" ({})", esc(s))).unwrap_or_default();
    if locked {
        format!("<span class=\"badge locked read-only\" title=\"locked by the provider{at}\">locked by the provider · read-only</span>")
    } else if read_only {
        "<span class=\"badge read-only\" title=\"written above this org\">read-only</span>"
            .to_owned()
    } else {
        String::new()
    }
}
