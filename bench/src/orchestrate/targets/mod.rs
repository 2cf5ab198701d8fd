//! The target launcher seam: turns a [`TargetPlan`] into an address the load can be sent to.
//! External targets are only resolved and checked; built-in targets (started and stopped by
//! the harness) plug in here.

mod app;
mod builtin;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use coldfront_targets::settings;
use http::Uri;

use crate::load::tls::TlsSettings;
pub(crate) use crate::load::tls::Verification;
use crate::load::Client;
use crate::load::{Endpoint, Failure};
use crate::model::TargetKind;
use crate::model::{ConnectionPolicy, FailureCause};
use crate::scenario::{DatabasePlan, TargetPlan, TargetSetup};

#[derive(Debug, thiserror::Error)]
pub(crate) enum LaunchError {
    #[error("target `{target}`: {url} resolves to {addr}, which is not on this machine; pass --allow-remote to send load to a remote address")]
    Remote {
        target: String,
        url: String,
        addr: SocketAddr,
    },
    #[error("target `{target}`: cannot resolve {url}: {reason}")]
    Resolve {
        target: String,
        url: String,
        reason: String,
    },
    #[error("target `{target}`: TLS setup for {url}: {reason}")]
    Tls {
        target: String,
        url: String,
        reason: String,
    },
    #[error("target `{target}`: {source}")]
    Database {
        target: String,
        source: super::postgres::PgError,
    },
    #[error("target `{target}`: {reason}")]
    App { target: String, reason: String },
    #[error("target `{target}`: starting `coldfront serve {kind}`: {reason}")]
    Spawn {
        target: String,
        kind: TargetKind,
        reason: String,
    },
    #[error("target `{target}`: cannot connect to {url}: {words} ({cause}; pass --no-preflight if it comes up later)")]
    Unreachable {
        target: String,
        url: String,
        /// The cause in words, with what to do about it.
        words: &'static str,
        cause: Failure,
    },
}

/// How long the preflight waits for an external target's connection (TCP, then TLS).
const PREFLIGHT_WITHIN: Duration = Duration::from_secs(5);

/// Options that apply to every target of a run.
#[derive(Debug, Clone, Default)]
pub(crate) struct LaunchOptions {
    pub allow_remote: bool,
    /// Extra trusted CA certificates (PEM) for `https://` targets.
    pub ca_pem: Option<Vec<u8>>,
    /// `--database-url`: the database of built-in targets instead of a throwaway cluster; for
    /// external targets, the database sampled for its connection count.
    pub database_url: Option<String>,
    /// `--pin`: built-in targets run on CPU 1 (the generator on CPU 0).
    pub pin: bool,
    /// `--no-preflight`: do not connect to external targets before load.
    pub no_preflight: bool,
    /// `--insecure`: how `https://` targets' certificates are checked.
    pub verification: Verification,
}

/// A target ready to receive load.
pub(crate) struct RunningTarget {
    pub endpoint: Endpoint,
    /// `https://` targets: whether the certificate is checked.
    pub tls_verified: Option<bool>,
    /// Address of a built-in target's metrics endpoint.
    pub metrics: Option<std::net::SocketAddr>,
    /// A PostgreSQL URL to count the target's database connections with.
    pub database_probe_url: Option<String>,
    /// The database a built-in target uses.
    pub database_url: Option<String>,
    /// The process (and throwaway cluster) of a built-in target.
    pub process: Option<builtin::TargetProcess>,
}

impl RunningTarget {
    pub(crate) fn url(&self) -> String {
        self.endpoint.base_url.to_string()
    }

    /// Stops a built-in target (and its cluster); nothing to do for an external one.
    pub(crate) async fn stop(self) {
        if let Some(process) = self.process {
            process.stop().await;
        }
    }

    pub(crate) fn sampler_sources(&self) -> super::sampler::SamplerSources {
        super::sampler::SamplerSources {
            metrics: self.metrics,
            database: self.database_probe_url.as_ref().map(|url| {
                let name = database_name(url);
                (url.clone(), name)
            }),
        }
    }
}

/// The database a PostgreSQL URL names (its path), or `postgres`.
fn database_name(url: &str) -> String {
    url.parse::<Uri>()
        .ok()
        .map(|uri| uri.path().trim_start_matches('/').to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "postgres".into())
}

