//! How a runtime reaches PostgreSQL: one connection, a pool, or a fresh connection per request
//! ([`DbAccess`]), all giving a [`DbClient`]; and the typed [`DbError`] every failure becomes,
//! with the SQLSTATE read through `as_db_error()` (tokio-postgres alone says only "db error").
//! The schema and seed data are in [`schema`].

mod schema;

use std::ops::Deref;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, NoTls};

pub use schema::{setup, CATEGORIES, SEED_ROWS};

/// How long establishing one connection may take (TCP, startup, authentication) before it
/// fails as [`DbError::Connect`]: a database problem is an error response, never a hang.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A database failure, by the kind a client can act on.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// PostgreSQL refused the connection: SQLSTATE 53300 (`max_connections` reached, or only
    /// superuser slots left).
    #[error("too many connections (SQLSTATE 53300): {message}")]
    TooManyConnections { message: String },
    /// Every pooled connection stayed busy for the pool's whole wait timeout.
    #[error("timed out waiting for a free pooled connection")]
    PoolTimeout,
    /// No connection could be made or kept (refused, timed out, closed, authentication).
    #[error("database connection failed: {0}")]
    Connect(String),
    /// A statement failed on an open connection.
    #[error("query failed: {message}")]
    Query {
        sqlstate: Option<String>,
        message: String,
    },
}

impl DbError {
    /// A stable name for the kind, used in error responses and the `x-coldfront-error` header.
    pub fn kind(&self) -> &'static str {
        match self {
            DbError::TooManyConnections { .. } => "too_many_connections",
            DbError::PoolTimeout => "pool_timeout",
            DbError::Connect(_) => "connect",
            DbError::Query { .. } => "query",
        }
    }

    /// The SQLSTATE PostgreSQL reported, when it reported one.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            DbError::TooManyConnections { .. } => Some(SqlState::TOO_MANY_CONNECTIONS.code()),
            DbError::Query { sqlstate, .. } => sqlstate.as_deref(),
            DbError::PoolTimeout | DbError::Connect(_) => None,
        }
    }

    /// A failure while establishing a connection.
    pub fn from_connect(error: tokio_postgres::Error) -> DbError {
        match error.as_db_error() {
            Some(db) if db.code() == &SqlState::TOO_MANY_CONNECTIONS => {
                DbError::TooManyConnections {
                    message: db.message().to_string(),
                }
            }
            Some(db) => {
                DbError::Connect(format!("{} (SQLSTATE {})", db.message(), db.code().code()))
            }
            None => DbError::Connect(error_chain(&error)),
        }
    }

    /// A failure while running a statement on an open connection.
    pub fn from_query(error: tokio_postgres::Error) -> DbError {
        match error.as_db_error() {
            Some(db) if db.code() == &SqlState::TOO_MANY_CONNECTIONS => {
                DbError::TooManyConnections {
                    message: db.message().to_string(),
                }
            }
            Some(db) => DbError::Query {
                sqlstate: Some(db.code().code().to_string()),
                message: db.message().to_string(),
            },
            None if error.is_closed() => DbError::Connect(error_chain(&error)),
            None => DbError::Query {
                sqlstate: None,
                message: error_chain(&error),
            },
        }
    }

    fn from_pool(error: PoolError) -> DbError {
        match error {
            PoolError::Timeout(deadpool_postgres::TimeoutType::Wait) => DbError::PoolTimeout,
            PoolError::Timeout(_) => {
                DbError::Connect(format!("no connection within {CONNECT_TIMEOUT:?}"))
            }
            PoolError::Backend(error) => DbError::from_connect(error),
            other => DbError::Connect(other.to_string()),
        }
    }
}

/// "db error" or "error connecting to server" alone says little: add the causes.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Where a runtime's handlers get their database connection from.
pub enum DbAccess {
    /// A pool shared by every request of the process (the persistent runtime).
    Pool(Pool),
    /// One connection made at instance start, used by its one request at a time (the
    /// serverless singleton pattern).
    PerInstance(tokio::sync::Mutex<Client>),
    /// Connect, query, close, for every request (the naive serverless pattern).
    PerRequest(Config),
}

impl DbAccess {
    /// The singleton pattern: connects now, once.
    pub async fn per_instance(url: &str) -> Result<DbAccess, DbError> {
        Ok(DbAccess::PerInstance(tokio::sync::Mutex::new(
            connect(url).await?,
        )))
    }

    /// The naive pattern: checks the URL now, connects on every request.
    pub fn per_request(url: &str) -> Result<DbAccess, DbError> {
        Ok(DbAccess::PerRequest(config(url)?))
    }

