//! Scopes: what a principal may do. Default deny: a principal holds only the scopes listed
//! for it, and an endpoint that declares no scope is reachable by no one.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Place and cancel orders.
    Trade,
    /// Read orders, balances, portfolio, evidence.
    Read,
    /// Stop all trading (`POST /v1/halt`).
    Halt,
    /// Propose or approve a resume after a halt.
    Resume,
    /// Import, list and remove exchange credentials.
    ManageCredentials,
    /// Add, list and remove principals.
    ManagePrincipals,
    /// Change profiles and risk limits.
    ManageRisk,
}

impl Scope {
    /// Every scope, in a fixed order.
    pub const ALL: [Scope; 7] = [
        Scope::Trade,
        Scope::Read,
        Scope::Halt,
        Scope::Resume,
        Scope::ManageCredentials,
        Scope::ManagePrincipals,
        Scope::ManageRisk,
    ];

    /// The wire name (`manage-principals`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trade => "trade",
            Self::Read => "read",
            Self::Halt => "halt",
            Self::Resume => "resume",
            Self::ManageCredentials => "manage-credentials",
            Self::ManagePrincipals => "manage-principals",
            Self::ManageRisk => "manage-risk",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|sc| sc.as_str() == s)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(u8);

impl ScopeSet {
    /// No scope at all.
    pub const NONE: ScopeSet = ScopeSet(0);

    /// The set of `scopes`.
    pub fn of(scopes: &[Scope]) -> Self {
        Self(scopes.iter().fold(0, |acc, s| acc | s.bit()))
    }

    /// True when `scope` is in the set.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The scopes in both sets.
    pub fn intersect(self, other: ScopeSet) -> Self {
        Self(self.0 & other.0)
    }

    /// The scopes, in [`Scope::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Comma-separated wire names (the stored form).
    pub fn to_csv(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(",")
    }

    /// Parses the stored form; `None` names an unknown scope.
    pub fn from_csv(s: &str) -> Option<Self> {
        s.split(',')
            .filter(|p| !p.is_empty())
            .try_fold(Self::NONE, |acc, p| {
                Scope::parse(p).map(|sc| Self(acc.0 | sc.bit()))
            })
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Scope::as_str))
            .finish()
    }
}

impl Serialize for ScopeSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for ScopeSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let scopes = Vec::<Scope>::deserialize(d)?;
        Ok(Self::of(&scopes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_json_round_trip_every_subset() {
        for bits in 0u8..128 {
            let set = ScopeSet(bits);
            assert_eq!(
                ScopeSet::from_csv(&set.to_csv()),
                Some(set),
                "TC{bits} failed"
            );
            let json = serde_json::to_string(&set).unwrap();
            assert_eq!(serde_json::from_str::<ScopeSet>(&json).unwrap(), set);
        }
    }

    #[test]
    fn fail_unknown_scope_names() {
        assert_eq!(ScopeSet::from_csv("read,admin"), None);
        assert!(serde_json::from_str::<ScopeSet>(r#"["root"]"#).is_err());
        assert_eq!(Scope::parse("manage-risk"), Some(Scope::ManageRisk));
    }
}
