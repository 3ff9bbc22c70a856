//! `trellis lsp`: a language server over stdio (manual: *Editors*).
//!
//! The pipeline stays the library's: `workspace` finds the policy set of
//! an open file and runs load → resolve → check on it, open buffers winning
//! over the disk and parses kept by content hash between edits;
//! `diagnostics` publishes every finding of the set per file;
//! `navigate` indexes the names written in each file (definitions,
//! references, symbols, rename); `hover` and `complete` answer from the
//! resolved model. This file is the message loop: it debounces edits,
//! dispatches requests, and answers a malformed request (or a handler that
//! failed) with an error response instead of stopping.

mod complete;
mod diagnostics;
mod hover;
mod lens;
mod navigate;
mod workspace;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::{after, never, select};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{self as notif, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{
    CodeActionProviderCapability, CompletionOptions, HoverProviderCapability, InitializeParams,
    OneOf, RenameOptions, ServerCapabilities, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Uri,
};
use serde_json::Value;

use workspace::Workspace;

/// Options a client may give in `initializationOptions`.
#[derive(Debug, Clone)]
struct Options {
    /// Quiet time after an edit before the set is checked again.
    debounce: Duration,
    /// Where a code is explained: `{code}` is replaced by the code.
    code_url: String,
}

/// The default link of a code: its explanation (the text `trellis explain
/// CODE` prints) in the repository.
const CODE_URL: &str =
    "https://github.com/trellis-policy/trellis/blob/main/src/diag/explain/{code}.md";

impl Options {
    fn from_init(params: &InitializeParams) -> Options {
        let o = params.initialization_options.as_ref();
        let debounce = o
            .and_then(|o| o.get("debounceMs"))
            .and_then(Value::as_u64)
            .unwrap_or(50)
            .min(10_000);
        let code_url = o
            .and_then(|o| o.get("codeUrl"))
            .and_then(Value::as_str)
            .unwrap_or(CODE_URL)
            .to_owned();
        Options {
            debounce: Duration::from_millis(debounce),
            code_url,
        }
    }
}

/// An open buffer.
#[derive(Debug)]
struct Doc {
    text: String,
}

/// The server's state between messages.
struct Server {
    sender: crossbeam_channel::Sender<Message>,
    options: Options,
    /// Open buffers by absolute path.
    docs: HashMap<PathBuf, Doc>,
    /// Policy sets by root.
    workspaces: HashMap<PathBuf, Workspace>,
    /// The root found for each file touched.
    roots: HashMap<PathBuf, PathBuf>,
    /// Directories looked at for a root: does each hold a root's mark?
    root_dirs: HashMap<PathBuf, bool>,
    /// When the edited sets are due to be checked again.
    due: Option<Instant>,
}

/// Serves the Language Server Protocol over stdin and stdout until the
/// client says `exit`. Errors are protocol failures (the client went away
/// or broke the protocol).
pub fn run_stdio() -> Result<(), String> {
    let (connection, io_threads) = Connection::stdio();
    let result = serve(&connection);
    drop(connection);
    io_threads.join().map_err(|e| e.to_string())?;
    result
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(false),
            work_done_progress_options: Default::default(),
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![
                ":".into(),
                " ".into(),
                "[".into(),
                ",".into(),
                "\"".into(),
            ]),
            ..Default::default()
        }),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        code_lens_provider: Some(lsp_types::CodeLensOptions {
            resolve_provider: Some(false),
        }),
        ..Default::default()
    }
}

fn serve(connection: &Connection) -> Result<(), String> {
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let init: InitializeParams = match serde_json::from_value(params) {
        Ok(p) => p,
        Err(e) => {
            let _ = connection.sender.send(
                Response::new_err(
                    id,
                    ErrorCode::InvalidParams as i32,
                    format!("bad initialize params: {e}"),
                )
                .into(),
            );
            return Err(format!("bad initialize params: {e}"));
        }
    };
    let result = serde_json::json!({
        "capabilities": capabilities(),
        "serverInfo": { "name": "trellis", "version": env!("CARGO_PKG_VERSION") },
    });
    connection
        .initialize_finish(id, result)
        .map_err(|e| e.to_string())?;
    let mut server = Server {
        sender: connection.sender.clone(),
        options: Options::from_init(&init),
        docs: HashMap::new(),
        workspaces: HashMap::new(),
        roots: HashMap::new(),
        root_dirs: HashMap::new(),
        due: None,
    };
    loop {
        let timer = match server.due {
            Some(at) => after(at.saturating_duration_since(Instant::now())),
            None => never(),
        };
        select! {
            recv(connection.receiver) -> msg => {
                let Ok(msg) = msg else { return Ok(()) };
                match msg {
                    Message::Request(r) => {
                        if connection.handle_shutdown(&r).map_err(|e| e.to_string())? {
                            return Ok(());
                        }
                        server.request(r);
                    }
                    Message::Notification(n) => {
                        if n.method == notif::Exit::METHOD {
                            return Ok(());
                        }
                        server.notification(n);
                    }
                    Message::Response(_) => {}
                }
            }
            recv(timer) -> _ => server.flush(),
        }
    }
}