/// Checks what can be checked without starting anything, so a run that cannot work fails
/// before any load: external addresses resolve (and are loopback unless allowed) and accept a
/// connection (TCP, and TLS for `https://`; not with `--no-preflight`); built-in targets have a
/// database (PostgreSQL installed, or `--database-url`).
pub(crate) async fn preflight(
    target: &TargetPlan,
    options: &LaunchOptions,
) -> Result<(), LaunchError> {
    match &target.setup {
        TargetSetup::External {
            base_url,
            verify_tls,
        } => {
            let running = external(&target.name, base_url, *verify_tls, options).await?;
            if options.no_preflight {
                return Ok(());
            }
            let client = Client::new(running.endpoint, ConnectionPolicy::PerRequest, 1);
            let deadline = std::time::Instant::now() + PREFLIGHT_WITHIN;
            client
                .probe(deadline)
                .await
                .map_err(|cause| LaunchError::Unreachable {
                    target: target.name.clone(),
                    url: base_url.to_string(),
                    words: cause
                        .cause()
                        .map_or("no connection", FailureCause::describe),
                    cause,
                })
        }
        TargetSetup::Serverless { app, .. } | TargetSetup::Persistent { app, .. } => {
            if options.database_url.is_none() {
                super::postgres::PgBinaries::find().map_err(|source| LaunchError::Database {
                    target: target.name.clone(),
                    source,
                })?;
            }
            match app {
                Some(app) => prepare_app(&target.name, app).await,
                None => Ok(()),
            }
        }
    }
}

/// A command target's program exists and its `prepare` has run (see [`app`]).
async fn prepare_app(name: &str, plan: &crate::scenario::AppPlan) -> Result<(), LaunchError> {
    let failed = |reason: String| LaunchError::App {
        target: name.to_owned(),
        reason,
    };
    let cwd = app::cwd(plan);
    if let Some(problem) = app::program_problem(&plan.settings.command, cwd) {
        let command = plan.settings.command.join(" ");
        return Err(failed(format!("command `{command}`: {problem}")));
    }
    let prepared = app::prepare(plan).await.map_err(failed)?;
    let command = plan.prepare.join(" ");
    match prepared {
        app::Prepared::Nothing => {}
        app::Prepared::UpToDate => {
            eprintln!(
                "{name}: prepare `{command}`: up to date ({})",
                app::STAMP_FILE
            )
        }
        app::Prepared::Ran(took) => {
            eprintln!(
                "{name}: prepare `{command}`: done in {:.1} s",
                took.as_secs_f64()
            )
        }
    }
    Ok(())
}

/// Starts (built-in) or resolves (external) a target; `log` receives a built-in target's output.
pub(crate) async fn start(
    target: &TargetPlan,
    options: &LaunchOptions,
    database: &DatabasePlan,
    log: &Path,
) -> Result<RunningTarget, LaunchError> {
    let name = &target.name;
    let (kind, settings, app) = match &target.setup {
        TargetSetup::External {
            base_url,
            verify_tls,
        } => return external(name, base_url, *verify_tls, options).await,
        TargetSetup::Serverless { settings, app } => (
            TargetKind::Serverless,
            settings::to_env_value(settings),
            app.as_ref(),
        ),
        TargetSetup::Persistent { settings, app } => (
            TargetKind::Persistent,
            settings::to_env_value(settings),
            app.as_ref(),
        ),
    };
    let launch = builtin::Launch {
        name,
        kind,
        settings,
        app,
        database,
        log,
    };
    builtin::start(&launch, options).await
}

async fn external(
    name: &str,
    url: &Uri,
    verify_tls: bool,
    options: &LaunchOptions,
) -> Result<RunningTarget, LaunchError> {
    let verification = match (options.verification, verify_tls) {
        (Verification::Verify, true) => Verification::Verify,
        _ => Verification::Skip,
    };
    let https = url.scheme_str() == Some("https");
    let host = url
        .host()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = url.port_u16().unwrap_or(if https { 443 } else { 80 });
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| LaunchError::Resolve {
            target: name.to_string(),
            url: url.to_string(),
            reason: e.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(LaunchError::Resolve {
            target: name.to_string(),
            url: url.to_string(),
            reason: "no addresses".into(),
        });
    }
    if !options.allow_remote {
        if let Some(addr) = addrs.iter().find(|a| !a.ip().is_loopback()) {
            return Err(LaunchError::Remote {
                target: name.to_string(),
                url: url.to_string(),
                addr: *addr,
            });
        }
    }
    let tls = if https {
        Some(
            TlsSettings::new(host, options.ca_pem.as_deref(), verification).map_err(|e| {
                LaunchError::Tls {
                    target: name.to_string(),
                    url: url.to_string(),
                    reason: format!("{e:#}"),
                }
            })?,
        )
    } else {
        None
    };
    Ok(RunningTarget {
        endpoint: Endpoint {
            base_url: url.clone(),
            addrs,
            tls,
        },
        tls_verified: https.then_some(verification == Verification::Verify),
        metrics: None,
        database_probe_url: options.database_url.clone(),
        database_url: None,
        process: None,
    })
}