    /// A connection for one request; it goes back (pool), is unlocked (instance) or is closed
    /// (per request) when the [`DbClient`] drops.
    pub async fn client(&self) -> Result<DbClient<'_>, DbError> {
        match self {
            DbAccess::Pool(pool) => pool
                .get()
                .await
                .map(DbClient::Pooled)
                .map_err(DbError::from_pool),
            DbAccess::PerInstance(client) => {
                let client = client.lock().await;
                if client.is_closed() {
                    return Err(DbError::Connect(
                        "the instance's database connection is closed".into(),
                    ));
                }
                Ok(DbClient::Instance(client))
            }
            DbAccess::PerRequest(config) => connect_with(config).await.map(DbClient::Own),
        }
    }

    /// The pattern's name: `pool`, `per-instance` or `per-request`.
    pub fn pattern(&self) -> &'static str {
        match self {
            DbAccess::Pool(_) => "pool",
            DbAccess::PerInstance(_) => "per-instance",
            DbAccess::PerRequest(_) => "per-request",
        }
    }
}

/// A connection lent to one request; derefs to [`tokio_postgres::Client`].
pub enum DbClient<'a> {
    Pooled(deadpool_postgres::Object),
    Instance(tokio::sync::MutexGuard<'a, Client>),
    Own(Client),
}

impl Deref for DbClient<'_> {
    type Target = Client;

    fn deref(&self) -> &Client {
        match self {
            DbClient::Pooled(object) => object,
            DbClient::Instance(guard) => guard,
            DbClient::Own(client) => client,
        }
    }
}

/// Parses a `postgres://` URL (or key=value string), with [`CONNECT_TIMEOUT`] unless the URL
/// sets `connect_timeout` itself.
pub fn config(url: &str) -> Result<Config, DbError> {
    let mut config: Config = url
        .parse()
        .map_err(|e| DbError::Connect(format!("invalid database URL: {e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    Ok(config)
}

/// Opens one connection and spawns the task that drives it (it ends when the client drops).
pub async fn connect(url: &str) -> Result<Client, DbError> {
    connect_with(&config(url)?).await
}

/// [`connect`] with a parsed [`Config`]; the whole handshake is bounded by [`CONNECT_TIMEOUT`].
pub async fn connect_with(config: &Config) -> Result<Client, DbError> {
    let (client, connection) = tokio::time::timeout(CONNECT_TIMEOUT, config.connect(NoTls))
        .await
        .map_err(|_| DbError::Connect(format!("no connection within {CONNECT_TIMEOUT:?}")))?
        .map_err(DbError::from_connect)?;
    tokio::spawn(async move {
        // Its error, if any, reaches the client's next query as a closed connection.
        let _ = connection.await;
    });
    Ok(client)
}

/// A pool of at most `size` connections, made on demand. A request waits up to
/// `wait_timeout` for a free one (then [`DbError::PoolTimeout`]); making a connection is
/// bounded by [`CONNECT_TIMEOUT`].
pub fn pool(url: &str, size: usize, wait_timeout: Duration) -> Result<Pool, DbError> {
    let manager = Manager::from_config(
        config(url)?,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(wait_timeout))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .recycle_timeout(Some(CONNECT_TIMEOUT))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| DbError::Connect(format!("building the pool: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_sqlstates_are_stable() {
        let too_many = DbError::TooManyConnections {
            message: "sorry, too many clients already".into(),
        };
        assert_eq!(too_many.kind(), "too_many_connections");
        assert_eq!(too_many.sqlstate(), Some("53300"));
        assert_eq!(DbError::PoolTimeout.kind(), "pool_timeout");
        assert_eq!(DbError::Connect("refused".into()).sqlstate(), None);
        let query = DbError::Query {
            sqlstate: Some("42P01".into()),
            message: "relation does not exist".into(),
        };
        assert_eq!((query.kind(), query.sqlstate()), ("query", Some("42P01")));
    }

    #[test]
    fn config_adds_a_connect_timeout_unless_given() {
        let default = config("postgres://app@127.0.0.1:5432/coldfront").unwrap();
        assert_eq!(default.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
        let own = config("postgres://app@127.0.0.1/coldfront?connect_timeout=2").unwrap();
        assert_eq!(own.get_connect_timeout(), Some(&Duration::from_secs(2)));
        assert_eq!(config("not a url").unwrap_err().kind(), "connect");
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_connect_error_not_a_hang() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let error = connect(&format!("postgres://app@127.0.0.1:{port}/coldfront"))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), "connect", "{error}");
    }
}