/// A failed request: its LSP error code and message.
type Failure = (ErrorCode, String);

fn invalid(e: impl std::fmt::Display) -> Failure {
    (ErrorCode::InvalidParams, e.to_string())
}

impl Server {
    fn send(&self, msg: impl Into<Message>) {
        let _ = self.sender.send(msg.into());
    }

    /// Checks every set with pending edits now and publishes.
    fn flush(&mut self) {
        self.due = None;
        let docs: HashMap<PathBuf, String> = self
            .docs
            .iter()
            .map(|(p, d)| (p.clone(), d.text.clone()))
            .collect();
        for ws in self.workspaces.values_mut() {
            if !ws.dirty {
                continue;
            }
            let t = Instant::now();
            // A failure in the pipeline must not take the server down: the
            // last analysis stays, and the client is told.
            let notes = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                ws.analyze(&docs)
            })) {
                Ok(notes) => notes,
                Err(_) => Some(
                    "internal error while checking the set; the previous findings stay".to_owned(),
                ),
            };
            for n in diagnostics::publish(ws, &self.options) {
                let _ = self.sender.send(n.into());
            }
            if let Some(e) = notes {
                let _ = self
                    .sender
                    .send(log_message(&format!("trellis: {e}")).into());
            }
            let _ = self.sender.send(
                log_message(&format!(
                    "trellis: checked {} in {} ms ({})",
                    ws.root.display(),
                    t.elapsed().as_millis(),
                    ws.timings
                ))
                .into(),
            );
        }
    }

    /// Marks the sets holding `path` for a re-check; `rescan`: their
    /// files on disk may have changed too (an edit of a buffer alone does
    /// not look at the disk again).
    fn touch(&mut self, path: &Path, rescan: bool) {
        let root = match self.roots.get(path) {
            Some(r) if !rescan => r.clone(),
            _ => {
                // The file itself may have become (or stopped being) a provider file.
                if let Some(dir) = path.parent() {
                    self.root_dirs.remove(dir);
                }
                let doc_text = self.docs.get(path).map(|d| d.text.as_str());
                let r = workspace::find_root(path, doc_text, &mut self.root_dirs);
                self.roots.insert(path.to_path_buf(), r.clone());
                r
            }
        };
        self.workspaces
            .entry(root.clone())
            .or_insert_with(|| Workspace::new(root));
        // Another open set may hold the file too (a set nested in a set).
        for (r, w) in self.workspaces.iter_mut() {
            if path.starts_with(r) {
                w.dirty = true;
                w.rescan |= rescan;
            }
        }
        self.due = Some(Instant::now() + self.options.debounce);
    }

    fn notification(&mut self, n: Notification) {
        let result: Result<(), Failure> = (|| {
            match n.method.as_str() {
                notif::DidOpenTextDocument::METHOD => {
                    let p: lsp_types::DidOpenTextDocumentParams =
                        serde_json::from_value(n.params).map_err(invalid)?;
                    let path =
                        uri_path(&p.text_document.uri).ok_or_else(|| invalid("not a file URI"))?;
                    self.docs.insert(
                        path.clone(),
                        Doc {
                            text: p.text_document.text,
                        },
                    );
                    self.touch(&path, true);
                }
                notif::DidChangeTextDocument::METHOD => {
                    let p: lsp_types::DidChangeTextDocumentParams =
                        serde_json::from_value(n.params).map_err(invalid)?;
                    let path =
                        uri_path(&p.text_document.uri).ok_or_else(|| invalid("not a file URI"))?;
                    // Full sync: the last change holds the whole text.
                    if let Some(c) = p.content_changes.into_iter().last() {
                        self.docs.insert(path.clone(), Doc { text: c.text });
                    }
                    self.touch(&path, false);
                }
                notif::DidSaveTextDocument::METHOD => {
                    let p: lsp_types::DidSaveTextDocumentParams =
                        serde_json::from_value(n.params).map_err(invalid)?;
                    let path =
                        uri_path(&p.text_document.uri).ok_or_else(|| invalid("not a file URI"))?;
                    if let (Some(text), Some(doc)) = (p.text, self.docs.get_mut(&path)) {
                        doc.text = text;
                    }
                    self.touch(&path, true);
                }
                notif::DidCloseTextDocument::METHOD => {
                    let p: lsp_types::DidCloseTextDocumentParams =
                        serde_json::from_value(n.params).map_err(invalid)?;
                    let path =
                        uri_path(&p.text_document.uri).ok_or_else(|| invalid("not a file URI"))?;
                    // The disk's text counts again.
                    self.docs.remove(&path);
                    self.touch(&path, true);
                }
                notif::DidChangeWatchedFiles::METHOD => {
                    self.root_dirs.clear();
                    for w in self.workspaces.values_mut() {
                        w.dirty = true;
                        w.rescan = true;
                    }
                    self.due = Some(Instant::now() + self.options.debounce);
                }
                _ => {}
            }
            Ok(())
        })();
        if let Err((_, e)) = result {
            self.send(log_message(&format!("trellis: {}: {e}", n.method)));
        }
    }

    fn request(&mut self, r: Request) {
        // Answers reflect every edit received so far.
        if self.due.is_some() {
            self.flush();
        }
        let id = r.id.clone();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.dispatch(r)));
        let response = match outcome {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err((code, message))) => Response::new_err(id, code as i32, message),
            Err(_) => Response::new_err(
                id,
                ErrorCode::InternalError as i32,
                "internal error while answering this request".into(),
            ),
        };
        self.send(response);
    }

    fn dispatch(&mut self, r: Request) -> Result<Value, Failure> {
        fn params<P: serde::de::DeserializeOwned>(r: Request) -> Result<P, Failure> {
            serde_json::from_value(r.params).map_err(invalid)
        }
        fn json(v: impl serde::Serialize) -> Result<Value, Failure> {
            serde_json::to_value(v).map_err(|e| (ErrorCode::InternalError, e.to_string()))
        }
        match r.method.as_str() {
            req::GotoDefinition::METHOD => {
                let p: lsp_types::GotoDefinitionParams = params(r)?;
                json(navigate::definition(
                    self,
                    &p.text_document_position_params,
                )?)
            }
            req::References::METHOD => {
                let p: lsp_types::ReferenceParams = params(r)?;
                json(navigate::references(self, &p)?)
            }
            req::DocumentSymbolRequest::METHOD => {
                let p: lsp_types::DocumentSymbolParams = params(r)?;
                json(navigate::document_symbols(self, &p.text_document.uri)?)
            }
            req::WorkspaceSymbolRequest::METHOD => {
                let p: lsp_types::WorkspaceSymbolParams = params(r)?;
                json(navigate::workspace_symbols(self, &p.query))
            }
            req::Rename::METHOD => {
                let p: lsp_types::RenameParams = params(r)?;
                json(navigate::rename(self, &p)?)
            }
            req::HoverRequest::METHOD => {
                let p: lsp_types::HoverParams = params(r)?;
                json(hover::hover(self, &p.text_document_position_params)?)
            }
            req::Completion::METHOD => {
                let p: lsp_types::CompletionParams = params(r)?;
                json(complete::completion(self, &p.text_document_position)?)
            }
            req::CodeActionRequest::METHOD => {
                let p: lsp_types::CodeActionParams = params(r)?;
                json(diagnostics::code_actions(self, &p)?)
            }
            req::CodeLensRequest::METHOD => {
                let p: lsp_types::CodeLensParams = params(r)?;
                json(lens::code_lenses(self, &p.text_document.uri)?)
            }
            _ => Err((
                ErrorCode::MethodNotFound,
                format!("unsupported request `{}`", r.method),
            )),
        }
    }

    /// The workspace holding `uri`, analysed, and the file's path.
    fn workspace_of(&mut self, uri: &Uri) -> Result<(&Workspace, PathBuf), Failure> {
        let path = uri_path(uri).ok_or_else(|| invalid("not a file URI"))?;
        let root = match self
            .workspaces
            .keys()
            .filter(|r| path.starts_with(r))
            .max_by_key(|r| r.as_os_str().len())
        {
            Some(r) => r.clone(),
            None => {
                let doc_text = self.docs.get(&path).map(|d| d.text.as_str());
                let root = workspace::find_root(&path, doc_text, &mut self.root_dirs);
                self.workspaces
                    .entry(root.clone())
                    .or_insert_with(|| Workspace::new(root.clone()));
                root
            }
        };
        let docs: HashMap<PathBuf, String> = self
            .docs
            .iter()
            .map(|(p, d)| (p.clone(), d.text.clone()))
            .collect();
        let ws = self
            .workspaces
            .get_mut(&root)
            .ok_or_else(|| (ErrorCode::InternalError, "workspace vanished".to_owned()))?;
        if ws.analysis.is_none() {
            ws.analyze(&docs);
        }
        Ok((ws, path))
    }
}

fn log_message(text: &str) -> Notification {
    Notification::new(
        notif::LogMessage::METHOD.to_owned(),
        lsp_types::LogMessageParams {
            typ: lsp_types::MessageType::LOG,
            message: text.to_owned(),
        },
    )
}

/// The path of a `file:` URI (percent-decoded), if it is one.
pub(crate) fn uri_path(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    // `file:///p` and `file://localhost/p`.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let text = String::from_utf8(out).ok()?;
    // Windows drive paths come as `/C:/…`.
    let text = match text.as_bytes() {
        [b'/', d, b':', ..] if d.is_ascii_alphabetic() && cfg!(windows) => text[1..].to_owned(),
        _ => text,
    };
    Some(PathBuf::from(text))
}

/// The `file:` URI of an absolute path, percent-encoding what must be.
pub(crate) fn path_uri(path: &Path) -> Option<Uri> {
    let s = path.to_string_lossy().replace('\\', "/");
    let mut out = String::from("file://");
    if !s.starts_with('/') {
        out.push('/');
    }
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~:@!$&'()*+,;=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.parse().ok()
}

/// A failure for a position with nothing to answer about.
fn nothing_here() -> Failure {
    (ErrorCode::RequestFailed, "no policy item here".to_owned())
}
