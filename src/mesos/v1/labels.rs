//! Labels: free-form key/value pairs that frameworks attach to tasks, executors, frameworks,
//! ports and reservations.

crate::message! {
    /// One label; the value may be absent.
    pub struct Label {
        req key: String,
        opt value: String,
    }
}

crate::message! {
    /// A list of labels, as the v1 API nests it: `{"labels": [...]}`.
    pub struct Labels {
        rep labels: Label,
    }
}

impl Label {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Label {
        Label {
            key: key.into(),
            value: Some(value.into()),
            ..Default::default()
        }
    }
}

impl Labels {
    /// The value of the first label named `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|l| l.key == key)
            .and_then(|l| l.value.as_deref())
    }
}

impl FromIterator<Label> for Labels {
    fn from_iter<I: IntoIterator<Item = Label>>(iter: I) -> Labels {
        Labels {
            labels: iter.into_iter().collect(),
            ..Default::default()
        }
    }
}
