//! The `rustfs-bench` load tool: configuration, the S3 client, measured runs and their report.
//! Lives next to the end-to-end harness but is compiled only into the `rustfs-bench` binary.

pub mod client;
pub mod config;
pub mod report;
pub mod workload;

use std::process::ExitCode;
use std::sync::Arc;

use self::config::{BenchConfig, Workload};
use self::report::RunReport;
use self::workload::{Bench, Op, Payload, RunSpec};

/// Runs every workload × size × concurrency combination, prints one row per run and cleans up.
/// Fails only on setup errors; a run where every request failed, or a GET returned other bytes
/// than were written, turns into a failure exit code.
pub async fn run(config: BenchConfig) -> anyhow::Result<ExitCode> {
    let client = client::build_client(&config);
    let created_bucket = client::ensure_bucket(&client, &config, &config.bucket).await?;
    let run_id = format!("rustfs-bench-{:08x}", rand::random::<u32>());
    eprintln!(
        "rustfs-bench: endpoint {} bucket {} prefix {run_id}/ duration {:?} max-ops {} payload {}",
        config.endpoint,
        config.bucket,
        config.duration,
        config
            .max_ops_opt
            .map_or_else(|| "-".to_owned(), |n| n.to_string()),
        if config.unsigned_payload {
            "unsigned"
        } else {
            "signed"
        },
    );
    let bench = Arc::new(Bench {
        client: client.clone(),
        bucket: config.bucket.clone(),
        payload: Payload::generate(config.max_object_bytes()),
        op_timeout: config.op_timeout,
        unsigned_payload: config.unsigned_payload,
    });
    // `versioned-get` reads from a bucket of its own, so versioning never touches the others.
    let versioned = if config.workloads.contains(&Workload::VersionedGet) {
        let bucket = format!("{}-versioned", config.bucket);
        let created = client::ensure_versioned_bucket(&client, &config, &bucket).await?;
        let bench = Arc::new(Bench {
            client: client.clone(),
            bucket,
            payload: bench.payload.clone(),
            op_timeout: config.op_timeout,
            unsigned_payload: config.unsigned_payload,
        });
        Some((bench, created))
    } else {
        None
    };

    if !config.json {
        println!("{}", report::table_header());
    }
    let mut created_keys = Vec::new();
    let mut failed_runs = Vec::new();
    for &workload in &config.workloads {
        let bench = match &versioned {
            Some((versioned, _)) if workload == Workload::VersionedGet => versioned,
            _ => &bench,
        };
        for size in config.sizes_for(workload) {
            let key_prefix = format!("{run_id}/{workload}/{size}");
            let seeded_keys: Option<Arc<[String]>> = if workload.is_get() {
                let keys: Vec<_> = (0..config.num_get_objects)
                    .map(|i| format!("{key_prefix}/seed/{i}"))
                    .collect();
                let seeded = if workload == Workload::VersionedGet {
                    bench.seed_versions(&keys, size, config.versions).await
                } else {
                    created_keys.extend(keys.iter().cloned());
                    bench.seed(&keys, size).await
                };
                if let Err(err) = seeded {
                    eprintln!("{workload} {size}: writing the objects to read failed: {err:#}");
                    failed_runs.push(format!(
                        "{workload} {size} (writing the objects to read failed)"
                    ));
                    continue;
                }
                Some(keys.into())
            } else {
                None
            };
            for &concurrency in &config.concurrency {
                let spec = RunSpec {
                    workload,
                    size,
                    concurrency,
                };
                let put_prefix = format!("{key_prefix}/x{concurrency}");
                let op = match &seeded_keys {
                    Some(keys) => Op::Get { keys: keys.clone() },
                    None => Op::Put {
                        key_prefix: put_prefix.clone(),
                    },
                };
                let outcome =
                    workload::run(bench, spec, op, config.duration, config.max_ops_opt).await;
                if !workload.is_get() {
                    let keys = (0..outcome.num_issued).map(|seq| Op::put_key(&put_prefix, seq));
                    created_keys.extend(keys);
                }
                if outcome.num_ok == 0 {
                    failed_runs.push(format!(
                        "{workload} {size} x{concurrency} (every request failed)"
                    ));
                }
                if outcome.num_mismatches > 0 {
                    let num = outcome.num_mismatches;
                    failed_runs.push(format!(
                        "{workload} {size} x{concurrency} ({num} wrong bodies)"
                    ));
                }
                let report = RunReport::new(outcome);
                if config.json {
                    let mut line = report.to_json();
                    line["endpoint"] = config.endpoint.as_str().into();
                    println!("{line}");
                } else {
                    println!("{}", report.to_table_row());
                }
            }
        }
    }

    if config.keep {
        eprintln!(
            "kept {} objects under {}/{run_id}/",
            created_keys.len(),
            config.bucket
        );
    } else {
        client::cleanup(&client, &config.bucket, created_keys, created_bucket).await;
        if let Some((versioned, created)) = &versioned {
            let prefix = format!("{run_id}/");
            client::cleanup_versions(&client, &versioned.bucket, &prefix, *created).await;
        }
    }
    if failed_runs.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("failed: {}", failed_runs.join(", "));
    Ok(ExitCode::FAILURE)
}
