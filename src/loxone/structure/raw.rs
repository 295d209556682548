//! The raw serde layer of the structure file.
//!
//! Every raw type below accepts any JSON value without failing (wrong types become "absent"),
//! and is read in one pass with visitors: no intermediate `serde_json::Value` trees. That keeps
//! one odd entry from hiding the house and a 5 MB file inside its parse budget.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::value::RawValue;

use super::{MsInfo, TempUnit};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawFile {
    pub(super) last_modified: Option<LenientScalar>,
    pub(super) ms_info: Option<Maybe<RawMsInfo>>,
    pub(super) rooms: Option<Entries<Maybe<RawNamed>>>,
    pub(super) cats: Option<Entries<Maybe<RawNamed>>>,
    pub(super) controls: Option<Entries<Maybe<RawControl>>>,
    pub(super) global_states: Option<Entries<LenientScalar>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawMsInfo {
    pub(super) serial_nr: Option<LenientScalar>,
    pub(super) ms_name: Option<LenientScalar>,
    pub(super) project_name: Option<LenientScalar>,
    pub(super) local_url: Option<LenientScalar>,
    pub(super) temp_unit: Option<LenientInt>,
    pub(super) miniserver_type: Option<LenientInt>,
    pub(super) current_user: Option<Maybe<RawUser>>,
}

#[derive(Deserialize)]
pub(super) struct RawUser {
    pub(super) name: Option<LenientScalar>,
}

#[derive(Deserialize)]
pub(super) struct RawNamed {
    pub(super) uuid: Option<LenientScalar>,
    pub(super) name: Option<LenientScalar>,
    #[serde(rename = "type")]
    pub(super) kind: Option<LenientScalar>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawControl {
    pub(super) name: Option<LenientScalar>,
    #[serde(rename = "type")]
    pub(super) kind: Option<LenientScalar>,
    pub(super) uuid_action: Option<LenientScalar>,
    pub(super) room: Option<LenientScalar>,
    pub(super) cat: Option<LenientScalar>,
    pub(super) default_rating: Option<LenientInt>,
    pub(super) is_secured: Option<LenientBool>,
    pub(super) restrictions: Option<LenientInt>,
    pub(super) states: Option<Entries<RawState>>,
    pub(super) details: Option<Box<RawValue>>,
    pub(super) sub_controls: Option<Entries<Maybe<RawControl>>>,
}

/// An integer written as a number or as a string ("5", "0"); anything else is 0.
pub(super) struct LenientInt(pub(super) i64);
/// A bool written as `true`, `"true"`, `1` or `"1"`; anything else is false.
pub(super) struct LenientBool(pub(super) bool);
/// A string, or a number/bool written where a string was expected; objects and arrays are "".
pub(super) struct LenientScalar(pub(super) String);
/// A state reference: a UUID string or a list of them; anything else is `Bad`.
pub(super) enum RawState {
    One(String),
    Many(Vec<Option<String>>),
    Bad,
}
/// An object's entries in file order (the order a person sees in the app); not an object = none.
pub(super) struct Entries<T>(pub(super) Vec<(String, T)>);
/// An object read as `T`; any other JSON value = `None`.
pub(super) struct Maybe<T>(pub(super) Option<T>);

impl LenientScalar {
    fn into_string(self) -> String {
        self.0
    }
}

pub(super) fn lenient_opt(v: Option<LenientScalar>) -> Option<String> {
    v.map(LenientScalar::into_string)
}

/// Drains a sequence the caller does not want.
fn drain_seq<'de, A: de::SeqAccess<'de>>(mut s: A) -> Result<(), A::Error> {
    while s.next_element::<de::IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Drains a map the caller does not want.
fn drain_map<'de, A: de::MapAccess<'de>>(mut m: A) -> Result<(), A::Error> {
    while m.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Implements the visitor methods every lenient type shares: each JSON kind maps to a value
/// through `$scalar` (for str/num/bool/null) and containers are drained to `$other`.
macro_rules! lenient_visitor {
    ($vis:ident, $out:ty, |$v:ident| str => $s:expr, i64 => $i:expr, u64 => $u:expr, f64 => $f:expr, bool => $b:expr, none => $n:expr) => {
        struct $vis;
        impl<'de> de::Visitor<'de> for $vis {
            type Value = $out;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, $v: &str) -> Result<$out, E> {
                Ok($s)
            }
            fn visit_i64<E: de::Error>(self, $v: i64) -> Result<$out, E> {
                Ok($i)
            }
            fn visit_u64<E: de::Error>(self, $v: u64) -> Result<$out, E> {
                Ok($u)
            }
            fn visit_f64<E: de::Error>(self, $v: f64) -> Result<$out, E> {
                Ok($f)
            }
            fn visit_bool<E: de::Error>(self, $v: bool) -> Result<$out, E> {
                Ok($b)
            }
            fn visit_unit<E: de::Error>(self) -> Result<$out, E> {
                Ok($n)
            }
            fn visit_none<E: de::Error>(self) -> Result<$out, E> {
                Ok($n)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<$out, D::Error> {
                d.deserialize_any($vis)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, s: A) -> Result<$out, A::Error> {
                drain_seq(s)?;
                Ok($n)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, m: A) -> Result<$out, A::Error> {
                drain_map(m)?;
                Ok($n)
            }
        }
    };
}

lenient_visitor!(IntV, LenientInt, |v|
    str => LenientInt(v.trim().parse::<i64>().unwrap_or(0)),
    i64 => LenientInt(v),
    u64 => LenientInt(i64::try_from(v).unwrap_or(i64::MAX)),
    f64 => LenientInt(if v.is_finite() { v as i64 } else { 0 }),
    bool => LenientInt(i64::from(v)),
    none => LenientInt(0));

lenient_visitor!(BoolV, LenientBool, |v|
    str => LenientBool(matches!(v.trim(), "true" | "1" | "True")),
    i64 => LenientBool(v != 0),
    u64 => LenientBool(v != 0),
    f64 => LenientBool(v != 0.0),
    bool => LenientBool(v),
    none => LenientBool(false));

lenient_visitor!(ScalarV, LenientScalar, |v|
    str => LenientScalar(v.to_owned()),
    i64 => LenientScalar(v.to_string()),
    u64 => LenientScalar(v.to_string()),
    f64 => LenientScalar(v.to_string()),
    bool => LenientScalar(v.to_string()),
    none => LenientScalar(String::new()));

impl<'de> Deserialize<'de> for LenientInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IntV)
    }
}

impl<'de> Deserialize<'de> for LenientBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BoolV)
    }
}

