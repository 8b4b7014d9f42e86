//! What a task or executor runs: its command (through a shell or as an argv), the URIs the
//! fetcher downloads first, and its environment (values or secrets).

crate::message! {
    /// A file the fetcher downloads into the sandbox before the command starts.
    pub struct CommandUri {
        req value: String,
        opt executable: bool,
        /// Archives are unpacked unless this is false.
        def extract: bool = true,
        opt cache: bool,
        opt output_file: String,
    }
}

crate::message! {
    /// A command: `value` through `/bin/sh -c` when `shell` (the default), else `value` run
    /// with `arguments` as its argv.
    pub struct CommandInfo {
        rep uris: CommandUri,
        opt environment: Environment,
        def shell: bool = true,
        opt value: String,
        rep arguments: String,
        opt user: String,
    }
}

crate::enumeration! {
    /// Where an environment variable's value comes from.
    pub enum VariableType {
        Unknown = "UNKNOWN",
        Value = "VALUE",
        Secret = "SECRET",
    }
}

crate::message! {
    /// One environment variable.
    pub struct Variable {
        req name: String,
        def kind "type": VariableType = VariableType::Value,
        opt value: String,
        opt secret: Secret,
    }
}

crate::message! {
    /// A command's environment.
    pub struct Environment {
        rep variables: Variable,
    }
}

crate::enumeration! {
    /// How a secret is given: by reference to a secret store, or by value.
    pub enum SecretType {
        Unknown = "UNKNOWN",
        Reference = "REFERENCE",
        Value = "VALUE",
    }
}

crate::message! {
    /// A secret named in a secret store.
    pub struct SecretReference {
        req name: String,
        opt key: String,
    }
}

crate::message! {
    /// A secret's bytes (base64 in JSON).
    pub struct SecretValue {
        req data: String,
    }
}

crate::message! {
    /// A secret for an environment variable, a volume or an image registry.
    pub struct Secret {
        opt kind "type": SecretType,
        opt reference: SecretReference,
        opt value: SecretValue,
    }
}

impl CommandInfo {
    /// `value` run through the shell.
    pub fn shell_command(value: impl Into<String>) -> CommandInfo {
        CommandInfo {
            value: Some(value.into()),
            ..Default::default()
        }
    }
}

impl CommandUri {
    pub fn new(value: impl Into<String>) -> CommandUri {
        CommandUri {
            value: value.into(),
            ..Default::default()
        }
    }
}

impl Environment {
    /// Plain variables from name/value pairs.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Environment {
        Environment {
            variables: pairs
                .into_iter()
                .map(|(name, value)| Variable {
                    name: name.into(),
                    value: Some(value.into()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }
}
