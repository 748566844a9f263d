//! Classification of sqlx errors into [`StoreError`] for SQLite and PostgreSQL.
//!
//! SQLite result codes: <https://www.sqlite.org/rescode.html>. PostgreSQL SQLSTATEs:
//! <https://www.postgresql.org/docs/current/errcodes-appendix.html>.

use sqlx::error::{DatabaseError, ErrorKind};

use crate::{Backend, ConstraintKind, StoreError};

/// Maps one sqlx error. Driver messages that may quote values are not copied.
pub(crate) fn map(backend: Backend, err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::Database(db) => map_database(backend, db.as_ref()),
        sqlx::Error::Io(io) => unavailable(backend, format!("I/O error: {}", io.kind())),
        sqlx::Error::Tls(e) => unavailable(backend, format!("TLS error: {e}")),
        sqlx::Error::PoolTimedOut => unavailable(
            backend,
            "timed out waiting for a pooled connection (pool exhausted or server unreachable)"
                .into(),
        ),
        sqlx::Error::PoolClosed => StoreError::Internal {
            reason: "the connection pool was closed; reopen the store".into(),
        },
        sqlx::Error::WorkerCrashed => unavailable(backend, "the connection worker crashed".into()),
        sqlx::Error::Protocol(_) => unavailable(backend, "protocol error on the connection".into()),
        sqlx::Error::ColumnDecode { index, .. } => corrupt("?", &index, "undecodable value"),
        sqlx::Error::Decode(_) => corrupt("?", "?", "undecodable value"),
        sqlx::Error::ColumnNotFound(name) => corrupt("?", &name, "column missing from result"),
        sqlx::Error::RowNotFound => StoreError::NotFound { what: "row".into() },
        sqlx::Error::Configuration(e) => StoreError::Config {
            reason: format!("{e}"),
        },
        sqlx::Error::Migrate(e) => crate::migrate::map_migrate_error(backend, *e),
        other => StoreError::Internal {
            reason: redacted_kind(&other).to_owned(),
        },
    }
}

/// Names an error variant without printing its payload (which may quote values).
fn redacted_kind(err: &sqlx::Error) -> &'static str {
    match err {
        sqlx::Error::Encode(_) => "a bound value could not be encoded",
        sqlx::Error::AnyDriverError(_) => "the Any driver does not support a column type",
        sqlx::Error::ColumnIndexOutOfBounds { .. } => "column index out of bounds",
        sqlx::Error::TypeNotFound { .. } => "type not found",
        sqlx::Error::InvalidArgument(_) => "invalid argument to the driver",
        sqlx::Error::BeginFailed | sqlx::Error::InvalidSavePointStatement => {
            "transaction could not begin"
        }
        _ => "unclassified driver error",
    }
}

fn unavailable(backend: Backend, reason: String) -> StoreError {
    StoreError::Unavailable {
        service: backend.name(),
        reason,
    }
}

fn corrupt(table: &str, column: &str, reason: &str) -> StoreError {
    StoreError::CorruptRow {
        table: table.into(),
        column: column.into(),
        key: "?".into(),
        reason: reason.into(),
    }
}

fn map_database(backend: Backend, db: &dyn DatabaseError) -> StoreError {
    let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
    if let Some(kind) = constraint_kind(db.kind()) {
        return StoreError::Constraint {
            kind,
            constraint: constraint_name(backend, db),
        };
    }
    let transient = match backend {
        Backend::Sqlite => sqlite_transient(&code),
        Backend::Postgres => postgres_transient(&code),
    };
    match transient {
        Some(Transient::Contention) => StoreError::Contention { code },
        Some(Transient::Unavailable) => {
            unavailable(backend, format!("server error {code}: {}", db.message()))
        }
        None => StoreError::Database {
            backend,
            code,
            message: db.message().to_owned(),
        },
    }
}

fn constraint_kind(kind: ErrorKind) -> Option<ConstraintKind> {
    match kind {
        ErrorKind::UniqueViolation => Some(ConstraintKind::Unique),
        ErrorKind::ForeignKeyViolation => Some(ConstraintKind::ForeignKey),
        ErrorKind::NotNullViolation => Some(ConstraintKind::NotNull),
        ErrorKind::CheckViolation => Some(ConstraintKind::Check),
        _ => None,
    }
}

/// PostgreSQL reports the constraint name. SQLite puts "<KIND> constraint failed: <what>" in the
/// message, where <what> is `table.column[, ...]` (unique, not null) or the CHECK's name; the
/// message holds no values.
fn constraint_name(backend: Backend, db: &dyn DatabaseError) -> String {
    if let Some(name) = db.constraint() {
        return name.to_owned();
    }
    match backend {
        Backend::Sqlite => db
            .message()
            .split_once("constraint failed: ")
            .map(|(_, what)| what.trim().to_owned())
            .unwrap_or_else(|| "?".into()),
        Backend::Postgres => "?".into(),
    }
}

enum Transient {
    Contention,
    Unavailable,
}

/// SQLITE_BUSY (5) and SQLITE_LOCKED (6) with their extended codes (low byte is the primary).
fn sqlite_transient(code: &str) -> Option<Transient> {
    let primary = code.parse::<i64>().ok()? & 0xff;
    match primary {
        5 | 6 => Some(Transient::Contention),
        _ => None,
    }
}

/// Class 08 connection exceptions, 40001/40P01 serialization and deadlock, 55P03 lock not
/// available, 53xxx insufficient resources, 57P01-57P03 shutdown and startup.
fn postgres_transient(code: &str) -> Option<Transient> {
    match code {
        "40001" | "40P01" | "55P03" => Some(Transient::Contention),
        "57P01" | "57P02" | "57P03" => Some(Transient::Unavailable),
        c if c.starts_with("08") || c.starts_with("53") => Some(Transient::Unavailable),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_busy_and_locked_codes_are_contention() {
        // TC1..TC5: primary and extended codes; TC6/TC7 are not transient.
        let cases = [
            ("5", true),
            ("6", true),
            ("261", true), // SQLITE_BUSY_RECOVERY
            ("517", true), // SQLITE_BUSY_SNAPSHOT
            ("262", true), // SQLITE_LOCKED_SHAREDCACHE
            ("19", false), // SQLITE_CONSTRAINT
            ("x", false),
        ];
        for (i, (code, want)) in cases.iter().enumerate() {
            assert_eq!(
                sqlite_transient(code).is_some(),
                *want,
                "TC{} failed: {code}",
                i + 1
            );
        }
    }

    #[test]
    fn postgres_codes_classified() {
        let cases = [
            ("40001", true),
            ("40P01", true),
            ("08006", true),
            ("53300", true),
            ("57P01", true),
            ("23505", false),
            ("42P01", false),
        ];
        for (i, (code, want)) in cases.iter().enumerate() {
            assert_eq!(
                postgres_transient(code).is_some(),
                *want,
                "TC{} failed: {code}",
                i + 1
            );
        }
    }
}
