//! How every message and enum of the vocabulary is declared, and what they share: the
//! catch-all of fields a message does not know, the two ways of writing (with Mesos's
//! defaults, or only what is set) and the two ways of reading (strict as Mesos's parser, or
//! lenient for displays).
//!
//! Messages are declared with [`message!`] and enums with [`enumeration!`] rather than derived:
//! a derive with `#[serde(flatten)]` for the catch-all buffers every object before reading it,
//! which made decoding several times slower; the code these macros write reads each key once,
//! borrows it when the input allows, and only allocates for the fields it keeps.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::fmt;

/// The fields of a message this vocabulary does not know (a newer Mesos's), in the order they
/// came; written back after the known fields, so nothing is lost on the way through. Boxed, so
/// a message without unknown fields pays one pointer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extra(Option<Box<Map<String, Value>>>);

impl Extra {
    pub const fn new() -> Extra {
        Extra(None)
    }

    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|m| m.is_empty())
    }

    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |m| m.len())
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.as_ref()?.get(key)
    }

    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        self.0
            .get_or_insert_with(Default::default)
            .insert(key, value)
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.0.as_mut()?.shift_remove(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter().flat_map(|m| m.iter())
    }
}

thread_local! {
    static SPARSE: Cell<bool> = const { Cell::new(false) };
    static LENIENT: Cell<bool> = const { Cell::new(false) };
    static KNOWN_ONLY: Cell<bool> = const { Cell::new(false) };
}

/// Puts a flag back as it was, also when the closure panics.
struct Restore(&'static std::thread::LocalKey<Cell<bool>>, bool);

impl Drop for Restore {
    fn drop(&mut self) {
        self.0.with(|c| c.set(self.1));
    }
}

fn with_flag<R>(flag: &'static std::thread::LocalKey<Cell<bool>>, f: impl FnOnce() -> R) -> R {
    let before = flag.with(|c| c.replace(true));
    let _restore = Restore(flag, before);
    f()
}

/// Whether serializing writes the proto defaults of unset fields (Mesos's way, the default).
pub fn writes_defaults() -> bool {
    !SPARSE.with(Cell::get)
}

/// Runs `f` with serialization writing only the fields that are set: for calls the kernel
/// sends, where an explicit default is not the same as an absent field (Mesos refuses a
/// MULTI_ROLE framework whose `role` is set, even to its default).
pub fn sparse<R>(f: impl FnOnce() -> R) -> R {
    with_flag(&SPARSE, f)
}

/// A message as JSON with only its set fields (see [`sparse`]).
pub fn to_sparse_value<T: serde::Serialize>(message: &T) -> Value {
    // Every key of these messages is a string, so this cannot fail.
    sparse(|| serde_json::to_value(message)).unwrap_or(Value::Null)
}

/// Whether serializing leaves out the fields a message did not know (for tests that look
/// for what the vocabulary misses; read only when a message has such fields).
pub fn writes_unknown_fields() -> bool {
    !KNOWN_ONLY.with(Cell::get)
}

/// Runs `f` with serialization leaving out unknown fields (see [`writes_unknown_fields`]).
pub fn known_only<R>(f: impl FnOnce() -> R) -> R {
    with_flag(&KNOWN_ONLY, f)
}

/// Whether reading lets a required field be absent (it reads as its default).
pub fn lenient_reading() -> bool {
    LENIENT.with(Cell::get)
}

/// Runs `f` with required fields that are absent read as their defaults, for displays that
/// show whatever part of a message a user kept. Mesos itself refuses such a message.
pub fn lenient<R>(f: impl FnOnce() -> R) -> R {
    with_flag(&LENIENT, f)
}

/// Reads `T` from a JSON value leniently (see [`lenient`]); None when it still does not fit.
pub fn read_lenient<T: serde::de::DeserializeOwned>(value: &Value) -> Option<T> {
    lenient(|| T::deserialize(value).ok())
}

/// An object key, borrowed from the input when it can be.
pub enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    pub fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }

    pub fn into_string(self) -> String {
        match self {
            Key::Borrowed(s) => s.to_string(),
            Key::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(s))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(s.to_string()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(s))
            }
        }
        d.deserialize_str(V)
    }
}

