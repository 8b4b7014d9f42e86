//! The stdin channel: `input_request` to the front end that sent the execute request,
//! and its `input_reply` back to the waiting statement.

use crate::jupyter::wire::Message;
use serde_json::json;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc::UnboundedSender, oneshot};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StdinError {
    #[error("this front end does not accept input (allow_stdin is false)")]
    NotAllowed,
    #[error("the front end went away before answering")]
    Closed,
}

type Pending = Arc<Mutex<Option<oneshot::Sender<String>>>>;

/// Shared by the stdin socket task (which fulfils replies) and executions (which ask).
#[derive(Clone, Default)]
pub struct StdinBroker {
    pending: Pending,
}

impl StdinBroker {
    /// Called by the stdin socket task for each `input_reply`.
    pub fn deliver(&self, value: String) -> bool {
        let sender = self.pending.lock().ok().and_then(|mut p| p.take());
        match sender {
            Some(tx) => tx.send(value).is_ok(),
            None => false,
        }
    }
}

/// What an execution holds to ask the user for input.
#[derive(Clone)]
pub struct StdinHandle {
    pending: Pending,
    tx: Option<UnboundedSender<Message>>,
    parent: Option<Message>,
    allow: bool,
}

impl StdinHandle {
    pub fn new(
        broker: &StdinBroker,
        tx: UnboundedSender<Message>,
        parent: Message,
        allow: bool,
    ) -> Self {
        StdinHandle {
            pending: broker.pending.clone(),
            tx: Some(tx),
            parent: Some(parent),
            allow,
        }
    }

    /// A handle that always refuses, for executions without a front end (tests).
    pub fn disabled() -> Self {
        StdinHandle {
            pending: Pending::default(),
            tx: None,
            parent: None,
            allow: false,
        }
    }

    pub async fn input(&self, prompt: &str, password: bool) -> Result<String, StdinError> {
        let (Some(tx), Some(parent)) = (&self.tx, &self.parent) else {
            return Err(StdinError::NotAllowed);
        };
        if !self.allow {
            return Err(StdinError::NotAllowed);
        }
        let (reply_tx, reply_rx) = oneshot::channel();
        if let Ok(mut p) = self.pending.lock() {
            *p = Some(reply_tx);
        }
        let request = parent.child(
            "input_request",
            json!({ "prompt": prompt, "password": password }),
        );
        tx.send(request).map_err(|_| StdinError::Closed)?;
        reply_rx.await.map_err(|_| StdinError::Closed)
    }
}
