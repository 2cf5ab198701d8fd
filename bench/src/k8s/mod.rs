//! `coldfront k8s SCENARIO --shards N --image IMAGE`: the Kubernetes manifests of a sharded
//! run, written as YAML into one file (`kubectl apply -f` takes it as is):
//!
//! - a ConfigMap holding the scenario file;
//! - a ReadWriteMany PersistentVolumeClaim the shards and the merge share (`/results`);
//! - an Indexed Job (`completionMode: Indexed`, `parallelism = completions = N`,
//!   `backoffLimitPerIndex: 0`, so a failed shard is never silently run again) whose pods run
//!   `coldfront run --shard $JOB_COMPLETION_INDEX/N --start-at T`, each into a directory of
//!   its own that is then renamed to `/results/shards/<index>`: a rename onto a written shard
//!   fails, so a duplicate pod for one index cannot overwrite or mix into it;
//! - a merge Job that waits for every shard's set and runs `coldfront merge`, which judges the
//!   thresholds on the merged data.
//!
//! The common start T is fixed when the manifests are written (`--start-in`, 60 s by default):
//! apply them at once, and give the cluster enough time to pull the image and start every pod.

mod yaml;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use serde_json::{json, Value};

use crate::Exit;

/// Where the pods mount the scenario and the results.
pub const SCENARIO_DIR: &str = "/etc/coldfront";
pub const RESULTS_DIR: &str = "/results";

/// What `k8s` is asked to write.
#[derive(Debug, Clone)]
pub struct K8sRequest {
    pub scenario: PathBuf,
    pub shards: u64,
    pub image: String,
    pub namespace: Option<String>,
    pub start_in: Duration,
    /// The PersistentVolumeClaim's size and storage class (`None`: the cluster's default).
    pub storage: String,
    pub storage_class: Option<String>,
    /// The manifests' file.
    pub out: PathBuf,
}

pub fn command(request: &K8sRequest) -> anyhow::Result<Exit> {
    let plan = match crate::scenario::load_file(&request.scenario) {
        Ok(plan) => plan,
        Err(errors) => {
            eprintln!("error: {errors}");
            return Ok(Exit::UsageOrInput);
        }
    };
    if request.shards == 0 {
        eprintln!("error: --shards: at least 1");
        return Ok(Exit::UsageOrInput);
    }
    let sharding = crate::shard::Sharding {
        segment: crate::load::Segment::new(request.shards - 1, request.shards)
            .expect("shard N-1 of N exists"),
        start_at: None,
    };
    let names: Vec<&str> = plan.targets.iter().map(|t| t.name.as_str()).collect();
    if let Some(problem) = sharding.problem(&plan, &names) {
        eprintln!("error: {}: {problem}", request.scenario.display());
        return Ok(Exit::UsageOrInput);
    }
    let text = std::fs::read_to_string(&request.scenario)
        .with_context(|| format!("reading {}", request.scenario.display()))?;
    let run_for = crate::shard::target_span(&plan) * names.len() as u32;
    let start_at = SystemTime::now() + request.start_in;
    let manifests = manifests(request, &plan.name, &text, start_at, run_for);
    let mut out = String::new();
    for manifest in &manifests {
        out.push_str("---\n");
        yaml::write(&mut out, manifest);
    }
    crate::resultset::io::write_atomic(&request.out, out.as_bytes())
        .with_context(|| format!("writing {}", request.out.display()))?;
    println!(
        "{}: {} shards of {}, starting at {} — apply now: kubectl apply -f {}",
        request.out.display(),
        request.shards,
        plan.name,
        crate::resultset::rfc3339(start_at),
        request.out.display()
    );
    Ok(Exit::Success)
}

