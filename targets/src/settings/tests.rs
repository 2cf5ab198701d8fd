//! The settings structs: keys, JSON, flags, resolving, names.
use clap::Parser;
use serde::de::{self, Visitor};

use super::*;

/// The field names `T`'s derived `Deserialize` asks for, in declaration order.
fn serde_field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Capture(&'static [&'static str]);
    impl<'de> Deserializer<'de> for &mut Capture {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = fields;
            Err(de::Error::custom("captured"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut capture = Capture(&[]);
    let _ = T::deserialize(&mut capture);
    capture.0
}

#[test]
fn keys_are_the_serde_field_names() {
    assert_eq!(
        serde_field_names::<ServerlessSettings>(),
        ServerlessSettings::KEYS
    );
    assert_eq!(
        serde_field_names::<PersistentSettings>(),
        PersistentSettings::KEYS
    );
    assert_eq!(serde_field_names::<AppSettings>(), AppSettings::KEYS);
}

#[derive(Debug, Parser)]
struct AppFlags {
    #[command(flatten)]
    app: AppSettings,
}

#[test]
fn the_application_is_json_or_flags_and_resolves_with_defaults() {
    let app = AppSettings {
        command: vec!["node".into(), "server.js".into()],
        cwd: Some("examples/express".into()),
        env: vec![("NODE_ENV".into(), "production".into())],
        ready: Some("/api/health".into()),
        init_timeout: None,
        listen: Some(Listen::Fd),
    };
    let json = to_env_value(&app);
    assert_eq!(
        json,
        r#"{"command":["node","server.js"],"cwd":"examples/express","env":{"NODE_ENV":"production"},"ready":"/api/health","listen":"fd"}"#
    );
    assert_eq!(serde_json::from_str::<AppSettings>(&json).unwrap(), app);
    let flags = AppFlags::try_parse_from([
        "serve",
        "--cwd",
        "examples/express",
        "--env",
        "NODE_ENV=production",
        "--ready",
        "/api/health",
        "--listen",
        "fd",
        "--",
        "node",
        "server.js",
    ])
    .unwrap();
    assert_eq!(flags.app, app);
    assert!(AppFlags::try_parse_from(["serve", "--env", "NOVALUE"]).is_err());
    let resolved = app.resolve().unwrap();
    assert_eq!(resolved.display(), "node server.js");
    assert_eq!(resolved.init_timeout, crate::command::INIT_TIMEOUT);
    assert_eq!(AppSettings::default().resolve(), None, "the built-in app");
}

/// Every field given (so adding one means giving it here: its round trip is tested).
fn full() -> ServerlessSettings {
    ServerlessSettings {
        preset: PresetName::new("knative"),
        keep_warm: Some(Duration::from_millis(1500)),
        init: Some(Duration::from_micros(20_001)),
        max_instances: Some(7),
        max_duration: Some(Duration::from_secs(600)),
        queue_timeout: Some(Duration::ZERO),
        db_connect: Some(DbConnect::PerRequest),
        concurrency: Some(4),
    }
}

#[test]
fn settings_round_trip_through_json() {
    let settings = full();
    let json = to_env_value(&settings);
    assert_eq!(
        json,
        r#"{"preset":"knative","keep_warm":"1s 500ms","init":"20ms 1us","max_instances":7,"max_duration":"10m","queue_timeout":"0s","db_connect":"per-request","concurrency":4}"#
    );
    assert_eq!(
        serde_json::from_str::<ServerlessSettings>(&json).unwrap(),
        settings
    );
    let empty = ServerlessSettings::default();
    assert_eq!(to_env_value(&empty), "{}");
    assert_eq!(
        serde_json::from_str::<ServerlessSettings>("{}").unwrap(),
        empty
    );
    let pool = PersistentSettings { pool: Some(3) };
    assert_eq!(to_env_value(&pool), r#"{"pool":3}"#);
    assert_eq!(
        serde_json::from_str::<PersistentSettings>(r#"{"pool":3}"#).unwrap(),
        pool
    );
}

#[test]
fn unknown_fields_and_values_are_rejected() {
    let error = |json| {
        serde_json::from_str::<ServerlessSettings>(json)
            .unwrap_err()
            .to_string()
    };
    assert!(error(r#"{"pool":3}"#).contains("unknown field `pool`"));
    assert!(error(r#"{"preset":"heroku"}"#).contains(
        "unknown preset \"heroku\"; expected one of lambda, vercel-hobby, vercel-pro, knative, cgi"
    ));
    assert!(error(r#"{"db_connect":"per-query"}"#).contains("unknown variant"));
    assert!(error(r#"{"init":"5 parsecs"}"#).contains("unknown time unit"));
}

#[test]
fn resolving_takes_the_preset_and_overrides_the_given_fields() {
    let cgi = ServerlessSettings {
        preset: PresetName::new("cgi"),
        max_instances: Some(3),
        ..ServerlessSettings::default()
    };
    let config = cgi.resolve("postgres://x", InstanceCommand::BuiltIn(vec!["run".into()]));
    let preset = crate::serverless::preset("cgi").unwrap();
    assert_eq!(
        (config.keep_warm, config.init, config.max_duration),
        (preset.keep_warm, preset.init, preset.max_duration)
    );
    assert_eq!(config.max_instances, 3);
    assert_eq!(config.db_connect, DbConnect::PerInstance);
    let lambda =
        ServerlessSettings::default().resolve("postgres://x", InstanceCommand::BuiltIn(vec![]));
    assert_eq!(lambda.max_instances, 1000);
    assert_eq!(
        full()
            .resolve("", InstanceCommand::BuiltIn(vec![]))
            .db_connect,
        DbConnect::PerRequest
    );
    assert_eq!(
        PersistentSettings::default().resolve("postgres://x").pool,
        10
    );
    assert_eq!(PersistentSettings { pool: Some(4) }.resolve("").pool, 4);
}

#[derive(Debug, Parser)]
struct Flags {
    #[command(flatten)]
    settings: ServerlessSettings,
}

#[test]
fn flags_are_the_settings() {
    // `--keep-warm 1s 500ms` for `"keep_warm":"1s 500ms"`: every setting is the flag of its
    // key's name, taking the serialized value.
    let mut args = vec!["serve".to_owned()];
    let json = serde_json::to_value(full()).unwrap();
    for (key, value) in json.as_object().unwrap() {
        args.push(format!("--{}", key.replace('_', "-")));
        args.push(value.as_str().map_or(value.to_string(), str::to_owned));
    }
    assert_eq!(
        args.len(),
        1 + 2 * ServerlessSettings::KEYS.len(),
        "{args:?}"
    );
    assert_eq!(Flags::try_parse_from(&args).unwrap().settings, full());
    assert!(Flags::try_parse_from(["serve", "--preset", "heroku"]).is_err());
    assert!(Flags::try_parse_from(["serve", "--db-connect", "per-query"]).is_err());
    assert_eq!(
        Flags::try_parse_from(["serve"]).unwrap().settings,
        ServerlessSettings::default()
    );
}

#[test]
fn serve_takes_the_environment_json_or_its_flags_not_both() {
    let flags = Flags::try_parse_from(["serve", "--keep-warm", "2s"])
        .unwrap()
        .settings;
    assert_eq!(choose(SETTINGS_ENV, None, &flags).unwrap(), flags);
    let json = to_env_value(&full());
    let none = ServerlessSettings::default();
    assert_eq!(
        choose(SETTINGS_ENV, Some(json.clone().into()), &none).unwrap(),
        full()
    );
    let both = choose(SETTINGS_ENV, Some(json.into()), &flags)
        .unwrap_err()
        .to_string();
    assert!(
        both.contains("both in COLDFRONT_TARGET_SETTINGS and as flags"),
        "{both}"
    );
    let bad = choose::<PersistentSettings>(
        SETTINGS_ENV,
        Some(r#"{"pool":"x"}"#.into()),
        &Default::default(),
    );
    assert!(bad
        .unwrap_err()
        .to_string()
        .starts_with("COLDFRONT_TARGET_SETTINGS: "));
}

#[test]
fn names_parse_and_print() {
    assert_eq!("per-request".parse(), Ok(DbConnect::PerRequest));
    assert_eq!(DbConnect::PerInstance.to_string(), "per-instance");
    assert_eq!(
        "per-query".parse::<DbConnect>().unwrap_err().to_string(),
        "unknown db_connect \"per-query\"; expected one of per-instance, per-request"
    );
    let names: Vec<&str> = PresetName::all().map(PresetName::as_str).collect();
    assert_eq!(
        names,
        ["lambda", "vercel-hobby", "vercel-pro", "knative", "cgi"]
    );
    assert_eq!(PresetName::default().as_str(), DEFAULT_PRESET);
    assert_eq!("cgi".parse::<PresetName>().unwrap().preset().name, "cgi");
}