/// What a declared default becomes as the field's type (`"*"` for a `String` field).
pub trait IntoDefault<T> {
    fn into_default(self) -> T;
}

impl<T> IntoDefault<T> for T {
    fn into_default(self) -> T {
        self
    }
}

impl IntoDefault<String> for &str {
    fn into_default(self) -> String {
        self.to_string()
    }
}

/// The JSON name of a field: the Rust name, or the one given after it.
#[doc(hidden)]
#[macro_export]
macro_rules! __mesos_json_name {
    ($field:ident) => {
        stringify!($field)
    };
    ($field:ident $json:literal) => {
        $json
    };
}

/// The Rust type of a field of each kind.
#[doc(hidden)]
#[macro_export]
macro_rules! __mesos_field_type {
    (req $ty:ty) => { $ty };
    (opt $ty:ty) => { ::std::option::Option<$ty> };
    (def $ty:ty) => { ::std::option::Option<$ty> };
    (rep $ty:ty) => { ::std::vec::Vec<$ty> };
    (map $ty:ty) => { ::std::collections::BTreeMap<::std::string::String, $ty> };
}

/// What a field's value reads as, before absence is decided.
#[doc(hidden)]
#[macro_export]
macro_rules! __mesos_slot_type {
    (req $ty:ty) => { $ty };
    (opt $ty:ty) => { $ty };
    (def $ty:ty) => { $ty };
    (rep $ty:ty) => { ::std::vec::Vec<$ty> };
    (map $ty:ty) => { ::std::collections::BTreeMap<::std::string::String, $ty> };
}

/// Writes one field: required ones always, optional ones when set, lists and maps when not
/// empty (as stout leaves out empty repeated fields), defaulted ones when set or, unless
/// writing sparsely, with their default.
#[doc(hidden)]
#[macro_export]
macro_rules! __mesos_write_field {
    ($map:ident, $value:expr, $name:expr, req) => {
        $map.serialize_entry($name, $value)?;
    };
    ($map:ident, $value:expr, $name:expr, opt) => {
        if let Some(v) = $value {
            $map.serialize_entry($name, v)?;
        }
    };
    ($map:ident, $value:expr, $name:expr, rep) => {
        if !$value.is_empty() {
            $map.serialize_entry($name, $value)?;
        }
    };
    ($map:ident, $value:expr, $name:expr, map) => {
        if !$value.is_empty() {
            $map.serialize_entry($name, $value)?;
        }
    };
    ($map:ident, $value:expr, $name:expr, def, $default:expr) => {
        match $value {
            Some(v) => $map.serialize_entry($name, v)?,
            None if $crate::mesos::v1::message::writes_defaults() => {
                $map.serialize_entry($name, &$default)?
            }
            None => {}
        }
    };
}

/// A field's final value once the object is read.
#[doc(hidden)]
#[macro_export]
macro_rules! __mesos_finish_field {
    ($slot:ident, $name:expr, req) => {
        match $slot {
            Some(v) => v,
            None if $crate::mesos::v1::message::lenient_reading() => Default::default(),
            None => return Err(::serde::de::Error::missing_field($name)),
        }
    };
    ($slot:ident, $name:expr, opt) => {
        $slot
    };
    ($slot:ident, $name:expr, def) => {
        $slot
    };
    ($slot:ident, $name:expr, rep) => {
        $slot.unwrap_or_default()
    };
    ($slot:ident, $name:expr, map) => {
        $slot.unwrap_or_default()
    };
}