/// The four manifests, in the order they are applied.
fn manifests(
    request: &K8sRequest,
    scenario: &str,
    text: &str,
    start_at: SystemTime,
    run_for: Duration,
) -> Vec<Value> {
    let base = format!("coldfront-{scenario}");
    let file = scenario_file_name(&request.scenario);
    let metadata = |name: &str| {
        let mut metadata = json!({
            "name": name,
            "labels": {"app.kubernetes.io/name": "coldfront", "coldfront/scenario": scenario},
        });
        if let Some(namespace) = &request.namespace {
            metadata["namespace"] = json!(namespace);
        }
        metadata
    };
    let shard_script = shard_script(&file, request.shards, start_at, scenario);
    let merge_script = merge_script(request.shards, scenario);
    // Long enough for every pod to start, run and be merged; then the Jobs give up.
    let deadline = (request.start_in + run_for + Duration::from_secs(600)).as_secs();
    let volumes = json!([
        {"name": "scenario", "configMap": {"name": format!("{base}-scenario")}},
        {"name": "results", "persistentVolumeClaim": {"claimName": format!("{base}-results")}},
    ]);
    let mounts = json!([
        {"name": "scenario", "mountPath": SCENARIO_DIR, "readOnly": true},
        {"name": "results", "mountPath": RESULTS_DIR},
    ]);
    let container = |name: &str, script: &str| {
        json!({
            "name": name,
            "image": request.image,
            "command": ["sh", "-c", script],
            "volumeMounts": mounts,
        })
    };
    vec![
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata(&format!("{base}-scenario")),
            "data": {file.clone(): text},
        }),
        json!({
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": metadata(&format!("{base}-results")),
            "spec": claim(request),
        }),
        job(
            metadata(&format!("{base}-shards")),
            json!({
                "completionMode": "Indexed",
                "completions": request.shards,
                "parallelism": request.shards,
                "backoffLimitPerIndex": 0,
                "activeDeadlineSeconds": deadline,
            }),
            container("shard", &shard_script),
            &volumes,
            scenario,
        ),
        job(
            metadata(&format!("{base}-merge")),
            json!({"backoffLimit": 0, "activeDeadlineSeconds": deadline}),
            container("merge", &merge_script),
            &volumes,
            scenario,
        ),
    ]
}

/// The results volume: ReadWriteMany, so every shard's pod and the merge's mount it at once.
fn claim(request: &K8sRequest) -> Value {
    let mut claim = json!({
        "accessModes": ["ReadWriteMany"],
        "resources": {"requests": {"storage": request.storage}},
    });
    if let Some(class) = &request.storage_class {
        claim["storageClassName"] = json!(class);
    }
    claim
}

/// A Job of `spec` (completions, deadlines) whose pods run `container` once, never restarted.
fn job(
    metadata: Value,
    mut spec: Value,
    container: Value,
    volumes: &Value,
    scenario: &str,
) -> Value {
    spec["template"] = json!({
        "metadata": {"labels": {"coldfront/scenario": scenario}},
        "spec": {
            "restartPolicy": "Never",
            "containers": [container],
            "volumes": volumes,
        },
    });
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": spec})
}

fn scenario_file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario.toml".to_string())
}

/// A shard pod: the run into a directory of the pod's own, then renamed to its index's
/// place. `run` exits 0 for a shard (thresholds are the merge's to judge); anything else is
/// the pod's failure.
fn shard_script(file: &str, shards: u64, start_at: SystemTime, scenario: &str) -> String {
    let unix_start = start_at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    format!(
        "set -eu\n\
         work=\"{RESULTS_DIR}/.work/$HOSTNAME\"\n\
         rm -rf \"$work\" && mkdir -p \"$work\" \"{RESULTS_DIR}/shards\"\n\
         coldfront run \"{SCENARIO_DIR}/{file}\" --quiet --shard \"$JOB_COMPLETION_INDEX/{shards}\" \
         --start-at {unix_start:.3} --out \"$work\"\n\
         if mv -T \"$work/{scenario}\" \"{RESULTS_DIR}/shards/$JOB_COMPLETION_INDEX\"; then\n\
         \x20 echo \"shard $JOB_COMPLETION_INDEX written\"\n\
         else\n\
         \x20 echo \"shard $JOB_COMPLETION_INDEX was already written by another pod; keeping that one\" >&2\n\
         fi\n\
         rm -rf \"$work\"\n"
    )
}

/// The merge pod: waits for every shard's set, then merges them (its exit code is the
/// thresholds' verdict on the merged data: 0, 1 or 3).
fn merge_script(shards: u64, scenario: &str) -> String {
    let sets: Vec<String> = (0..shards)
        .map(|i| format!("\"{RESULTS_DIR}/shards/{i}\""))
        .collect();
    format!(
        "set -eu\n\
         for set in {sets}; do\n\
         \x20 until [ -f \"$set/summary.json\" ]; do sleep 5; done\n\
         done\n\
         rm -rf \"{RESULTS_DIR}/merged/{scenario}\"\n\
         exec coldfront merge {sets} --out \"{RESULTS_DIR}/merged\"\n",
        sets = sets.join(" ")
    )
}
