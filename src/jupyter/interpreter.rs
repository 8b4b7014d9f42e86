//! The one interface between the Jupyter core and a language: what an engine implements.
//! Busy/idle, the execution counter, history and the wire all stay in the core.

use crate::jupyter::bundle::Bundle;
use crate::jupyter::publisher::Publisher;
use crate::jupyter::stdin::StdinHandle;
use serde_json::Value;
use std::future::Future;
use tokio_util::sync::CancellationToken;

/// An error shown as one `error` output and an `execute_reply` with status `error`.
#[derive(Debug, Clone, PartialEq)]
pub struct CellError {
    pub ename: String,
    pub evalue: String,
    pub traceback: Vec<String>,
}

impl CellError {
    pub fn new(ename: impl Into<String>, evalue: impl Into<String>) -> Self {
        let ename = ename.into();
        let evalue = evalue.into();
        let traceback = vec![format!("{ename}: {evalue}")];
        CellError {
            ename,
            evalue,
            traceback,
        }
    }

    pub fn with_traceback(mut self, lines: Vec<String>) -> Self {
        self.traceback = lines;
        self
    }
}

/// What an execution can use besides the code: where outputs go, how it is cancelled,
/// and how it asks the front end for input.
#[derive(Clone)]
pub struct ExecuteContext {
    pub publisher: Publisher,
    pub cancel: CancellationToken,
    pub stdin: StdinHandle,
    pub execution_count: u64,
    pub silent: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Completeness {
    Complete,
    Incomplete { indent: String },
    Invalid,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completion {
    pub matches: Vec<String>,
    /// Code-point offsets into the code.
    pub cursor_start: usize,
    pub cursor_end: usize,
    pub metadata: Value,
}

pub trait Interpreter: Send + 'static {
    /// `language_info`, `banner`, `help_links`, implementation name and version.
    fn kernel_info(&self) -> Value;

    /// Runs a cell. Results and streams go through `ctx.publisher`; an error is returned,
    /// and the core publishes it once.
    fn execute(
        &mut self,
        code: &str,
        ctx: ExecuteContext,
    ) -> impl Future<Output = Result<(), CellError>> + Send;

    /// Evaluates one `user_expressions` entry to a bundle; `cancel` is the execution's
    /// interrupt.
    fn user_expression(
        &mut self,
        expr: &str,
        cancel: &CancellationToken,
    ) -> impl Future<Output = Result<Bundle, CellError>> + Send;

    /// `cursor` is in Unicode code points.
    fn complete(&mut self, code: &str, cursor: usize) -> Completion;

    /// `cursor` is in Unicode code points.
    fn inspect(&mut self, code: &str, cursor: usize, detail_level: u8) -> Option<Bundle>;

    fn is_complete(&mut self, code: &str) -> Completeness;

    /// Releases what the interpreter started (an in-process cluster, streams) at shutdown.
    fn shutdown(&mut self) -> impl Future<Output = ()> + Send;
}