/// The accessor of a defaulted field: its value, or the proto default when unset.
#[doc(hidden)]
#[macro_export]
macro_rules! __mesos_accessor {
    ($(#[$doc:meta])* $field:ident, $ty:ty, def, $default:expr) => {
        $(#[$doc])*
        pub fn $field(&self) -> $ty {
            match &self.$field {
                Some(v) => v.clone(),
                None => $crate::mesos::v1::message::IntoDefault::<$ty>::into_default($default),
            }
        }
    };
    ($(#[$doc:meta])* $field:ident, $ty:ty, $kind:ident) => {};
}

/// Declares a Mesos message: a struct with Mesos's field names, its JSON reading and writing,
/// and a catch-all `extra` for fields it does not know. Each field is one of
///
/// - `req name: T` — required in the proto: always written; reading fails without it
///   (unless reading leniently);
/// - `opt name: T` — optional, no proto default: `Option<T>`, written when set;
/// - `def name: T = value` — optional with an explicit, not deprecated, proto default:
///   `Option<T>`, written when set and otherwise written with its default (as stout's
///   `JSON::protobuf` does), except when writing sparsely; `name()` gives the value or the default;
/// - `rep name: T` — repeated: `Vec<T>`, left out when empty;
/// - `map name: T` — a proto map: `BTreeMap<String, T>`, left out when empty.
///
/// A JSON name that is not a Rust identifier (`type`) follows the Rust name as a string:
/// `req kind "type": ValueType`. A JSON `null` reads as absent.
#[macro_export]
macro_rules! message {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $kind:ident $field:ident $($json:literal)? : $ty:ty $(= $default:expr)?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                pub $field: $crate::__mesos_field_type!($kind $ty),
            )*
            /// Fields this vocabulary does not know, passed through as they came.
            pub extra: $crate::mesos::v1::message::Extra,
        }

        impl $name {
            $(
                $crate::__mesos_accessor!($(#[$fmeta])* $field, $ty, $kind $(, $default)?);
            )*
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(None)?;
                $(
                    $crate::__mesos_write_field!(
                        map,
                        &self.$field,
                        $crate::__mesos_json_name!($field $($json)?),
                        $kind
                        $(, $default)?
                    );
                )*
                if !self.extra.is_empty() && $crate::mesos::v1::message::writes_unknown_fields() {
                    for (k, v) in self.extra.iter() {
                        map.serialize_entry(k, v)?;
                    }
                }
                map.end()
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct MessageVisitor;
                impl<'de> ::serde::de::Visitor<'de> for MessageVisitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a Mesos ", stringify!($name), " object"))
                    }

                    fn visit_map<A: ::serde::de::MapAccess<'de>>(
                        self,
                        mut access: A,
                    ) -> Result<$name, A::Error> {
                        $(
                            let mut $field: Option<$crate::__mesos_slot_type!($kind $ty)> = None;
                        )*
                        let mut extra = $crate::mesos::v1::message::Extra::new();
                        while let Some(key) =
                            access.next_key::<$crate::mesos::v1::message::Key<'de>>()?
                        {
                            match key.as_str() {
                                $(
                                    $crate::__mesos_json_name!($field $($json)?) => {
                                        $field = access.next_value()?;
                                    }
                                )*
                                _ => {
                                    let value: ::serde_json::Value = access.next_value()?;
                                    extra.insert(key.into_string(), value);
                                }
                            }
                        }
                        Ok($name {
                            $(
                                $field: $crate::__mesos_finish_field!(
                                    $field,
                                    $crate::__mesos_json_name!($field $($json)?),
                                    $kind
                                ),
                            )*
                            extra,
                        })
                    }
                }
                deserializer.deserialize_map(MessageVisitor)
            }
        }
    };
}

