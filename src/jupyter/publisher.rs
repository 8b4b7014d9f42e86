//! Publishing on iopub on behalf of one request: streams, displays, results, status.

use crate::jupyter::bundle::Bundle;
use crate::jupyter::wire::Message;
use serde_json::{json, Value};
use tokio::sync::{mpsc::UnboundedSender, oneshot};

/// What travels to the iopub socket task: messages, and flush markers that are answered
/// once everything before them has been written.
pub enum Outgoing {
    Message(Box<Message>),
    Flush(oneshot::Sender<()>),
}

/// A handle bound to the request being answered, so every output carries its parent header.
#[derive(Clone)]
pub struct Publisher {
    tx: UnboundedSender<Outgoing>,
    parent: Message,
    silent: bool,
}

impl Publisher {
    pub fn new(tx: UnboundedSender<Outgoing>, parent: Message) -> Self {
        Publisher {
            tx,
            parent,
            silent: false,
        }
    }

    /// A silent execution shows no result (the protocol's `silent: true`).
    pub fn silenced(mut self, silent: bool) -> Self {
        self.silent = silent;
        self
    }

    pub fn parent(&self) -> &Message {
        &self.parent
    }

    pub fn send(&self, msg_type: &str, content: Value) {
        let mut msg = self.parent.child(msg_type, content);
        // iopub topics: the front end subscribes to everything; a topic keeps the frames
        // readable in captures.
        msg.identities = vec![bytes::Bytes::from(format!("kernel.{msg_type}"))];
        // A closed channel means the kernel is shutting down; nothing left to tell.
        let _ = self.tx.send(Outgoing::Message(Box::new(msg)));
    }

    pub fn status(&self, state: &str) {
        self.send("status", json!({ "execution_state": state }));
    }

    pub fn stream(&self, name: &str, text: &str) {
        self.send("stream", json!({ "name": name, "text": text }));
    }

    pub fn display(&self, bundle: &Bundle, display_id: Option<&str>) {
        let (data, metadata) = bundle.to_json();
        let transient = match display_id {
            Some(id) => json!({ "display_id": id }),
            None => json!({}),
        };
        self.send(
            "display_data",
            json!({ "data": data, "metadata": metadata, "transient": transient }),
        );
    }

    pub fn update_display(&self, bundle: &Bundle, display_id: &str) {
        let (data, metadata) = bundle.to_json();
        self.send(
            "update_display_data",
            json!({ "data": data, "metadata": metadata, "transient": { "display_id": display_id } }),
        );
    }

    pub fn execute_result(&self, bundle: &Bundle, execution_count: u64) {
        if self.silent {
            return;
        }
        let (data, metadata) = bundle.to_json();
        self.send(
            "execute_result",
            json!({ "data": data, "metadata": metadata, "execution_count": execution_count }),
        );
    }

    pub fn clear_output(&self, wait: bool) {
        self.send("clear_output", json!({ "wait": wait }));
    }
}
