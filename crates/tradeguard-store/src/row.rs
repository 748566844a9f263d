//! [`RowDecoder`]: typed column access that reports a bad row as [`StoreError::CorruptRow`]
//! naming table, column and key, and never the stored value.
//!
//! sqlx's own decode errors print the offending value (`expected i64, got Text("...")`), so
//! repository code must read columns through this decoder rather than `Row::try_get`.

use sqlx::any::{AnyRow, AnyTypeInfoKind};
use sqlx::{Row, TypeInfo, ValueRef};

use crate::StoreError;

/// Reads the columns of one row of `table`, identified by `key` in errors.
pub(crate) struct RowDecoder<'r> {
    row: &'r AnyRow,
    table: &'static str,
    key: &'r str,
}

/// The portable column types (see "Writing SQL" in the crate docs).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    BigInt,
    Text,
    Bytes,
}

impl Want {
    fn name(self) -> &'static str {
        match self {
            Self::BigInt => "BIGINT",
            Self::Text => "TEXT",
            Self::Bytes => "BYTEA",
        }
    }

    fn accepts(self, kind: AnyTypeInfoKind) -> bool {
        match self {
            Self::BigInt => kind.is_integer(),
            Self::Text => kind == AnyTypeInfoKind::Text,
            Self::Bytes => kind == AnyTypeInfoKind::Blob,
        }
    }
}

#[allow(dead_code)] // the typed getters are used as repository modules arrive
impl<'r> RowDecoder<'r> {
    /// A decoder for `row`, a row of `table` whose key is `key`.
    pub(crate) fn new(row: &'r AnyRow, table: &'static str, key: &'r str) -> Self {
        Self { row, table, key }
    }

    /// A required BIGINT column.
    pub(crate) fn i64(&self, column: &'static str) -> Result<i64, StoreError> {
        self.required(column, Want::BigInt)?;
        self.get(column)
    }

    /// A nullable BIGINT column.
    pub(crate) fn opt_i64(&self, column: &'static str) -> Result<Option<i64>, StoreError> {
        if self.check(column, Want::BigInt)? {
            self.get(column).map(Some)
        } else {
            Ok(None)
        }
    }

    /// A required TEXT column.
    pub(crate) fn text(&self, column: &'static str) -> Result<String, StoreError> {
        self.required(column, Want::Text)?;
        self.get(column)
    }

    /// A nullable TEXT column.
    pub(crate) fn opt_text(&self, column: &'static str) -> Result<Option<String>, StoreError> {
        if self.check(column, Want::Text)? {
            self.get(column).map(Some)
        } else {
            Ok(None)
        }
    }

    /// A required BYTEA column.
    pub(crate) fn bytes(&self, column: &'static str) -> Result<Vec<u8>, StoreError> {
        self.required(column, Want::Bytes)?;
        self.get(column)
    }

    /// A nullable BYTEA column.
    pub(crate) fn opt_bytes(&self, column: &'static str) -> Result<Option<Vec<u8>>, StoreError> {
        if self.check(column, Want::Bytes)? {
            self.get(column).map(Some)
        } else {
            Ok(None)
        }
    }

    /// A BIGINT 0/1 flag (the portable boolean).
    pub(crate) fn flag(&self, column: &'static str) -> Result<bool, StoreError> {
        match self.i64(column)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.corrupt(column, "flag must be 0 or 1".into())),
        }
    }

    /// A required BIGINT column that must fit `T` (e.g. `u32`, `u64` for non-negative values).
    pub(crate) fn int<T: TryFrom<i64>>(&self, column: &'static str) -> Result<T, StoreError> {
        T::try_from(self.i64(column)?).map_err(|_| {
            self.corrupt(
                column,
                format!("out of range for {}", std::any::type_name::<T>()),
            )
        })
    }

    /// A corrupt-row error for `column` of this row: for checks the caller makes after
    /// decoding (a TEXT that fails to parse, a BYTEA of the wrong length).
    pub(crate) fn corrupt(&self, column: &str, reason: String) -> StoreError {
        StoreError::CorruptRow {
            table: self.table.into(),
            column: column.into(),
            key: self.key.into(),
            reason,
        }
    }

    fn required(&self, column: &'static str, want: Want) -> Result<(), StoreError> {
        if self.check(column, want)? {
            Ok(())
        } else {
            Err(self.corrupt(column, format!("NULL in a required {} column", want.name())))
        }
    }

    /// Ok(true) when the column holds a non-NULL value of the wanted type, Ok(false) on NULL.
    fn check(&self, column: &'static str, want: Want) -> Result<bool, StoreError> {
        let raw = self
            .row
            .try_get_raw(column)
            .map_err(|_| self.corrupt(column, "column missing from the result".into()))?;
        if raw.is_null() {
            return Ok(false);
        }
        let info = raw.type_info();
        if want.accepts(info.kind()) {
            Ok(true)
        } else {
            let found = info.name().to_owned();
            Err(self.corrupt(column, format!("expected {}, found {found}", want.name())))
        }
    }

    fn get<T>(&self, column: &'static str) -> Result<T, StoreError>
    where
        T: for<'a> sqlx::Decode<'a, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        // The type was checked above; drop sqlx's message anyway, it may quote the value.
        self.row
            .try_get(column)
            .map_err(|_| self.corrupt(column, "value could not be decoded".into()))
    }
}
