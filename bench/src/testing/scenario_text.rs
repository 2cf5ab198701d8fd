//! [`ScenarioText`]: the TOML text of a whole, well-formed scenario, built key by key, for tests
//! that need a scenario file rather than the typed [`crate::scenario::Plan`].
//!
//! Tables come out in a fixed order — `name`, `description`, `[targets.NAME]` in the order
//! given, `[load]` with its `[[load.phases]]`, `[[requests]]`, `[thresholds]`, `[database]` — and
//! bodies are copied verbatim, so a test states exactly the keys it cares about. Tests of error
//! messages at a line and column keep their literal text instead.

use crate::scenario::one_line::toml_string;
use std::fmt;

/// A scenario's TOML text. Bodies are the lines of a table without its header, such as
/// `"kind = \"persistent\"\npool = 3"`; a trailing newline is optional.
///
/// ```text
/// ScenarioText::new("steady")
///     .target_url("t", "http://127.0.0.1:8080")
///     .phase("duration = \"1s\"\nrate = 5")
///     .request("path = \"/ok\"")
///     .threshold("t.latency.p99", "< 100ms")
///     .to_string()
/// ```
///
/// gives `name = "steady"`, `[targets.t]` with its `url`, `[load]` and one `[[load.phases]]`,
/// one `[[requests]]` and `[thresholds]` with `"t.latency.p99" = "< 100ms"`, one line each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioText {
    name: String,
    description: Option<String>,
    targets: Vec<(String, String)>,
    load: Option<String>,
    phases: Vec<String>,
    requests: Vec<String>,
    thresholds: Vec<(String, String)>,
    database: Option<String>,
}

impl ScenarioText {
    /// A scenario called `name` (written as `name = "NAME"`), with nothing else yet.
    pub fn new(name: &str) -> ScenarioText {
        ScenarioText {
            name: name.to_string(),
            ..ScenarioText::default()
        }
    }

    /// `description = "…"`, quoted and escaped as a TOML basic string.
    pub fn description(mut self, description: &str) -> ScenarioText {
        self.description = Some(description.to_string());
        self
    }

    /// `[targets.NAME]` with `body`, such as `kind = "serverless"\nkeep_warm = "1s"`.
    pub fn target(mut self, name: &str, body: &str) -> ScenarioText {
        self.targets.push((name.to_string(), body.to_string()));
        self
    }

    /// An external target: `[targets.NAME]` with `url = "URL"`.
    pub fn target_url(self, name: &str, url: &str) -> ScenarioText {
        let body = format!("url = {}", toml_string(url));
        self.target(name, &body)
    }

    /// The keys of `[load]` itself, such as `model = "closed"\nmax_connections = 1`. Phases may
    /// be part of `body` (`[[load.phases]]` tables) or added with [`ScenarioText::phase`].
    pub fn load(mut self, body: &str) -> ScenarioText {
        self.load = Some(body.to_string());
        self
    }

    /// One `[[load.phases]]` with `body`, such as `duration = "2s"\nrate = 100`.
    pub fn phase(mut self, body: &str) -> ScenarioText {
        self.phases.push(body.to_string());
        self
    }

    /// One `[[requests]]` with `body`, such as `path = "/api/health"`.
    pub fn request(mut self, body: &str) -> ScenarioText {
        self.requests.push(body.to_string());
        self
    }

    /// One `[thresholds]` entry: `"KEY" = "CONDITION"`, such as `t.latency.p99`, `< 800ms`.
    pub fn threshold(mut self, key: &str, condition: &str) -> ScenarioText {
        self.thresholds
            .push((key.to_string(), condition.to_string()));
        self
    }

    /// `[database]` with `body`, such as `max_connections = 20`.
    pub fn database(mut self, body: &str) -> ScenarioText {
        self.database = Some(body.to_string());
        self
    }
}

impl fmt::Display for ScenarioText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "name = {}", toml_string(&self.name))?;
        if let Some(description) = &self.description {
            writeln!(f, "description = {}", toml_string(description))?;
        }
        for (name, body) in &self.targets {
            table(f, &format!("[targets.{name}]"), body)?;
        }
        if self.load.is_some() || !self.phases.is_empty() {
            table(f, "[load]", self.load.as_deref().unwrap_or(""))?;
        }
        for phase in &self.phases {
            table(f, "[[load.phases]]", phase)?;
        }
        for request in &self.requests {
            table(f, "[[requests]]", request)?;
        }
        if !self.thresholds.is_empty() {
            writeln!(f, "[thresholds]")?;
            for (key, condition) in &self.thresholds {
                writeln!(f, "{} = {}", toml_string(key), toml_string(condition))?;
            }
        }
        if let Some(database) = &self.database {
            table(f, "[database]", database)?;
        }
        Ok(())
    }
}

/// `header`, then `body` ending in a newline.
fn table(f: &mut fmt::Formatter<'_>, header: &str, body: &str) -> fmt::Result {
    writeln!(f, "{header}")?;
    if body.is_empty() {
        return Ok(());
    }
    f.write_str(body)?;
    if !body.ends_with('\n') {
        writeln!(f)?;
    }
    Ok(())
}
