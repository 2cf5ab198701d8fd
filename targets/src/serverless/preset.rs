//! Platform presets: published limits of real platforms as emulator settings. Sources are
//! `docs/platforms.md` (the project's fact sheet, with its sources) and, where it leaves a
//! value open, the documentation cited on each preset.

use std::time::Duration;

/// A platform's limits, as [`ServerlessConfig`](super::ServerlessConfig) fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    pub name: &'static str,
    pub keep_warm: Duration,
    pub max_duration: Duration,
    pub max_instances: u32,
    pub init: Duration,
    pub queue_timeout: Duration,
}

/// The preset used when none is named.
pub const DEFAULT_PRESET: &str = "lambda";

const MINUTE: u64 = 60;

/// A Firecracker microVM boots to init in at most 125 ms (Firecracker specification, in
/// `platforms.md`); Lambda, and Vercel functions running on it, pay it on every cold start on
/// top of the process's own start-up, which the emulator measures for real.
const MICROVM_BOOT: Duration = Duration::from_millis(125);

/// Vercel does not document when an idle instance is reclaimed (`platforms.md`); its functions
/// run on AWS Lambda, whose idle instances are measured to live about 10 minutes.
const LAMBDA_IDLE: Duration = Duration::from_secs(10 * MINUTE);

const PRESETS: [Preset; 5] = [
    // AWS Lambda: 900 s maximum duration; idle instances reclaimed after about 10 min
    // (measured, `platforms.md`); 1,000 concurrent executions per region is the default account
    // quota; over it a synchronous invoke gets 429 TooManyRequestsException at once (no queue).
    Preset {
        name: "lambda",
        keep_warm: LAMBDA_IDLE,
        max_duration: Duration::from_secs(900),
        max_instances: 1000,
        init: MICROVM_BOOT,
        queue_timeout: Duration::ZERO,
    },
    // Vercel Hobby: 300 s maximum duration. Concurrency auto-scales up to 30,000
    // (https://vercel.com/docs/functions/concurrency-scaling); past it requests are refused
    // (FUNCTION_THROTTLED), not queued.
    Preset {
        name: "vercel-hobby",
        keep_warm: LAMBDA_IDLE,
        max_duration: Duration::from_secs(300),
        max_instances: 30_000,
        init: MICROVM_BOOT,
        queue_timeout: Duration::ZERO,
    },
    // Vercel Pro: as Hobby, with the duration raised to its 800 s maximum.
    Preset {
        name: "vercel-pro",
        keep_warm: LAMBDA_IDLE,
        max_duration: Duration::from_secs(800),
        max_instances: 30_000,
        init: MICROVM_BOOT,
        queue_timeout: Duration::ZERO,
    },
    // Knative Serving: 300 s default request timeout; scale to zero after the 60 s stable
    // window (the 30 s scale-to-zero grace period is not modelled); `max-scale` 0 means
    // unbounded; the activator queues requests while a pod starts, for up to the request
    // timeout. A pod starts in about 2 s on an idle cluster
    // (https://github.com/knative/serving/issues/2484).
    Preset {
        name: "knative",
        keep_warm: Duration::from_secs(MINUTE),
        max_duration: Duration::from_secs(300),
        max_instances: u32::MAX,
        init: Duration::from_secs(2),
        queue_timeout: Duration::from_secs(300),
    },
    // CGI: a process per request and nothing else (keep-warm 0, no modelled start-up). Apache
    // httpd's defaults bound it: `Timeout` 60 s (mod_cgi applies it to scripts),
    // `MaxRequestWorkers` 256; excess connections wait in the listen backlog, here up to the
    // same 60 s.
    Preset {
        name: "cgi",
        keep_warm: Duration::ZERO,
        max_duration: Duration::from_secs(MINUTE),
        max_instances: 256,
        init: Duration::ZERO,
        queue_timeout: Duration::from_secs(MINUTE),
    },
];

/// Every preset: `lambda`, `vercel-hobby`, `vercel-pro`, `knative`, `cgi`.
pub fn presets() -> &'static [Preset] {
    &PRESETS
}

/// The preset called `name`.
pub fn preset(name: &str) -> Option<Preset> {
    PRESETS.iter().find(|preset| preset.name == name).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_carry_the_documented_limits() {
        let lambda = preset("lambda").unwrap();
        assert_eq!(lambda.max_duration, Duration::from_secs(900));
        assert_eq!(lambda.keep_warm, Duration::from_secs(600));
        assert_eq!(lambda.max_instances, 1000);
        assert_eq!(
            preset("vercel-hobby").unwrap().max_duration,
            Duration::from_secs(300)
        );
        assert_eq!(
            preset("vercel-pro").unwrap().max_duration,
            Duration::from_secs(800)
        );
        let knative = preset("knative").unwrap();
        assert_eq!(
            (knative.max_duration, knative.keep_warm),
            (Duration::from_secs(300), Duration::from_secs(60))
        );
        assert_eq!(preset("cgi").unwrap().keep_warm, Duration::ZERO);
        assert!(preset("heroku").is_none());
    }

    #[test]
    fn names_are_unique_and_include_the_default() {
        let names: Vec<&str> = presets().iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            ["lambda", "vercel-hobby", "vercel-pro", "knative", "cgi"]
        );
        assert!(preset(DEFAULT_PRESET).is_some());
        assert!(presets().iter().all(|p| p.max_instances >= 1));
    }
}