/// Declares a Mesos enum with its spellings. The first variant is the default (as proto2
/// reads an unset enum); a spelling not listed reads as `Other` and is written back as it
/// came.
#[macro_export]
macro_rules! enumeration {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A spelling this vocabulary does not know, kept as it came.
            Other(String),
        }

        impl $name {
            /// Every spelling this vocabulary knows, in the proto's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Mesos's spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )+
                    $name::Other(s) => s,
                }
            }

            /// The value Mesos spells `text`; `Other` for a spelling not known here.
            pub fn from_name(text: &str) -> $name {
                match text {
                    $( $text => $name::$variant, )+
                    other => $name::Other(other.to_string()),
                }
            }

            /// Whether this is a spelling this vocabulary knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::ALL[0].clone()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> $name {
                $name::from_name(text)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(text: &str) -> Result<$name, Self::Err> {
                Ok($name::from_name(text))
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct EnumVisitor;
                impl<'de> ::serde::de::Visitor<'de> for EnumVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " name"))
                    }
                    fn visit_str<E: ::serde::de::Error>(self, s: &str) -> Result<$name, E> {
                        Ok($name::from_name(s))
                    }
                }
                d.deserialize_str(EnumVisitor)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    crate::enumeration! {
        /// A test enum.
        pub enum Colour {
            Red = "RED",
            Green = "GREEN",
        }
    }

    crate::message! {
        /// A test message with every kind of field.
        pub struct Sample {
            req name: String,
            req kind "type": Colour,
            opt note: String,
            def flag: bool = true,
            def label: String = "*",
            rep items: u32,
            map sizes: f64,
            opt inner: Box<Sample>,
        }
    }

    #[test]
    fn reads_and_writes_every_kind_of_field() {
        let v = json!({"name": "a", "type": "GREEN", "items": [1, 2], "sizes": {"x": 1.5},
                       "inner": {"name": "b", "type": "BLUE", "flag": false}, "later": {"k": [1]}});
        let s: Sample = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(s.kind, Colour::Green);
        assert_eq!(s.items, vec![1, 2]);
        assert!(s.flag());
        assert_eq!(s.label(), "*");
        let inner = s.inner.as_deref().unwrap();
        assert_eq!(inner.kind, Colour::Other("BLUE".into()));
        assert!(!inner.flag());
        assert_eq!(s.extra.get("later"), Some(&json!({"k": [1]})));
        // Written back: the set fields, the unknown ones, and the defaults of the unset ones.
        let mut want = v.clone();
        want["flag"] = json!(true);
        want["label"] = json!("*");
        want["inner"]["label"] = json!("*");
        assert_eq!(serde_json::to_value(&s).unwrap(), want);
        // Sparse: exactly what came.
        assert_eq!(to_sparse_value(&s), v);
        // Back to Mesos's way after the sparse write.
        assert!(writes_defaults());
        // Without the fields it did not know.
        let known = known_only(|| serde_json::to_value(&s)).unwrap();
        assert!(known.get("later").is_none() && known.get("items").is_some());
        assert!(writes_unknown_fields());
    }

    #[test]
    fn required_fields_and_types_are_checked() {
        let missing = serde_json::from_value::<Sample>(json!({"type": "RED"}));
        assert!(missing.unwrap_err().to_string().contains("name"));
        let lenient: Sample = read_lenient(&json!({"type": "RED"})).unwrap();
        assert_eq!(lenient.name, "");
        assert!(!lenient_reading());
        assert!(serde_json::from_value::<Sample>(json!({"name": 1, "type": "RED"})).is_err());
        assert!(serde_json::from_value::<Sample>(json!([1])).is_err());
        // null is absence.
        let s: Sample = serde_json::from_value(
            json!({"name": "a", "type": "RED", "note": null, "items": null}),
        )
        .unwrap();
        assert_eq!((s.note, s.items.len()), (None, 0));
    }

    #[test]
    fn keys_with_escapes_and_readers_work() {
        let text = r#"{"na\u006de": "a", "type": "RED", "x\ty": 1}"#;
        let s: Sample = serde_json::from_str(text).unwrap();
        assert_eq!(s.name, "a");
        assert_eq!(s.extra.get("x\ty"), Some(&json!(1)));
        let s: Sample = serde_json::from_reader(text.as_bytes()).unwrap();
        assert_eq!(s.name, "a");
    }

    #[test]
    fn enums_keep_unknown_spellings() {
        assert_eq!(Colour::from_name("RED"), Colour::Red);
        assert_eq!(Colour::default(), Colour::Red);
        assert_eq!(Colour::from("PINK").as_str(), "PINK");
        assert!(!Colour::from("PINK").is_known());
        assert_eq!(
            serde_json::to_value(Colour::Other("PINK".into())).unwrap(),
            json!("PINK")
        );
        assert!(serde_json::from_value::<Colour>(json!(3)).is_err());
    }

    #[test]
    fn extra_keeps_its_order() {
        let mut e = Extra::new();
        assert!(e.is_empty());
        e.insert("b".into(), json!(1));
        e.insert("a".into(), json!(2));
        assert_eq!(
            e.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["b", "a"]
        );
        assert_eq!(e.remove("b"), Some(json!(1)));
        assert_eq!(e.len(), 1);
    }
}