impl<'de> Deserialize<'de> for LenientScalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarV)
    }
}

impl<'de> Deserialize<'de> for RawState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = RawState;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a state UUID or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawState, E> {
                Ok(RawState::One(v.to_owned()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<RawState, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = s.next_element::<LenientScalar>()? {
                    out.push(Some(x.0).filter(|t| !t.is_empty()));
                }
                Ok(RawState::Many(out))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, m: A) -> Result<RawState, A::Error> {
                drain_map(m)?;
                Ok(RawState::Bad)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<RawState, E> {
                Ok(RawState::Bad)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<RawState, E> {
                Ok(RawState::Bad)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<RawState, E> {
                Ok(RawState::Bad)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<RawState, E> {
                Ok(RawState::Bad)
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawState, E> {
                Ok(RawState::Bad)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Entries<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> de::Visitor<'de> for V<T> {
            type Value = Entries<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<Entries<T>, A::Error> {
                let mut out = Vec::with_capacity(m.size_hint().unwrap_or(0));
                while let Some((k, v)) = m.next_entry::<String, T>()? {
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, s: A) -> Result<Entries<T>, A::Error> {
                drain_seq(s)?;
                Ok(Entries(Vec::new()))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Entries<T>, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Entries<T>, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Entries<T>, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Entries<T>, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Entries<T>, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Entries<T>, E> {
                Ok(Entries(Vec::new()))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Maybe<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> de::Visitor<'de> for V<T> {
            type Value = Maybe<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, m: A) -> Result<Maybe<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(m)).map(|t| Maybe(Some(t)))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, s: A) -> Result<Maybe<T>, A::Error> {
                drain_seq(s)?;
                Ok(Maybe(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Maybe<T>, E> {
                Ok(Maybe(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Maybe<T>, E> {
                Ok(Maybe(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Maybe<T>, E> {
                Ok(Maybe(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Maybe<T>, E> {
                Ok(Maybe(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Maybe<T>, E> {
                Ok(Maybe(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Maybe<T>, E> {
                Ok(Maybe(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl From<RawMsInfo> for MsInfo {
    fn from(r: RawMsInfo) -> MsInfo {
        let s = |v: Option<LenientScalar>| v.map(|x| x.0).unwrap_or_default();
        MsInfo {
            serial_nr: s(r.serial_nr),
            ms_name: s(r.ms_name),
            project_name: s(r.project_name),
            local_url: s(r.local_url),
            temp_unit: match r.temp_unit.map(|n| n.0) {
                Some(1) => TempUnit::Fahrenheit,
                _ => TempUnit::Celsius,
            },
            miniserver_type: r.miniserver_type.map(|n| n.0),
            current_user: r
                .current_user
                .and_then(|u| u.0)
                .and_then(|u| lenient_opt(u.name)),
        }
    }
}
