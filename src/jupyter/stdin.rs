//! The stdin channel: `input_request` to the front end that sent the execute request,
//! and its `input_reply` back to the waiting statement. An interrupt ends the wait: the
//! statement gets `StdinError::Interrupted` and the prompt is withdrawn (a reply that comes
//! after it is dropped with a log line).

use crate::jupyter::publisher::Outgoing;
use crate::jupyter::wire::Message;
use serde_json::json;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc::UnboundedSender, oneshot};
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StdinError {
    #[error("this front end does not accept input (allow_stdin is false)")]
    NotAllowed,
    #[error("the front end went away before answering")]
    Closed,
    #[error("interrupted while waiting for input")]
    Interrupted,
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
    tx: Option<UnboundedSender<Outgoing>>,
    parent: Option<Message>,
    allow: bool,
    cancel: CancellationToken,
}

impl StdinHandle {
    /// A handle for one execution: prompts go to the front end that sent `parent`, and
    /// `cancel` (the execution's interrupt) ends a wait for the answer.
    pub fn new(
        broker: &StdinBroker,
        tx: UnboundedSender<Outgoing>,
        parent: Message,
        allow: bool,
        cancel: CancellationToken,
    ) -> Self {
        StdinHandle {
            pending: broker.pending.clone(),
            tx: Some(tx),
            parent: Some(parent),
            allow,
            cancel,
        }
    }

    /// A handle that always refuses, for executions without a front end (tests).
    pub fn disabled() -> Self {
        StdinHandle {
            pending: Pending::default(),
            tx: None,
            parent: None,
            allow: false,
            cancel: CancellationToken::new(),
        }
    }

    pub async fn input(&self, prompt: &str, password: bool) -> Result<String, StdinError> {
        let (Some(tx), Some(parent)) = (&self.tx, &self.parent) else {
            return Err(StdinError::NotAllowed);
        };
        if !self.allow {
            return Err(StdinError::NotAllowed);
        }
        if self.cancel.is_cancelled() {
            return Err(StdinError::Interrupted);
        }
        let (reply_tx, reply_rx) = oneshot::channel();
        if let Ok(mut p) = self.pending.lock() {
            *p = Some(reply_tx);
        }
        let request = parent.child(
            "input_request",
            json!({ "prompt": prompt, "password": password }),
        );
        tx.send(Outgoing::Message(Box::new(request)))
            .map_err(|_| StdinError::Closed)?;
        tokio::select! {
            reply = reply_rx => reply.map_err(|_| StdinError::Closed),
            _ = self.cancel.cancelled() => {
                // Withdraw the prompt, so a late answer is not taken for the next one.
                if let Ok(mut p) = self.pending.lock() {
                    p.take();
                }
                Err(StdinError::Interrupted)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jupyter::wire::Header;
    use tokio::sync::mpsc;

    fn parent() -> Message {
        Message {
            identities: vec![bytes::Bytes::from_static(b"front-end")],
            header: Header::new("execute_request", "s", "u"),
            parent_header: json!({}),
            metadata: json!({}),
            content: json!({}),
            buffers: vec![],
        }
    }

    #[tokio::test]
    async fn an_answer_reaches_the_prompt() {
        let broker = StdinBroker::default();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let handle = StdinHandle::new(&broker, tx, parent(), true, CancellationToken::new());
        let asking = tokio::spawn(async move { handle.input("Secret: ", true).await });
        let Some(Outgoing::Message(request)) = rx.recv().await else {
            panic!("no input_request");
        };
        assert_eq!(request.header.msg_type, "input_request");
        assert_eq!(request.identities, parent().identities);
        assert_eq!(
            request.content,
            json!({"prompt": "Secret: ", "password": true})
        );
        assert!(broker.deliver("s3cret".into()));
        assert_eq!(asking.await.unwrap(), Ok("s3cret".to_string()));
    }

    #[tokio::test]
    async fn an_interrupt_ends_the_wait_and_withdraws_the_prompt() {
        let broker = StdinBroker::default();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let handle = StdinHandle::new(&broker, tx, parent(), true, cancel.clone());
        let asking = tokio::spawn(async move { handle.input("Secret: ", true).await });
        assert!(rx.recv().await.is_some());
        cancel.cancel();
        assert_eq!(asking.await.unwrap(), Err(StdinError::Interrupted));
        // The answer typed after the interrupt has no prompt left to go to.
        assert!(!broker.deliver("late".into()));
    }

    #[tokio::test]
    async fn refused_without_allow_stdin() {
        let broker = StdinBroker::default();
        let (tx, _rx) = mpsc::unbounded_channel();
        let handle = StdinHandle::new(&broker, tx, parent(), false, CancellationToken::new());
        assert_eq!(handle.input("x", false).await, Err(StdinError::NotAllowed));
        assert_eq!(
            StdinHandle::disabled().input("x", false).await,
            Err(StdinError::NotAllowed)
        );
    }
}
